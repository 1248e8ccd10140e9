namespace Sluice.Engine;

/// <summary>Run states. Stored as lower-case text; see <see cref="StatusNames"/>.</summary>
public enum RunStatus
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>Step states. Stored as lower-case text; see <see cref="StatusNames"/>.</summary>
public enum StepStatus
{
    Pending,
    Running,
    Waiting,
    Succeeded,
    Failed,
    Skipped,
    Cancelled,
}

/// <summary>A run as stored.</summary>
public sealed record RunSummary
{
    public required long Id { get; init; }

    public required string Kind { get; init; }

    public required string Name { get; init; }

    public required RunStatus Status { get; init; }

    public string? InputJson { get; init; }

    public string? MutexKey { get; init; }

    public string? IdempotencyKey { get; init; }

    public long? ParentRunId { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public TimeSpan? Timeout { get; init; }

    /// <summary>Why the run failed or was cancelled.</summary>
    public string? Reason { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public DateTimeOffset? CancelRequestedAt { get; init; }

    /// <summary>When the engine looks at the run next (null: nothing to do, or waiting for its mutex).</summary>
    public DateTimeOffset? NextDueAt { get; init; }

    /// <summary>The replica currently processing the run, if any.</summary>
    public string? LeaseOwner { get; init; }

    public bool IsFinished => Status.IsFinished();
}

/// <summary>A step as stored.</summary>
public sealed record StepState
{
    public required long RunId { get; init; }

    /// <summary>Position in the run's step list, from 0.</summary>
    public required int Position { get; init; }

    public required string Name { get; init; }

    public required string Kind { get; init; }

    public required StepStatus Status { get; init; }

    /// <summary>The current attempt, from 1; 0 before the first start.</summary>
    public int Attempt { get; init; }

    public string? InputJson { get; init; }

    public IReadOnlyList<string> DependsOn { get; init; } = [];

    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    public TimeSpan? Timeout { get; init; }

    /// <summary>What the handler kept between checks (<see cref="StepContext.SetData"/>).</summary>
    public string? DataJson { get; init; }

    public string? OutputJson { get; init; }

    /// <summary>Why the step failed, was skipped or last retried.</summary>
    public string? Reason { get; init; }

    /// <summary>When a waiting or retrying step is looked at next.</summary>
    public DateTimeOffset? DueAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public bool IsFinished => Status.IsFinished();
}

/// <summary>A run with its steps in list order.</summary>
public sealed record RunDetail(RunSummary Run, IReadOnlyList<StepState> Steps)
{
    public StepState? GetStep(string name) => Steps.FirstOrDefault(s => s.Name == name);
}

/// <summary>One line a step logged.</summary>
public sealed record StepLog(long Id, long RunId, string StepName, int Attempt, DateTimeOffset At, string Message);

public enum EffectStatus
{
    /// <summary>Recorded before the effect was attempted; it may or may not have happened.</summary>
    Pending,

    /// <summary>The effect happened; its result is stored.</summary>
    Done,
}

/// <summary>A side effect of a step, keyed by run, step and effect key.</summary>
public sealed record EffectRecord(
    long RunId, string StepName, string Key, EffectStatus Status, int Attempt, string? ResultJson,
    DateTimeOffset RecordedAt, DateTimeOffset? CompletedAt);

/// <summary>The stored names of states: the one mapping between enums and text columns.</summary>
public static class StatusNames
{
    public static bool IsFinished(this RunStatus status) => status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled;

    public static bool IsFinished(this StepStatus status) =>
        status is StepStatus.Succeeded or StepStatus.Failed or StepStatus.Skipped or StepStatus.Cancelled;

    public static string ToStored(this RunStatus status) => status switch
    {
        RunStatus.Queued => "queued",
        RunStatus.Running => "running",
        RunStatus.Succeeded => "succeeded",
        RunStatus.Failed => "failed",
        RunStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static string ToStored(this StepStatus status) => status switch
    {
        StepStatus.Pending => "pending",
        StepStatus.Running => "running",
        StepStatus.Waiting => "waiting",
        StepStatus.Succeeded => "succeeded",
        StepStatus.Failed => "failed",
        StepStatus.Skipped => "skipped",
        StepStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static RunStatus ParseRunStatus(string stored) => stored switch
    {
        "queued" => RunStatus.Queued,
        "running" => RunStatus.Running,
        "succeeded" => RunStatus.Succeeded,
        "failed" => RunStatus.Failed,
        "cancelled" => RunStatus.Cancelled,
        _ => throw new FormatException($"Unknown stored run status '{stored}'."),
    };

    public static StepStatus ParseStepStatus(string stored) => stored switch
    {
        "pending" => StepStatus.Pending,
        "running" => StepStatus.Running,
        "waiting" => StepStatus.Waiting,
        "succeeded" => StepStatus.Succeeded,
        "failed" => StepStatus.Failed,
        "skipped" => StepStatus.Skipped,
        "cancelled" => StepStatus.Cancelled,
        _ => throw new FormatException($"Unknown stored step status '{stored}'."),
    };
}
