using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sluice.Controller.Intake;
using Sluice.Controller.Rollouts;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Tests.Intake;

/// <summary>
/// With the real flows: a manifest renamed into the watched directory becomes exactly one rollout that launches
/// exactly one job in the emulator (a real process), and a restart of the controller starts nothing again.
/// </summary>
public sealed class IntakeEndToEndTests : IAsyncLifetime
{
    private const string Template = "gs://sluice-e2e/templates/sleeper.json";
    private readonly string _root = Directory.CreateTempSubdirectory("sluice-intake-e2e-").FullName;
    private EmulatorHost _emulator = null!;

    private string Buckets => Path.Combine(_root, "buckets");

    private string Store => "sqlite://" + Path.Combine(_root, "sluice.db");

    public async Task InitializeAsync()
    {
        var template = Path.Combine(Buckets, "sluice-e2e", "templates", "sleeper.json");
        Directory.CreateDirectory(Path.GetDirectoryName(template)!);
        await File.WriteAllTextAsync(template, """{"sluiceLocal": {"command": ["sh", "-c", "echo ready; while :; do sleep 0.2; done"], "streaming": true}}""");
        _emulator = await EmulatorHost.StartAsync(new EmulatorOptions
        {
            BucketsDirectory = Buckets,
            HandleSigterm = false,
            ShutdownGracePeriod = TimeSpan.FromSeconds(2),
        });
    }

    public async Task DisposeAsync()
    {
        await _emulator.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task A_dropped_manifest_becomes_one_rollout_and_one_running_job_and_a_restart_starts_nothing_again()
    {
        var manifests = Path.Combine(Buckets, "manifests");
        IntakeHarness.WriteAtomically(manifests, "clickstream-v1.yaml", $"""
            apiVersion: sluice/v1
            kind: Rollout
            metadata:
              name: clickstream-v1
            spec:
              pipeline: clickstream
              strategy: restart
              to:
                version: v1
                template:
                  kind: classic
                  gcsPath: {Template}
              validation:
                timeout: 1m
                checks:
                  - state: RUNNING
            """);

        long runId;
        using (var host = await StartControllerAsync())
        {
            var ledger = host.Services.GetRequiredService<EventLedger>();
            var engine = host.Services.GetRequiredService<WorkflowEngine>();
            IntakeEvent? dispatched = null;
            await IntakeHarness.WaitUntilAsync(
                async () => (dispatched = (await ledger.ListAsync(new IntakeEventQuery(), CancellationToken.None)).Events.SingleOrDefault())?.State == IntakeEventState.Dispatched,
                TimeSpan.FromSeconds(60), "the manifest is dispatched");
            runId = Assert.Single(dispatched!.Dispatches).RunId!.Value;
            RunDetail? run = null;
            await IntakeHarness.WaitUntilAsync(
                async () => (run = await engine.GetRunAsync(runId, CancellationToken.None))?.Run.IsFinished == true,
                TimeSpan.FromSeconds(90), "the rollout finishes");
            Assert.True(run!.Run.Status == RunStatus.Succeeded, $"the rollout ended {run.Run.Status}: {run.Run.Reason}");
            await host.StopAsync();
        }

        // A new controller on the same store and bucket: the object is known, nothing is taken in or started again.
        using (var host = await StartControllerAsync())
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var ledger = host.Services.GetRequiredService<EventLedger>();
            var engine = host.Services.GetRequiredService<WorkflowEngine>();
            Assert.Single((await ledger.ListAsync(new IntakeEventQuery(), CancellationToken.None)).Events);
            var rollouts = await engine.ListRunsAsync(new RunQuery { Kind = "rollout" }, CancellationToken.None);
            Assert.Equal(runId, Assert.Single(rollouts.Runs).Id);
            await host.StopAsync();
        }

        using var client = new DataflowClient(DataflowClientOptions.ForEmulator(_emulator.BaseUri));
        var jobs = new List<Job>();
        await foreach (var job in client.ListAllJobsAsync(JobListFilter.All))
        {
            jobs.Add(job);
        }

        var launched = Assert.Single(jobs);
        Assert.Equal(JobState.Running, launched.State);
        await client.CancelJobAsync(launched.Id!);
    }

    private async Task<IHost> StartControllerAsync()
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var services = builder.Services;
        services.AddSluiceEngine(Store);
        services.AddSingleton<IDataflowClients>(_ => DataflowClientCache.ForEmulator(_emulator.BaseUri));
        services.AddSluiceRollouts();
        services.AddSingleton<IRolloutStarter, RolloutServiceStarter>();
        services.AddSluiceIntake(options =>
        {
            options.Buckets.BucketsDirectory = Buckets;
            options.LocalTemplatesDirectory = Buckets;
        });
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }

    private sealed class RolloutServiceStarter(RolloutService rollouts) : IRolloutStarter
    {
        public Task<long> StartAsync(RolloutManifest manifest, string idempotencyKey, string source, CancellationToken cancellationToken) =>
            rollouts.StartAsync(manifest, idempotencyKey, source, cancellationToken);
    }
}
