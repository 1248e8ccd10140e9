using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using Sluice.Controller.Schedules;
using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Bench;

/// <summary>
/// `bench schedules [--schedules N] [--burst N] [--idle-seconds N]`: N active schedules on one node (SQLite store):
/// registration time, process CPU while idle, memory, and the dispatch lag when a burst of slots falls due at the same
/// instant — "launched" is the slot run's first runner call, received by a loopback no-op Dataflow-compatible endpoint
/// in this process. Then Quartz.NET (ADO.NET job store on SQLite through Microsoft.Data.Sqlite) fires the same number
/// of triggers at one instant, each job making the same launch call, and the ratio is reported.
/// </summary>
internal static class SchedulesBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var schedules = Option(args, "--schedules", 10_000);
        var burst = Option(args, "--burst", 1_000);
        var idleSeconds = Option(args, "--idle-seconds", 30);
        var root = Directory.CreateTempSubdirectory("sluice-bench-schedules-").FullName;
        try
        {
            await using var runner = await NoOpRunner.StartAsync();
            Console.WriteLine($"## Schedules\n\n{schedules} active schedules on one node, SQLite store, {System.Environment.ProcessorCount} cores; " +
                $"runner: a loopback no-op Dataflow-compatible endpoint in the same process (launch answers a DONE job).\n");
            var sluice = await MeasureSluiceAsync(Path.Combine(root, "sluice"), runner, schedules, burst, idleSeconds);
            // --skip-quartz: for iterating on Sluice's own figures; the comparison needs the full run.
            var quartz = args.Contains("--skip-quartz") ? null : await MeasureQuartzAsync(Path.Combine(root, "quartz"), runner, burst);

            Console.WriteLine("| measurement | Sluice |");
            Console.WriteLine("|---|---|");
            Console.WriteLine($"| register {schedules} schedules | {sluice.Registration.TotalSeconds:F1} s ({sluice.Registration.TotalMilliseconds / schedules:F2} ms each) |");
            Console.WriteLine($"| process CPU while idle ({idleSeconds} s, {schedules} schedules queued) | {sluice.IdleCpuPercent:F2} % of one core |");
            Console.WriteLine($"| managed heap after registration (after a full GC) | {sluice.HeapMb:F1} MB ({sluice.HeapMb * 1024 * 1024 / schedules:F0} bytes per schedule incl. engine and runtime) |");
            Console.WriteLine($"| working set after registration | {sluice.WorkingSetMb:F0} MB |");
            Console.WriteLine();
            Console.WriteLine($"Dispatch lag: {burst} slots (and, for Quartz, {burst} triggers) due at the same instant; lag = first runner call − due time.\n");
            Console.WriteLine("| scheduler | launched | p50 | p90 | p99 | max |");
            Console.WriteLine("|---|---|---|---|---|---|");
            Row("Sluice: slot run created (scheduler only)", sluice.RunCreatedLags, burst);
            Row("Sluice: first runner call (scheduler + engine + SQLite)", sluice.Lags, burst);
            if (quartz is null)
            {
                return 0;
            }

            Row("Quartz.NET 4.7.3 (AdoJobStore, SQLite)", quartz.Lags, burst);
            Console.WriteLine();
            var ratio99 = Percentile(quartz.Lags, 0.99) / Math.Max(0.001, Percentile(sluice.Lags, 0.99));
            var ratioMax = quartz.Lags.Max() / Math.Max(0.001, sluice.Lags.Max());
            Console.WriteLine($"Ratio Quartz / Sluice: p99 {ratio99:F1}×, all launched {ratioMax:F1}×. " +
                $"Quartz registered its {burst} jobs and triggers in {quartz.Registration.TotalSeconds:F1} s.");
            return 0;
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed record SluiceResult(
        TimeSpan Registration, double IdleCpuPercent, double HeapMb, double WorkingSetMb, List<double> Lags, List<double> RunCreatedLags);

    /// <summary>The scheduler's own lag (due → slot run created), as it reports it to the metrics.</summary>
    private sealed class RunCreatedLags : ISchedulerLagRecorder
    {
        public ConcurrentBag<double> Lags { get; } = [];

        public void RecordSchedulerLag(TimeSpan lag) => Lags.Add(lag.TotalMilliseconds);
    }

    private sealed record QuartzResult(TimeSpan Registration, List<double> Lags);

    private static async Task<SluiceResult> MeasureSluiceAsync(string directory, NoOpRunner runner, int schedules, int burst, int idleSeconds)
    {
        Directory.CreateDirectory(directory);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSluiceEngine("sqlite://" + Path.Combine(directory, "sluice.db"));
        builder.Services.AddSingleton<Controller.IDataflowClients>(_ => Controller.DataflowClientCache.ForEmulator(runner.BaseUri));
        builder.Services.AddSluiceSchedules();
        var created = new RunCreatedLags();
        builder.Services.AddSingleton<ISchedulerLagRecorder>(created);
        using var host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<SlotScheduler>().Started;
        var service = host.Services.GetRequiredService<ScheduleService>();

        // Warm-up, as on a node that has run slots before: a few slots due in two seconds, launched and then unscheduled,
        // so that the burst does not pay for first-call JIT compilation and connection set-up.
        var warmDue = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(2);
        for (var i = 0; i < WarmUp; i++)
        {
            await service.RegisterAsync(Manifest($"warm_{i:D3}", "PT1H", warmDue - TimeSpan.FromHours(1), "UTC"), "bench", CancellationToken.None);
        }

        await runner.CollectAsync("warm-", WarmUp, warmDue, TimeSpan.FromSeconds(60));
        created.Lags.Clear();
        for (var i = 0; i < WarmUp; i++)
        {
            await service.UnscheduleAsync($"warm_{i:D3}", cancelRunning: false, CancellationToken.None);
        }

        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        var now = TimeProvider.System.GetUtcNow();
        var registration = Stopwatch.StartNew();
        var idle = schedules - burst;
        for (var i = 0; i < idle; i++)
        {
            // Idle schedules: daily at a time spread over the day, starting tomorrow, so that nothing is due during the run.
            var cron = $"{i % 60} {(i / 60) % 24} * * *";
            await service.RegisterAsync(Manifest($"idle_{i:D5}", cron, now.Date.AddDays(2), "UTC"), "bench", CancellationToken.None);
        }

        // The burst: hourly slots whose first interval ends at dueAt, registered last so that dueAt can follow the idle window.
        var registeredSoFar = registration.Elapsed;
        var burstRegistration = TimeSpan.FromMilliseconds(Math.Max(1.0, registeredSoFar.TotalMilliseconds / Math.Max(1, idle)) * burst * 1.5);
        var dueAt = TimeProvider.System.GetUtcNow() + burstRegistration + TimeSpan.FromSeconds(idleSeconds + MaxSettleSeconds + 10);
        dueAt = new DateTimeOffset(dueAt.Ticks - (dueAt.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        for (var i = 0; i < burst; i++)
        {
            await service.RegisterAsync(Manifest($"burst_{i:D5}", "PT1H", dueAt - TimeSpan.FromHours(1), "UTC"), "bench", CancellationToken.None);
        }

        registration.Stop();
        var heapMb = (GC.GetTotalMemory(forceFullCollection: true) - heapBefore) / 1024.0 / 1024.0;
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var workingSetMb = process.WorkingSet64 / 1024.0 / 1024.0;
        if (TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(idleSeconds + 2) > dueAt)
        {
            throw new InvalidOperationException("Registration took longer than planned; the burst would fall due inside the idle window. Run again.");
        }

        // Idle means steady state: the runtime recompiles what registration made hot (tiered JIT) in the background for
        // a while afterwards, which is start-up cost, not the scheduler's. Wait until no method was compiled for 2 s.
        var settle = Stopwatch.StartNew();
        var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        var quietSince = settle.Elapsed;
        while (settle.Elapsed - quietSince < TimeSpan.FromSeconds(2) && settle.Elapsed < TimeSpan.FromSeconds(MaxSettleSeconds))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250));
            var now2 = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now2 != compiled)
            {
                compiled = now2;
                quietSince = settle.Elapsed;
            }
        }

        await Console.Error.WriteLineAsync($"idle: the JIT settled {settle.Elapsed.TotalSeconds:F1} s after registration");
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(idleSeconds));
        process.Refresh();
        var idleCpu = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / wall.Elapsed.TotalMilliseconds * 100;

        process.Refresh();
        var cpuBeforeBurst = process.TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes();
        var gcBefore = (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2));
        var pauseBefore = GC.GetTotalPauseDuration();
        var lags = await runner.CollectAsync("burst-", burst, dueAt, TimeSpan.FromSeconds(120));
        process.Refresh();
        var burstCpu = process.TotalProcessorTime - cpuBeforeBurst;
        await Console.Error.WriteLineAsync($"burst: process CPU {burstCpu.TotalMilliseconds:F0} ms until the last launch ({burstCpu.TotalMilliseconds / burst:F2} ms per slot)");
        await Console.Error.WriteLineAsync($"burst: allocated {(GC.GetTotalAllocatedBytes() - allocatedBefore) / 1048576.0:F0} MB, GCs {GC.CollectionCount(0) - gcBefore.Item1}/{GC.CollectionCount(1) - gcBefore.Item2}/{GC.CollectionCount(2) - gcBefore.Item3}, pause {(GC.GetTotalPauseDuration() - pauseBefore).TotalMilliseconds:F0} ms, threads {process.Threads.Count}");
        var sortedLags = lags.Order().ToList();
        await Console.Error.WriteLineAsync("burst: launched by " + string.Join(", ", Quantiles.Select(q => $"{q:P0}: {sortedLags[Math.Min(sortedLags.Count - 1, (int)(q * sortedLags.Count))]:F0} ms")));
        await host.StopAsync();
        return new SluiceResult(registration.Elapsed, idleCpu, heapMb, workingSetMb, lags, created.Lags.ToList());
    }

    private static ScheduleManifest Manifest(string dagId, string schedule, DateTimeOffset start, string zone) => new()
    {
        Metadata = new ManifestMetadata(dagId.Replace('_', '-')),
        Spec = new ScheduleSpec
        {
            DagId = dagId,
            Schedule = schedule,
            TimeZone = zone,
            StartDate = start,
            Catchup = false,
            MaxActiveRuns = 1,
            Job = new ScheduledJob
            {
                Template = new TemplateRef(TemplateKind.Classic, "gs://bench/templates/noop"),
                JobName = dagId.Replace('_', '-') + "-{{ ts_nodash }}",
                Parameters = new Dictionary<string, string> { ["date"] = "{{ ds }}" },
            },
        },
    };

    private static async Task<QuartzResult> MeasureQuartzAsync(string directory, NoOpRunner runner, int triggers)
    {
        Directory.CreateDirectory(directory);
        QuartzLaunchJob.Runner = runner;
        var scheduler = await QuartzSchedulerBuilder.Create(q =>
        {
            // Quartz's own throughput settings, set as generously as its validation allows for this pool size.
            q.ConfigureScheduler(s =>
            {
                s.InstanceName = "bench";
                s.MaxBatchSize = 64;
                s.BatchTriggerAcquisitionFireAheadTimeWindow = TimeSpan.Zero;
            });
            q.UseDefaultThreadPool(64);
            q.UsePersistentStore(store =>
            {
                store.UseSqlite("Data Source=" + Path.Combine(directory, "quartz.db"));
                store.UseSystemTextJsonSerializer();
                store.ProvisionSchema();
            });
        }).BuildScheduler();
        var registration = Stopwatch.StartNew();
        var fireAt = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(60);
        fireAt = new DateTimeOffset(fireAt.Ticks - (fireAt.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        for (var i = 0; i < triggers; i++)
        {
            var job = JobBuilder.Create<QuartzLaunchJob>().WithIdentity($"quartz-{i:D5}").UsingJobData("name", $"quartz-{i:D5}").Build();
            var trigger = TriggerBuilder.Create().WithIdentity($"quartz-{i:D5}").StartAt(fireAt).Build();
            await scheduler.ScheduleJob(job, trigger);
        }

        registration.Stop();
        if (TimeProvider.System.GetUtcNow() > fireAt - TimeSpan.FromSeconds(5))
        {
            throw new InvalidOperationException("Quartz registration took longer than planned; run again.");
        }

        // The same warm-up as Sluice's: a few triggers fired and launched before the measured instant.
        await scheduler.Start();
        var warmAt = TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(2);
        for (var i = 0; i < WarmUp; i++)
        {
            var job = JobBuilder.Create<QuartzLaunchJob>().WithIdentity($"qwarm-{i:D3}").UsingJobData("name", $"qwarm-{i:D3}").Build();
            await scheduler.ScheduleJob(job, TriggerBuilder.Create().WithIdentity($"qwarm-{i:D3}").StartAt(warmAt).Build());
        }

        await runner.CollectAsync("qwarm-", WarmUp, warmAt, TimeSpan.FromSeconds(60));
        if (TimeProvider.System.GetUtcNow() > fireAt - TimeSpan.FromSeconds(2))
        {
            throw new InvalidOperationException("Quartz warm-up took longer than planned; run again.");
        }

        var lags = await runner.CollectAsync("quartz-", triggers, fireAt, TimeSpan.FromSeconds(180));
        await scheduler.Shutdown(waitForJobsToComplete: true);
        return new QuartzResult(registration.Elapsed, lags);
    }

    /// <summary>A Quartz job that makes the same first runner call as a slot run: a template launch.</summary>
    [DisallowConcurrentExecution]
    public sealed class QuartzLaunchJob : IJob
    {
        internal static NoOpRunner? Runner { get; set; }

        public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            var name = context.MergedJobDataMap.GetString("name") ?? "quartz";
            await Runner!.Client.LaunchTemplateAsync(
                "gs://bench/templates/noop", new LaunchTemplateParameters { JobName = name }, cancellationToken: cancellationToken);
        }
    }

    private const int WarmUp = 50;

    private const int MaxSettleSeconds = 20;

    private static readonly double[] Quantiles = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0];

    private static void Row(string name, List<double> lags, int expected) =>
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"| {name} | {lags.Count} of {expected} | {Percentile(lags, 0.5):F0} ms | {Percentile(lags, 0.9):F0} ms | {Percentile(lags, 0.99):F0} ms | {(lags.Count == 0 ? 0 : lags.Max()):F0} ms |"));

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? int.Parse(args[index + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>
    /// A loopback endpoint that answers the Dataflow calls a slot run makes: templates.launch (recording when each job
    /// name arrived), jobs.get and jobs.list. Every job is DONE at once, so runs finish without a runner's delay.
    /// </summary>
    internal sealed class NoOpRunner : IAsyncDisposable
    {
        private readonly WebApplication app;
        private readonly ConcurrentDictionary<string, DateTimeOffset> launches = new(StringComparer.Ordinal);
        private readonly ConcurrentDictionary<string, JsonObject> jobs = new(StringComparer.Ordinal);
        private long nextId;

        private NoOpRunner(WebApplication app)
        {
            this.app = app;
        }

        public Uri BaseUri { get; private set; } = null!;

        public DataflowClient Client { get; private set; } = null!;

        public static async Task<NoOpRunner> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var runner = new NoOpRunner(app);
            app.Run(runner.HandleAsync);
            await app.StartAsync();
            runner.BaseUri = new Uri(app.Urls.First() + "/");
            runner.Client = new DataflowClient(DataflowClientOptions.ForEmulator(runner.BaseUri));
            return runner;
        }

        /// <summary>Waits until <paramref name="count"/> launches with the prefix arrived; returns each one's lag after <paramref name="dueAt"/> in ms.</summary>
        public async Task<List<double>> CollectAsync(string prefix, int count, DateTimeOffset dueAt, TimeSpan timeout)
        {
            var deadline = dueAt + timeout;
            while (launches.Keys.Count(k => k.StartsWith(prefix, StringComparison.Ordinal)) < count && TimeProvider.System.GetUtcNow() < deadline)
            {
                await Task.Delay(50);
            }

            return launches.Where(l => l.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(l => (l.Value - dueAt).TotalMilliseconds).ToList();
        }

        private async Task HandleAsync(HttpContext context)
        {
            var path = context.Request.Path.Value ?? "";
            if (context.Request.Method == "POST" && path.EndsWith("/templates:launch", StringComparison.Ordinal))
            {
                var received = TimeProvider.System.GetUtcNow();
                var body = await JsonNode.ParseAsync(context.Request.Body);
                var name = body?["jobName"]?.GetValue<string>() ?? "job";
                launches.TryAdd(name, received);
                var id = "bench-" + Interlocked.Increment(ref nextId).ToString(CultureInfo.InvariantCulture);
                var job = new JsonObject
                {
                    ["id"] = id,
                    ["name"] = name,
                    ["projectId"] = "sluice-local",
                    ["location"] = "us-central1",
                    ["type"] = "JOB_TYPE_BATCH",
                    ["currentState"] = "JOB_STATE_DONE",
                    ["createTime"] = received.ToString("O", CultureInfo.InvariantCulture),
                    ["labels"] = body?["environment"]?["additionalUserLabels"]?.DeepClone() ?? new JsonObject(),
                };
                jobs[id] = job;
                await context.Response.WriteAsJsonAsync(new JsonObject { ["job"] = job.DeepClone() });
                return;
            }

            if (context.Request.Method == "GET" && path.Contains("/jobs/", StringComparison.Ordinal))
            {
                var id = path[(path.LastIndexOf('/') + 1)..];
                if (jobs.TryGetValue(id, out var job))
                {
                    await context.Response.WriteAsJsonAsync(job);
                    return;
                }

                context.Response.StatusCode = 404;
                await context.Response.WriteAsJsonAsync(new { error = new { code = 404, message = $"Job {id} not found", status = "NOT_FOUND" } });
                return;
            }

            if (context.Request.Method == "GET" && path.EndsWith("/jobs", StringComparison.Ordinal))
            {
                await context.Response.WriteAsync("{}");
                return;
            }

            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { error = new { code = 404, message = "not served by the bench runner", status = "NOT_FOUND" } });
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            await app.DisposeAsync();
        }
    }
}
