using System.Text.Json.Serialization;
using Sluice.Manifests;

namespace Sluice.Controller.Intake;

/// <summary>Where an event is in the ledger. Stored as lower-case text; see <see cref="IntakeNames"/>.</summary>
public enum IntakeEventState
{
    /// <summary>Taken in and not yet handled (handled again after a crash).</summary>
    Received,

    /// <summary>Handed to its flow: a rollout started, a schedule registered or removed.</summary>
    Dispatched,

    /// <summary>The object is not a usable manifest; <see cref="IntakeEvent.Reason"/> says why.</summary>
    Rejected,

    /// <summary>Nothing to do (the version was replaced before it was read, a rollout manifest was deleted…).</summary>
    Ignored,
}

/// <summary>What happened to the object.</summary>
public enum ObjectChange
{
    Finalized,
    Deleted,
}

/// <summary>One object version (or deletion) taken in from a watched bucket, with what became of it.</summary>
public sealed record IntakeEvent
{
    public required long Id { get; init; }

    /// <summary>The watched bucket it came through: <c>rollouts</c> or <c>schedules</c>.</summary>
    public required string Channel { get; init; }

    public required string Bucket { get; init; }

    public required string ObjectName { get; init; }

    public required long Generation { get; init; }

    public required ObjectChange Change { get; init; }

    /// <summary>The mechanism that reported it: watch, scan, poll, pubsub, eventarc, api.</summary>
    public required string Source { get; init; }

    public required IntakeEventState State { get; init; }

    /// <summary>Why the event was rejected or ignored.</summary>
    public string? Reason { get; init; }

    /// <summary>For an object that is not a valid manifest: every problem, with line, column and field.</summary>
    public IReadOnlyList<ManifestProblem> Problems { get; init; } = [];

    /// <summary>What the event led to, one entry per manifest document.</summary>
    public IReadOnlyList<IntakeDispatch> Dispatches { get; init; } = [];

    public long? Size { get; init; }

    /// <summary>When the bucket says the object version was written.</summary>
    public DateTimeOffset? ObjectUpdatedAt { get; init; }

    /// <summary>When the watcher noticed the change.</summary>
    public DateTimeOffset? ObservedAt { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Failed attempts to handle it (transient errors); it is rejected after too many.</summary>
    public int Attempts { get; init; }

    /// <summary>The idempotency key passed to the flow for the first document of this object version.</summary>
    public string IdempotencyKey => IntakeKeys.ForEvent(Bucket, ObjectName, Generation);

    /// <summary>Where it came from, for people and for the flows' <c>source</c>: <c>bucket/object#generation</c>.</summary>
    public string Location => $"{Bucket}/{ObjectName}#{Generation}";
}

/// <summary>The flow action of one manifest document of an event.</summary>
/// <param name="Document">Position of the document in the object, from 0.</param>
/// <param name="Kind">Rollout, Schedule or Unschedule.</param>
/// <param name="Name">metadata.name of the manifest (empty for deletions).</param>
/// <param name="Target">The pipeline (rollouts) or dagId (schedules) the action concerns.</param>
/// <param name="Action">What was done; see <see cref="IntakeActions"/>.</param>
/// <param name="RunId">The engine run it started, if any.</param>
public sealed record IntakeDispatch(
    int Document,
    string Kind,
    string Name,
    string Target,
    string Action,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? RunId = null);

/// <summary>Values of <see cref="IntakeDispatch.Action"/>.</summary>
public static class IntakeActions
{
    public const string RolloutStarted = "rollout-started";
    public const string ScheduleRegistered = "schedule-registered";
    public const string Unscheduled = "unscheduled";
    public const string ScheduleRunTriggered = "schedule-run-triggered";
}

/// <summary>Idempotency keys of the runs intake starts.</summary>
public static class IntakeKeys
{
    /// <summary><c>event:{bucket}/{object}#{generation}</c>; a further document of the same object adds <c>/{index}</c>.</summary>
    public static string ForEvent(string bucket, string objectName, long generation, int document = 0) =>
        document == 0
            ? $"event:{bucket}/{objectName}#{generation}"
            : $"event:{bucket}/{objectName}#{generation}/{document}";
}

/// <summary>The stored names of intake states: the one mapping between the enums and text columns.</summary>
public static class IntakeNames
{
    public static string ToStored(this IntakeEventState state) => state switch
    {
        IntakeEventState.Received => "received",
        IntakeEventState.Dispatched => "dispatched",
        IntakeEventState.Rejected => "rejected",
        IntakeEventState.Ignored => "ignored",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static IntakeEventState ParseState(string stored) => stored switch
    {
        "received" => IntakeEventState.Received,
        "dispatched" => IntakeEventState.Dispatched,
        "rejected" => IntakeEventState.Rejected,
        "ignored" => IntakeEventState.Ignored,
        _ => throw new FormatException($"Unknown stored intake state '{stored}'."),
    };

    public static bool TryParseState(string? text, out IntakeEventState state)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "received": state = IntakeEventState.Received; return true;
            case "dispatched": state = IntakeEventState.Dispatched; return true;
            case "rejected": state = IntakeEventState.Rejected; return true;
            case "ignored": state = IntakeEventState.Ignored; return true;
            default: state = default; return false;
        }
    }

    public static string ToStored(this ObjectChange change) => change switch
    {
        ObjectChange.Finalized => "finalized",
        ObjectChange.Deleted => "deleted",
        _ => throw new ArgumentOutOfRangeException(nameof(change), change, null),
    };

    public static ObjectChange ParseChange(string stored) => stored switch
    {
        "finalized" => ObjectChange.Finalized,
        "deleted" => ObjectChange.Deleted,
        _ => throw new FormatException($"Unknown stored object change '{stored}'."),
    };
}
