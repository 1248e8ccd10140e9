using System.Diagnostics;
using System.Globalization;
using Npgsql;
using Sluice.Engine;

namespace Sluice.Bench;

/// <summary>
/// `bench engine --store sqlite|postgres [--runs N] [--steps N] [--postgres CONNECTION]`: the workflow engine's own
/// cost with no-op steps on a real store: step transitions per second with many runs at once, the per-step overhead
/// of one run (the time between one step's handler returning and the next step's handler being called), and the
/// latency from StartRunAsync to the first step's handler. PostgreSQL comes from --postgres, SLUICE_BENCH_POSTGRES
/// or SLUICE_TEST_POSTGRES (each benchmark uses a fresh schema).
/// </summary>
internal static class EngineBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = ParseOptions(args);
        if (options is null)
        {
            await Console.Error.WriteLineAsync(
                "usage: engine --store sqlite|postgres [--runs 200] [--steps 10] [--postgres CONNECTION]\n" +
                "PostgreSQL: pass --postgres, or set SLUICE_BENCH_POSTGRES or SLUICE_TEST_POSTGRES " +
                "(source scripts/prereqs.sh; start_throwaway_postgres starts a local one).");
            return 2;
        }

        var (kind, runs, steps, postgres) = options.Value;
        await Console.Out.WriteLineAsync($"## Engine ({kind})\n");
        await Console.Out.WriteLineAsync($"{Environment.ProcessorCount} cores, load average {LoadAverage()} at start.\n");

        // Warm-up: the JIT's first tiers and connection pools are not what a long-running controller pays.
        await MeasureThroughputAsync(kind, postgres, 50, steps);
        await MeasureStepOverheadAsync(kind, postgres, runCount: 1, stepsPerRun: 100);
        var throughput = await MeasureThroughputAsync(kind, postgres, runs, steps);
        var overhead = await MeasureStepOverheadAsync(kind, postgres, runCount: 5, stepsPerRun: 200);
        var firstAction = await MeasureFirstActionAsync(kind, postgres, count: 100);

        await Console.Out.WriteLineAsync("| measurement | value |");
        await Console.Out.WriteLineAsync("|---|---|");
        await Console.Out.WriteLineAsync($"| step transitions/s ({runs} runs × {steps} no-op steps, 32 runs at once) | {throughput.TransitionsPerSecond:F0} |");
        await Console.Out.WriteLineAsync($"| CPU time of this process per step transition (same; database server not included) | {throughput.CpuMicrosecondsPerTransition:F0} µs |");
        await Console.Out.WriteLineAsync($"| per-step overhead p50 / p99 (one run, consecutive steps) | {Ms(overhead, 0.50)} / {Ms(overhead, 0.99)} |");
        await Console.Out.WriteLineAsync($"| StartRunAsync → first handler call p50 / p99 | {Ms(firstAction, 0.50)} / {Ms(firstAction, 0.99)} |");
        await Console.Out.WriteLineAsync($"\nLoad average {LoadAverage()} at the end.");
        return 0;
    }

    private static (string Kind, int Runs, int Steps, string? Postgres)? ParseOptions(string[] args)
    {
        string? kind = null;
        var runs = 200;
        var steps = 10;
        var postgres = Environment.GetEnvironmentVariable("SLUICE_BENCH_POSTGRES") is { Length: > 0 } bench
            ? bench
            : Environment.GetEnvironmentVariable("SLUICE_TEST_POSTGRES");
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--store":
                    kind = args[i + 1];
                    break;
                case "--runs":
                    runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--steps":
                    steps = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
                    break;
                case "--postgres":
                    postgres = args[i + 1];
                    break;
                default:
                    return null;
            }
        }

        if (kind is not ("sqlite" or "postgres") || (kind == "postgres" && string.IsNullOrEmpty(postgres)))
        {
            return null;
        }

        return (kind, runs, steps, postgres);
    }

    private static async Task<string> NewStoreAsync(string kind, string? postgres)
    {
        if (kind == "sqlite")
        {
            return "sqlite://" + Path.Combine(Directory.CreateTempSubdirectory("sluice-bench-engine-").FullName, "sluice.db");
        }

        var schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(postgres) { SearchPath = schema }.ConnectionString;
    }

    private static async Task<(double TransitionsPerSecond, double CpuMicrosecondsPerTransition)> MeasureThroughputAsync(
        string kind, string? postgres, int runs, int steps)
    {
        await using var database = StateStoreFactory.Open(await NewStoreAsync(kind, postgres));
        var handler = new NoopHandler();
        await using var engine = new WorkflowEngine(database, [handler], options: new EngineOptions { MaxConcurrentRuns = 32 });
        await engine.EnsureStoreReadyAsync(CancellationToken.None);
        var stepRequests = Enumerable.Range(1, steps).Select(i => new StepRequest($"s{i}", "noop")).ToList();
        var ids = new List<long>();
        for (var i = 0; i < runs; i++)
        {
            ids.Add((await engine.StartRunAsync(new RunRequest("bench", $"run-{i}", stepRequests), CancellationToken.None)).RunId);
        }

        using var stop = new CancellationTokenSource();
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var loop = engine.RunLoopAsync(stop.Token);
        await WaitUntilFinishedAsync(database, runs);
        var elapsed = clock.Elapsed;
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        await stop.CancelAsync();
        await loop;
        // pending → running → succeeded: two step transitions per step.
        var transitions = (double)runs * steps * 2;
        return (transitions / elapsed.TotalSeconds, cpu.TotalMilliseconds * 1000 / transitions);
    }

    private static async Task<List<double>> MeasureStepOverheadAsync(string kind, string? postgres, int runCount, int stepsPerRun)
    {
        await using var database = StateStoreFactory.Open(await NewStoreAsync(kind, postgres));
        var handler = new NoopHandler();
        await using var engine = new WorkflowEngine(database, [handler]);
        await engine.EnsureStoreReadyAsync(CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var loop = engine.RunLoopAsync(stop.Token);
        var gaps = new List<double>();
        var stepRequests = Enumerable.Range(1, stepsPerRun).Select(i => new StepRequest($"s{i}", "noop")).ToList();
        for (var r = 0; r < runCount; r++)
        {
            handler.Reset();
            var start = await engine.StartRunAsync(new RunRequest("bench", $"overhead-{r}", stepRequests), CancellationToken.None);
            await WaitUntilFinishedAsync(database, r + 1);
            var entries = handler.Entries;
            var exits = handler.Exits;
            // From a handler's return to the next handler's call: two transitions and the scheduling between them.
            for (var i = 1; i < entries.Count; i++)
            {
                gaps.Add(Stopwatch.GetElapsedTime(exits[i - 1], entries[i]).TotalMilliseconds);
            }
        }

        await stop.CancelAsync();
        await loop;
        return gaps;
    }

    private static async Task<List<double>> MeasureFirstActionAsync(string kind, string? postgres, int count)
    {
        await using var database = StateStoreFactory.Open(await NewStoreAsync(kind, postgres));
        var handler = new NoopHandler();
        await using var engine = new WorkflowEngine(database, [handler]);
        await engine.EnsureStoreReadyAsync(CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var loop = engine.RunLoopAsync(stop.Token);
        var latencies = new List<double>();
        for (var i = 0; i < count; i++)
        {
            handler.Reset();
            var before = Stopwatch.GetTimestamp();
            var start = await engine.StartRunAsync(new RunRequest("bench", $"first-{i}", [new StepRequest("s1", "noop")]), CancellationToken.None);
            await WaitUntilFinishedAsync(database, i + 1);
            latencies.Add(Stopwatch.GetElapsedTime(before, handler.Entries[0]).TotalMilliseconds);
        }

        await stop.CancelAsync();
        await loop;
        return latencies;
    }

    /// <summary>
    /// Polls a cheap count rather than <see cref="WorkflowEngine.WaitForRunAsync"/>, whose per-transition re-reads
    /// would load the store the benchmark measures.
    /// </summary>
    private static async Task WaitUntilFinishedAsync(IDatabase database, int finishedRuns)
    {
        while (true)
        {
            var count = await database.ReadAsync(
                async c =>
                {
                    await using var command = c.CreateCommand("SELECT COUNT(*) FROM engine_runs WHERE status = 'succeeded'", null);
                    return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
                },
                CancellationToken.None);
            if (count >= finishedRuns)
            {
                return;
            }

            await Task.Delay(5);
        }
    }

    private static string Ms(List<double> values, double quantile)
    {
        var sorted = values.Order().ToList();
        var value = sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Count) - 1, 0, sorted.Count - 1)];
        return value.ToString("F2", CultureInfo.InvariantCulture) + " ms";
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private sealed class NoopHandler : IStepHandler
    {
        private readonly List<long> entries = [];
        private readonly List<long> exits = [];

        public string Kind => "noop";

        public List<long> Entries
        {
            get
            {
                lock (entries)
                {
                    return [.. entries];
                }
            }
        }

        public List<long> Exits
        {
            get
            {
                lock (entries)
                {
                    return [.. exits];
                }
            }
        }

        public void Reset()
        {
            lock (entries)
            {
                entries.Clear();
                exits.Clear();
            }
        }

        public Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
        {
            lock (entries)
            {
                entries.Add(Stopwatch.GetTimestamp());
                exits.Add(Stopwatch.GetTimestamp());
            }

            return Task.FromResult(StepOutcome.Succeeded());
        }
    }
}
