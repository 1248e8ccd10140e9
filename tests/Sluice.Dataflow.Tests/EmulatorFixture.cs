using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Dataflow.Tests;

/// <summary>A real emulator on loopback with the example templates seeded, and a client pointed at it.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sluice-df-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public string BucketsDirectory => Path.Combine(Root, "buckets");

    public EmulatorHost Host { get; private set; } = null!;

    public DataflowClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await StartHostAsync(BucketsDirectory);
        await ExampleTemplates.SeedAsync(BucketsDirectory);
        Client = new DataflowClient(DataflowClientOptions.ForEmulator(Host.BaseUri));
    }

    public static Task<EmulatorHost> StartHostAsync(string bucketsDirectory, int port = 0) => EmulatorHost.StartAsync(new EmulatorOptions
    {
        BucketsDirectory = bucketsDirectory,
        Port = port,
        SluiceHome = AppContext.BaseDirectory,
        HandleSigterm = false,
        ShutdownGracePeriod = TimeSpan.FromSeconds(5),
    });

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Host.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A job process may still hold a file for a moment; the temp directory is cleaned by the OS eventually.
        }
    }

    /// <summary>A job name no other test uses.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Polls jobs.get until the job is in one of <paramref name="states"/> (generous deadline, no fixed sleeps).</summary>
    public async Task<Job> WaitForStateAsync(string jobId, params JobState[] states)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        Job job;
        do
        {
            job = await Client.GetJobAsync(jobId);
            if (states.Contains(job.State))
            {
                return job;
            }

            await Task.Delay(50);
        }
        while (TimeProvider.System.GetUtcNow() < deadline);

        throw new TimeoutException($"Job {jobId} stayed {job.State} instead of reaching {string.Join("/", states)}.");
    }
}

[CollectionDefinition(Name)]
public sealed class EmulatorTestGroup : ICollectionFixture<EmulatorFixture>
{
    public const string Name = "emulator";
}
