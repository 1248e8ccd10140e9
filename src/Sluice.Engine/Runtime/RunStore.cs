using System.Data.Common;
using System.Globalization;
using System.Text;

namespace Sluice.Engine;

/// <summary>Raised inside a transaction when this replica no longer holds the run's lease; the work is abandoned.</summary>
internal sealed class LeaseLostException : Exception
{
    public LeaseLostException()
    {
    }

    public LeaseLostException(string message)
        : base(message)
    {
    }

    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>What touching a lease learned: the run may have been asked to cancel meanwhile.</summary>
internal readonly record struct LeaseTouch(long? CancelRequestedAt, string? CancelReason);

/// <summary>
/// All SQL of the engine. Every state change is a conditional update on the expected state, and every change made
/// while processing a run first touches the run's lease (<see cref="TouchLeaseAsync"/>) in the same transaction: the
/// touch row-locks the run on PostgreSQL, renews the lease and fails if another replica took the run over.
/// </summary>
internal sealed class RunStore
{
    private readonly IDatabase db;

    public RunStore(IDatabase database)
    {
        db = database;
    }

    public IDatabase Database => db;

    private bool IsPostgres => db.Dialect == StoreDialect.Postgres;

    public static async Task<LeaseTouch> TouchLeaseAsync(
        DbConnection c, DbTransaction t, long runId, string owner, long expiresAt, CancellationToken ct)
    {
        await using var command = c.CreateCommand(
            "UPDATE engine_runs SET lease_expires_at = @expires WHERE id = @id AND lease_owner = @owner " +
            "RETURNING cancel_requested_at, cancel_reason",
            t, ("expires", expiresAt), ("id", runId), ("owner", owner));
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            throw new LeaseLostException($"Run {runId} is no longer leased by {owner}.");
        }

        return new LeaseTouch(reader.GetNullableInt64(0), reader.GetNullableString(1));
    }

    /// <summary>Inserts several runs in one transaction, in order; a request whose idempotency key exists gets that run.</summary>
    public async Task<List<RunStart>> InsertRunsAsync(IReadOnlyList<(RunRequest Request, IReadOnlyList<StepRow> Steps)> runs, CancellationToken ct)
    {
        var now = db.NowMs();
        return await db.WriteAsync(
            async (c, t) =>
            {
                // A fresh list on every attempt: the store re-runs the whole work after a transient conflict.
                var starts = new List<RunStart>(runs.Count);
                foreach (var (request, steps) in runs)
                {
                    starts.Add(await InsertRunAsync(c, t, request, steps, now, ct));
                }

                return starts;
            },
            ct);
    }

    private static async Task<RunStart> InsertRunAsync(DbConnection c, DbTransaction t, RunRequest request, IReadOnlyList<StepRow> steps, long now, CancellationToken ct)
    {
        if (request.IdempotencyKey is { } key)
        {
            var existing = await FindByIdempotencyKeyAsync(c, t, key, ct);
            if (existing is { } id)
            {
                return new RunStart(id, false);
            }
        }

        long runId;
        await using (var insert = c.CreateCommand(
            "INSERT INTO engine_runs (kind, name, status, input_json, mutex_key, idempotency_key, parent_run_id, labels_json, " +
            "timeout_ms, created_at, next_due_at) VALUES (@kind, @name, 'queued', @input, @mutex, @idem, @parent, @labels, " +
            "@timeout, @now, @now) ON CONFLICT DO NOTHING RETURNING id",
            t,
            ("kind", request.Kind), ("name", request.Name), ("input", request.InputJson), ("mutex", request.MutexKey),
            ("idem", request.IdempotencyKey), ("parent", request.ParentRunId),
            ("labels", request.Labels is { Count: > 0 } l ? EngineJson.Serialize(l) : null),
            ("timeout", request.Timeout is { } to ? (long)to.TotalMilliseconds : null), ("now", now)))
        {
            var value = await insert.ExecuteScalarAsync(ct);
            if (value is null or DBNull)
            {
                // A concurrent start with the same idempotency key won the insert.
                return new RunStart(await FindByIdempotencyKeyAsync(c, t, request.IdempotencyKey!, ct) ?? 0, false);
            }

            runId = Convert.ToInt64(value, CultureInfo.InvariantCulture);
        }

        await using (var step = c.CreateCommand(
            "INSERT INTO engine_steps (run_id, position, name, kind, status, input_json, depends_on_json, retry_json, timeout_ms, " +
            "attempt, updated_at) VALUES (@run, @pos, @name, @kind, 'pending', @input, @deps, @retry, @timeout, 0, @now)",
            t, ("run", runId), ("pos", 0), ("name", ""), ("kind", ""), ("input", null), ("deps", ""), ("retry", ""),
            ("timeout", null), ("now", now)))
        {
            foreach (var s in steps)
            {
                step.Parameters["@pos"].Value = s.Position;
                step.Parameters["@name"].Value = s.Name;
                step.Parameters["@kind"].Value = s.Kind;
                step.Parameters["@input"].Value = (object?)s.InputJson ?? DBNull.Value;
                step.Parameters["@deps"].Value = EngineJson.Serialize(s.DependsOn);
                step.Parameters["@retry"].Value = EngineJson.Serialize(s.Retry);
                step.Parameters["@timeout"].Value = (object?)s.TimeoutMs ?? DBNull.Value;
                await step.ExecuteNonQueryAsync(ct);
            }
        }

        foreach (var (labelKey, labelValue) in request.Labels ?? new Dictionary<string, string>())
        {
            await c.ExecuteAsync(
                t, "INSERT INTO engine_run_labels (run_id, label_key, label_value) VALUES (@run, @k, @v)", ct,
                ("run", runId), ("k", labelKey), ("v", labelValue));
        }

        return new RunStart(runId, true);
    }

    private static async Task<long?> FindByIdempotencyKeyAsync(DbConnection c, DbTransaction t, string key, CancellationToken ct)
    {
        await using var find = c.CreateCommand("SELECT id FROM engine_runs WHERE idempotency_key = @key", t, ("key", key));
        var value = await find.ExecuteScalarAsync(ct);
        return value is null or DBNull ? null : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Leases up to <paramref name="limit"/> runs that are due and not leased by a live replica, and reads their steps
    /// in the same transaction. A queued run without a mutex key starts right here (nothing can block it).
    /// </summary>
    public Task<List<RunRow>> ClaimDueAsync(string owner, long now, long expiresAt, int limit, CancellationToken ct)
    {
        // SKIP LOCKED lets replicas claim side by side without waiting on each other's rows; SQLite has one writer.
        // SET expressions all see the row as it was, so the CASEs agree on whether the run starts.
        const string StartsNow = "status = 'queued' AND mutex_key IS NULL AND cancel_requested_at IS NULL";
        var lockClause = IsPostgres ? " FOR UPDATE SKIP LOCKED" : "";
        var sql =
            "UPDATE engine_runs SET lease_owner = @owner, lease_expires_at = @expires, " +
            $"status = CASE WHEN {StartsNow} THEN 'running' ELSE status END, " +
            $"started_at = CASE WHEN {StartsNow} THEN @now ELSE started_at END, " +
            $"deadline_at = CASE WHEN {StartsNow} AND timeout_ms IS NOT NULL THEN @now + timeout_ms ELSE deadline_at END " +
            "WHERE id IN (" +
            "SELECT id FROM engine_runs WHERE next_due_at <= @now AND (lease_owner IS NULL OR lease_expires_at < @now) " +
            $"ORDER BY next_due_at, id LIMIT @limit{lockClause}) RETURNING {RunRow.Columns}";
        return db.WriteAsync(
            async (c, t) =>
            {
                var runs = await c.QueryAsync(t, sql, RunRow.Read, ct, ("owner", owner), ("expires", expiresAt), ("now", now), ("limit", limit));
                if (runs.Count == 0)
                {
                    return runs;
                }

                var ids = string.Join(", ", runs.Select((_, i) => $"@r{i}"));
                var steps = await c.QueryAsync(
                    t, $"SELECT {StepRow.Columns} FROM engine_steps WHERE run_id IN ({ids}) ORDER BY run_id, position", StepRow.Read, ct,
                    [.. runs.Select((r, i) => ($"r{i}", (object?)r.Id))]);
                var byRun = steps.ToLookup(s => s.RunId);
                foreach (var run in runs)
                {
                    run.Steps = [.. byRun[run.Id]];
                }

                await StartFirstStepsAsync(c, t, runs, now, ct);
                return runs;
            },
            ct);
    }

    /// <summary>
    /// Starts, in the claim's transaction, the first step of each claimed run that is running and has not begun any step
    /// yet and has exactly one step ready: the write the run would otherwise make first thing. The run's execution then
    /// calls that step's handler as a step started for it (not a resumed one).
    /// </summary>
    private static async Task StartFirstStepsAsync(DbConnection c, DbTransaction t, List<RunRow> runs, long now, CancellationToken ct)
    {
        DbCommand? start = null;
        try
        {
            foreach (var run in runs)
            {
                if (run.Status != RunStatus.Running || run.CancelRequestedAt is not null || run.DeadlineAt <= now || run.Steps is not { Count: > 0 } steps ||
                    !steps.TrueForAll(s => s.Status == StepStatus.Pending && s.Attempt == 0))
                {
                    continue;
                }

                var ready = steps.FindAll(s => s.DependsOn.Count == 0 && (s.DueAt is null || s.DueAt <= now));
                if (ready.Count != 1)
                {
                    continue;
                }

                var step = ready[0];
                var deadline = step.TimeoutMs is { } timeout ? now + timeout : (long?)null;
                start ??= c.CreateCommand(
                    "UPDATE engine_steps SET status = 'running', attempt = 1, started_at = @now, deadline_at = @deadline, due_at = NULL, updated_at = @now " +
                    "WHERE run_id = @run AND position = @pos AND status = 'pending' AND attempt = 0",
                    t, ("now", now), ("deadline", null), ("run", 0L), ("pos", 0));
                start.Parameters["@deadline"].Value = (object?)deadline ?? DBNull.Value;
                start.Parameters["@run"].Value = run.Id;
                start.Parameters["@pos"].Value = step.Position;
                if (await start.ExecuteNonQueryAsync(ct) != 1)
                {
                    continue;
                }

                step.Status = StepStatus.Running;
                step.Attempt = 1;
                step.StartedAt = now;
                step.DeadlineAt = deadline;
                step.DueAt = null;
                run.ClaimStartedStep = step.Position;
            }
        }
        finally
        {
            if (start is not null)
            {
                await start.DisposeAsync();
            }
        }
    }

    /// <summary>Frees leases this replica id held before a restart (and, on SQLite, every lease: one process per file).</summary>
    public Task<int> ReclaimLeasesAsync(string? owner, CancellationToken ct)
    {
        var now = db.NowMs();
        if (owner is null)
        {
            return db.WriteAsync(
                (c, t) => c.ExecuteAsync(
                    t, "UPDATE engine_runs SET lease_owner = NULL, lease_expires_at = NULL, next_due_at = @now WHERE lease_owner IS NOT NULL",
                    ct, ("now", now)),
                ct);
        }

        return db.WriteAsync(
            (c, t) => c.ExecuteAsync(
                t, "UPDATE engine_runs SET lease_owner = NULL, lease_expires_at = NULL, next_due_at = @now WHERE lease_owner = @owner",
                ct, ("now", now), ("owner", owner)),
            ct);
    }

    public static Task<List<StepRow>> LoadStepsAsync(DbConnection c, DbTransaction? t, long runId, CancellationToken ct) =>
        c.QueryAsync(t, $"SELECT {StepRow.Columns} FROM engine_steps WHERE run_id = @run ORDER BY position", StepRow.Read, ct, ("run", runId));

    public static async Task<RunRow?> LoadRunAsync(DbConnection c, DbTransaction? t, long runId, CancellationToken ct)
    {
        var rows = await c.QueryAsync(t, $"SELECT {RunRow.Columns} FROM engine_runs WHERE id = @id", RunRow.Read, ct, ("id", runId));
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>
    /// Touches the lease and writes steps' mutable columns, each only if still in its expected state, as one command
    /// (one round trip): every statement returns a row, and a missing row aborts the transaction.
    /// </summary>
    public static async Task<LeaseTouch> TouchAndSaveStepsAsync(
        DbConnection c, DbTransaction t, long runId, string owner, long expiresAt, long now,
        IReadOnlyList<(StepRow Step, StepStatus Expected)> updates, CancellationToken ct)
    {
        var sql = new StringBuilder(
            "UPDATE engine_runs SET lease_expires_at = @expires WHERE id = @id AND lease_owner = @owner RETURNING cancel_requested_at, cancel_reason;");
        await using var command = c.CreateCommand("", t, ("expires", expiresAt), ("id", runId), ("owner", owner), ("now", now));
        for (var i = 0; i < updates.Count; i++)
        {
            var (step, expected) = updates[i];
            sql.Append(CultureInfo.InvariantCulture,
                $"UPDATE engine_steps SET status = @status{i}, attempt = @attempt{i}, data_json = @data{i}, output_json = @output{i}, " +
                $"reason = @reason{i}, due_at = @due{i}, started_at = @started{i}, finished_at = @finished{i}, deadline_at = @deadline{i}, " +
                $"updated_at = @now WHERE run_id = @id AND position = @pos{i} AND status = @expected{i} RETURNING position;");
            command.AddParameter($"status{i}", step.Status.ToStored());
            command.AddParameter($"attempt{i}", step.Attempt);
            command.AddParameter($"data{i}", step.DataJson);
            command.AddParameter($"output{i}", step.OutputJson);
            command.AddParameter($"reason{i}", step.Reason);
            command.AddParameter($"due{i}", step.DueAt);
            command.AddParameter($"started{i}", step.StartedAt);
            command.AddParameter($"finished{i}", step.FinishedAt);
            command.AddParameter($"deadline{i}", step.DeadlineAt);
            command.AddParameter($"pos{i}", step.Position);
            command.AddParameter($"expected{i}", expected.ToStored());
        }

        command.CommandText = sql.ToString();
        await using var reader = await command.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct))
        {
            throw new LeaseLostException($"Run {runId} is no longer leased by {owner}.");
        }

        var touch = new LeaseTouch(reader.GetNullableInt64(0), reader.GetNullableString(1));
        foreach (var (step, expected) in updates)
        {
            if (!await reader.NextResultAsync(ct) || !await reader.ReadAsync(ct))
            {
                throw new LeaseLostException($"Step {step.Name} of run {runId} was no longer {expected.ToStored()}.");
            }
        }

        return touch;
    }

    /// <summary>
    /// Starts a queued run unless an earlier run with the same mutex key is queued or running; a blocked run gives its
    /// lease back in the same transaction, so the holder's finish (which wakes the next run) cannot be missed.
    /// </summary>
    public async Task<bool> TryStartRunAsync(
        DbConnection c, DbTransaction t, RunRow run, string owner, long now, long recheckAt, CancellationToken ct)
    {
        if (run.MutexKey is { } key)
        {
            await LockMutexAsync(c, t, key, ct);
            await using var count = c.CreateCommand(
                "SELECT COUNT(*) FROM engine_runs WHERE mutex_key = @key AND id <> @id AND " +
                "(status = 'running' OR (status = 'queued' AND id < @id))",
                t, ("key", key), ("id", run.Id));
            var blockers = Convert.ToInt64(await count.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            if (blockers > 0)
            {
                await c.ExecuteAsync(
                    t,
                    "UPDATE engine_runs SET lease_owner = NULL, lease_expires_at = NULL, " +
                    "next_due_at = CASE WHEN cancel_requested_at IS NOT NULL THEN @now ELSE @recheck END WHERE id = @id AND lease_owner = @owner",
                    ct, ("now", now), ("recheck", recheckAt), ("id", run.Id), ("owner", owner));
                return false;
            }
        }

        var deadline = run.TimeoutMs is { } timeout ? now + timeout : (long?)null;
        var changed = await c.ExecuteAsync(
            t, "UPDATE engine_runs SET status = 'running', started_at = @now, deadline_at = @deadline WHERE id = @id AND status = 'queued'",
            ct, ("now", now), ("deadline", deadline), ("id", run.Id));
        if (changed != 1)
        {
            throw new LeaseLostException($"Run {run.Id} was no longer queued.");
        }

        run.Status = RunStatus.Running;
        run.StartedAt = now;
        run.DeadlineAt = deadline;
        return true;
    }

    /// <summary>
    /// Moves a run to a final state, cancels its unfinished steps and wakes the next run queued on its mutex.
    /// With <paramref name="observersNotified"/> (no observers registered) the lease is released in the same transaction.
    /// Returns the id of the woken run, if any.
    /// </summary>
    public async Task<long?> FinishRunAsync(
        DbConnection c, DbTransaction t, RunRow run, RunStatus status, string? reason, string stepReason, string owner,
        bool observersNotified, long now, CancellationToken ct)
    {
        if (run.MutexKey is { } key)
        {
            await LockMutexAsync(c, t, key, ct);
        }

        // Without observers the run is done for good: release the lease now. Otherwise it stays due so that the
        // observers are called (again, after a crash) before the lease is given back.
        var rest = observersNotified
            ? "observers_notified = 1, next_due_at = NULL, lease_owner = NULL, lease_expires_at = NULL"
            : "observers_notified = 0, next_due_at = @now";
        var changed = await c.ExecuteAsync(
            t,
            $"UPDATE engine_runs SET status = @status, reason = @reason, finished_at = @now, {rest} " +
            "WHERE id = @id AND status = @expected AND lease_owner = @owner",
            ct,
            ("status", status.ToStored()), ("reason", reason), ("now", now), ("id", run.Id), ("expected", run.Status.ToStored()),
            ("owner", owner));
        if (changed != 1)
        {
            throw new LeaseLostException($"Run {run.Id} was no longer {run.Status.ToStored()}.");
        }

        await c.ExecuteAsync(
            t,
            "UPDATE engine_steps SET status = 'cancelled', reason = @reason, due_at = NULL, finished_at = @now, updated_at = @now " +
            "WHERE run_id = @run AND status IN ('pending', 'running', 'waiting')",
            ct, ("reason", stepReason), ("now", now), ("run", run.Id));

        long? woken = null;
        if (run.MutexKey is { } mutex)
        {
            var next = await c.QueryAsync(
                t, "SELECT MIN(id) FROM engine_runs WHERE mutex_key = @key AND status = 'queued'", r => r.GetNullableInt64(0), ct,
                ("key", mutex));
            woken = next.Count > 0 ? next[0] : null;
            if (woken is { } nextId)
            {
                await c.ExecuteAsync(
                    t, "UPDATE engine_runs SET next_due_at = @now WHERE id = @id AND (next_due_at IS NULL OR next_due_at > @now)",
                    ct, ("now", now), ("id", nextId));
            }
        }

        return woken;
    }

    public Task MarkObserversNotifiedAsync(long runId, string owner, CancellationToken ct) =>
        db.WriteAsync(
            (c, t) => c.ExecuteAsync(
                t,
                "UPDATE engine_runs SET observers_notified = 1, next_due_at = NULL, lease_owner = NULL, lease_expires_at = NULL " +
                "WHERE id = @id AND lease_owner = @owner",
                ct, ("id", runId), ("owner", owner)),
            ct);

    /// <summary>Gives the lease back; the run is due again at <paramref name="nextDueAt"/> (at once if a cancel arrived meanwhile).</summary>
    public Task ReleaseAsync(long runId, string owner, long? nextDueAt, CancellationToken ct)
    {
        var now = db.NowMs();
        return db.WriteAsync(
            (c, t) => c.ExecuteAsync(
                t,
                "UPDATE engine_runs SET lease_owner = NULL, lease_expires_at = NULL, next_due_at = CASE " +
                "WHEN cancel_requested_at IS NOT NULL AND status IN ('queued', 'running') THEN @now ELSE @due END " +
                "WHERE id = @id AND lease_owner = @owner",
                ct, ("now", now), ("due", nextDueAt), ("id", runId), ("owner", owner)),
            ct);
    }

    /// <summary>Records a cancel request; the replica processing the run (or the next to claim it) carries it out.</summary>
    public Task<int> RequestCancelAsync(long runId, string reason, CancellationToken ct)
    {
        var now = db.NowMs();
        return db.WriteAsync(
            (c, t) => c.ExecuteAsync(
                t,
                "UPDATE engine_runs SET cancel_requested_at = COALESCE(cancel_requested_at, @now), " +
                "cancel_reason = COALESCE(cancel_reason, @reason), next_due_at = @now WHERE id = @id AND status IN ('queued', 'running')",
                ct, ("now", now), ("reason", reason), ("id", runId)),
            ct);
    }

    public Task<RunDetail?> GetRunDetailAsync(long runId, CancellationToken ct) =>
        db.ReadAsync(
            async c =>
            {
                var run = await LoadRunAsync(c, null, runId, ct);
                if (run is null)
                {
                    return null;
                }

                var steps = await LoadStepsAsync(c, null, runId, ct);
                return new RunDetail(run.ToSummary(), steps.Select(s => s.ToState()).ToList());
            },
            ct);

    public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken ct)
    {
        var sql = new StringBuilder($"SELECT {RunRow.Columns} FROM engine_runs r WHERE 1 = 1");
        var parameters = new List<(string, object?)>();
        void Filter(string clause, string name, object value)
        {
            sql.Append(" AND ").Append(clause);
            parameters.Add((name, value));
        }

        if (query.Kind is { } kind)
        {
            Filter("kind = @kind", "kind", kind);
        }

        if (query.Name is { } name)
        {
            Filter("name = @name", "name", name);
        }

        if (query.MutexKey is { } mutex)
        {
            Filter("mutex_key = @mutex", "mutex", mutex);
        }

        if (query.ParentRunId is { } parent)
        {
            Filter("parent_run_id = @parent", "parent", parent);
        }

        if (query.BeforeId is { } before)
        {
            Filter("id < @before", "before", before);
        }

        if (query.Statuses is { Count: > 0 } statuses)
        {
            var names = statuses.Select((s, i) => $"@status{i}").ToList();
            sql.Append(" AND status IN (").Append(string.Join(", ", names)).Append(')');
            parameters.AddRange(statuses.Select((s, i) => ($"status{i}", (object?)s.ToStored())));
        }

        var labelIndex = 0;
        foreach (var (key, value) in query.Labels ?? new Dictionary<string, string>())
        {
            sql.Append(
                $" AND EXISTS (SELECT 1 FROM engine_run_labels l WHERE l.run_id = r.id AND l.label_key = @lk{labelIndex} AND l.label_value = @lv{labelIndex})");
            parameters.Add(($"lk{labelIndex}", key));
            parameters.Add(($"lv{labelIndex}", value));
            labelIndex++;
        }

        var limit = Math.Clamp(query.Limit, 1, 1000);
        sql.Append(" ORDER BY id DESC LIMIT @limit");
        parameters.Add(("limit", limit + 1));
        return db.ReadAsync(
            async c =>
            {
                var rows = await c.QueryAsync(null, sql.ToString(), RunRow.Read, ct, [.. parameters]);
                var page = rows.Take(limit).Select(r => r.ToSummary()).ToList();
                return new RunPage(page, rows.Count > limit ? page[^1].Id : null);
            },
            ct);
    }

    public Task<long> AppendLogAsync(long runId, string stepName, int attempt, string message, CancellationToken ct)
    {
        var now = db.NowMs();
        return db.WriteAsync(
            async (c, t) =>
            {
                await using var command = c.CreateCommand(
                    "INSERT INTO engine_step_logs (run_id, step_name, attempt, logged_at, message) VALUES (@run, @step, @attempt, @now, @message) RETURNING id",
                    t, ("run", runId), ("step", stepName), ("attempt", attempt), ("now", now), ("message", message));
                return Convert.ToInt64(await command.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
            },
            ct);
    }

    public Task<List<StepLog>> GetLogsAsync(long runId, string? stepName, long afterId, int limit, CancellationToken ct)
    {
        var sql = "SELECT id, run_id, step_name, attempt, logged_at, message FROM engine_step_logs WHERE run_id = @run AND id > @after" +
                  (stepName is null ? "" : " AND step_name = @step") + " ORDER BY id LIMIT @limit";
        List<(string, object?)> parameters = [("run", runId), ("after", afterId), ("limit", limit)];
        if (stepName is not null)
        {
            parameters.Add(("step", stepName));
        }

        return db.ReadAsync(
            c => c.QueryAsync(
                null, sql,
                r => new StepLog(r.GetInt64(0), r.GetInt64(1), r.GetString(2), r.GetInt32(3), DbTime.FromUnixMs(r.GetInt64(4)), r.GetString(5)),
                ct, [.. parameters]),
            ct);
    }

    private const string EffectColumns = "run_id, step_name, effect_key, status, attempt, result_json, recorded_at, completed_at";

    private static EffectRecord ReadEffect(DbDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3) == "done" ? EffectStatus.Done : EffectStatus.Pending,
        r.GetInt32(4), r.GetNullableString(5), DbTime.FromUnixMs(r.GetInt64(6)), DbTime.FromUnixMs(r.GetNullableInt64(7)));

    public Task<List<EffectRecord>> GetEffectsAsync(long runId, CancellationToken ct) =>
        db.ReadAsync(
            c => c.QueryAsync(null, $"SELECT {EffectColumns} FROM engine_effects WHERE run_id = @run ORDER BY recorded_at, step_name, effect_key", ReadEffect, ct, ("run", runId)),
            ct);

    public Task<EffectRecord?> GetEffectAsync(long runId, string stepName, string key, CancellationToken ct) =>
        db.ReadAsync(
            async c =>
            {
                var rows = await c.QueryAsync(
                    null, $"SELECT {EffectColumns} FROM engine_effects WHERE run_id = @run AND step_name = @step AND effect_key = @key",
                    ReadEffect, ct, ("run", runId), ("step", stepName), ("key", key));
                return rows.Count == 0 ? null : rows[0];
            },
            ct);

    public static Task RecordEffectPendingAsync(
        DbConnection c, DbTransaction t, long runId, string stepName, string key, int attempt, long now, CancellationToken ct) =>
        c.ExecuteAsync(
            t,
            "INSERT INTO engine_effects (run_id, step_name, effect_key, status, attempt, recorded_at) " +
            "VALUES (@run, @step, @key, 'pending', @attempt, @now) ON CONFLICT DO NOTHING",
            ct, ("run", runId), ("step", stepName), ("key", key), ("attempt", attempt), ("now", now));

    public Task CompleteEffectAsync(long runId, string stepName, string key, string resultJson, CancellationToken ct)
    {
        var now = db.NowMs();
        return db.WriteAsync(
            (c, t) => c.ExecuteAsync(
                t,
                "UPDATE engine_effects SET status = 'done', result_json = @result, completed_at = @now " +
                "WHERE run_id = @run AND step_name = @step AND effect_key = @key AND status = 'pending'",
                ct, ("result", resultJson), ("now", now), ("run", runId), ("step", stepName), ("key", key)),
            ct);
    }

    private async Task LockMutexAsync(DbConnection c, DbTransaction t, string key, CancellationToken ct)
    {
        // Serializes "may this run start?" against "the holder finished, wake the next" for one mutex key across replicas.
        if (IsPostgres)
        {
            await using var command = c.CreateCommand("SELECT pg_advisory_xact_lock(hashtextextended(@key, 7))", t, ("key", key));
            await command.ExecuteScalarAsync(ct);
        }
    }
}
