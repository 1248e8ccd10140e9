using System.Data.Common;

namespace Sluice.Engine;

/// <summary>The mutable in-memory form of a run row while a replica holds its lease.</summary>
internal sealed class RunRow
{
    public const string Columns =
        "id, kind, name, status, input_json, mutex_key, idempotency_key, parent_run_id, labels_json, timeout_ms, reason, " +
        "created_at, started_at, finished_at, deadline_at, cancel_requested_at, cancel_reason, next_due_at, lease_owner, " +
        "lease_expires_at, observers_notified";

    public long Id { get; set; }

    public string Kind { get; set; } = "";

    public string Name { get; set; } = "";

    public RunStatus Status { get; set; }

    public string? InputJson { get; set; }

    public string? MutexKey { get; set; }

    public string? IdempotencyKey { get; set; }

    public long? ParentRunId { get; set; }

    public string? LabelsJson { get; set; }

    public long? TimeoutMs { get; set; }

    public string? Reason { get; set; }

    public long CreatedAt { get; set; }

    public long? StartedAt { get; set; }

    public long? FinishedAt { get; set; }

    public long? DeadlineAt { get; set; }

    public long? CancelRequestedAt { get; set; }

    public string? CancelReason { get; set; }

    public long? NextDueAt { get; set; }

    public string? LeaseOwner { get; set; }

    public long? LeaseExpiresAt { get; set; }

    public bool ObserversNotified { get; set; }

    /// <summary>The run's steps, read in the claiming transaction.</summary>
    public List<StepRow>? Steps { get; set; }

    /// <summary>The step the claim that leased this run also started (a fresh run's one first step), or null.</summary>
    public int? ClaimStartedStep { get; set; }

    public static RunRow Read(DbDataReader r) => new()
    {
        Id = r.GetInt64(0),
        Kind = r.GetString(1),
        Name = r.GetString(2),
        Status = StatusNames.ParseRunStatus(r.GetString(3)),
        InputJson = r.GetNullableString(4),
        MutexKey = r.GetNullableString(5),
        IdempotencyKey = r.GetNullableString(6),
        ParentRunId = r.GetNullableInt64(7),
        LabelsJson = r.GetNullableString(8),
        TimeoutMs = r.GetNullableInt64(9),
        Reason = r.GetNullableString(10),
        CreatedAt = r.GetInt64(11),
        StartedAt = r.GetNullableInt64(12),
        FinishedAt = r.GetNullableInt64(13),
        DeadlineAt = r.GetNullableInt64(14),
        CancelRequestedAt = r.GetNullableInt64(15),
        CancelReason = r.GetNullableString(16),
        NextDueAt = r.GetNullableInt64(17),
        LeaseOwner = r.GetNullableString(18),
        LeaseExpiresAt = r.GetNullableInt64(19),
        ObserversNotified = r.GetInt32(20) != 0,
    };

    public RunSummary ToSummary() => new()
    {
        Id = Id,
        Kind = Kind,
        Name = Name,
        Status = Status,
        InputJson = InputJson,
        MutexKey = MutexKey,
        IdempotencyKey = IdempotencyKey,
        ParentRunId = ParentRunId,
        Labels = LabelsJson is null
            ? new Dictionary<string, string>()
            : EngineJson.Deserialize<Dictionary<string, string>>(LabelsJson) ?? [],
        Timeout = TimeoutMs is { } t ? TimeSpan.FromMilliseconds(t) : null,
        Reason = Reason,
        CreatedAt = DbTime.FromUnixMs(CreatedAt),
        StartedAt = DbTime.FromUnixMs(StartedAt),
        FinishedAt = DbTime.FromUnixMs(FinishedAt),
        CancelRequestedAt = DbTime.FromUnixMs(CancelRequestedAt),
        NextDueAt = DbTime.FromUnixMs(NextDueAt),
        LeaseOwner = LeaseOwner,
    };
}

/// <summary>The mutable in-memory form of a step row.</summary>
internal sealed class StepRow
{
    public const string Columns =
        "run_id, position, name, kind, status, input_json, depends_on_json, retry_json, timeout_ms, attempt, data_json, " +
        "output_json, reason, due_at, started_at, finished_at, deadline_at";

    public long RunId { get; set; }

    public int Position { get; set; }

    public string Name { get; set; } = "";

    public string Kind { get; set; } = "";

    public StepStatus Status { get; set; }

    public string? InputJson { get; set; }

    public IReadOnlyList<string> DependsOn { get; set; } = [];

    public RetryPolicy Retry { get; set; } = RetryPolicy.Default;

    public long? TimeoutMs { get; set; }

    public int Attempt { get; set; }

    public string? DataJson { get; set; }

    public string? OutputJson { get; set; }

    public string? Reason { get; set; }

    public long? DueAt { get; set; }

    public long? StartedAt { get; set; }

    public long? FinishedAt { get; set; }

    public long? DeadlineAt { get; set; }

    public static StepRow Read(DbDataReader r) => new()
    {
        RunId = r.GetInt64(0),
        Position = r.GetInt32(1),
        Name = r.GetString(2),
        Kind = r.GetString(3),
        Status = StatusNames.ParseStepStatus(r.GetString(4)),
        InputJson = r.GetNullableString(5),
        DependsOn = EngineJson.Deserialize<string[]>(r.GetString(6)) ?? [],
        Retry = EngineJson.Deserialize<RetryPolicy>(r.GetString(7)) ?? RetryPolicy.Default,
        TimeoutMs = r.GetNullableInt64(8),
        Attempt = r.GetInt32(9),
        DataJson = r.GetNullableString(10),
        OutputJson = r.GetNullableString(11),
        Reason = r.GetNullableString(12),
        DueAt = r.GetNullableInt64(13),
        StartedAt = r.GetNullableInt64(14),
        FinishedAt = r.GetNullableInt64(15),
        DeadlineAt = r.GetNullableInt64(16),
    };

    public StepRow Clone() => (StepRow)MemberwiseClone();

    public StepState ToState() => new()
    {
        RunId = RunId,
        Position = Position,
        Name = Name,
        Kind = Kind,
        Status = Status,
        Attempt = Attempt,
        InputJson = InputJson,
        DependsOn = DependsOn,
        Retry = Retry,
        Timeout = TimeoutMs is { } t ? TimeSpan.FromMilliseconds(t) : null,
        DataJson = DataJson,
        OutputJson = OutputJson,
        Reason = Reason,
        DueAt = DbTime.FromUnixMs(DueAt),
        StartedAt = DbTime.FromUnixMs(StartedAt),
        FinishedAt = DbTime.FromUnixMs(FinishedAt),
    };
}
