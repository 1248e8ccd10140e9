using System.Collections.Concurrent;
using Sluice.Dataflow;

namespace Sluice.Controller;

/// <summary>
/// Dataflow clients per project and region. A manifest may name its own project and region; the server's defaults
/// apply otherwise.
/// </summary>
public interface IDataflowClients
{
    /// <summary>The client for a project and region; null parts take the defaults.</summary>
    IDataflowClient For(string? project, string? region);
}

/// <summary>Creates one client per (project, region) on first use and keeps it (the server has its own, with metrics).</summary>
public sealed class DataflowClientCache : IDataflowClients, IDisposable
{
    private readonly ConcurrentDictionary<(string Project, string Region), IDataflowClient> clients = new();
    private readonly Func<string, string, IDataflowClient> create;

    /// <param name="defaultProject">The project of manifests that name none.</param>
    /// <param name="defaultRegion">The region of manifests that name none.</param>
    /// <param name="create">Builds the client of a project and region (for example over <see cref="DataflowClientOptions.ForEmulator"/>).</param>
    public DataflowClientCache(string defaultProject, string defaultRegion, Func<string, string, IDataflowClient> create)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(defaultProject);
        ArgumentException.ThrowIfNullOrWhiteSpace(defaultRegion);
        DefaultProject = defaultProject;
        DefaultRegion = defaultRegion;
        this.create = create;
    }

    public string DefaultProject { get; }

    public string DefaultRegion { get; }

    /// <summary>Clients of the local emulator at <paramref name="baseUri"/>.</summary>
    public static DataflowClientCache ForEmulator(Uri baseUri, TimeProvider? timeProvider = null, string defaultProject = "sluice-local",
        string defaultRegion = "us-central1") =>
        new(defaultProject, defaultRegion, (project, region) =>
            new DataflowClient(DataflowClientOptions.ForEmulator(baseUri, project, region), timeProvider: timeProvider));

    public IDataflowClient For(string? project, string? region)
    {
        var key = (string.IsNullOrWhiteSpace(project) ? DefaultProject : project, string.IsNullOrWhiteSpace(region) ? DefaultRegion : region);
        return clients.GetOrAdd(key, k => create(k.Project, k.Region));
    }

    public void Dispose()
    {
        foreach (var client in clients.Values)
        {
            (client as IDisposable)?.Dispose();
        }

        clients.Clear();
    }
}
