using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sluice.Controller.Schedules;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;

namespace Sluice.Controller.Tests.Schedules;

/// <summary>A real emulator on loopback (word-count template and inputs seeded) for end-to-end schedule tests.</summary>
public sealed class ScheduleEmulator : IAsyncLifetime
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sluice-schedule-e2e-" + Guid.NewGuid().ToString("N")[..8]);

    public string BucketsDirectory => Path.Combine(Root, "buckets");

    public EmulatorHost Host { get; private set; } = null!;

    public DataflowClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await EmulatorHost.StartAsync(new EmulatorOptions
        {
            BucketsDirectory = BucketsDirectory,
            Port = 0,
            SluiceHome = AppContext.BaseDirectory,
            HandleSigterm = false,
            ShutdownGracePeriod = TimeSpan.FromSeconds(5),
        });
        await ExampleTemplates.SeedAsync(BucketsDirectory);
        Client = new DataflowClient(DataflowClientOptions.ForEmulator(Host.BaseUri));
    }

    public async Task<List<Job>> JobsNamedAsync(string prefix)
    {
        var jobs = new List<Job>();
        await foreach (var job in Client.ListAllJobsAsync(JobListFilter.All))
        {
            if (job.Name?.StartsWith(prefix, StringComparison.Ordinal) == true)
            {
                jobs.Add(job);
            }
        }

        return jobs;
    }

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
            // A job process may still hold a file for a moment; the OS cleans the temp directory eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ScheduleEmulatorGroup : ICollectionFixture<ScheduleEmulator>
{
    public const string Name = "schedule-emulator";
}

/// <summary>The schedule flow as `sluice up` hosts it: engine loop, scheduler and step handlers in a generic host, real clock.</summary>
public sealed class ScheduleHost : IAsyncDisposable
{
    private readonly IHost host;

    private ScheduleHost(IHost host)
    {
        this.host = host;
    }

    public IServiceProvider Services => host.Services;

    public ScheduleService Schedules => host.Services.GetRequiredService<ScheduleService>();

    public WorkflowEngine Engine => host.Services.GetRequiredService<WorkflowEngine>();

    public static async Task<ScheduleHost> StartAsync(string storeUri, Uri emulator, string replicaId = "replica-a")
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSluiceEngine(storeUri, o =>
        {
            o.ReplicaId = replicaId;
            o.PollInterval = TimeSpan.FromMilliseconds(100);
            o.LeaseDuration = TimeSpan.FromSeconds(10);
            o.DefaultRetry = new Engine.RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(100) };
        });
        builder.Services.AddSingleton<IDataflowClients>(_ => DataflowClientCache.ForEmulator(emulator));
        builder.Services.AddSluiceSchedules(o =>
        {
            o.JobPollInterval = TimeSpan.FromMilliseconds(200);
            o.SyncInterval = TimeSpan.FromMilliseconds(500);
            o.BackfillPollInterval = TimeSpan.FromMilliseconds(200);
            o.ClaimRepairAge = TimeSpan.FromSeconds(2);
        });
        var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<SlotScheduler>().Started.WaitAsync(TimeSpan.FromSeconds(30));
        return new ScheduleHost(host);
    }

    /// <summary>Polls until <paramref name="done"/> holds for the schedule's slots (generous deadline, no fixed sleeps).</summary>
    public async Task<IReadOnlyList<SlotRunInfo>> WaitForSlotsAsync(string dagId, Func<IReadOnlyList<SlotRunInfo>, bool> done, int seconds = 90)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        IReadOnlyList<SlotRunInfo> slots;
        do
        {
            slots = (await Schedules.ListSlotsAsync(dagId, 1000, null, CancellationToken.None)).OrderBy(s => s.LogicalDate).ToList();
            if (done(slots))
            {
                return slots;
            }

            await Task.Delay(100);
        }
        while (TimeProvider.System.GetUtcNow() < deadline);

        throw new TimeoutException(
            $"The slots of {dagId} did not reach the expected states: " +
            string.Join(", ", slots.Select(s => $"{s.LogicalDate:yyyy-MM-dd} {s.State} {s.JobState} {s.Reason}")));
    }

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        host.Dispose();
    }
}
