using System.Globalization;
using Sluice.Engine.CrashWorker;
using Xunit.Abstractions;

namespace Sluice.Engine.Tests;

/// <summary>
/// Two replicas (processes) share one PostgreSQL store; one is killed with SIGKILL in the middle of a step. The other
/// takes the dead replica's runs over when their leases expire and finishes everything; no step executes on both at
/// once and every effect happens exactly once.
/// </summary>
public sealed class FailoverTests(ITestOutputHelper output)
{
    private const int Runs = 12;

    [Fact]
    public async Task When_one_of_two_postgres_replicas_is_killed_mid_step_the_other_finishes_its_runs()
    {
        var store = await TestStores.NewPostgresStoreAsync();
        await using var db = StateStoreFactory.Open(store);
        await db.WriteAsync((c, t) => c.ExecuteAsync(t, CrashWorkload.EffectsDdl, CancellationToken.None), CancellationToken.None);
        string[] Arguments(string replica) =>
        [
            "--store", store, "--effects", store, "--generation", "1", "--runs", Runs.ToString(CultureInfo.InvariantCulture),
            "--replica", replica, "--lease-ms", "1500", "--poll-ms", "100", "--slow-ms", "300", "--max-runs", "2",
        ];

        // At most two runs at a time per replica, so that both replicas get work.
        using var replicaA = WorkerProcess.Start(Arguments("replica-a"));
        await replicaA.WaitUntilStartedAsync(TimeSpan.FromSeconds(60));
        using var replicaB = WorkerProcess.Start(Arguments("replica-b"));
        var replicaBStarted = replicaB.WaitUntilStartedAsync(TimeSpan.FromSeconds(60));

        // Kill A while it is inside a step (a start without an end), once B runs beside it.
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (true)
        {
            var executions = await ReadExecutionsAsync(db);
            var a = executions.Where(e => e.Replica == "replica-a").ToList();
            // A step that began less than half a step ago (steps take 300 ms): killing now lands inside it, not just
            // after its end.
            var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            if (replicaBStarted.IsCompletedSuccessfully &&
                a.Count(e => e.Phase == "start") > a.Count(e => e.Phase == "end") && a.Count(e => e.Phase == "end") >= 2 &&
                now - a.Where(e => e.Phase == "start").Max(e => e.At) < 150)
            {
                break;
            }

            Assert.True(
                TimeProvider.System.GetUtcNow() < deadline && !replicaBStarted.IsFaulted,
                $"replica-a was never inside a step while replica-b ran:\n{replicaA.Output}\n{replicaB.Output}");
            await Task.Delay(10);
        }

        await replicaA.KillAsync();
        var killedAt = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();

        Assert.True(await replicaB.WaitForExitAsync(TimeSpan.FromSeconds(120)), "replica-b did not finish:\n" + replicaB.Output);
        Assert.True(replicaB.ExitCode == 0, $"replica-b failed with {replicaB.ExitCode}:\n{replicaB.Output}");

        var runs = await db.ReadAsync(
            c => c.QueryAsync(null, "SELECT name, status FROM engine_runs", r => (Name: r.GetString(0), Status: r.GetString(1)), CancellationToken.None),
            CancellationToken.None);
        Assert.Equal(Runs, runs.Count);
        Assert.All(runs, r => Assert.Equal("succeeded", r.Status));

        var effects = await db.ReadAsync(
            c => c.QueryAsync(null, "SELECT effect_id, COUNT(*) FROM crash_effects GROUP BY effect_id", r => (Id: r.GetString(0), Count: r.GetInt64(1)), CancellationToken.None),
            CancellationToken.None);
        var expected = Enumerable.Range(0, Runs).SelectMany(i => CrashWorkload.ExpectedEffects(1, i)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, effects.Select(e => e.Id).Order(StringComparer.Ordinal));
        Assert.All(effects, e => Assert.Equal(1, e.Count));

        // Every execution of a step is an interval [start, end] (a killed execution ends at the kill). Intervals of one
        // step never overlap: at no time did the step execute on both replicas.
        var all = await ReadExecutionsAsync(db);
        var takenOver = 0;
        foreach (var step in all.GroupBy(e => (e.Run, e.Step)))
        {
            var intervals = new List<(string Replica, long Start, long End, bool Resumed)>();
            foreach (var byReplica in step.GroupBy(e => e.Replica))
            {
                var ordered = byReplica.OrderBy(e => e.At).ThenBy(e => e.Phase == "end" ? 1 : 0).ToList();
                for (var i = 0; i < ordered.Count; i++)
                {
                    if (ordered[i].Phase != "start")
                    {
                        continue;
                    }

                    var end = i + 1 < ordered.Count && ordered[i + 1].Phase == "end" ? ordered[i + 1].At : killedAt;
                    Assert.True(end == killedAt ? byReplica.Key == "replica-a" : true, $"An execution of {step.Key} on {byReplica.Key} never ended.");
                    intervals.Add((byReplica.Key, ordered[i].At, end, ordered[i].Resumed));
                }
            }

            intervals.Sort((x, y) => x.Start.CompareTo(y.Start));
            for (var i = 1; i < intervals.Count; i++)
            {
                Assert.True(
                    intervals[i].Start >= intervals[i - 1].End,
                    $"Step {step.Key} executed on {intervals[i - 1].Replica} and {intervals[i].Replica} at the same time.");
                if (intervals[i - 1].Replica == "replica-a" && intervals[i - 1].End == killedAt)
                {
                    Assert.Equal("replica-b", intervals[i].Replica);
                    Assert.True(intervals[i].Resumed, $"replica-b took {step.Key} over but did not see it as resumed.");
                    takenOver++;
                }
            }
        }

        Assert.True(takenOver >= 1, "No step of the killed replica was taken over.");
        output.WriteLine($"{takenOver} step(s) taken over from the killed replica; {all.Count} execution records");
    }

    private static Task<List<(string Run, string Step, string Replica, int Attempt, bool Resumed, string Phase, long At)>> ReadExecutionsAsync(IDatabase db) =>
        db.ReadAsync(
            c => c.QueryAsync(
                null, "SELECT run_key, step, replica, attempt, resumed, phase, at_ms FROM crash_executions",
                r => (r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetInt32(4) == 1, r.GetString(5), r.GetInt64(6)),
                CancellationToken.None),
            CancellationToken.None);
}
