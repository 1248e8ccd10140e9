using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Buckets;
using Sluice.Controller.Intake;
using Sluice.Engine;

namespace Sluice.Controller.Tests.Intake;

/// <summary>
/// A data dir with watched bucket directories, a templates bucket and a SQLite store (or PostgreSQL), and one
/// "controller" at a time running event intake over it with <see cref="RecordingFlows"/>. Stopping and starting again
/// keeps the store, the buckets and the flows, like a restart of <c>sluice up</c>.
/// </summary>
internal sealed class IntakeHarness : IAsyncDisposable
{
    private ServiceProvider? _services;

    public IntakeHarness(string? store = null, Action<IntakeOptions>? configure = null)
    {
        Root = Directory.CreateTempSubdirectory("sluice-intake-").FullName;
        BucketsDirectory = Path.Combine(Root, "buckets");
        Store = store ?? "sqlite://" + Path.Combine(Root, "sluice.db");
        Configure = configure;
        Directory.CreateDirectory(RolloutsDirectory);
        Directory.CreateDirectory(SchedulesDirectory);
        var template = Path.Combine(BucketsDirectory, Manifests.TemplatesBucket, "templates", "counter.json");
        Directory.CreateDirectory(Path.GetDirectoryName(template)!);
        File.WriteAllText(template, """{"sluiceLocal": {"command": ["true"]}}""");
    }

    public string Root { get; }

    public string BucketsDirectory { get; }

    public string Store { get; }

    public string RolloutsDirectory => Path.Combine(BucketsDirectory, "manifests");

    public string SchedulesDirectory => Path.Combine(BucketsDirectory, "schedules");

    public RecordingFlows Flows { get; } = new();

    public Action<IntakeOptions>? Configure { get; }

    public IServiceProvider Services => _services ?? throw new InvalidOperationException("The controller is not running.");

    public EventLedger Ledger => Services.GetRequiredService<EventLedger>();

    /// <summary>Builds the services and applies the migrations, without starting the watcher.</summary>
    public async Task<IServiceProvider> BuildAsync(CancellationToken cancellationToken = default)
    {
        if (_services is not null)
        {
            throw new InvalidOperationException("The controller is already running.");
        }

        _services = await BuildProviderAsync(cancellationToken);
        return _services;
    }

    /// <summary>
    /// Starts another controller on the same store, buckets and flows — a second replica. The caller stops it by
    /// disposing the handle.
    /// </summary>
    public async Task<IAsyncDisposable> StartReplicaAsync(CancellationToken cancellationToken = default)
    {
        var services = await BuildProviderAsync(cancellationToken);
        await services.GetRequiredService<BucketWatchService>().StartAsync(cancellationToken);
        return new Replica(services);
    }

    private async Task<ServiceProvider> BuildProviderAsync(CancellationToken cancellationToken)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<IDatabase>(sp => StateStoreFactory.Open(Store, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IRolloutStarter>(Flows);
        services.AddSingleton<IScheduleRegistrar>(Flows);
        services.AddSluiceIntake(options =>
        {
            options.RolloutsBucket = "manifests";
            options.SchedulesBucket = "schedules";
            options.Buckets.BucketsDirectory = BucketsDirectory;
            options.Buckets.StableInterval = TimeSpan.FromMilliseconds(500);
            options.LocalTemplatesDirectory = BucketsDirectory;
            options.RetryDelay = TimeSpan.FromMilliseconds(50);
            Configure?.Invoke(options);
        });
        var provider = services.BuildServiceProvider();
        await new MigrationRunner(provider.GetRequiredService<IDatabase>())
            .ApplyAsync(provider.GetServices<IMigrationSource>(), cancellationToken);
        return provider;
    }

    /// <summary>Starts a controller: intake workers and bucket watchers.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        var services = await BuildAsync(cancellationToken);
        await services.GetRequiredService<BucketWatchService>().StartAsync(cancellationToken);
    }

    /// <summary>Stops the controller (as on SIGTERM); events in flight stay in the ledger.</summary>
    public async Task StopAsync()
    {
        if (_services is null)
        {
            return;
        }

        await _services.GetRequiredService<BucketWatchService>().StopAsync(CancellationToken.None);
        await _services.DisposeAsync();
        _services = null;
    }

    /// <summary>Writes a file the way <c>sluice apply</c> does: a hidden temp file renamed over the name.</summary>
    public static void WriteAtomically(string directory, string name, string text)
    {
        var path = Path.Combine(directory, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        File.WriteAllText(temp, text);
        File.Move(temp, path, overwrite: true);
    }

    public async Task<IntakeEvent[]> EventsAsync(CancellationToken cancellationToken = default)
    {
        var all = new List<IntakeEvent>();
        long? before = null;
        while (true)
        {
            var page = await Ledger.ListAsync(new IntakeEventQuery { BeforeId = before, Limit = 1000 }, cancellationToken);
            all.AddRange(page.Events);
            if (page.NextBeforeId is not { } next)
            {
                return all.OrderBy(e => e.Id).ToArray();
            }

            before = next;
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test with <paramref name="what"/> after the timeout.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"Timed out after {timeout.TotalSeconds:0}s waiting until {what}.");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>Waits until <paramref name="count"/> events exist and none is left in state received.</summary>
    /// <summary>Waits until <paramref name="count"/> events are dispatched; returns those.</summary>
    public async Task<IntakeEvent[]> WaitUntilDispatchedAsync(int count, TimeSpan timeout)
    {
        IntakeEvent[] dispatched = [];
        await WaitUntilAsync(
            async () =>
            {
                dispatched = (await EventsAsync()).Where(e => e.State == IntakeEventState.Dispatched).ToArray();
                return dispatched.Length >= count;
            },
            timeout,
            $"{count} events are dispatched (have {dispatched.Length})");
        return dispatched;
    }

    public async Task<IntakeEvent[]> WaitForSettledAsync(int count, TimeSpan? timeout = null)
    {
        IntakeEvent[] events = [];
        await WaitUntilAsync(
            async () =>
            {
                events = await EventsAsync();
                return events.Length >= count && events.All(e => e.State != IntakeEventState.Received);
            },
            timeout ?? TimeSpan.FromSeconds(60),
            $"{count} events are handled (have {events.Length}, {events.Count(e => e.State == IntakeEventState.Received)} still received)");
        return events;
    }

    private sealed class Replica(ServiceProvider services) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await services.GetRequiredService<BucketWatchService>().StopAsync(CancellationToken.None);
            await services.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A file still open by a dying watcher; the temp dir is cleaned by the OS.
        }
    }
}
