using System.Globalization;
using Sluice.Engine.CrashWorker;
using Xunit.Abstractions;

namespace Sluice.Engine.Tests;

/// <summary>
/// A child process runs a workload of runs whose steps perform recorded side effects; it is killed with SIGKILL at
/// random points, at least 50 times, and restarted each time. At the end every run has finished and every side effect
/// happened exactly once. Runs against each store.
/// </summary>
public abstract class CrashTests(ITestOutputHelper output)
{
    private const int Kills = 50;
    private const int RunsPerGeneration = 6;

    protected abstract StoreDialect Dialect { get; }

    [Fact]
    public async Task Every_run_finishes_and_every_effect_happens_exactly_once_across_50_SIGKILLs()
    {
        var store = await TestStores.NewStoreAsync(Dialect);
        var effectsStore = Dialect == StoreDialect.Sqlite ? store.Replace("sluice.db", "effects.db", StringComparison.Ordinal) : store;
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var generation = 1;
        var kills = 0;
        string[] Arguments(int g) =>
        [
            "--store", store, "--effects", effectsStore, "--generation", g.ToString(CultureInfo.InvariantCulture),
            "--runs", RunsPerGeneration.ToString(CultureInfo.InvariantCulture), "--replica", "crash-worker",
        ];

        while (kills < Kills)
        {
            using var worker = WorkerProcess.Start(Arguments(generation));
            await worker.WaitUntilStartedAsync(TimeSpan.FromSeconds(60));
            // A random point in the worker's life: submitting runs, claiming, between a step's effect and its result…
            if (await worker.WaitForExitAsync(TimeSpan.FromMilliseconds(random.Next(0, 150))))
            {
                Assert.True(worker.ExitCode == 0, $"The crash worker failed with exit code {worker.ExitCode}:\n{worker.Output}");
                generation++; // this generation is complete; the next life gets a new workload
                continue;
            }

            await worker.KillAsync();
            kills++;
        }

        using (var last = WorkerProcess.Start(Arguments(generation)))
        {
            Assert.True(await last.WaitForExitAsync(TimeSpan.FromSeconds(120)), $"The last worker did not finish:\n{last.Output}");
            Assert.True(last.ExitCode == 0, $"The last worker failed with exit code {last.ExitCode}:\n{last.Output}");
        }

        await using var engineDb = StateStoreFactory.Open(store);
        await using var effectsDb = StateStoreFactory.Open(effectsStore);
        var runs = await engineDb.ReadAsync(
            c => c.QueryAsync(
                null, "SELECT name, status, mutex_key, started_at, finished_at, id FROM engine_runs ORDER BY id",
                r => (Name: r.GetString(0), Status: r.GetString(1), Mutex: r.GetNullableString(2), Started: r.GetInt64(3), Finished: r.GetInt64(4), Id: r.GetInt64(5)),
                CancellationToken.None),
            CancellationToken.None);
        var expectedRuns = Enumerable.Range(1, generation)
            .SelectMany(g => Enumerable.Range(0, RunsPerGeneration).Select(i => CrashWorkload.RunKey(g, i)))
            .ToList();
        Assert.Equal(expectedRuns.Order(StringComparer.Ordinal), runs.Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(runs, r => Assert.Equal("succeeded", r.Status));

        var effects = await effectsDb.ReadAsync(
            c => c.QueryAsync(
                null, "SELECT effect_id, COUNT(*) FROM crash_effects GROUP BY effect_id",
                r => (Id: r.GetString(0), Count: r.GetInt64(1)), CancellationToken.None),
            CancellationToken.None);
        var expectedEffects = Enumerable.Range(1, generation)
            .SelectMany(g => Enumerable.Range(0, RunsPerGeneration).SelectMany(i => CrashWorkload.ExpectedEffects(g, i)))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expectedEffects, effects.Select(e => e.Id).Order(StringComparer.Ordinal));
        var duplicated = effects.Where(e => e.Count != 1).ToList();
        Assert.True(duplicated.Count == 0, "Effects performed more than once: " + string.Join(", ", duplicated));

        // Runs sharing a mutex key never overlapped and started in arrival order.
        foreach (var group in runs.Where(r => r.Mutex is not null).GroupBy(r => r.Mutex))
        {
            var ordered = group.OrderBy(r => r.Id).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                Assert.True(ordered[i].Started >= ordered[i - 1].Finished, $"Runs {ordered[i - 1].Name} and {ordered[i].Name} overlapped.");
            }
        }

        var resumed = await effectsDb.ReadAsync(
            async c =>
            {
                await using var command = c.CreateCommand("SELECT COUNT(*) FROM crash_executions WHERE resumed = 1 AND phase = 'start'", null);
                return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
            },
            CancellationToken.None);
        output.WriteLine(
            $"{Dialect}: {kills} kills (seed {seed}), {generation} generation(s), {runs.Count} runs, {effects.Count} effects, " +
            $"{resumed} step executions resumed after a kill");
    }
}

public sealed class SqliteCrashTests(ITestOutputHelper output) : CrashTests(output)
{
    protected override StoreDialect Dialect => StoreDialect.Sqlite;
}

public sealed class PostgresCrashTests(ITestOutputHelper output) : CrashTests(output)
{
    protected override StoreDialect Dialect => StoreDialect.Postgres;
}
