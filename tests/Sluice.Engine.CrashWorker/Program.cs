using System.Globalization;
using Sluice.Engine;
using Sluice.Engine.CrashWorker;

// Usage: CrashWorker --store URI --effects URI --generation N --runs N --replica ID [--lease-ms N] [--poll-ms N] [--slow-ms N] [--max-runs N]
// Prints "started" once the engine loop runs, "done" when every run of the generation has finished (exit 0).
var arguments = ParseArguments(args);
var replica = arguments["replica"];
var generation = int.Parse(arguments["generation"], CultureInfo.InvariantCulture);
var runs = int.Parse(arguments["runs"], CultureInfo.InvariantCulture);
// Makes the "effect" steps take a while, so that a kill lands mid-step (failover test).
var slow = TimeSpan.FromMilliseconds(int.Parse(arguments.GetValueOrDefault("slow-ms", "0"), CultureInfo.InvariantCulture));
await using var store = StateStoreFactory.Open(arguments["store"]);
await using var effects = StateStoreFactory.Open(arguments["effects"]);
await effects.WriteAsync((c, t) => c.ExecuteAsync(t, CrashWorkload.EffectsDdl, CancellationToken.None), CancellationToken.None);

var handlers = new IStepHandler[]
{
    new WorkloadHandler("effect", effects, replica, async (ctx, perform, ct) =>
    {
        if (slow > TimeSpan.Zero)
        {
            await Task.Delay(slow, ct);
        }

        await perform("e", ct);
        return StepOutcome.Succeeded();
    }),
    new WorkloadHandler("flaky", effects, replica, async (ctx, perform, ct) =>
    {
        if (ctx.Attempt == 1)
        {
            return StepOutcome.Retry("the first attempt always fails");
        }

        await perform("e", ct);
        return StepOutcome.Succeeded();
    }),
    new WorkloadHandler("wait-once", effects, replica, async (ctx, perform, ct) =>
    {
        if (ctx.GetData<Checked>() is null)
        {
            ctx.SetData(new Checked(true));
            return StepOutcome.Wait(TimeSpan.FromMilliseconds(30));
        }

        await perform("e", ct);
        return StepOutcome.Succeeded();
    }),
    new WorkloadHandler("effect-twice", effects, replica, async (ctx, perform, ct) =>
    {
        await perform("a", ct);
        await ctx.LogAsync("first effect done", ct);
        await perform("b", ct);
        return StepOutcome.Succeeded();
    }),
};

var options = new EngineOptions
{
    ReplicaId = replica,
    PollInterval = TimeSpan.FromMilliseconds(int.Parse(arguments.GetValueOrDefault("poll-ms", "50"), CultureInfo.InvariantCulture)),
    LeaseDuration = TimeSpan.FromMilliseconds(int.Parse(arguments.GetValueOrDefault("lease-ms", "30000"), CultureInfo.InvariantCulture)),
    MaxConcurrentRuns = int.Parse(arguments.GetValueOrDefault("max-runs", "32"), CultureInfo.InvariantCulture),
};
await using var engine = new WorkflowEngine(store, handlers, options: options);
await engine.EnsureStoreReadyAsync(CancellationToken.None);
using var stop = new CancellationTokenSource();
var loop = engine.RunLoopAsync(stop.Token);
Console.WriteLine("started");

for (var i = 0; i < runs; i++)
{
    await engine.StartRunAsync(CrashWorkload.Request(generation, i), CancellationToken.None);
}

var label = new Dictionary<string, string> { ["generation"] = generation.ToString(CultureInfo.InvariantCulture) };
while (true)
{
    var page = await engine.ListRunsAsync(new RunQuery { Labels = label, Limit = 1000 }, CancellationToken.None);
    if (page.Runs.Count == runs && page.Runs.All(r => r.IsFinished))
    {
        break;
    }

    await Task.Delay(20);
}

await stop.CancelAsync();
await loop;
Console.WriteLine("done");
return 0;

static Dictionary<string, string> ParseArguments(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        result[args[i].TrimStart('-')] = args[i + 1];
    }

    return result;
}

internal sealed record Checked(bool Once);

/// <summary>A workload step: records that it executes, then performs named effects through EffectAsync.</summary>
internal sealed class WorkloadHandler(
    string kind,
    IDatabase effects,
    string replica,
    Func<StepContext, Func<string, CancellationToken, Task>, CancellationToken, Task<StepOutcome>> body) : IStepHandler
{
    public string Kind => kind;

    public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        var runKey = context.Run.IdempotencyKey!;
        await RecordExecutionAsync(context, runKey, "start", cancellationToken);
        var outcome = await body(context, (name, ct) => PerformAsync(context, $"{runKey}/{context.Step.Name}/{name}", name, ct), cancellationToken);
        await RecordExecutionAsync(context, runKey, "end", cancellationToken);
        return outcome;
    }

    private Task<int> RecordExecutionAsync(StepContext context, string runKey, string phase, CancellationToken ct) =>
        effects.WriteAsync(
            (c, t) => c.ExecuteAsync(
                t,
                "INSERT INTO crash_executions (run_key, step, replica, attempt, resumed, phase, at_ms) VALUES (@run, @step, @replica, @attempt, @resumed, @phase, @at)",
                ct, ("run", runKey), ("step", context.Step.Name), ("replica", replica), ("attempt", context.Attempt),
                ("resumed", context.Resumed ? 1 : 0), ("phase", phase), ("at", effects.NowMs())),
            ct);

    private Task<string> PerformAsync(StepContext context, string effectId, string key, CancellationToken ct) =>
        context.EffectAsync(
            key,
            async lookupCt =>
            {
                var count = await effects.ReadAsync(
                    async c =>
                    {
                        await using var command = c.CreateCommand("SELECT COUNT(*) FROM crash_effects WHERE effect_id = @id", null, ("id", effectId));
                        return Convert.ToInt64(await command.ExecuteScalarAsync(lookupCt), CultureInfo.InvariantCulture);
                    },
                    lookupCt);
                return count > 0 ? effectId : null;
            },
            async performCt =>
            {
                await effects.WriteAsync(
                    (c, t) => c.ExecuteAsync(
                        t, "INSERT INTO crash_effects (effect_id, replica, at_ms) VALUES (@id, @replica, @at)", performCt,
                        ("id", effectId), ("replica", replica), ("at", effects.NowMs())),
                    performCt);
                // Widens the window between the effect and the engine storing its result, where a kill is most telling.
                await Task.Delay(5, performCt);
                return effectId;
            },
            ct);
}
