using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Sluice.Controller;
using Sluice.Dataflow;
using Sluice.Server.Auth;
using Sluice.Server.Configuration;
using Sluice.Server.Metrics;

namespace Sluice.Server.Hosting;

/// <summary>The address the server listens on, known once it started.</summary>
public sealed class ServerAddress
{
    /// <summary>The server's own base address (loopback when bound to all interfaces).</summary>
    public required Uri BaseUri { get; init; }
}

/// <summary>
/// The server's <see cref="IDataflowClients"/> for the configured runner: the embedded emulator (this server's own address), an external
/// emulator (<c>dataflowEndpoint</c>), or Google Cloud with Application Default Credentials. One client per project
/// and region, created on first use. Failed calls are counted in <c>sluice_runner_api_errors_total</c>.
/// </summary>
public sealed class ServerDataflowClients : IDataflowClients, IDisposable
{
    /// <summary>Project and region used with the emulator when the configuration names none.</summary>
    public const string EmulatorProject = "sluice-local";
    public const string EmulatorRegion = "us-central1";

    private readonly SluiceConfig _config;
    private readonly ServerAddress _address;
    private readonly InternalCaller _internal;
    private readonly SluiceMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ConcurrentDictionary<(string Project, string Region), Lazy<DataflowClient>> _clients = new();

    public ServerDataflowClients(SluiceConfig config, ServerAddress address, InternalCaller internalCaller, SluiceMetrics metrics, TimeProvider time, ILoggerFactory loggers)
    {
        _config = config;
        _address = address;
        _internal = internalCaller;
        _metrics = metrics;
        _time = time;
        _loggers = loggers;
    }

    /// <summary>Project of jobs whose manifest names none.</summary>
    public string DefaultProject => _config.Project ?? EmulatorProject;

    /// <summary>Region of jobs whose manifest names none.</summary>
    public string DefaultRegion => _config.Region ?? EmulatorRegion;

    /// <summary>The client of the default project and region.</summary>
    public IDataflowClient Default => For(null, null);

    /// <summary>The client of a project and region (null: the defaults).</summary>
    public IDataflowClient For(string? project, string? region)
    {
        var key = (string.IsNullOrWhiteSpace(project) ? DefaultProject : project, string.IsNullOrWhiteSpace(region) ? DefaultRegion : region);
        return _clients.GetOrAdd(key, k => new Lazy<DataflowClient>(() => Create(k.Project, k.Region))).Value;
    }

    private DataflowClient Create(string project, string region)
    {
        DataflowClientOptions options;
        HttpMessageHandler inner = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        if (_config.DataflowEndpoint is { } endpoint)
        {
            options = DataflowClientOptions.ForEmulator(endpoint, project, region);
        }
        else if (_config.Runner == RunnerKind.Emulator)
        {
            options = DataflowClientOptions.ForEmulator(_address.BaseUri, project, region);
            inner = new BearerHandler(_internal.Secret) { InnerHandler = inner };
        }
        else
        {
            // Google Cloud: the client adds Application Default Credentials itself.
            options = DataflowClientOptions.ForGoogleCloud(project, region);
            return new DataflowClient(options, new ErrorCountingHandler(_metrics) { InnerHandler = inner }, _time, _loggers.CreateLogger<DataflowClient>());
        }

        return new DataflowClient(options, new ErrorCountingHandler(_metrics) { InnerHandler = inner }, _time, _loggers.CreateLogger<DataflowClient>());
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values.Where(c => c.IsValueCreated))
        {
            client.Value.Dispose();
        }
    }

    /// <summary>Counts failed calls by operation and status (each attempt, so retries show up too).</summary>
    private sealed class ErrorCountingHandler(SluiceMetrics metrics) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            try
            {
                var response = await base.SendAsync(request, cancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    metrics.RecordRunnerError(Operation(request), ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                return response;
            }
            catch (HttpRequestException)
            {
                metrics.RecordRunnerError(Operation(request), "network");
                throw;
            }
        }

        private static string Operation(HttpRequestMessage request)
        {
            var path = request.RequestUri?.AbsolutePath ?? "";
            return path switch
            {
                _ when path.EndsWith("templates:launch", StringComparison.Ordinal) => "launch",
                _ when path.EndsWith("flexTemplates:launch", StringComparison.Ordinal) => "launch",
                _ when path.EndsWith("templates:get", StringComparison.Ordinal) => "template",
                _ when path.EndsWith("/messages", StringComparison.Ordinal) => "messages",
                _ when path.EndsWith("/metrics", StringComparison.Ordinal) => "metrics",
                _ when request.Method == HttpMethod.Put => "update",
                _ when path.EndsWith("/jobs", StringComparison.Ordinal) => "list",
                _ => "get",
            };
        }
    }

    private sealed class BearerHandler(string token) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
