using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sluice.Controller;
using Sluice.Controller.Rollouts;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Bench;

/// <summary>
/// The controller's own time per rollout: a chain of restart rollouts (drain the old job, launch the new one, validate
/// it RUNNING) of one pipeline against the emulator, each measured as its run's wall time minus the time spent waiting
/// on the runner: inside Dataflow API calls, and parked between the checks of a waiting step (the job was not there yet).
/// What remains is the engine (claims, leases, state transitions, effect records), the steps' own code and the registry.
/// </summary>
internal static class RolloutBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = Option(args, "--count", 100);
        var warmup = Option(args, "--warmup", 5);
        var store = args.SkipWhile(a => a != "--store").Skip(1).FirstOrDefault() ?? "sqlite";
        var root = Path.Combine(Path.GetTempPath(), "sluice-bench-rollouts-" + Guid.NewGuid().ToString("N")[..8]);
        var buckets = Path.Combine(root, "buckets");
        // A streaming job that starts at once and drains on SIGTERM within 50 ms, so runner time stays small.
        var template = BucketPaths.ToLocalPath(buckets, "gs://bench/templates/drainable");
        Directory.CreateDirectory(Path.GetDirectoryName(template)!);
        await File.WriteAllTextAsync(
            template, """{"sluiceLocal": {"command": ["sh", "-c", "trap 'exit 0' TERM; echo ready; while :; do sleep 0.05; done"], "streaming": true}}""");

        string storeUri;
        if (store == "postgres")
        {
            storeUri = System.Environment.GetEnvironmentVariable("SLUICE_TEST_POSTGRES")
                ?? throw new InvalidOperationException("Set SLUICE_TEST_POSTGRES (source scripts/prereqs.sh; start_throwaway_postgres) for --store postgres.");
        }
        else
        {
            storeUri = "sqlite://" + Path.Combine(root, "sluice.db");
        }

        var host = await EmulatorHost.StartAsync(new EmulatorOptions { BucketsDirectory = buckets, HandleSigterm = false });
        var timings = new ConcurrentDictionary<long, RunTiming>();
        var services = new ServiceCollection();
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Warning));
        services.AddSluiceEngine(storeUri, o => o.PollInterval = TimeSpan.FromMilliseconds(50));
        services.AddSluiceRollouts(o => o.PollInterval = TimeSpan.FromMilliseconds(50));
        services.AddSingleton<IDataflowClients>(new DataflowClientCache(
            "sluice-local", "us-central1",
            (project, region) => new TimedDataflowClient(new DataflowClient(DataflowClientOptions.ForEmulator(host.BaseUri, project, region)))));
        TimedStepHandler.Decorate(services, timings);
        await using var provider = services.BuildServiceProvider();
        var engine = provider.GetRequiredService<WorkflowEngine>();
        var rollouts = provider.GetRequiredService<RolloutService>();
        await engine.EnsureStoreReadyAsync(CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var loop = Task.Run(() => engine.RunLoopAsync(stop.Token));
        var pipeline = "bench-" + Guid.NewGuid().ToString("N")[..6];
        var results = new List<RunTiming>();
        var wall = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i <= warmup + count; i++)
            {
                var manifest = Manifest(pipeline, i);
                var runId = await rollouts.StartAsync(manifest, $"bench:{pipeline}:{i}", "bench", CancellationToken.None);
                var run = await engine.WaitForRunAsync(runId, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));
                if (run.Run.Status != RunStatus.Succeeded)
                {
                    await Console.Error.WriteLineAsync($"error: rollout {i} ended {run.Run.Status}: {run.Run.Reason}");
                    return 1;
                }

                var timing = timings[runId];
                timing.Total = run.Run.FinishedAt!.Value - run.Run.StartedAt!.Value;
                if (i > warmup)
                {
                    results.Add(timing);
                }
            }
        }
        finally
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

            await host.DisposeAsync();
            TryDelete(root);
        }

        Console.WriteLine($"{count} restart rollouts (drain, launch, validate RUNNING) of one pipeline, one after the other, store {store}; {wall.Elapsed.TotalSeconds:0.0} s in all");
        Console.WriteLine("| per rollout | p50 | p90 | p99 | max |");
        Console.WriteLine("|---|---|---|---|---|");
        Row("controller's own time (total − API calls − parked waits)", results.Select(r => r.Own));
        Row("  of which in step handlers (their code and store writes, not API calls)", results.Select(r => r.HandlerOwn));
        Row("time in Dataflow API calls", results.Select(r => r.Api));
        Row("parked waiting for the job (between sensor checks)", results.Select(r => r.Parked));
        Row("total (run start → finish)", results.Select(r => r.Total));
        Console.WriteLine($"API calls per rollout: {results.Average(r => r.ApiCalls):0.0}; step calls per rollout: {results.Average(r => r.StepCalls):0.0}");
        var perStep = results.SelectMany(r => r.StepTicks).GroupBy(p => p.Key)
            .Select(g => $"{g.Key} {Stopwatch.GetElapsedTime(0, g.Sum(p => p.Value) / results.Count).TotalMilliseconds:0.0} ms");
        Console.WriteLine("mean time in each step's handler per rollout (API calls included): " + string.Join(", ", perStep));
        return 0;
    }

    private static RolloutManifest Manifest(string pipeline, int version)
    {
        string Version(string key, int v) => $"""
              {key}:
                version: v{v}
                template: {"{"} kind: classic, gcsPath: gs://bench/templates/drainable {"}"}
            """;
        var yaml = $"""
            apiVersion: sluice/v1
            kind: Rollout
            metadata:
              name: {pipeline}-v{version}
            spec:
              pipeline: {pipeline}
              strategy: restart
              stop: {"{"} mode: drain, timeout: 1m {"}"}
            {(version == 0 ? "" : Version("from", version - 1))}
            {Version("to", version)}
              validation:
                timeout: 1m
                checks:
                  - state: RUNNING
            """;
        var read = ManifestReader.Read(yaml, "bench.yaml");
        return read.IsValid ? (RolloutManifest)read.Manifests[0] : throw new InvalidOperationException(string.Join("\n", read.Problems));
    }

    private static void Row(string label, IEnumerable<TimeSpan> values)
    {
        var sorted = values.Select(v => v.TotalMilliseconds).Order().ToList();
        string P(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)].ToString("0.0", CultureInfo.InvariantCulture) + " ms";
        Console.WriteLine($"| {label} | {P(0.50)} | {P(0.90)} | {P(0.99)} | {sorted[^1].ToString("0.0", CultureInfo.InvariantCulture)} ms |");
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // A job process may still hold a file for a moment.
        }
    }

    /// <summary>What one run spent where; step calls and API calls of the run add to it.</summary>
    private sealed class RunTiming
    {
        private long apiTicks;
        private long parkedTicks;
        private long handlerTicks;
        private int apiCalls;
        private int stepCalls;

        public static readonly AsyncLocal<RunTiming?> Current = new();

        /// <summary>When each waiting step last returned Wait, and when it asked to be checked again (stopwatch ticks).</summary>
        public ConcurrentDictionary<string, (long Since, long Due)> Waiting { get; } = new();

        public TimeSpan Total { get; set; }

        public TimeSpan Api => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref apiTicks));

        public TimeSpan Parked => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref parkedTicks));

        public TimeSpan HandlerOwn => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref handlerTicks)) - Api;

        public TimeSpan Own => Total - Api - Parked;

        public int ApiCalls => apiCalls;

        public int StepCalls => stepCalls;

        public void AddApi(long ticks)
        {
            Interlocked.Add(ref apiTicks, ticks);
            Interlocked.Increment(ref apiCalls);
        }

        public void AddParked(long ticks) => Interlocked.Add(ref parkedTicks, ticks);

        /// <summary>Handler time per step name (API calls included).</summary>
        public ConcurrentDictionary<string, long> StepTicks { get; } = new();

        public void AddHandler(string step, long ticks)
        {
            Interlocked.Add(ref handlerTicks, ticks);
            Interlocked.Increment(ref stepCalls);
            StepTicks.AddOrUpdate(step, ticks, (_, total) => total + ticks);
        }
    }

    /// <summary>Times every step call of the rollout steps and the parked time between the checks of a waiting step.</summary>
    private sealed class TimedStepHandler(IStepHandler inner, ConcurrentDictionary<long, RunTiming> timings) : IStepHandler
    {
        public string Kind => inner.Kind;

        public static void Decorate(ServiceCollection services, ConcurrentDictionary<long, RunTiming> timings)
        {
            foreach (var registration in services.Where(d => d.ServiceType == typeof(IStepHandler)).ToList())
            {
                services.Remove(registration);
                var type = registration.ImplementationType!;
                services.AddSingleton<IStepHandler>(sp => new TimedStepHandler((IStepHandler)ActivatorUtilities.CreateInstance(sp, type), timings));
            }
        }

        public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
        {
            var timing = timings.GetOrAdd(context.Run.Id, _ => new RunTiming());
            var start = Stopwatch.GetTimestamp();
            if (timing.Waiting.TryRemove(context.Step.Name, out var waiting))
            {
                // Only the wait the step asked for counts as waiting on the runner; storing the outcome and any
                // lateness of the engine in calling the step again stay the controller's own time.
                timing.AddParked(Math.Clamp(waiting.Due - waiting.Since, 0, start - waiting.Since));
            }

            RunTiming.Current.Value = timing;
            var outcome = await inner.ExecuteAsync(context, cancellationToken);
            var end = Stopwatch.GetTimestamp();
            timing.AddHandler(context.Step.Name, end - start);
            if (outcome.Kind == StepOutcomeKind.Wait)
            {
                var delay = outcome.Delay ?? (outcome.Until is { } until ? until - context.TimeProvider.GetUtcNow() : TimeSpan.Zero);
                timing.Waiting[context.Step.Name] = (end, end + (long)(Math.Max(0, delay.TotalSeconds) * Stopwatch.Frequency));
            }

            return outcome;
        }
    }

    /// <summary>Adds the time of every call to the run that made it.</summary>
    private sealed class TimedDataflowClient(IDataflowClient inner) : IDataflowClient
    {
        public string ProjectId => inner.ProjectId;

        public string Location => inner.Location;

        private static async Task<T> Timed<T>(Func<Task<T>> call)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                return await call();
            }
            finally
            {
                RunTiming.Current.Value?.AddApi(Stopwatch.GetTimestamp() - start);
            }
        }

        public Task<LaunchTemplateResponse> LaunchTemplateAsync(string gcsPath, LaunchTemplateParameters parameters, LaunchIdentity? identity = null,
            bool validateOnly = false, CancellationToken cancellationToken = default) =>
            Timed(() => inner.LaunchTemplateAsync(gcsPath, parameters, identity, validateOnly, cancellationToken));

        public Task<LaunchFlexTemplateResponse> LaunchFlexTemplateAsync(LaunchFlexTemplateParameter launchParameter, LaunchIdentity? identity = null,
            bool validateOnly = false, CancellationToken cancellationToken = default) =>
            Timed(() => inner.LaunchFlexTemplateAsync(launchParameter, identity, validateOnly, cancellationToken));

        public Task<GetTemplateResponse> GetTemplateAsync(string gcsPath, CancellationToken cancellationToken = default) =>
            Timed(() => inner.GetTemplateAsync(gcsPath, cancellationToken));

        public Task<Job> GetJobAsync(string jobId, JobView view = JobView.Summary, CancellationToken cancellationToken = default) =>
            Timed(() => inner.GetJobAsync(jobId, view, cancellationToken));

        public Task<ListJobsResponse> ListJobsAsync(ListJobsRequest request, CancellationToken cancellationToken = default) =>
            Timed(() => inner.ListJobsAsync(request, cancellationToken));

        public async IAsyncEnumerable<Job> ListAllJobsAsync(JobListFilter filter = JobListFilter.All, string? name = null,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            var jobs = await Timed(() => ToListAsync(inner.ListAllJobsAsync(filter, name, cancellationToken), cancellationToken));
            foreach (var job in jobs)
            {
                yield return job;
            }
        }

        public Task<Job> UpdateJobAsync(string jobId, Job job, string? updateMask = null, CancellationToken cancellationToken = default) =>
            Timed(() => inner.UpdateJobAsync(jobId, job, updateMask, cancellationToken));

        public Task<Job> CancelJobAsync(string jobId, CancellationToken cancellationToken = default) => Timed(() => inner.CancelJobAsync(jobId, cancellationToken));

        public Task<Job> DrainJobAsync(string jobId, CancellationToken cancellationToken = default) => Timed(() => inner.DrainJobAsync(jobId, cancellationToken));

        public Task<Job> UpdateRuntimeParamsAsync(string jobId, RuntimeUpdatableParams runtimeParams, CancellationToken cancellationToken = default) =>
            Timed(() => inner.UpdateRuntimeParamsAsync(jobId, runtimeParams, cancellationToken));

        public Task<ListJobMessagesResponse> ListJobMessagesAsync(string jobId, ListJobMessagesRequest request, CancellationToken cancellationToken = default) =>
            Timed(() => inner.ListJobMessagesAsync(jobId, request, cancellationToken));

        public Task<ListJobMessagesResponse> ListAllJobMessagesAsync(string jobId, ListJobMessagesRequest request, CancellationToken cancellationToken = default) =>
            Timed(() => inner.ListAllJobMessagesAsync(jobId, request, cancellationToken));

        public Task<JobMetrics> GetJobMetricsAsync(string jobId, DateTimeOffset? startTime = null, CancellationToken cancellationToken = default) =>
            Timed(() => inner.GetJobMetricsAsync(jobId, startTime, cancellationToken));

        public Task<Job?> FindLaunchedJobAsync(LaunchIdentity identity, string jobName, CancellationToken cancellationToken = default) =>
            Timed(() => inner.FindLaunchedJobAsync(identity, jobName, cancellationToken));

        private static async Task<List<Job>> ToListAsync(IAsyncEnumerable<Job> jobs, CancellationToken cancellationToken)
        {
            var list = new List<Job>();
            await foreach (var job in jobs.WithCancellation(cancellationToken))
            {
                list.Add(job);
            }

            return list;
        }
    }
}
