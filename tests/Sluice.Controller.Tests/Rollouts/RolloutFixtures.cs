using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Controller.Rollouts;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Tests.Rollouts;

/// <summary>A real Dataflow emulator on loopback with the example templates, shared by the rollout tests of a collection.</summary>
public sealed class EmulatorFixture : IAsyncLifetime
{
    /// <summary>A streaming job that ignores SIGTERM: its drain never finishes.</summary>
    public const string NeverDrainsTemplate = "gs://sluice-test/templates/never-drains.json";

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "sluice-rollout-tests-" + Guid.NewGuid().ToString("N")[..8]);

    public string BucketsDirectory => Path.Combine(Root, "buckets");

    public EmulatorHost Host { get; private set; } = null!;

    public DataflowClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Host = await EmulatorHost.StartAsync(new EmulatorOptions
        {
            BucketsDirectory = BucketsDirectory,
            SluiceHome = AppContext.BaseDirectory,
            HandleSigterm = false,
            ShutdownGracePeriod = TimeSpan.FromSeconds(2),
            UpdateGracePeriod = TimeSpan.FromSeconds(20),
        });
        await ExampleTemplates.SeedAsync(BucketsDirectory);
        var neverDrains = Path.Combine(BucketsDirectory, "sluice-test", "templates", "never-drains.json");
        Directory.CreateDirectory(Path.GetDirectoryName(neverDrains)!);
        await File.WriteAllTextAsync(
            neverDrains,
            """{"sluiceLocal": {"command": ["sh", "-c", "trap '' TERM; echo started; while :; do sleep 0.2; done"], "streaming": true}}""");
        Client = new DataflowClient(DataflowClientOptions.ForEmulator(Host.BaseUri));
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
            // A job process may hold a file for a moment; the OS cleans the temp directory eventually.
        }
    }

    /// <summary>A directory inside the local buckets and its gs:// path.</summary>
    public (string GcsPath, string LocalPath) Output(string name) =>
        ($"gs://sluice-output/{name}", Path.Combine(BucketsDirectory, "sluice-output", name));

    /// <summary>Every job of the emulator with the given name prefix.</summary>
    public async Task<List<Job>> JobsAsync(string namePrefix)
    {
        var jobs = new List<Job>();
        await foreach (var job in Client.ListAllJobsAsync(JobListFilter.All))
        {
            if (job.Name?.StartsWith(namePrefix, StringComparison.Ordinal) == true)
            {
                jobs.Add(await Client.GetJobAsync(job.Id!, JobView.Description));
            }
        }

        return jobs;
    }

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

        throw new TimeoutException($"Job {jobId} stayed {job.State.ToWireName()} instead of reaching {string.Join("/", states)}.");
    }
}

[CollectionDefinition(Name)]
public sealed class RolloutEmulatorGroup : ICollectionFixture<EmulatorFixture>
{
    public const string Name = "rollouts against the emulator";
}

/// <summary>An in-process controller: the engine and the rollout flow on a SQLite file (or PostgreSQL), driving the emulator.</summary>
public sealed class Controller : IAsyncDisposable
{
    private readonly ServiceProvider provider;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    private Controller(ServiceProvider provider, bool runLoop)
    {
        this.provider = provider;
        Engine = provider.GetRequiredService<WorkflowEngine>();
        Rollouts = provider.GetRequiredService<RolloutService>();
        Registry = provider.GetRequiredService<PipelineRegistry>();
        loop = runLoop ? Task.Run(() => Engine.RunLoopAsync(stop.Token)) : Task.CompletedTask;
    }

    public WorkflowEngine Engine { get; }

    public RolloutService Rollouts { get; }

    public PipelineRegistry Registry { get; }

    public static async Task<Controller> StartAsync(string storeUri, Uri emulator, bool runLoop = true)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSluiceEngine(storeUri, o =>
        {
            o.PollInterval = TimeSpan.FromMilliseconds(50);
            o.QueuedRecheckInterval = TimeSpan.FromSeconds(1);
            o.ObserverRetryDelay = TimeSpan.FromMilliseconds(200);
        });
        services.AddSluiceRollouts(o =>
        {
            o.PollInterval = TimeSpan.FromMilliseconds(100);
            o.CancelTimeout = TimeSpan.FromSeconds(30);
            o.StepRetry = new Sluice.Engine.RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(100) };
        });
        services.AddSingleton<IDataflowClients>(DataflowClientCache.ForEmulator(emulator));
        var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<WorkflowEngine>().EnsureStoreReadyAsync(CancellationToken.None);
        return new Controller(provider, runLoop);
    }

    public static string SqliteStore(string directory) => "sqlite://" + Path.Combine(directory, "sluice.db");

    public Task<long> ApplyAsync(string yaml, string? key = null) =>
        Rollouts.StartAsync(Manifests.Rollout(yaml), key ?? "test:" + Guid.NewGuid().ToString("N"), "test", CancellationToken.None);

    /// <summary>Waits (generous deadline) until the run has finished.</summary>
    public async Task<RunDetail> WaitAsync(long runId, int seconds = 90)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            return await Engine.WaitForRunAsync(runId, timeout.Token);
        }
        catch (OperationCanceledException)
        {
            var run = await Engine.GetRunAsync(runId, CancellationToken.None);
            throw new TimeoutException(
                $"Run {runId} did not finish within {seconds}s: " +
                string.Join(", ", run?.Steps.Select(s => $"{s.Name}={s.Status} {s.Reason}") ?? []));
        }
    }

    /// <summary>Polls the registry until the run's revision matches (generous deadline).</summary>
    public async Task<PipelineRevision> WaitForRevisionAsync(long runId, Func<PipelineRevision, bool> condition)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while (true)
        {
            var revision = await Registry.GetRevisionByRunAsync(runId, CancellationToken.None);
            if (revision is not null && condition(revision))
            {
                return revision;
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"The revision of run {runId} is {revision?.Status.ToStored() ?? "missing"} after 30s.");
            }

            await Task.Delay(20);
        }
    }

    public async Task<string> LogsAsync(long runId)
    {
        var logs = await Engine.GetStepLogsAsync(runId, null, 0, 10_000, CancellationToken.None);
        return string.Join("\n", logs.Select(l => $"{l.StepName}: {l.Message}"));
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await loop;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        await provider.DisposeAsync();
        stop.Dispose();
    }
}

/// <summary>Builds Rollout manifests as YAML, read by the real manifest reader.</summary>
public static class Manifests
{
    public static RolloutManifest Rollout(string yaml)
    {
        var result = ManifestReader.Read(yaml, "rollout.yaml");
        Assert.True(result.IsValid, "The test manifest is invalid:\n" + string.Join("\n", result.Problems) + "\n" + yaml);
        return Assert.IsType<RolloutManifest>(Assert.Single(result.Manifests));
    }

    /// <summary>One version: a template (classic unless it ends in flex.json) and parameters.</summary>
    public sealed record V(string Version, string Template, IReadOnlyDictionary<string, string> Parameters, string? JobName = null, string? Mapping = null);

    public static string Yaml(
        string name, string pipeline, V? from, V to, string strategy = "restart", string stop = "{ mode: drain, timeout: 1m }",
        string checks = "- state: RUNNING", string timeout = "1m", string rollback = "manual", string extra = "")
    {
        var text = new StringBuilder();
        text.AppendLine("apiVersion: sluice/v1").AppendLine("kind: Rollout").AppendLine("metadata:").AppendLine($"  name: {name}");
        text.AppendLine("spec:").AppendLine($"  pipeline: {pipeline}").AppendLine($"  strategy: {strategy}").AppendLine($"  stop: {stop}");
        text.AppendLine($"  rollback: {rollback}");
        if (extra.Length > 0)
        {
            text.AppendLine("  " + extra);
        }

        if (from is not null)
        {
            Version(text, "from", from);
        }

        Version(text, "to", to);
        text.AppendLine("  validation:").AppendLine($"    timeout: {timeout}").AppendLine("    checks:");
        foreach (var line in checks.Split('\n'))
        {
            text.AppendLine("      " + line.Trim());
        }

        return text.ToString();
    }

    private static void Version(StringBuilder text, string key, V v)
    {
        text.AppendLine($"  {key}:").AppendLine($"    version: {v.Version}");
        if (v.JobName is not null)
        {
            text.AppendLine($"    jobName: {v.JobName}");
        }

        var kind = v.Template.EndsWith("flex.json", StringComparison.Ordinal) || v.Template.EndsWith("flex-v2.json", StringComparison.Ordinal) ? "flex" : "classic";
        text.AppendLine("    template:").AppendLine($"      kind: {kind}").AppendLine($"      gcsPath: {v.Template}");
        text.AppendLine("    environment: { numWorkers: 1, maxWorkers: 2 }");
        text.AppendLine("    parameters:");
        foreach (var (k, value) in v.Parameters)
        {
            text.AppendLine($"      {k}: \"{value}\"");
        }

        if (v.Mapping is not null)
        {
            text.AppendLine($"    transformNameMapping: {v.Mapping}");
        }
    }
}
