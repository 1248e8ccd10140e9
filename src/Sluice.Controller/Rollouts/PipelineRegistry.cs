using System.Data.Common;
using System.Globalization;
using Sluice.Engine;

namespace Sluice.Controller.Rollouts;

/// <summary>What a new revision records; the registry numbers it.</summary>
public sealed record NewRevision(
    string Pipeline, long RunId, string Kind, string Name, string Strategy, string? FromVersion, string Version,
    string SpecJson, string Source, long? RollbackOfRunId, string? Project, string? Region);

/// <summary>Filters for <see cref="PipelineRegistry.ListRevisionsAsync"/>; newest first (by run id, which grows with arrival).</summary>
public sealed record RevisionQuery
{
    public string? Pipeline { get; init; }

    /// <summary>The manifest name (<c>metadata.name</c>) of the rollout.</summary>
    public string? Name { get; init; }

    public string? Kind { get; init; }

    /// <summary>Only revisions whose run id is smaller (the previous page's last run id).</summary>
    public long? BeforeRunId { get; init; }

    public int Limit { get; init; } = 100;
}

/// <summary>
/// The pipeline registry: each pipeline's current job and version, its state, and the history of every spec applied
/// to it (revisions). Every write is idempotent (keyed by run id or job id) because steps and observers may run twice,
/// and state changes are conditional on the expected state.
/// </summary>
public sealed class PipelineRegistry
{
    private const string PipelineColumns =
        "name, state, revision, version, job_id, job_name, job_state, stable_revision, active_run_id, project, region, created_at, updated_at";

    private const string RevisionColumns =
        "pipeline, revision, run_id, kind, name, strategy, from_version, version, spec_json, source, status, reason, job_id, job_name, " +
        "rollback_of_run_id, rollback_run_id, created_at, started_at, finished_at";

    private const string JobColumns = "job_id, pipeline, job_name, revision, run_id, version, job_type, last_state, created_at";

    /// <summary>The state recorded for a job Dataflow no longer knows (404): it counts as gone.</summary>
    public const string NotFoundState = "NOT_FOUND";

    private readonly IDatabase db;

    public PipelineRegistry(IDatabase database)
    {
        db = database;
    }

    /// <summary>Records a revision for a run (once: a second call for the same run returns the first number).</summary>
    public Task<int> AddRevisionAsync(NewRevision revision, CancellationToken cancellationToken)
    {
        var now = db.NowMs();
        return db.WriteAsync(
            async (c, t) =>
            {
                await c.ExecuteAsync(
                    t,
                    "INSERT INTO pipelines (name, state, project, region, created_at, updated_at) VALUES (@name, @state, @project, @region, @now, @now) " +
                    "ON CONFLICT (name) DO NOTHING",
                    cancellationToken,
                    ("name", revision.Pipeline), ("state", PipelineState.Deploying.ToStored()), ("project", revision.Project),
                    ("region", revision.Region), ("now", now));

                // Touching the pipeline row first serializes concurrent calls on PostgreSQL (the row lock is held until
                // commit), so the check for this run's revision below sees what a concurrent call committed; SQLite
                // writers are serialized anyway.
                await c.ExecuteAsync(t, "UPDATE pipelines SET updated_at = @now WHERE name = @name", cancellationToken, ("now", now), ("name", revision.Pipeline));
                var existing = await ScalarAsync(c, t, "SELECT revision FROM pipeline_revisions WHERE run_id = @run", cancellationToken, ("run", revision.RunId));
                if (existing is not null)
                {
                    return ToInt(existing);
                }

                var number = ToInt(await ScalarAsync(
                    c, t, "SELECT COALESCE(MAX(revision), 0) + 1 FROM pipeline_revisions WHERE pipeline = @p", cancellationToken, ("p", revision.Pipeline)));
                await c.ExecuteAsync(
                    t,
                    $"INSERT INTO pipeline_revisions ({RevisionColumns}) VALUES (@pipeline, @revision, @run, @kind, @name, @strategy, @from, " +
                    "@version, @spec, @source, @status, NULL, NULL, NULL, @rollbackOf, NULL, @now, NULL, NULL)",
                    cancellationToken,
                    ("pipeline", revision.Pipeline), ("revision", number), ("run", revision.RunId), ("kind", revision.Kind),
                    ("name", revision.Name), ("strategy", revision.Strategy), ("from", revision.FromVersion), ("version", revision.Version),
                    ("spec", revision.SpecJson), ("source", revision.Source), ("status", RevisionStatus.Queued.ToStored()),
                    ("rollbackOf", revision.RollbackOfRunId), ("now", now));
                return number;
            },
            cancellationToken);
    }

    /// <summary>
    /// A queued revision starts: it becomes in progress and its run the pipeline's active run. Returns false when the
    /// run has no revision yet (a crash between starting the run and recording it).
    /// </summary>
    public Task<bool> MarkStartedAsync(long runId, CancellationToken cancellationToken)
    {
        var now = db.NowMs();
        return db.WriteAsync(
            async (c, t) =>
            {
                // One round trip: the pipeline is deploying until it has had a job, rolling out afterwards.
                var changed = await c.ExecuteAsync(
                    t,
                    "UPDATE pipeline_revisions SET status = @inProgress, started_at = @now WHERE run_id = @run AND status = @queued; " +
                    "UPDATE pipelines SET state = CASE WHEN job_id IS NULL AND stable_revision IS NULL THEN @deploying ELSE @rollingOut END, " +
                    "active_run_id = @run, updated_at = @now WHERE name = (SELECT pipeline FROM pipeline_revisions WHERE run_id = @run)",
                    cancellationToken,
                    ("inProgress", RevisionStatus.InProgress.ToStored()), ("now", now), ("run", runId), ("queued", RevisionStatus.Queued.ToStored()),
                    ("deploying", PipelineState.Deploying.ToStored()), ("rollingOut", PipelineState.RollingOut.ToStored()));
                return changed > 0;
            },
            cancellationToken);
    }

    /// <summary>
    /// Records a job launched (or found running) for a pipeline, and the revision that launched it; a second call for
    /// the same job changes nothing but its state. With <paramref name="makeCurrent"/> the job also becomes the
    /// pipeline's current job, with its revision's version.
    /// </summary>
    public Task RecordJobAsync(PipelineJob job, CancellationToken cancellationToken, bool makeCurrent = false)
    {
        var now = db.NowMs();
        var sql =
            $"INSERT INTO pipeline_jobs ({JobColumns}, updated_at) VALUES (@id, @pipeline, @name, @revision, @run, @version, @type, @state, @now, @now) " +
            "ON CONFLICT (job_id) DO UPDATE SET last_state = COALESCE(excluded.last_state, pipeline_jobs.last_state), updated_at = excluded.updated_at; " +
            "UPDATE pipeline_revisions SET job_id = @id, job_name = @name WHERE run_id = @run";
        if (makeCurrent)
        {
            sql += "; UPDATE pipelines SET revision = @revision, version = @version, job_id = @id, job_name = @name, job_state = @state, " +
                "updated_at = @now WHERE name = @pipeline";
        }

        return db.WriteAsync(
            (c, t) => c.ExecuteAsync(
                t, sql, cancellationToken,
                ("id", job.JobId), ("pipeline", job.Pipeline), ("name", job.JobName), ("revision", job.Revision), ("run", job.RunId),
                ("version", job.Version), ("type", job.JobType), ("state", job.LastState), ("now", now)),
            cancellationToken);
    }

    /// <summary>Remembers the Dataflow state last seen of a job (and of the pipeline's current job, if it is that one).</summary>
    public Task UpdateJobStateAsync(string jobId, string state, string? jobType, CancellationToken cancellationToken)
    {
        var now = db.NowMs();
        return db.WriteAsync(
            async (c, t) =>
            {
                await c.ExecuteAsync(
                    t,
                    "UPDATE pipeline_jobs SET last_state = @state, job_type = COALESCE(@type, job_type), updated_at = @now WHERE job_id = @id; " +
                    "UPDATE pipelines SET job_state = @state, updated_at = @now WHERE job_id = @id",
                    cancellationToken, ("state", state), ("type", jobType), ("now", now), ("id", jobId));
                return 0;
            },
            cancellationToken);
    }

    /// <summary>Makes a job the pipeline's current job (the one that carries it now), with the revision it came from.</summary>
    public Task SetCurrentJobAsync(string pipeline, int? revision, string? version, string jobId, string jobName, string? jobState,
        CancellationToken cancellationToken)
    {
        var now = db.NowMs();
        return db.WriteAsync(
            (c, t) => c.ExecuteAsync(
                t,
                "UPDATE pipelines SET revision = @revision, version = @version, job_id = @job, job_name = @jobName, job_state = @state, " +
                "updated_at = @now WHERE name = @name",
                cancellationToken,
                ("revision", revision), ("version", version), ("job", jobId), ("jobName", jobName), ("state", jobState), ("now", now), ("name", pipeline)),
            cancellationToken);
    }

    /// <summary>
    /// The revision of <paramref name="runId"/> was validated: it becomes stable, its job the current job, and the
    /// pipeline stable (rolled back, when the run was an automatic rollback). Idempotent. Returns the revision number.
    /// </summary>
    public Task<int> MarkStableAsync(long runId, string jobId, string jobName, string? jobState, CancellationToken cancellationToken)
    {
        var now = db.NowMs();
        return db.WriteAsync(
            async (c, t) =>
            {
                var revision = await ReadRevisionAsync(c, t, "run_id = @run", cancellationToken, ("run", runId))
                    ?? throw new InvalidOperationException($"Run {runId} has no revision in the pipeline registry.");
                await c.ExecuteAsync(
                    t,
                    "UPDATE pipeline_revisions SET status = @stable, reason = NULL, job_id = @job, job_name = @jobName, finished_at = @now " +
                    "WHERE run_id = @run AND status IN (@queued, @inProgress); " +
                    "UPDATE pipeline_jobs SET last_state = COALESCE(@jobState, last_state), updated_at = @now WHERE job_id = @job; " +
                    "UPDATE pipelines SET state = @state, revision = @revision, version = @version, job_id = @job, job_name = @jobName, " +
                    "job_state = @jobState, stable_revision = @revision, active_run_id = NULL, updated_at = @now WHERE name = @name AND active_run_id = @run",
                    cancellationToken,
                    ("stable", RevisionStatus.Stable.ToStored()), ("job", jobId), ("jobName", jobName), ("now", now), ("run", runId),
                    ("queued", RevisionStatus.Queued.ToStored()), ("inProgress", RevisionStatus.InProgress.ToStored()),
                    ("state", (revision.RollbackOfRunId is null ? PipelineState.Stable : PipelineState.RolledBack).ToStored()),
                    ("revision", revision.Revision), ("version", revision.Version), ("jobState", jobState), ("name", revision.Pipeline));
                return revision.Revision;
            },
            cancellationToken);
    }

    /// <summary>The revision of <paramref name="runId"/> failed or was cancelled, with the reason. Idempotent.</summary>
    public Task MarkFinishedUnsuccessfullyAsync(long runId, RevisionStatus status, string reason, CancellationToken cancellationToken)
    {
        if (status is not (RevisionStatus.Failed or RevisionStatus.Cancelled))
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "Only failed or cancelled.");
        }

        var now = db.NowMs();
        return db.WriteAsync(
            async (c, t) =>
            {
                var revision = await ReadRevisionAsync(c, t, "run_id = @run", cancellationToken, ("run", runId));
                if (revision is null)
                {
                    // The run was cancelled before its first step recorded anything: nothing to mark.
                    return 0;
                }

                await c.ExecuteAsync(
                    t,
                    "UPDATE pipeline_revisions SET status = @status, reason = @reason, finished_at = @now WHERE run_id = @run AND status IN (@queued, @inProgress)",
                    cancellationToken,
                    ("status", status.ToStored()), ("reason", reason), ("now", now), ("run", runId),
                    ("queued", RevisionStatus.Queued.ToStored()), ("inProgress", RevisionStatus.InProgress.ToStored()));
                // Only the run that holds the pipeline changes its state: a queued run that was cancelled does not.
                await c.ExecuteAsync(
                    t,
                    "UPDATE pipelines SET state = @failed, active_run_id = NULL, updated_at = @now WHERE name = @name AND active_run_id = @run",
                    cancellationToken, ("failed", PipelineState.Failed.ToStored()), ("now", now), ("name", revision.Pipeline), ("run", runId));
                return 0;
            },
            cancellationToken);
    }

    /// <summary>Links a failed rollout to the rollback run started for it.</summary>
    public Task SetRollbackRunAsync(long failedRunId, long rollbackRunId, CancellationToken cancellationToken) =>
        db.WriteAsync(
            (c, t) => c.ExecuteAsync(
                t, "UPDATE pipeline_revisions SET rollback_run_id = @rollback WHERE run_id = @run", cancellationToken,
                ("rollback", rollbackRunId), ("run", failedRunId)),
            cancellationToken);

    public Task<Pipeline?> GetPipelineAsync(string name, CancellationToken cancellationToken) =>
        db.ReadAsync(
            async c => (await c.QueryAsync(null, $"SELECT {PipelineColumns} FROM pipelines WHERE name = @name", ReadPipeline, cancellationToken, ("name", name)))
                .SingleOrDefault(),
            cancellationToken);

    public Task<IReadOnlyList<Pipeline>> ListPipelinesAsync(CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<Pipeline>>(
            async c => await c.QueryAsync(null, $"SELECT {PipelineColumns} FROM pipelines ORDER BY name", ReadPipeline, cancellationToken),
            cancellationToken);

    public Task<PipelineRevision?> GetRevisionByRunAsync(long runId, CancellationToken cancellationToken) =>
        db.ReadAsync(c => ReadRevisionAsync(c, null, "run_id = @run", cancellationToken, ("run", runId)), cancellationToken);

    public Task<PipelineRevision?> GetRevisionAsync(string pipeline, int revision, CancellationToken cancellationToken) =>
        db.ReadAsync(
            c => ReadRevisionAsync(c, null, "pipeline = @p AND revision = @r", cancellationToken, ("p", pipeline), ("r", revision)),
            cancellationToken);

    public Task<IReadOnlyList<PipelineRevision>> ListRevisionsAsync(RevisionQuery query, CancellationToken cancellationToken)
    {
        var where = new List<string>();
        var parameters = new List<(string, object?)>();
        if (query.Pipeline is { } pipeline)
        {
            where.Add("pipeline = @pipeline");
            parameters.Add(("pipeline", pipeline));
        }

        if (query.Name is { } name)
        {
            where.Add("name = @name");
            parameters.Add(("name", name));
        }

        if (query.Kind is { } kind)
        {
            where.Add("kind = @kind");
            parameters.Add(("kind", kind));
        }

        if (query.BeforeRunId is { } before)
        {
            where.Add("run_id < @before");
            parameters.Add(("before", before));
        }

        parameters.Add(("limit", Math.Clamp(query.Limit, 1, 1000)));
        var sql = $"SELECT {RevisionColumns} FROM pipeline_revisions" +
            (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY run_id DESC LIMIT @limit";
        return db.ReadAsync<IReadOnlyList<PipelineRevision>>(
            async c => await c.QueryAsync(null, sql, ReadRevision, cancellationToken, [.. parameters]),
            cancellationToken);
    }

    /// <summary>The jobs of a pipeline that were not terminal when Sluice last looked, oldest first.</summary>
    public Task<IReadOnlyList<PipelineJob>> ListLiveJobsAsync(string pipeline, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<PipelineJob>>(
            async c => await c.QueryAsync(
                null,
                $"SELECT {JobColumns} FROM pipeline_jobs WHERE pipeline = @p AND (last_state IS NULL OR last_state NOT IN " +
                "('JOB_STATE_DONE', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_UPDATED', 'JOB_STATE_DRAINED', @notFound)) ORDER BY created_at, job_id",
                ReadJob, cancellationToken, ("p", pipeline), ("notFound", NotFoundState)),
            cancellationToken);

    public Task<PipelineJob?> GetJobAsync(string jobId, CancellationToken cancellationToken) =>
        db.ReadAsync(
            async c => (await c.QueryAsync(null, $"SELECT {JobColumns} FROM pipeline_jobs WHERE job_id = @id", ReadJob, cancellationToken, ("id", jobId)))
                .SingleOrDefault(),
            cancellationToken);

    public Task<IReadOnlyList<PipelineJob>> ListJobsAsync(string pipeline, CancellationToken cancellationToken) =>
        db.ReadAsync<IReadOnlyList<PipelineJob>>(
            async c => await c.QueryAsync(
                null, $"SELECT {JobColumns} FROM pipeline_jobs WHERE pipeline = @p ORDER BY created_at DESC, job_id", ReadJob, cancellationToken, ("p", pipeline)),
            cancellationToken);

    private static async Task<PipelineRevision?> ReadRevisionAsync(
        DbConnection c, DbTransaction? t, string where, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        (await c.QueryAsync(t, $"SELECT {RevisionColumns} FROM pipeline_revisions WHERE {where}", ReadRevision, cancellationToken, parameters))
            .SingleOrDefault();

    private static async Task<object?> ScalarAsync(
        DbConnection c, DbTransaction t, string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters)
    {
        await using var command = c.CreateCommand(sql, t, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is DBNull ? null : value;
    }

    private static int ToInt(object? value) => Convert.ToInt32(value, CultureInfo.InvariantCulture);

    private static int? GetNullableInt(DbDataReader r, int i) => r.IsDBNull(i) ? null : Convert.ToInt32(r.GetValue(i), CultureInfo.InvariantCulture);

    private static long GetLong(DbDataReader r, int i) => Convert.ToInt64(r.GetValue(i), CultureInfo.InvariantCulture);

    private static long? GetNullableLong(DbDataReader r, int i) => r.IsDBNull(i) ? null : GetLong(r, i);

    private static Pipeline ReadPipeline(DbDataReader r) => new()
    {
        Name = r.GetString(0),
        State = RolloutStateNames.ParsePipelineState(r.GetString(1)),
        Revision = GetNullableInt(r, 2),
        Version = r.GetNullableString(3),
        JobId = r.GetNullableString(4),
        JobName = r.GetNullableString(5),
        JobState = r.GetNullableString(6),
        StableRevision = GetNullableInt(r, 7),
        ActiveRunId = GetNullableLong(r, 8),
        Project = r.GetNullableString(9),
        Region = r.GetNullableString(10),
        CreatedAt = DbTime.FromUnixMs(GetLong(r, 11)),
        UpdatedAt = DbTime.FromUnixMs(GetLong(r, 12)),
    };

    private static PipelineRevision ReadRevision(DbDataReader r) => new()
    {
        Pipeline = r.GetString(0),
        Revision = Convert.ToInt32(r.GetValue(1), CultureInfo.InvariantCulture),
        RunId = GetLong(r, 2),
        Kind = r.GetString(3),
        Name = r.GetString(4),
        Strategy = r.GetString(5),
        FromVersion = r.GetNullableString(6),
        Version = r.GetString(7),
        SpecJson = r.GetString(8),
        Source = r.GetString(9),
        Status = RolloutStateNames.ParseRevisionStatus(r.GetString(10)),
        Reason = r.GetNullableString(11),
        JobId = r.GetNullableString(12),
        JobName = r.GetNullableString(13),
        RollbackOfRunId = GetNullableLong(r, 14),
        RollbackRunId = GetNullableLong(r, 15),
        CreatedAt = DbTime.FromUnixMs(GetLong(r, 16)),
        StartedAt = DbTime.FromUnixMs(GetNullableLong(r, 17)),
        FinishedAt = DbTime.FromUnixMs(GetNullableLong(r, 18)),
    };

    private static PipelineJob ReadJob(DbDataReader r) => new()
    {
        JobId = r.GetString(0),
        Pipeline = r.GetString(1),
        JobName = r.GetString(2),
        Revision = GetNullableInt(r, 3),
        RunId = GetNullableLong(r, 4),
        Version = r.GetNullableString(5),
        JobType = r.GetNullableString(6),
        LastState = r.GetNullableString(7),
        CreatedAt = DbTime.FromUnixMs(GetLong(r, 8)),
    };
}
