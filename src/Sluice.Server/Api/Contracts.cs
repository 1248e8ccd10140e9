using System.Text.Json;

namespace Sluice.Server.Api;

// The JSON resources of the REST API (docs/api.md is the reference). The flows build these in their endpoints; the
// CLI reads them. Names follow the manifests (name, pipeline, version, dagId, logicalDate, jobId, jobName, state…).

/// <summary>States of a pipeline as a whole.</summary>
public enum PipelineState
{
    /// <summary>The first rollout is in progress; nothing ran before.</summary>
    Deploying,

    /// <summary>The last rollout succeeded; the current revision's job is healthy.</summary>
    Stable,

    /// <summary>A rollout (or rollback) is in progress.</summary>
    RollingOut,

    /// <summary>The last rollout failed and nothing was restored (rollback manual, or the rollback failed too).</summary>
    Failed,

    /// <summary>The last rollout failed and the previous revision was restored automatically.</summary>
    RolledBack,
}

/// <summary><c>GET /v1/pipelines</c> item: a logical pipeline and what runs now.</summary>
public sealed record PipelineResource
{
    public required string Name { get; init; }

    public required PipelineState State { get; init; }

    /// <summary>Version of the current (last stable) revision; null before the first successful rollout.</summary>
    public string? Version { get; init; }

    /// <summary>Number of the current revision (1, 2, …); each successful rollout adds one.</summary>
    public int? Revision { get; init; }

    public string? JobId { get; init; }

    public string? JobName { get; init; }

    /// <summary>The job's Dataflow state as last seen (JOB_STATE_RUNNING, …).</summary>
    public string? JobState { get; init; }

    public string? Project { get; init; }

    public string? Region { get; init; }

    /// <summary>Name of the newest rollout of this pipeline and its state.</summary>
    public string? LastRollout { get; init; }

    public string? LastRolloutState { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>Detail only (<c>GET /v1/pipelines/{name}</c>): revisions, newest first.</summary>
    public IReadOnlyList<PipelineRevisionResource>? Revisions { get; init; }

    /// <summary>Detail only: the newest rollouts (without steps), newest first.</summary>
    public IReadOnlyList<RolloutResource>? Rollouts { get; init; }
}

/// <summary>A version of a pipeline that ran (stable, or failed validation).</summary>
public sealed record PipelineRevisionResource
{
    public required int Revision { get; init; }

    public required string Version { get; init; }

    /// <summary>stable (validated and became current), failed, or superseded (was stable, replaced later).</summary>
    public required string State { get; init; }

    public required string Rollout { get; init; }

    public string? JobId { get; init; }

    public string? JobName { get; init; }

    public DateTimeOffset? DeployedAt { get; init; }

    /// <summary>The version spec as applied (manifest <c>to</c> block, camelCase JSON).</summary>
    public JsonElement? Spec { get; init; }
}

/// <summary>Body of <c>POST /v1/pipelines/{name}/rollback</c>.</summary>
public sealed record RollbackRequest
{
    /// <summary>Revision to go back to; null means the stable revision before the current one.</summary>
    public int? ToRevision { get; init; }
}

/// <summary>A rollout (or rollback) of a pipeline from one version to another.</summary>
public sealed record RolloutResource
{
    /// <summary>The manifest's metadata.name; generated (<c>PIPELINE-rollback-N</c>) for rollbacks Sluice starts.</summary>
    public required string Name { get; init; }

    public required string Pipeline { get; init; }

    /// <summary>rollout, or rollback (started by <c>rollback: auto</c> or <c>POST …/rollback</c>).</summary>
    public required string Kind { get; init; }

    /// <summary>restart, rolling or update.</summary>
    public required string Strategy { get; init; }

    public string? FromVersion { get; init; }

    public required string ToVersion { get; init; }

    /// <summary>The run's state: queued, running, succeeded, failed, cancelled.</summary>
    public required string State { get; init; }

    /// <summary>Why it failed or was cancelled (one sentence).</summary>
    public string? Reason { get; init; }

    public long? RunId { get; init; }

    /// <summary>The new job.</summary>
    public string? JobId { get; init; }

    public string? JobName { get; init; }

    /// <summary>The job that ran before (stopped or replaced by this rollout).</summary>
    public string? PreviousJobId { get; init; }

    /// <summary>For a rollback: the rollout it undoes.</summary>
    public string? RollbackOf { get; init; }

    /// <summary>For a failed rollout: the rollback that followed it.</summary>
    public string? RolledBackBy { get; init; }

    /// <summary>Where the request came from: <c>gs://bucket/object#generation</c>, <c>file:///…#generation</c>, or <c>api</c>.</summary>
    public string? Source { get; init; }

    /// <summary>Generation of the bucket object it came from (what <c>sluice apply --wait</c> matches).</summary>
    public long? Generation { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>Detail only: the steps of the run as a timeline.</summary>
    public IReadOnlyList<StepResource>? Steps { get; init; }
}

/// <summary>A run of the workflow engine (rollout, rollback, slot, …).</summary>
public sealed record RunResource
{
    public required long Id { get; init; }

    public required string Kind { get; init; }

    public required string Name { get; init; }

    /// <summary>queued, running, succeeded, failed, cancelled.</summary>
    public required string State { get; init; }

    public string? Reason { get; init; }

    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    public long? ParentRunId { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>From start to finish (or to now while running), in seconds.</summary>
    public double? DurationSeconds { get; init; }

    /// <summary>Detail only.</summary>
    public IReadOnlyList<StepResource>? Steps { get; init; }
}

/// <summary>One step of a run.</summary>
public sealed record StepResource
{
    public required string Name { get; init; }

    public required string Kind { get; init; }

    /// <summary>pending, running, waiting, succeeded, failed, skipped, cancelled.</summary>
    public required string State { get; init; }

    /// <summary>Current attempt from 1 (0 before the first start).</summary>
    public int Attempt { get; init; }

    public string? Reason { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    public double? DurationSeconds { get; init; }

    /// <summary>When a waiting or retrying step is checked next.</summary>
    public DateTimeOffset? DueAt { get; init; }

    public IReadOnlyList<string>? DependsOn { get; init; }

    /// <summary>What the step produced (e.g. <c>{"jobId": …}</c>).</summary>
    public JsonElement? Output { get; init; }
}

/// <summary>One line a step logged.</summary>
public sealed record StepLogResource(long Id, string Step, int Attempt, DateTimeOffset At, string Message);

/// <summary>Body of <c>POST /v1/runs/{id}/cancel</c>.</summary>
public sealed record CancelRunRequest(string? Reason = null);

/// <summary>A registered schedule.</summary>
public sealed record ScheduleResource
{
    public required string DagId { get; init; }

    /// <summary>The manifest's metadata.name.</summary>
    public required string Name { get; init; }

    /// <summary>active, paused, ended (past its endDate), or unscheduled.</summary>
    public required string State { get; init; }

    /// <summary>The schedule expression as written: cron, preset (@daily) or ISO-8601 duration.</summary>
    public required string Schedule { get; init; }

    public string? Timezone { get; init; }

    public required string StartDate { get; init; }

    public string? EndDate { get; init; }

    public bool Catchup { get; init; }

    public int MaxActiveRuns { get; init; }

    public bool Paused { get; init; }

    public DateTimeOffset? NextLogicalDate { get; init; }

    public DateTimeOffset? NextDueAt { get; init; }

    /// <summary>Increases each time the manifest changes.</summary>
    public int Revision { get; init; }

    public string? Source { get; init; }

    /// <summary>Generation of the bucket object of the current revision.</summary>
    public long? Generation { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }

    /// <summary>Runs per state over all slots.</summary>
    public IReadOnlyDictionary<string, int>? Counts { get; init; }

    /// <summary>Detail only: the newest slots (default 30, <c>?slots=N</c>), newest first — the grid.</summary>
    public IReadOnlyList<SlotResource>? Slots { get; init; }

    /// <summary>Detail only: the schedule spec as applied (camelCase JSON).</summary>
    public JsonElement? Spec { get; init; }
}

/// <summary>One time slot of a schedule and its run.</summary>
public sealed record SlotResource
{
    public required DateTimeOffset LogicalDate { get; init; }

    public required DateTimeOffset DataIntervalStart { get; init; }

    public required DateTimeOffset DataIntervalEnd { get; init; }

    /// <summary>scheduled (due later or waiting for a free run), queued, running, succeeded, failed, cancelled, skipped.</summary>
    public required string State { get; init; }

    public long? RunId { get; init; }

    /// <summary>Attempts of the launch so far.</summary>
    public int Tries { get; init; }

    public string? JobId { get; init; }

    public string? JobName { get; init; }

    public string? Reason { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }
}

/// <summary>Body of <c>POST /v1/schedules/{dagId}/runs</c>: one run now; null logical date means the latest due slot.</summary>
public sealed record TriggerRunRequest(DateTimeOffset? LogicalDate = null);

/// <summary>Body of <c>POST /v1/schedules/{dagId}/backfills</c>. Dates are ISO dates or date-times in the schedule's time zone.</summary>
public sealed record BackfillRequest
{
    public required string From { get; init; }

    public required string To { get; init; }

    /// <summary>none (only slots without a run), failed (also re-run failed ones), all (re-run every slot).</summary>
    public string Reprocess { get; init; } = "none";

    public bool DryRun { get; init; }
}

/// <summary>The answer to a backfill: what was (or would be, with dryRun) done per slot.</summary>
public sealed record BackfillResponse(string DagId, bool DryRun, IReadOnlyList<BackfillSlotResource> Slots);

/// <summary>action: create (new run), rerun (a new attempt of a slot that ran), skip (left as it is; reason says why).</summary>
public sealed record BackfillSlotResource(DateTimeOffset LogicalDate, string Action, long? RunId = null, string? Reason = null);

/// <summary>A bucket event Sluice recorded (exactly once per bucket, object, generation and kind).</summary>
public sealed record EventResource
{
    public required long Id { get; init; }

    /// <summary>What noticed it: watch, scan (local directories), poll (Cloud Storage), pubsub, eventarc, airflow.</summary>
    public required string Source { get; init; }

    /// <summary>The watched bucket it came through: rollouts or schedules.</summary>
    public string? Channel { get; init; }

    public required string Bucket { get; init; }

    public required string Object { get; init; }

    public required long Generation { get; init; }

    /// <summary>finalized (a new object version) or deleted.</summary>
    public required string Kind { get; init; }

    /// <summary>received (not handled yet), dispatched (handed to its flow), rejected (see reason and problems), ignored (nothing to do; see reason).</summary>
    public required string State { get; init; }

    public string? Reason { get; init; }

    public IReadOnlyList<ManifestProblemResource>? Problems { get; init; }

    /// <summary>The documents of a dispatched object (Rollout: metadata.name; Schedule/Unschedule: dagId).</summary>
    public IReadOnlyList<ManifestRefResource>? Manifests { get; init; }

    /// <summary>Runs the event started.</summary>
    public IReadOnlyList<long>? RunIds { get; init; }

    /// <summary>What was done per document: rollout-started, schedule-registered, unscheduled.</summary>
    public IReadOnlyList<EventActionResource>? Actions { get; init; }

    /// <summary>Attempts that failed for a passing reason before the final state.</summary>
    public int Attempts { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>When the object was written (from the bucket), for the intake lag.</summary>
    public DateTimeOffset? ObjectUpdatedAt { get; init; }
}

/// <summary>One action of an event: <c>action</c> on <c>target</c> (pipeline or dagId), with the run it started.</summary>
public sealed record EventActionResource(string Action, string Kind, string Target, string? Name = null, long? RunId = null);

/// <summary>A manifest document by kind and name (Rollout: metadata.name; Schedule/Unschedule: dagId).</summary>
public sealed record ManifestRefResource(string Kind, string Name);

/// <summary>A Dataflow job as Sluice shows it.</summary>
public sealed record JobResource
{
    public required string Id { get; init; }

    public required string Name { get; init; }

    /// <summary>JOB_TYPE_BATCH or JOB_TYPE_STREAMING.</summary>
    public string? Type { get; init; }

    /// <summary>JOB_STATE_RUNNING, JOB_STATE_DONE, …</summary>
    public required string State { get; init; }

    public DateTimeOffset? CreateTime { get; init; }

    public DateTimeOffset? CurrentStateTime { get; init; }

    public string? Project { get; init; }

    public string? Region { get; init; }

    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>From the job's sluice-pipeline label (jobs Sluice launched).</summary>
    public string? Pipeline { get; init; }

    /// <summary>From the job's sluice-run label.</summary>
    public long? RunId { get; init; }

    /// <summary>Detail only: the newest job messages, oldest first.</summary>
    public IReadOnlyList<JobMessageResource>? Messages { get; init; }

    /// <summary>Detail only: the job's metrics.</summary>
    public IReadOnlyList<JobMetricResource>? Metrics { get; init; }
}

/// <summary>A job message (JOB_MESSAGE_ERROR, …).</summary>
public sealed record JobMessageResource(string? Id, DateTimeOffset? Time, string Importance, string Text);

/// <summary>One metric of a job (scalar metrics only; others are left out).</summary>
public sealed record JobMetricResource(string Name, string? Origin, double? Scalar, DateTimeOffset? UpdateTime, IReadOnlyDictionary<string, string>? Context = null);

/// <summary>One manifest file sent to the server: its path (for messages) and its text.</summary>
public sealed record ManifestFileRequest(string Path, string Content);

/// <summary>Body of <c>POST /v1/manifests</c> and <c>POST /v1/manifests/validate</c>.</summary>
public sealed record ApplyRequest
{
    public required IReadOnlyList<ManifestFileRequest> Files { get; init; }

    /// <summary>Validate and plan only; write nothing.</summary>
    public bool DryRun { get; init; }
}

/// <summary>The answer to <c>POST /v1/manifests</c>.</summary>
public sealed record ApplyResponse(bool DryRun, IReadOnlyList<AppliedManifestResource> Manifests);

/// <summary>One document of an apply: where it was written and what to watch.</summary>
public sealed record AppliedManifestResource
{
    /// <summary>Rollout, Schedule or Unschedule.</summary>
    public required string Kind { get; init; }

    /// <summary>Rollout: metadata.name; Schedule/Unschedule: metadata.name.</summary>
    public required string Name { get; init; }

    public string? Pipeline { get; init; }

    public string? DagId { get; init; }

    /// <summary>The bucket and object the document was written to (or would be, with dryRun).</summary>
    public required string Bucket { get; init; }

    public required string Object { get; init; }

    /// <summary>Generation of the written object; null with dryRun.</summary>
    public long? Generation { get; init; }

    /// <summary>written, unchanged (same content as the current object; nothing written), or planned (dryRun).</summary>
    public required string Action { get; init; }

    /// <summary>One sentence saying what Sluice will do with it (e.g. "restart rollout of clickstream from v1 to v2").</summary>
    public string? Plan { get; init; }

    /// <summary>API path of the resource this leads to (<c>/v1/rollouts/NAME</c>, <c>/v1/schedules/DAG</c>).</summary>
    public string? Follow { get; init; }
}

/// <summary>The answer to <c>POST /v1/manifests/validate</c>.</summary>
public sealed record ValidateResponse(bool Valid, int Documents, IReadOnlyList<ManifestProblemResource> Problems);
