using Sluice.Manifests;

namespace Sluice.Controller.Schedules;

/// <summary>The state of one slot's run. Stored as lower-case text; <see cref="SlotStates"/> is the one mapping.</summary>
public enum SlotState
{
    /// <summary>Part of a backfill, waiting for the backfill's concurrency limit.</summary>
    Pending,

    /// <summary>Claimed; its run exists (or is being created) but has not rendered its job yet.</summary>
    Queued,

    /// <summary>The run rendered its job and launches it or waits for it.</summary>
    Running,

    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>Why a slot has a run.</summary>
public enum SlotTrigger
{
    /// <summary>The scheduler started it when the slot fell due.</summary>
    Scheduled,

    /// <summary>A backfill asked for it.</summary>
    Backfill,

    /// <summary>Triggered by hand (API, Airflow-compatible API).</summary>
    Manual,
}

/// <summary>Which slots a backfill runs again.</summary>
public enum ReprocessMode
{
    /// <summary>Only slots that never ran.</summary>
    None,

    /// <summary>Slots that never ran, failed or were cancelled.</summary>
    Failed,

    /// <summary>Every slot that is not running now.</summary>
    All,
}

public static class SlotStates
{
    public static bool IsActive(this SlotState state) => state is SlotState.Pending or SlotState.Queued or SlotState.Running;

    public static bool IsFinished(this SlotState state) => state is SlotState.Succeeded or SlotState.Failed or SlotState.Cancelled;

    public static string ToStored(this SlotState state) => state switch
    {
        SlotState.Pending => "pending",
        SlotState.Queued => "queued",
        SlotState.Running => "running",
        SlotState.Succeeded => "succeeded",
        SlotState.Failed => "failed",
        SlotState.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static SlotState ParseSlotState(string stored) => stored switch
    {
        "pending" => SlotState.Pending,
        "queued" => SlotState.Queued,
        "running" => SlotState.Running,
        "succeeded" => SlotState.Succeeded,
        "failed" => SlotState.Failed,
        "cancelled" => SlotState.Cancelled,
        _ => throw new FormatException($"Unknown stored slot state '{stored}'."),
    };

    public static string ToStored(this SlotTrigger trigger) => trigger switch
    {
        SlotTrigger.Scheduled => "scheduled",
        SlotTrigger.Backfill => "backfill",
        SlotTrigger.Manual => "manual",
        _ => throw new ArgumentOutOfRangeException(nameof(trigger), trigger, null),
    };

    public static SlotTrigger ParseSlotTrigger(string stored) => stored switch
    {
        "scheduled" => SlotTrigger.Scheduled,
        "backfill" => SlotTrigger.Backfill,
        "manual" => SlotTrigger.Manual,
        _ => throw new FormatException($"Unknown stored slot trigger '{stored}'."),
    };

    public static string ToStored(this ReprocessMode mode) => mode switch
    {
        ReprocessMode.None => "none",
        ReprocessMode.Failed => "failed",
        ReprocessMode.All => "all",
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    /// <summary>Parses <c>none|failed|all</c>; false for anything else.</summary>
    public static bool TryParseReprocess(string? text, out ReprocessMode mode)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case null or "" or "none":
                mode = ReprocessMode.None;
                return true;
            case "failed":
                mode = ReprocessMode.Failed;
                return true;
            case "all":
                mode = ReprocessMode.All;
                return true;
            default:
                mode = ReprocessMode.None;
                return false;
        }
    }
}

/// <summary>What <see cref="ScheduleService.RegisterAsync"/> did.</summary>
public enum ScheduleChange
{
    Created,
    Updated,
    Unchanged,
}

/// <summary>The answer to a registration.</summary>
public sealed record ScheduleRegistration(string DagId, ScheduleChange Change, bool Paused, SlotTime? NextSlot);

/// <summary>A slot's logical date and the time its run is due.</summary>
public sealed record SlotTime(DateTimeOffset LogicalDate, DateTimeOffset DueAt);

/// <summary>A schedule as the API and UI show it.</summary>
public sealed record ScheduleInfo
{
    public required string DagId { get; init; }

    /// <summary>The manifest's metadata.name.</summary>
    public required string Name { get; init; }

    public required ScheduleSpec Spec { get; init; }

    /// <summary>The spec as stored (camelCase JSON).</summary>
    public required string SpecJson { get; init; }

    /// <summary>1 at registration; each changed spec adds one.</summary>
    public int Revision { get; init; }

    public required bool Paused { get; init; }

    /// <summary>Removed by unschedule (its history stays readable).</summary>
    public bool Unscheduled { get; init; }

    /// <summary>Slots by the state of their run.</summary>
    public IReadOnlyDictionary<SlotState, int> Counts { get; init; } = new Dictionary<SlotState, int>();

    /// <summary>Where the spec came from (bucket object, API…).</summary>
    public required string Source { get; init; }

    /// <summary>The next slot the scheduler will start (null when the schedule has ended or runs only when triggered).</summary>
    public SlotTime? NextSlot { get; init; }

    /// <summary>The newest slot that has a run, with that run's state.</summary>
    public SlotRunInfo? LastRun { get; init; }

    /// <summary>Slots of this schedule queued or running now (backfills included).</summary>
    public int ActiveRuns { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>One slot and its run, newest state.</summary>
public sealed record SlotRunInfo
{
    public required string DagId { get; init; }

    public required DateTimeOffset LogicalDate { get; init; }

    public required DateTimeOffset DataIntervalStart { get; init; }

    public required DateTimeOffset DataIntervalEnd { get; init; }

    public required DateTimeOffset DueAt { get; init; }

    public required SlotTrigger Trigger { get; init; }

    public required SlotState State { get; init; }

    /// <summary>0 for the first run of the slot; each re-run by a backfill adds one.</summary>
    public int Generation { get; init; }

    public long? RunId { get; init; }

    public long? BackfillId { get; init; }

    /// <summary>Jobs launched for this run (1 + relaunches after failures).</summary>
    public int Attempts { get; init; }

    public string? JobId { get; init; }

    public string? JobName { get; init; }

    /// <summary>The last Dataflow state seen, e.g. JOB_STATE_DONE.</summary>
    public string? JobState { get; init; }

    public string? Reason { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A request to run past slots again.</summary>
public sealed record BackfillRequest
{
    public required string DagId { get; init; }

    /// <summary>First logical date (inclusive).</summary>
    public required DateTimeOffset From { get; init; }

    /// <summary>Last logical date (inclusive).</summary>
    public required DateTimeOffset To { get; init; }

    public ReprocessMode Reprocess { get; init; } = ReprocessMode.None;

    public bool DryRun { get; init; }

    /// <summary>Slot runs of this backfill at once; null uses <see cref="ScheduleOptions.BackfillMaxActiveRuns"/>.</summary>
    public int? MaxActiveRuns { get; init; }
}

/// <summary>What a backfill does to one slot.</summary>
public enum BackfillAction
{
    /// <summary>The slot never ran: it runs.</summary>
    Run,

    /// <summary>The slot ran before: it runs again (a new run).</summary>
    Rerun,

    /// <summary>Left alone (ran already and not reprocessed, or running now).</summary>
    Skip,
}

public sealed record BackfillSlot(DateTimeOffset LogicalDate, BackfillAction Action, SlotState? CurrentState);

/// <summary>The plan of a backfill, and (unless dry run) the backfill run that carries it out.</summary>
public sealed record BackfillPlan
{
    public required string DagId { get; init; }

    public required bool DryRun { get; init; }

    public long? BackfillId { get; init; }

    /// <summary>The engine run (kind <c>backfill</c>) that starts the slot runs.</summary>
    public long? RunId { get; init; }

    public required int MaxActiveRuns { get; init; }

    public required IReadOnlyList<BackfillSlot> Slots { get; init; }

    public int ToRun => Slots.Count(s => s.Action != BackfillAction.Skip);
}

/// <summary>The answer to <see cref="ScheduleService.TriggerAsync"/>.</summary>
/// <param name="Created">False when the slot already had a run (nothing new was started).</param>
public sealed record TriggerResult(string DagId, DateTimeOffset LogicalDate, long? RunId, bool Created, SlotState State);

/// <summary>A schedule operation that cannot be done; the message says why and what to do.</summary>
public class ScheduleException : Exception
{
    public ScheduleException(string message)
        : base(message)
    {
    }

    public ScheduleException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ScheduleException()
    {
    }
}

/// <summary>No schedule with this dag id is registered.</summary>
public sealed class ScheduleNotFoundException : ScheduleException
{
    public ScheduleNotFoundException(string dagId)
        : base($"No schedule with dag id '{dagId}' is registered; list them with `sluice get schedules`.")
    {
        DagId = dagId;
    }

    public ScheduleNotFoundException()
    {
        DagId = "";
    }

    public ScheduleNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
        DagId = "";
    }

    public string DagId { get; }
}
