using System.Data.Common;
using System.Globalization;
using System.Text;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Schedules;

/// <summary>A row of <c>schedules</c>.</summary>
internal sealed record ScheduleRow(
    string DagId, string SpecJson, string Source, bool Paused, bool Deleted, long Revision, int SpecVersion, long? CursorAt,
    long CreatedAt, long UpdatedAt, string? Name = null)
{
    private ScheduleSpec? spec;

    public ScheduleSpec Spec => spec ??= ManifestJson.Deserialize<ScheduleSpec>(SpecJson);

    /// <summary>Schedules the scheduler keeps in its queue.</summary>
    public bool IsActive => !Paused && !Deleted;
}

/// <summary>A row of <c>schedule_slots</c>.</summary>
internal sealed record SlotRow
{
    public required string DagId { get; init; }

    public required long LogicalDate { get; init; }

    public required long IntervalStart { get; init; }

    public required long IntervalEnd { get; init; }

    public required long DueAt { get; init; }

    /// <summary>The schedule's time zone when the slot was claimed, so that its dates read as the user wrote them.</summary>
    public required string TimeZone { get; init; }

    public required SlotTrigger Trigger { get; init; }

    public int Generation { get; init; }

    public required SlotState State { get; init; }

    public long? RunId { get; init; }

    public long? BackfillId { get; init; }

    public string? ConfJson { get; init; }

    public int Attempts { get; init; }

    public string? JobId { get; init; }

    public string? JobName { get; init; }

    public string? JobState { get; init; }

    public string? Reason { get; init; }

    public required long ClaimedAt { get; init; }

    public long? StartedAt { get; init; }

    public long? FinishedAt { get; init; }

    public static SlotRow For(string dagId, ScheduleSpec spec, Manifests.Scheduling.Slot slot, SlotTrigger trigger, SlotState state, long now) => new()
    {
        DagId = dagId,
        LogicalDate = DbTime.ToUnixMs(slot.LogicalDate),
        IntervalStart = DbTime.ToUnixMs(slot.DataIntervalStart),
        IntervalEnd = DbTime.ToUnixMs(slot.DataIntervalEnd),
        DueAt = DbTime.ToUnixMs(slot.DueAt),
        TimeZone = spec.TimeZone,
        Trigger = trigger,
        State = state,
        ClaimedAt = now,
    };

    public SlotRunInfo ToInfo()
    {
        var zone = Manifests.Values.TimeZones.TryFind(TimeZone, out var found, out _, out _) ? found : TimeZoneInfo.Utc;
        DateTimeOffset At(long ms) => TimeZoneInfo.ConvertTime(DbTime.FromUnixMs(ms), zone);
        return new SlotRunInfo
        {
            DagId = DagId,
            LogicalDate = At(LogicalDate),
            DataIntervalStart = At(IntervalStart),
            DataIntervalEnd = At(IntervalEnd),
            DueAt = At(DueAt),
            Trigger = Trigger,
            State = State,
            Generation = Generation,
            RunId = RunId,
            BackfillId = BackfillId,
            Attempts = Attempts,
            JobId = JobId,
            JobName = JobName,
            JobState = JobState,
            Reason = Reason,
            StartedAt = StartedAt is { } s ? At(s) : null,
            FinishedAt = FinishedAt is { } f ? At(f) : null,
        };
    }
}

/// <summary>A schedule's newest slot with a run and its slots counted by state.</summary>
internal sealed class SlotSummary
{
    public SlotRow? Last { get; set; }

    public Dictionary<SlotState, int> Counts { get; } = [];

    public int Active => Counts.GetValueOrDefault(SlotState.Queued) + Counts.GetValueOrDefault(SlotState.Running);
}

internal sealed record BackfillRow(long Id, string DagId, long FromDate, long ToDate, string Reprocess, int MaxActive, int SlotCount, long? RunId, long CreatedAt);

/// <summary>The SQL of the schedule flow. Every state change is a conditional update on the expected state.</summary>
internal sealed class ScheduleStore(IDatabase database)
{
    private const string ScheduleColumns =
        "dag_id, spec_json, source, paused, deleted, revision, spec_version, cursor_at, created_at, updated_at, name";

    private const string SlotColumns =
        "dag_id, logical_date, interval_start, interval_end, due_at, time_zone, run_trigger, generation, state, run_id, backfill_id, " +
        "conf_json, attempts, job_id, job_name, job_state, reason, claimed_at, started_at, finished_at";

    public IDatabase Database => database;

    private string ForUpdate => database.Dialect == StoreDialect.Postgres ? " FOR UPDATE" : "";

    // ---- schedules ----

    public Task<ScheduleRow?> GetScheduleAsync(string dagId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async connection => (await connection.QueryAsync(
                null, $"SELECT {ScheduleColumns} FROM schedules WHERE dag_id = @dag", ReadSchedule, cancellationToken, ("dag", dagId))).FirstOrDefault(),
            cancellationToken);

    public Task<List<ScheduleRow>> ListSchedulesAsync(bool includeDeleted, CancellationToken cancellationToken) =>
        database.ReadAsync(
            connection => connection.QueryAsync(
                null,
                $"SELECT {ScheduleColumns} FROM schedules {(includeDeleted ? "" : "WHERE deleted = 0 ")}ORDER BY dag_id",
                ReadSchedule,
                cancellationToken),
            cancellationToken);

    /// <summary>Rows whose revision is above <paramref name="revision"/>, in revision order (tombstones included).</summary>
    public Task<List<ScheduleRow>> ListChangedSinceAsync(long revision, CancellationToken cancellationToken) =>
        database.ReadAsync(
            connection => connection.QueryAsync(
                null,
                $"SELECT {ScheduleColumns} FROM schedules WHERE revision > @revision ORDER BY revision",
                ReadSchedule,
                cancellationToken,
                ("revision", revision)),
            cancellationToken);

    public Task<long> GetRevisionAsync(CancellationToken cancellationToken) =>
        database.ReadAsync(
            async connection =>
            {
                await using var command = connection.CreateCommand("SELECT value FROM schedule_counters WHERE name = 'revision'", null);
                return ToLong(await command.ExecuteScalarAsync(cancellationToken));
            },
            cancellationToken);

    /// <summary>Creates or updates a schedule. The pause flag follows the manifest only at creation and when its value changes.</summary>
    public Task<(ScheduleRow Row, ScheduleChange Change)> UpsertAsync(ScheduleSpec spec, string name, string source, CancellationToken cancellationToken)
    {
        var json = ManifestJson.Serialize(spec);
        return database.WriteAsync(
            async (connection, transaction) =>
            {
                var existing = await GetScheduleAsync(connection, transaction, spec.DagId, cancellationToken);
                var now = database.NowMs();
                if (existing is { Deleted: false } && existing.SpecJson == json && existing.Name == name)
                {
                    return (existing, ScheduleChange.Unchanged);
                }

                var revision = await NextRevisionAsync(connection, transaction, cancellationToken);
                if (existing is null)
                {
                    await connection.ExecuteAsync(
                        transaction,
                        $"INSERT INTO schedules ({ScheduleColumns}) VALUES (@dag, @spec, @source, @paused, 0, @revision, 1, NULL, @now, @now, @name)",
                        cancellationToken,
                        ("dag", spec.DagId), ("spec", json), ("source", source), ("paused", spec.Paused ? 1 : 0), ("revision", revision), ("now", now),
                        ("name", name));
                    return (new ScheduleRow(spec.DagId, json, source, spec.Paused, false, revision, 1, null, now, now, name), ScheduleChange.Created);
                }

                var previousPaused = existing.Deleted ? spec.Paused : TryReadPaused(existing.SpecJson);
                var paused = existing.Deleted || previousPaused != spec.Paused ? spec.Paused : existing.Paused;
                await connection.ExecuteAsync(
                    transaction,
                    "UPDATE schedules SET spec_json = @spec, source = @source, paused = @paused, deleted = 0, revision = @revision, " +
                    "spec_version = spec_version + 1, updated_at = @now, name = @name WHERE dag_id = @dag",
                    cancellationToken,
                    ("dag", spec.DagId), ("spec", json), ("source", source), ("paused", paused ? 1 : 0), ("revision", revision), ("now", now),
                    ("name", name));
                var change = existing.Deleted ? ScheduleChange.Created : ScheduleChange.Updated;
                return (existing with
                {
                    SpecJson = json, Source = source, Paused = paused, Name = name, Deleted = false, Revision = revision, SpecVersion = existing.SpecVersion + 1, UpdatedAt = now,
                }, change);
            },
            cancellationToken);
    }

    /// <summary>Sets the pause flag; null when there is no such (live) schedule.</summary>
    public Task<ScheduleRow?> SetPausedAsync(string dagId, bool paused, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (connection, transaction) =>
            {
                var existing = await GetScheduleAsync(connection, transaction, dagId, cancellationToken);
                if (existing is null || existing.Deleted)
                {
                    return null;
                }

                if (existing.Paused == paused)
                {
                    return existing;
                }

                var revision = await NextRevisionAsync(connection, transaction, cancellationToken);
                var now = database.NowMs();
                await connection.ExecuteAsync(
                    transaction,
                    "UPDATE schedules SET paused = @paused, revision = @revision, updated_at = @now WHERE dag_id = @dag",
                    cancellationToken,
                    ("dag", dagId), ("paused", paused ? 1 : 0), ("revision", revision), ("now", now));
                return existing with { Paused = paused, Revision = revision, UpdatedAt = now };
            },
            cancellationToken);

    /// <summary>Leaves a tombstone (history stays readable); null when there is no such live schedule.</summary>
    public Task<ScheduleRow?> MarkDeletedAsync(string dagId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (connection, transaction) =>
            {
                var existing = await GetScheduleAsync(connection, transaction, dagId, cancellationToken);
                if (existing is null || existing.Deleted)
                {
                    return null;
                }

                var revision = await NextRevisionAsync(connection, transaction, cancellationToken);
                var now = database.NowMs();
                await connection.ExecuteAsync(
                    transaction,
                    "UPDATE schedules SET deleted = 1, revision = @revision, updated_at = @now WHERE dag_id = @dag",
                    cancellationToken,
                    ("dag", dagId), ("revision", revision), ("now", now));
                return existing with { Deleted = true, Revision = revision, UpdatedAt = now };
            },
            cancellationToken);

    /// <summary>Reads schedules for a claim, locking their rows on PostgreSQL so that replicas claim one after the other.</summary>
    public async Task<List<ScheduleRow>> LockSchedulesAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<string> dagIds, CancellationToken cancellationToken)
    {
        if (dagIds.Count == 0)
        {
            return [];
        }

        var (list, parameters) = InList("d", dagIds);
        return await connection.QueryAsync(
            transaction,
            $"SELECT {ScheduleColumns} FROM schedules WHERE dag_id IN ({list}) ORDER BY dag_id{ForUpdate}",
            ReadSchedule,
            cancellationToken,
            parameters);
    }

    public static Task<int> AdvanceCursorAsync(
        DbConnection connection, DbTransaction transaction, string dagId, long cursorAt, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(
            transaction,
            "UPDATE schedules SET cursor_at = @cursor WHERE dag_id = @dag AND (cursor_at IS NULL OR cursor_at < @cursor)",
            cancellationToken,
            ("dag", dagId), ("cursor", cursorAt));

    // ---- slots ----

    /// <summary>Inserts a slot unless the slot already has a row; true when inserted.</summary>
    public static async Task<bool> TryInsertSlotAsync(
        DbConnection connection, DbTransaction transaction, SlotRow slot, CancellationToken cancellationToken)
    {
        var inserted = await connection.ExecuteAsync(
            transaction,
            $"INSERT INTO schedule_slots ({SlotColumns}, updated_at) VALUES (@dag, @logical, @start, @end, @due, @zone, @trigger, @generation, @state, " +
            "@run, @backfill, @conf, 0, NULL, NULL, NULL, NULL, @claimed, NULL, NULL, @claimed) ON CONFLICT (dag_id, logical_date) DO NOTHING",
            cancellationToken,
            ("dag", slot.DagId), ("logical", slot.LogicalDate), ("start", slot.IntervalStart), ("end", slot.IntervalEnd), ("due", slot.DueAt),
            ("zone", slot.TimeZone), ("trigger", slot.Trigger.ToStored()), ("generation", slot.Generation), ("state", slot.State.ToStored()),
            ("run", slot.RunId), ("backfill", slot.BackfillId), ("conf", slot.ConfJson), ("claimed", slot.ClaimedAt));
        return inserted == 1;
    }

    /// <summary>Active (queued or running) slots of a schedule that count against its maxActiveRuns: backfills have their own limit.</summary>
    public static async Task<int> CountActiveScheduledAsync(
        DbConnection connection, DbTransaction transaction, string dagId, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand(
            "SELECT COUNT(*) FROM schedule_slots WHERE dag_id = @dag AND state IN ('queued', 'running') AND run_trigger <> 'backfill'",
            transaction,
            ("dag", dagId));
        return (int)ToLong(await command.ExecuteScalarAsync(cancellationToken));
    }

    public Task<SlotRow?> GetSlotAsync(string dagId, long logicalDate, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async connection => (await connection.QueryAsync(
                null,
                $"SELECT {SlotColumns} FROM schedule_slots WHERE dag_id = @dag AND logical_date = @logical",
                ReadSlot,
                cancellationToken,
                ("dag", dagId), ("logical", logicalDate))).FirstOrDefault(),
            cancellationToken);

    public static async Task<SlotRow?> GetSlotAsync(
        DbConnection connection, DbTransaction transaction, string dagId, long logicalDate, CancellationToken cancellationToken) =>
        (await connection.QueryAsync(
            transaction,
            $"SELECT {SlotColumns} FROM schedule_slots WHERE dag_id = @dag AND logical_date = @logical",
            ReadSlot,
            cancellationToken,
            ("dag", dagId), ("logical", logicalDate))).FirstOrDefault();

    /// <summary>Slots of a schedule, newest logical date first.</summary>
    public Task<List<SlotRow>> ListSlotsAsync(string dagId, int limit, long? beforeLogicalDate, CancellationToken cancellationToken) =>
        database.ReadAsync(
            connection => connection.QueryAsync(
                null,
                $"SELECT {SlotColumns} FROM schedule_slots WHERE dag_id = @dag{(beforeLogicalDate is null ? "" : " AND logical_date < @before")} " +
                "ORDER BY logical_date DESC LIMIT @limit",
                ReadSlot,
                cancellationToken,
                ("dag", dagId), ("before", beforeLogicalDate ?? 0), ("limit", limit)),
            cancellationToken);

    /// <summary>Slots of a schedule with logical dates in [from, to].</summary>
    public static Task<List<SlotRow>> ListSlotsInRangeAsync(
        DbConnection connection, DbTransaction? transaction, string dagId, long from, long to, CancellationToken cancellationToken) =>
        connection.QueryAsync(
            transaction,
            $"SELECT {SlotColumns} FROM schedule_slots WHERE dag_id = @dag AND logical_date >= @from AND logical_date <= @to ORDER BY logical_date",
            ReadSlot,
            cancellationToken,
            ("dag", dagId), ("from", from), ("to", to));

    /// <summary>For each schedule: the newest slot that is not waiting in a backfill, and how many are active.</summary>
    public Task<Dictionary<string, SlotSummary>> SummarizeSlotsAsync(string? dagId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async connection =>
            {
                var filter = dagId is null ? "" : " AND dag_id = @dag";
                var parameters = dagId is null ? [] : new (string, object?)[] { ("dag", dagId) };
                var last = await connection.QueryAsync(
                    null,
                    $"SELECT {PrefixColumns("s")} FROM schedule_slots s JOIN (SELECT dag_id, MAX(logical_date) AS newest FROM schedule_slots " +
                    $"WHERE state <> 'pending'{filter} GROUP BY dag_id) n ON s.dag_id = n.dag_id AND s.logical_date = n.newest",
                    ReadSlot,
                    cancellationToken,
                    parameters);
                var counts = await connection.QueryAsync(
                    null,
                    $"SELECT dag_id, state, COUNT(*) FROM schedule_slots WHERE 1 = 1{filter} GROUP BY dag_id, state",
                    reader => (reader.GetString(0), SlotStates.ParseSlotState(reader.GetString(1)), (int)ToLong(reader.GetValue(2))),
                    cancellationToken,
                    parameters);
                var result = new Dictionary<string, SlotSummary>(StringComparer.Ordinal);
                SlotSummary For(string dag) => result.TryGetValue(dag, out var s) ? s : result[dag] = new SlotSummary();
                foreach (var slot in last)
                {
                    For(slot.DagId).Last = slot;
                }

                foreach (var (dag, state, count) in counts)
                {
                    For(dag).Counts[state] = count;
                }

                return result;
            },
            cancellationToken);

    /// <summary>Queued slots whose run was never recorded, claimed before <paramref name="claimedBefore"/>.</summary>
    public Task<List<SlotRow>> ListUnstartedClaimsAsync(long claimedBefore, CancellationToken cancellationToken) =>
        database.ReadAsync(
            connection => connection.QueryAsync(
                null,
                $"SELECT {SlotColumns} FROM schedule_slots WHERE state = 'queued' AND claimed_at < @before AND run_id IS NULL",
                ReadSlot,
                cancellationToken,
                ("before", claimedBefore)),
            cancellationToken);

    /// <summary>Active slots of a schedule (for cancellation).</summary>
    public Task<List<SlotRow>> ListActiveSlotsAsync(string dagId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            connection => connection.QueryAsync(
                null,
                $"SELECT {SlotColumns} FROM schedule_slots WHERE dag_id = @dag AND state IN ('pending', 'queued', 'running')",
                ReadSlot,
                cancellationToken,
                ("dag", dagId)),
            cancellationToken);

    /// <summary>Records the run ids of slots whose runs were just created.</summary>
    public Task SetRunIdsAsync(IReadOnlyList<(string DagId, long LogicalDate, int Generation, long RunId)> runs, CancellationToken cancellationToken)
    {
        if (runs.Count == 0)
        {
            return Task.CompletedTask;
        }

        return database.WriteAsync(
            async (connection, transaction) =>
            {
                var now = database.NowMs();
                foreach (var run in runs)
                {
                    await connection.ExecuteAsync(
                        transaction,
                        "UPDATE schedule_slots SET run_id = @run, updated_at = @now " +
                        "WHERE dag_id = @dag AND logical_date = @logical AND generation = @generation AND run_id IS NULL",
                        cancellationToken,
                        ("run", run.RunId), ("now", now), ("dag", run.DagId), ("logical", run.LogicalDate), ("generation", run.Generation));
                }

                return 0;
            },
            cancellationToken);
    }

    /// <summary>The slot's first job was launched: queued → running, with the run and the job.</summary>
    public Task MarkLaunchedAsync(string dagId, long logicalDate, int generation, long runId, string jobId, string jobName, CancellationToken cancellationToken) =>
        database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                transaction,
                "UPDATE schedule_slots SET state = 'running', run_id = @run, started_at = COALESCE(started_at, @now), attempts = 1, " +
                "job_id = @job, job_name = @name, job_state = NULL, updated_at = @now " +
                "WHERE dag_id = @dag AND logical_date = @logical AND generation = @generation AND state IN ('queued', 'running')",
                cancellationToken,
                ("run", runId), ("now", database.NowMs()), ("job", jobId), ("name", jobName),
                ("dag", dagId), ("logical", logicalDate), ("generation", generation)),
            cancellationToken);

    /// <summary>Records the job of the current attempt and its last seen state.</summary>
    public Task UpdateJobAsync(
        string dagId, long logicalDate, int generation, int attempts, string? jobId, string? jobName, string? jobState, CancellationToken cancellationToken) =>
        database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                transaction,
                "UPDATE schedule_slots SET attempts = @attempts, job_id = @job, job_name = @name, job_state = @jobState, updated_at = @now " +
                "WHERE dag_id = @dag AND logical_date = @logical AND generation = @generation AND state IN ('queued', 'running')",
                cancellationToken,
                ("attempts", attempts), ("job", jobId), ("name", jobName), ("jobState", jobState), ("now", database.NowMs()),
                ("dag", dagId), ("logical", logicalDate), ("generation", generation)),
            cancellationToken);

    /// <summary>Ends a slot's current generation: active → succeeded, failed or cancelled. False when it had already ended.</summary>
    public Task<bool> FinishSlotAsync(
        string dagId, long logicalDate, int generation, SlotState state, string? reason, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (connection, transaction) =>
            {
                var now = database.NowMs();
                var changed = await connection.ExecuteAsync(
                    transaction,
                    "UPDATE schedule_slots SET state = @state, reason = @reason, finished_at = @now, updated_at = @now " +
                    "WHERE dag_id = @dag AND logical_date = @logical AND generation = @generation AND state IN ('pending', 'queued', 'running')",
                    cancellationToken,
                    ("state", state.ToStored()), ("reason", reason), ("now", now), ("dag", dagId), ("logical", logicalDate), ("generation", generation));
                return changed == 1;
            },
            cancellationToken);

    // ---- backfills ----

    public static async Task<long> InsertBackfillAsync(
        DbConnection connection, DbTransaction transaction, BackfillRow row, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand(
            "INSERT INTO schedule_backfills (dag_id, from_date, to_date, reprocess, max_active, slot_count, run_id, created_at) " +
            "VALUES (@dag, @from, @to, @reprocess, @max, @count, NULL, @now) RETURNING id",
            transaction,
            ("dag", row.DagId), ("from", row.FromDate), ("to", row.ToDate), ("reprocess", row.Reprocess), ("max", row.MaxActive),
            ("count", row.SlotCount), ("now", row.CreatedAt));
        return ToLong(await command.ExecuteScalarAsync(cancellationToken));
    }

    public Task SetBackfillRunAsync(long backfillId, long runId, CancellationToken cancellationToken) =>
        database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                transaction,
                "UPDATE schedule_backfills SET run_id = @run WHERE id = @id AND run_id IS NULL",
                cancellationToken,
                ("run", runId), ("id", backfillId)),
            cancellationToken);

    /// <summary>Backfills whose run was never recorded, created before <paramref name="createdBefore"/>.</summary>
    public Task<List<BackfillRow>> ListUnstartedBackfillsAsync(long createdBefore, CancellationToken cancellationToken) =>
        database.ReadAsync(
            connection => connection.QueryAsync(
                null,
                "SELECT id, dag_id, from_date, to_date, reprocess, max_active, slot_count, run_id, created_at FROM schedule_backfills " +
                "WHERE run_id IS NULL AND created_at < @before",
                ReadBackfill,
                cancellationToken,
                ("before", createdBefore)),
            cancellationToken);

    /// <summary>
    /// One step of a backfill: up to (limit − active) of its pending slots become queued, oldest first; if the schedule was
    /// removed, its pending slots are cancelled instead. Returns the slots to start and how many remain.
    /// </summary>
    public Task<(List<SlotRow> ToStart, int Active, int Pending)> ClaimBackfillSlotsAsync(
        long backfillId, int maxActive, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (connection, transaction) =>
            {
                var slots = await connection.QueryAsync(
                    transaction,
                    $"SELECT {SlotColumns} FROM schedule_slots WHERE backfill_id = @id AND state IN ('pending', 'queued', 'running') ORDER BY logical_date",
                    ReadSlot,
                    cancellationToken,
                    ("id", backfillId));
                if (slots.Count == 0)
                {
                    return (new List<SlotRow>(), 0, 0);
                }

                var schedule = await GetScheduleAsync(connection, transaction, slots[0].DagId, cancellationToken);
                var now = database.NowMs();
                var pending = slots.Where(s => s.State == SlotState.Pending).ToList();
                var active = slots.Count - pending.Count;
                if (schedule is null || schedule.Deleted)
                {
                    foreach (var slot in pending)
                    {
                        await connection.ExecuteAsync(
                            transaction,
                            "UPDATE schedule_slots SET state = 'cancelled', reason = @reason, finished_at = @now, updated_at = @now " +
                            "WHERE dag_id = @dag AND logical_date = @logical AND state = 'pending'",
                            cancellationToken,
                            ("reason", "the schedule was unscheduled before this backfill slot started"), ("now", now),
                            ("dag", slot.DagId), ("logical", slot.LogicalDate));
                    }

                    return (new List<SlotRow>(), active, 0);
                }

                var toStart = pending.Take(Math.Max(0, maxActive - active)).ToList();
                foreach (var slot in toStart)
                {
                    await connection.ExecuteAsync(
                        transaction,
                        "UPDATE schedule_slots SET state = 'queued', claimed_at = @now, updated_at = @now " +
                        "WHERE dag_id = @dag AND logical_date = @logical AND state = 'pending'",
                        cancellationToken,
                        ("now", now), ("dag", slot.DagId), ("logical", slot.LogicalDate));
                }

                return (toStart.Select(s => s with { State = SlotState.Queued, ClaimedAt = now }).ToList(), active + toStart.Count, pending.Count - toStart.Count);
            },
            cancellationToken);

    /// <summary>Counts the finished slots of a backfill by state.</summary>
    public Task<Dictionary<SlotState, int>> CountBackfillSlotsAsync(long backfillId, CancellationToken cancellationToken) =>
        database.ReadAsync(
            async connection =>
            {
                var rows = await connection.QueryAsync(
                    null,
                    "SELECT state, COUNT(*) FROM schedule_slots WHERE backfill_id = @id GROUP BY state",
                    reader => (SlotStates.ParseSlotState(reader.GetString(0)), (int)ToLong(reader.GetValue(1))),
                    cancellationToken,
                    ("id", backfillId));
                return rows.ToDictionary(r => r.Item1, r => r.Item2);
            },
            cancellationToken);

    // ---- helpers ----

    public static async Task<ScheduleRow?> GetScheduleAsync(
        DbConnection connection, DbTransaction transaction, string dagId, CancellationToken cancellationToken) =>
        (await connection.QueryAsync(
            transaction, $"SELECT {ScheduleColumns} FROM schedules WHERE dag_id = @dag", ReadSchedule, cancellationToken, ("dag", dagId)))
        .FirstOrDefault();

    /// <summary>The next store-wide revision. The counter row's lock orders concurrent writers, so revisions commit in order.</summary>
    private static async Task<long> NextRevisionAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand(
            "UPDATE schedule_counters SET value = value + 1 WHERE name = 'revision' RETURNING value", transaction);
        return ToLong(await command.ExecuteScalarAsync(cancellationToken));
    }

    private static bool TryReadPaused(string specJson)
    {
        try
        {
            return ManifestJson.Deserialize<ScheduleSpec>(specJson).Paused;
        }
        catch (System.Text.Json.JsonException)
        {
            return false;
        }
    }

    internal static (string List, (string Name, object? Value)[] Parameters) InList(string prefix, IReadOnlyList<string> values)
    {
        var list = new StringBuilder();
        var parameters = new (string Name, object? Value)[values.Count];
        for (var i = 0; i < values.Count; i++)
        {
            var name = prefix + i.ToString(CultureInfo.InvariantCulture);
            list.Append(i == 0 ? "@" : ", @").Append(name);
            parameters[i] = (name, values[i]);
        }

        return (list.ToString(), parameters);
    }

    private static string PrefixColumns(string alias) =>
        string.Join(", ", SlotColumns.Split(", ").Select(c => alias + "." + c));

    internal static long ToLong(object? value) =>
        value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);

    private static long? ToNullableLong(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : ToLong(reader.GetValue(ordinal));

    private static ScheduleRow ReadSchedule(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.GetString(2),
        ToLong(reader.GetValue(3)) != 0,
        ToLong(reader.GetValue(4)) != 0,
        ToLong(reader.GetValue(5)),
        (int)ToLong(reader.GetValue(6)),
        ToNullableLong(reader, 7),
        ToLong(reader.GetValue(8)),
        ToLong(reader.GetValue(9)),
        reader.IsDBNull(10) ? null : reader.GetString(10));

    private static SlotRow ReadSlot(DbDataReader reader) => new()
    {
        DagId = reader.GetString(0),
        LogicalDate = ToLong(reader.GetValue(1)),
        IntervalStart = ToLong(reader.GetValue(2)),
        IntervalEnd = ToLong(reader.GetValue(3)),
        DueAt = ToLong(reader.GetValue(4)),
        TimeZone = reader.GetString(5),
        Trigger = SlotStates.ParseSlotTrigger(reader.GetString(6)),
        Generation = (int)ToLong(reader.GetValue(7)),
        State = SlotStates.ParseSlotState(reader.GetString(8)),
        RunId = ToNullableLong(reader, 9),
        BackfillId = ToNullableLong(reader, 10),
        ConfJson = reader.IsDBNull(11) ? null : reader.GetString(11),
        Attempts = (int)ToLong(reader.GetValue(12)),
        JobId = reader.IsDBNull(13) ? null : reader.GetString(13),
        JobName = reader.IsDBNull(14) ? null : reader.GetString(14),
        JobState = reader.IsDBNull(15) ? null : reader.GetString(15),
        Reason = reader.IsDBNull(16) ? null : reader.GetString(16),
        ClaimedAt = ToLong(reader.GetValue(17)),
        StartedAt = ToNullableLong(reader, 18),
        FinishedAt = ToNullableLong(reader, 19),
    };

    private static BackfillRow ReadBackfill(DbDataReader reader) => new(
        ToLong(reader.GetValue(0)),
        reader.GetString(1),
        ToLong(reader.GetValue(2)),
        ToLong(reader.GetValue(3)),
        reader.GetString(4),
        (int)ToLong(reader.GetValue(5)),
        (int)ToLong(reader.GetValue(6)),
        ToNullableLong(reader, 7),
        ToLong(reader.GetValue(8)));
}
