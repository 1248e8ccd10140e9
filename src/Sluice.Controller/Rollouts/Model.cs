namespace Sluice.Controller.Rollouts;

/// <summary>The engine run kinds of this flow.</summary>
public static class RolloutRunKinds
{
    /// <summary>A rollout requested by a manifest (a bucket upload, <c>sluice apply</c>, the Airflow-compatible API).</summary>
    public const string Rollout = "rollout";

    /// <summary>A rollback to an earlier revision: automatic after a failed rollout, or <c>sluice rollback</c>.</summary>
    public const string Rollback = "rollback";

    public static bool IsRolloutFlow(string kind) => kind is Rollout or Rollback;

    /// <summary>The engine mutex that keeps one rollout at a time per pipeline, in arrival order.</summary>
    public static string MutexKey(string pipeline) => "pipeline:" + pipeline;
}

/// <summary>Where a pipeline stands, as the registry last recorded it (the API's pipeline states).</summary>
public enum PipelineState
{
    /// <summary>The first rollout is queued or in progress; nothing ran before.</summary>
    Deploying,

    /// <summary>The last rollout (or a rollback by hand) succeeded; the current revision's job is healthy.</summary>
    Stable,

    /// <summary>A rollout or rollback is in progress.</summary>
    RollingOut,

    /// <summary>The last rollout failed and nothing restored the pipeline (rollback manual, or the rollback failed too).</summary>
    Failed,

    /// <summary>The last rollout failed and the automatic rollback restored the previous version.</summary>
    RolledBack,
}

/// <summary>What became of one applied spec (a revision).</summary>
public enum RevisionStatus
{
    /// <summary>Waiting behind another rollout of the same pipeline.</summary>
    Queued,

    InProgress,

    /// <summary>Validated: its job ran healthy.</summary>
    Stable,

    Failed,

    Cancelled,
}

/// <summary>The stored names of the flow's states: the one mapping between enums and text columns.</summary>
public static class RolloutStateNames
{
    public static string ToStored(this PipelineState state) => state switch
    {
        PipelineState.Deploying => "deploying",
        PipelineState.Stable => "stable",
        PipelineState.RollingOut => "rolling-out",
        PipelineState.Failed => "failed",
        PipelineState.RolledBack => "rolled-back",
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    public static PipelineState ParsePipelineState(string stored) => stored switch
    {
        "deploying" => PipelineState.Deploying,
        "stable" => PipelineState.Stable,
        "rolling-out" => PipelineState.RollingOut,
        "failed" => PipelineState.Failed,
        "rolled-back" => PipelineState.RolledBack,
        _ => throw new FormatException($"Unknown stored pipeline state '{stored}'."),
    };

    public static string ToStored(this RevisionStatus status) => status switch
    {
        RevisionStatus.Queued => "queued",
        RevisionStatus.InProgress => "in-progress",
        RevisionStatus.Stable => "stable",
        RevisionStatus.Failed => "failed",
        RevisionStatus.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    public static RevisionStatus ParseRevisionStatus(string stored) => stored switch
    {
        "queued" => RevisionStatus.Queued,
        "in-progress" => RevisionStatus.InProgress,
        "stable" => RevisionStatus.Stable,
        "failed" => RevisionStatus.Failed,
        "cancelled" => RevisionStatus.Cancelled,
        _ => throw new FormatException($"Unknown stored revision status '{stored}'."),
    };

    public static bool IsFinished(this RevisionStatus status) =>
        status is RevisionStatus.Stable or RevisionStatus.Failed or RevisionStatus.Cancelled;
}

/// <summary>A pipeline as the registry knows it: the job that carries it now and the revision that job came from.</summary>
public sealed record Pipeline
{
    public required string Name { get; init; }

    public required PipelineState State { get; init; }

    /// <summary>The revision whose job is the pipeline's current job (null before the first launch).</summary>
    public int? Revision { get; init; }

    public string? Version { get; init; }

    public string? JobId { get; init; }

    public string? JobName { get; init; }

    /// <summary>The Dataflow state of the current job when Sluice last looked (e.g. <c>JOB_STATE_RUNNING</c>).</summary>
    public string? JobState { get; init; }

    /// <summary>The newest revision that was validated.</summary>
    public int? StableRevision { get; init; }

    /// <summary>The rollout or rollback run working on the pipeline now, if any.</summary>
    public long? ActiveRunId { get; init; }

    public string? Project { get; init; }

    public string? Region { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; init; }
}

/// <summary>One applied spec of a pipeline: a rollout or a rollback, numbered 1, 2, 3… per pipeline in arrival order.</summary>
public sealed record PipelineRevision
{
    public required string Pipeline { get; init; }

    public required int Revision { get; init; }

    /// <summary>The engine run that applies this revision.</summary>
    public required long RunId { get; init; }

    /// <summary><see cref="RolloutRunKinds.Rollout"/> or <see cref="RolloutRunKinds.Rollback"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The manifest's <c>metadata.name</c>, or a generated name for a rollback.</summary>
    public required string Name { get; init; }

    public required string Strategy { get; init; }

    public string? FromVersion { get; init; }

    public required string Version { get; init; }

    /// <summary>The whole rollout spec as applied, in <see cref="Sluice.Manifests.ManifestJson"/> form.</summary>
    public required string SpecJson { get; init; }

    /// <summary>Where the request came from (bucket object and generation, <c>cli</c>, <c>auto-rollback</c>…).</summary>
    public required string Source { get; init; }

    public required RevisionStatus Status { get; init; }

    /// <summary>Why the revision failed or was cancelled.</summary>
    public string? Reason { get; init; }

    /// <summary>The job this revision launched (or kept, for a rollback to a job that still ran).</summary>
    public string? JobId { get; init; }

    public string? JobName { get; init; }

    /// <summary>For a rollback: the run of the failed rollout it answers (automatic rollback) or null (by hand).</summary>
    public long? RollbackOfRunId { get; init; }

    /// <summary>For a failed rollout: the rollback run started for it.</summary>
    public long? RollbackRunId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>A Dataflow job Sluice launched (or found running) for a pipeline.</summary>
public sealed record PipelineJob
{
    public required string JobId { get; init; }

    public required string Pipeline { get; init; }

    public required string JobName { get; init; }

    /// <summary>The revision that launched it; null for a job Sluice found running and did not launch.</summary>
    public int? Revision { get; init; }

    public long? RunId { get; init; }

    public string? Version { get; init; }

    /// <summary><c>JOB_TYPE_STREAMING</c> or <c>JOB_TYPE_BATCH</c> when known.</summary>
    public string? JobType { get; init; }

    /// <summary>The last Dataflow state Sluice saw.</summary>
    public string? LastState { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
}
