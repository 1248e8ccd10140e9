using System.Globalization;

namespace Sluice.Engine.CrashWorker;

/// <summary>
/// The workload of the crash and failover tests, shared by the worker (which runs it) and the tests (which check it).
/// Every effect is recorded in a table of its own (<c>crash_effects</c>, no unique key), outside the engine's tables.
/// </summary>
public static class CrashWorkload
{
    public const string EffectsDdl =
        "CREATE TABLE IF NOT EXISTS crash_effects (effect_id TEXT NOT NULL, replica TEXT NOT NULL, at_ms BIGINT NOT NULL);" +
        "CREATE TABLE IF NOT EXISTS crash_executions (run_key TEXT NOT NULL, step TEXT NOT NULL, replica TEXT NOT NULL, " +
        "attempt INTEGER NOT NULL, resumed INTEGER NOT NULL, phase TEXT NOT NULL, at_ms BIGINT NOT NULL);";

    public static string RunKey(int generation, int run) => string.Create(CultureInfo.InvariantCulture, $"g{generation}-r{run}");

    public static RunRequest Request(int generation, int run)
    {
        var odd = run % 2 == 1;
        return new RunRequest(
            "crash",
            RunKey(generation, run),
            [
                new StepRequest("s1", "effect"),
                new StepRequest("s2", "flaky", Retry: new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromMilliseconds(10) }),
                // Odd runs are DAGs: s3 runs beside s2.
                new StepRequest("s3", "wait-once", DependsOn: odd ? ["s1"] : null),
                new StepRequest("s4", "effect-twice", DependsOn: odd ? ["s2", "s3"] : null),
            ],
            MutexKey: run % 3 == 0 ? string.Create(CultureInfo.InvariantCulture, $"g{generation}-mutex") : null,
            IdempotencyKey: RunKey(generation, run),
            Labels: new Dictionary<string, string> { ["generation"] = generation.ToString(CultureInfo.InvariantCulture) });
    }

    /// <summary>The effect ids a finished run of the workload must have recorded, each exactly once.</summary>
    public static IEnumerable<string> ExpectedEffects(int generation, int run)
    {
        var key = RunKey(generation, run);
        yield return $"{key}/s1/e";
        yield return $"{key}/s2/e";
        yield return $"{key}/s3/e";
        yield return $"{key}/s4/a";
        yield return $"{key}/s4/b";
    }
}
