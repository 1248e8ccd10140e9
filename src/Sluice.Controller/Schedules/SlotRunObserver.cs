using Sluice.Engine;

namespace Sluice.Controller.Schedules;

/// <summary>
/// Ends a slot when its run ends (the slot's state follows its run) and wakes the schedule, which may have been held
/// back by maxActiveRuns. Called at least once per run; the update is conditional on the slot's generation and on it
/// still being active, so a repeat changes nothing.
/// </summary>
public sealed class SlotRunObserver(IDatabase database, SlotScheduler scheduler) : IRunObserver
{
    private readonly ScheduleStore store = new(database);

    public async Task OnRunFinishedAsync(RunDetail run, CancellationToken cancellationToken)
    {
        if (run.Run.Kind != SlotRuns.RunKind || run.Run.InputJson is null)
        {
            return;
        }

        var input = EngineJson.Deserialize<SlotRunInput>(run.Run.InputJson);
        if (input is null)
        {
            return;
        }

        var state = run.Run.Status switch
        {
            RunStatus.Succeeded => SlotState.Succeeded,
            RunStatus.Failed => SlotState.Failed,
            _ => SlotState.Cancelled,
        };
        var reason = state == SlotState.Succeeded ? null : run.Run.Reason ?? run.Steps.LastOrDefault(s => s.Reason is not null)?.Reason;
        await store.FinishSlotAsync(input.DagId, DbTime.ToUnixMs(input.LogicalDate), input.Generation, state, reason, cancellationToken);
        scheduler.Wake(input.DagId);
    }
}

/// <summary>
/// The one step of a backfill run: starts the backfill's pending slots, oldest first, while fewer than its limit are
/// active, and waits (holding no thread) until all have finished.
/// </summary>
public sealed class BackfillStep(IDatabase database, WorkflowEngine engine, ScheduleOptions options) : IStepHandler
{
    public const string StepKind = "schedule-backfill";

    private readonly ScheduleStore store = new(database);

    public string Kind => StepKind;

    /// <summary>The input of a backfill run.</summary>
    public sealed record BackfillInput(long BackfillId, string DagId, int MaxActiveRuns);

    /// <summary>The output: how the backfill's slots ended.</summary>
    public sealed record BackfillSummary(int Succeeded, int Failed, int Cancelled);

    public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        var input = context.GetInput<BackfillInput>();
        var (toStart, active, pending) = await store.ClaimBackfillSlotsAsync(input.BackfillId, input.MaxActiveRuns, cancellationToken);
        if (toStart.Count > 0)
        {
            // A crash after the claim and before a start leaves the slot queued without a run; the scheduler's repair
            // starts it with the same idempotency key.
            var runs = new List<(string DagId, long LogicalDate, int Generation, long RunId)>();
            foreach (var slot in toStart)
            {
                var start = await engine.StartRunAsync(SlotRuns.RequestFor(slot, context.Run.Id), cancellationToken);
                runs.Add((slot.DagId, slot.LogicalDate, slot.Generation, start.RunId));
            }

            await store.SetRunIdsAsync(runs, cancellationToken);
            await context.LogAsync($"Started {toStart.Count} slot runs; {pending} wait for a free place", cancellationToken);
        }

        if (active == 0 && pending == 0)
        {
            var counts = await store.CountBackfillSlotsAsync(input.BackfillId, cancellationToken);
            var summary = new BackfillSummary(
                counts.GetValueOrDefault(SlotState.Succeeded), counts.GetValueOrDefault(SlotState.Failed), counts.GetValueOrDefault(SlotState.Cancelled));
            await context.LogAsync(
                $"Backfill {input.BackfillId} of {input.DagId} finished: {summary.Succeeded} succeeded, {summary.Failed} failed, {summary.Cancelled} cancelled",
                cancellationToken);
            return summary.Failed > 0
                ? StepOutcome.Failed($"{summary.Failed} of the backfill's slots failed; see `sluice get runs --dag {input.DagId}`.")
                : StepOutcome.SucceededWith(summary);
        }

        return StepOutcome.Wait(options.BackfillPollInterval);
    }
}
