using System.Data.Common;
using System.Text.Json;
using Sluice.Buckets;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Intake;

/// <summary>An event as a watcher or push endpoint reports it, before it is in the ledger.</summary>
public sealed record IncomingEvent(
    string Channel,
    ObjectChange Change,
    BucketObject Object,
    string Source,
    DateTimeOffset? ObservedAt = null);

/// <summary>Filters for <see cref="EventLedger.ListAsync"/>; newest first, paged by id.</summary>
public sealed record IntakeEventQuery
{
    public string? Channel { get; init; }

    public IReadOnlyList<IntakeEventState>? States { get; init; }

    public string? Bucket { get; init; }

    public string? ObjectName { get; init; }

    public long? Generation { get; init; }

    /// <summary>Only events with a smaller id (the <see cref="IntakeEventPage.NextBeforeId"/> of the previous page).</summary>
    public long? BeforeId { get; init; }

    public int Limit { get; init; } = 50;
}

public sealed record IntakeEventPage(IReadOnlyList<IntakeEvent> Events, long? NextBeforeId);

/// <summary>A run triggered through the Airflow-compatible API.</summary>
public sealed record DagRunRecord(
    string DagId,
    string DagRunId,
    DateTimeOffset LogicalDate,
    string? ConfJson,
    long? RunId,
    string? Bucket,
    string? ObjectName,
    long? Generation,
    DateTimeOffset CreatedAt);

/// <summary>
/// The event ledger: every object version is inserted once (unique on bucket, object, generation, change) before
/// it is handled, and every state change is a conditional update from <c>received</c>, so that a retry, a replica or
/// a restart cannot handle it twice.
/// </summary>
public sealed class EventLedger
{
    private const string EventColumns =
        "id, channel, bucket, object_name, generation, change, source, state, reason, dispatches, size, " +
        "object_updated_at, observed_at, received_at, finished_at, attempts, problems";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly IDatabase _database;

    public EventLedger(IDatabase database)
    {
        _database = database;
    }

    /// <summary>
    /// Takes an event in: inserts it in state received, or finds the row already there. For a new version the
    /// object becomes known at that generation; for a deletion it is forgotten and its targets are kept on the event.
    /// </summary>
    public Task<(IntakeEvent Event, bool Created)> TryInsertAsync(IncomingEvent incoming, CancellationToken cancellationToken) =>
        _database.WriteAsync(
            async (connection, transaction) =>
            {
                var item = incoming.Object;
                var now = _database.NowMs();
                await using (var insert = connection.CreateCommand(
                    """
                    INSERT INTO intake_events (channel, bucket, object_name, generation, change, source, state, size,
                        object_updated_at, observed_at, received_at, attempts)
                    VALUES (@channel, @bucket, @object, @generation, @change, @source, 'received', @size,
                        @updated, @observed, @now, 0)
                    ON CONFLICT (bucket, object_name, generation, change) DO NOTHING
                    RETURNING id
                    """,
                    transaction,
                    ("channel", incoming.Channel),
                    ("bucket", item.Bucket),
                    ("object", item.Name),
                    ("generation", item.Generation),
                    ("change", incoming.Change.ToStored()),
                    ("source", incoming.Source),
                    ("size", item.Size),
                    ("updated", DbTime.ToUnixMs(item.Updated)),
                    ("observed", incoming.ObservedAt is { } observed ? DbTime.ToUnixMs(observed) : null),
                    ("now", now)))
                {
                    var id = await insert.ExecuteScalarAsync(cancellationToken);
                    if (id is null or DBNull)
                    {
                        var existing = await ReadEventAsync(
                            connection, transaction,
                            "bucket = @bucket AND object_name = @object AND generation = @generation AND change = @change",
                            cancellationToken,
                            ("bucket", item.Bucket), ("object", item.Name), ("generation", item.Generation), ("change", incoming.Change.ToStored()));
                        return (existing!, false);
                    }

                    var eventId = Convert.ToInt64(id, System.Globalization.CultureInfo.InvariantCulture);
                    if (incoming.Change == ObjectChange.Finalized)
                    {
                        // Known objects only move forward: a late or redelivered event of an older version changes nothing.
                        await connection.ExecuteAsync(
                            transaction,
                            """
                            INSERT INTO intake_objects (bucket, object_name, channel, generation, size, updated_at)
                            VALUES (@bucket, @object, @channel, @generation, @size, @updated)
                            ON CONFLICT (bucket, object_name) DO UPDATE SET
                                channel = excluded.channel, generation = excluded.generation,
                                size = excluded.size, updated_at = excluded.updated_at
                            WHERE intake_objects.generation < excluded.generation
                            """,
                            cancellationToken,
                            ("bucket", item.Bucket), ("object", item.Name), ("channel", incoming.Channel),
                            ("generation", item.Generation), ("size", item.Size), ("updated", DbTime.ToUnixMs(item.Updated)));
                    }
                    else
                    {
                        var targets = await connection.QueryAsync(
                            transaction,
                            "SELECT target FROM intake_object_targets WHERE bucket = @bucket AND object_name = @object ORDER BY target",
                            r => r.GetString(0),
                            cancellationToken,
                            ("bucket", item.Bucket), ("object", item.Name));
                        var removed = await connection.ExecuteAsync(
                            transaction,
                            "DELETE FROM intake_objects WHERE bucket = @bucket AND object_name = @object AND generation <= @generation",
                            cancellationToken,
                            ("bucket", item.Bucket), ("object", item.Name), ("generation", item.Generation));
                        if (removed > 0)
                        {
                            await connection.ExecuteAsync(
                                transaction,
                                "DELETE FROM intake_object_targets WHERE bucket = @bucket AND object_name = @object",
                                cancellationToken,
                                ("bucket", item.Bucket), ("object", item.Name));
                            await connection.ExecuteAsync(
                                transaction,
                                "UPDATE intake_events SET previous_targets = @targets WHERE id = @id",
                                cancellationToken,
                                ("targets", JsonSerializer.Serialize(targets, Json)), ("id", eventId));
                        }
                    }

                    var created = await ReadEventAsync(connection, transaction, "id = @id", cancellationToken, ("id", eventId));
                    return (created!, true);
                }
            },
            cancellationToken);

    /// <summary>Ends an event in a final state; false when it had already left state received.</summary>
    public Task<bool> CompleteAsync(
        long id, IntakeEventState state, string? reason, IReadOnlyList<IntakeDispatch>? dispatches, CancellationToken cancellationToken) =>
        CompleteAsync(id, state, reason, dispatches, null, cancellationToken);

    /// <summary>Ends an event in a final state with the problems of an invalid manifest; false when it had already left state received.</summary>
    public Task<bool> CompleteAsync(
        long id, IntakeEventState state, string? reason, IReadOnlyList<IntakeDispatch>? dispatches,
        IReadOnlyList<ManifestProblem>? problems, CancellationToken cancellationToken)
    {
        if (state == IntakeEventState.Received)
        {
            throw new ArgumentOutOfRangeException(nameof(state), state, "An event completes as dispatched, rejected or ignored.");
        }

        return _database.WriteAsync(
            async (connection, transaction) => await connection.ExecuteAsync(
                transaction,
                """
                UPDATE intake_events SET state = @state, reason = @reason, dispatches = @dispatches, problems = @problems, finished_at = @now
                WHERE id = @id AND state = 'received'
                """,
                cancellationToken,
                ("state", state.ToStored()),
                ("reason", reason),
                ("problems", problems is { Count: > 0 } ? JsonSerializer.Serialize(problems, Json) : null),
                ("dispatches", dispatches is { Count: > 0 } ? JsonSerializer.Serialize(dispatches, Json) : null),
                ("now", _database.NowMs()),
                ("id", id)) == 1,
            cancellationToken);
    }

    /// <summary>Counts a failed attempt (transient error) and keeps its message; returns the attempts so far.</summary>
    public Task<int> RecordFailedAttemptAsync(long id, string reason, CancellationToken cancellationToken) =>
        _database.WriteAsync(
            async (connection, transaction) =>
            {
                await connection.ExecuteAsync(
                    transaction,
                    "UPDATE intake_events SET attempts = attempts + 1, reason = @reason WHERE id = @id AND state = 'received'",
                    cancellationToken,
                    ("reason", reason), ("id", id));
                await using var command = connection.CreateCommand("SELECT attempts FROM intake_events WHERE id = @id", transaction, ("id", id));
                var value = await command.ExecuteScalarAsync(cancellationToken);
                return value is null or DBNull ? 0 : Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
            },
            cancellationToken);

    /// <summary>
    /// Takes a received event for <paramref name="owner"/> until <paramref name="until"/> (unix ms), unless another
    /// process holds it. False when the event is no longer received or someone else holds an unexpired claim.
    /// </summary>
    public Task<bool> TryClaimAsync(long id, string owner, long until, CancellationToken cancellationToken) =>
        _database.WriteAsync(
            async (connection, transaction) => await connection.ExecuteAsync(
                transaction,
                "UPDATE intake_events SET claimed_by = @owner, claimed_until = @until WHERE id = @id AND state = 'received' " +
                "AND (claimed_by IS NULL OR claimed_by = @owner OR claimed_until < @now)",
                cancellationToken,
                ("owner", owner), ("until", until), ("id", id), ("now", _database.NowMs())) == 1,
            cancellationToken);

    /// <summary>
    /// On SQLite, which serves one process, every claim left in the ledger is the previous process's: drop them at
    /// start-up so that its unfinished events are handled at once rather than when the claims run out.
    /// </summary>
    public async Task ReleaseClaimsOfEarlierProcessesAsync(CancellationToken cancellationToken)
    {
        if (_database.Dialect != StoreDialect.Sqlite)
        {
            return;
        }

        await _database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                transaction, "UPDATE intake_events SET claimed_by = NULL, claimed_until = NULL WHERE state = 'received' AND claimed_by IS NOT NULL",
                cancellationToken),
            cancellationToken);
    }

    /// <summary>
    /// Received events nobody is handling: unclaimed and taken in before <paramref name="receivedBefore"/>, or claimed
    /// by a process whose claim has expired. Oldest first.
    /// </summary>
    public Task<List<IntakeEvent>> ListAbandonedAsync(long receivedBefore, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            connection => connection.QueryAsync(
                null,
                $"SELECT {EventColumns} FROM intake_events WHERE state = 'received' " +
                "AND ((claimed_by IS NULL AND received_at < @before) OR claimed_until < @now) ORDER BY id",
                MapEvent, cancellationToken, ("before", receivedBefore), ("now", _database.NowMs())),
            cancellationToken);

    /// <summary>Events still in state received (after a crash: taken in, never handled), oldest first.</summary>
    public Task<List<IntakeEvent>> ListReceivedAsync(CancellationToken cancellationToken) =>
        _database.ReadAsync(
            connection => connection.QueryAsync(
                null, $"SELECT {EventColumns} FROM intake_events WHERE state = 'received' ORDER BY id", MapEvent, cancellationToken),
            cancellationToken);

    public Task<IntakeEvent?> GetAsync(long id, CancellationToken cancellationToken) =>
        _database.ReadAsync(connection => ReadEventAsync(connection, null, "id = @id", cancellationToken, ("id", id)), cancellationToken);

    public Task<IntakeEventPage> ListAsync(IntakeEventQuery query, CancellationToken cancellationToken)
    {
        var limit = Math.Clamp(query.Limit, 1, 1000);
        var where = new List<string>();
        var parameters = new List<(string, object?)>();
        if (query.Channel is { } channel)
        {
            where.Add("channel = @channel");
            parameters.Add(("channel", channel));
        }

        if (query.States is { Count: > 0 } states)
        {
            var names = new List<string>();
            for (var i = 0; i < states.Count; i++)
            {
                names.Add($"@state{i}");
                parameters.Add(($"state{i}", states[i].ToStored()));
            }

            where.Add($"state IN ({string.Join(", ", names)})");
        }

        if (query.Bucket is { } bucket)
        {
            where.Add("bucket = @bucket");
            parameters.Add(("bucket", bucket));
        }

        if (query.ObjectName is { } objectName)
        {
            where.Add("object_name = @object");
            parameters.Add(("object", objectName));
        }

        if (query.Generation is { } generation)
        {
            where.Add("generation = @generation");
            parameters.Add(("generation", generation));
        }

        if (query.BeforeId is { } beforeId)
        {
            where.Add("id < @before");
            parameters.Add(("before", beforeId));
        }

        var sql = $"SELECT {EventColumns} FROM intake_events"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + $" ORDER BY id DESC LIMIT {limit + 1}";
        return _database.ReadAsync(
            async connection =>
            {
                var rows = await connection.QueryAsync(null, sql, MapEvent, cancellationToken, parameters.ToArray());
                var more = rows.Count > limit;
                if (more)
                {
                    rows.RemoveAt(rows.Count - 1);
                }

                return new IntakeEventPage(rows, more ? rows[^1].Id : null);
            },
            cancellationToken);
    }

    /// <summary>How many events are in each state (for the overview and metrics).</summary>
    public Task<IReadOnlyDictionary<IntakeEventState, long>> CountByStateAsync(CancellationToken cancellationToken) =>
        _database.ReadAsync<IReadOnlyDictionary<IntakeEventState, long>>(
            async connection =>
            {
                var rows = await connection.QueryAsync(
                    null, "SELECT state, COUNT(*) FROM intake_events GROUP BY state",
                    r => (IntakeNames.ParseState(r.GetString(0)), r.GetInt64(1)), cancellationToken);
                var counts = Enum.GetValues<IntakeEventState>().ToDictionary(s => s, _ => 0L);
                foreach (var (state, count) in rows)
                {
                    counts[state] = count;
                }

                return counts;
            },
            cancellationToken);

    /// <summary>The objects of a channel as intake last took them in (for a reconciling scan).</summary>
    public Task<List<BucketObject>> ListKnownObjectsAsync(string channel, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            connection => connection.QueryAsync(
                null,
                "SELECT bucket, object_name, generation, size, updated_at FROM intake_objects WHERE channel = @channel ORDER BY object_name",
                r => new BucketObject(r.GetString(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3), DbTime.FromUnixMs(r.GetInt64(4))),
                cancellationToken,
                ("channel", channel)),
            cancellationToken);

    /// <summary>Whether a finalized version newer than <paramref name="generation"/> of the object was taken in.</summary>
    public Task<long?> FindNewerGenerationAsync(string bucket, string objectName, long generation, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            async connection =>
            {
                await using var command = connection.CreateCommand(
                    """
                    SELECT MAX(generation) FROM intake_events
                    WHERE bucket = @bucket AND object_name = @object AND change = 'finalized' AND generation > @generation
                    """,
                    null,
                    ("bucket", bucket), ("object", objectName), ("generation", generation));
                var value = await command.ExecuteScalarAsync(cancellationToken);
                return value is null or DBNull ? (long?)null : Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
            },
            cancellationToken);

    /// <summary>The targets a deletion event's object declared before it was deleted.</summary>
    public Task<List<string>> GetPreviousTargetsAsync(long eventId, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            async connection =>
            {
                await using var command = connection.CreateCommand("SELECT previous_targets FROM intake_events WHERE id = @id", null, ("id", eventId));
                var value = await command.ExecuteScalarAsync(cancellationToken);
                return value is string json ? JsonSerializer.Deserialize<List<string>>(json, Json) ?? [] : [];
            },
            cancellationToken);

    /// <summary>
    /// What the object declares now (<c>schedule:DAG_ID</c>…), when <paramref name="generation"/> is still its
    /// current version; null when a newer version or a deletion is already known.
    /// </summary>
    public Task<List<string>?> GetCurrentTargetsAsync(string bucket, string objectName, long generation, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            async connection =>
            {
                if (!await IsCurrentAsync(connection, null, bucket, objectName, generation, cancellationToken))
                {
                    return null;
                }

                return (List<string>?)await connection.QueryAsync(
                    null,
                    "SELECT target FROM intake_object_targets WHERE bucket = @bucket AND object_name = @object ORDER BY target",
                    r => r.GetString(0),
                    cancellationToken,
                    ("bucket", bucket), ("object", objectName));
            },
            cancellationToken);

    /// <summary>
    /// Records what the dispatched version of an object declares, if that version is still the object's current
    /// one; false when it is not (a newer version will record its own).
    /// </summary>
    public Task<bool> ReplaceTargetsAsync(
        string bucket, string objectName, long generation, IReadOnlyCollection<string> targets, CancellationToken cancellationToken) =>
        _database.WriteAsync(
            async (connection, transaction) =>
            {
                if (!await IsCurrentAsync(connection, transaction, bucket, objectName, generation, cancellationToken))
                {
                    return false;
                }

                await connection.ExecuteAsync(
                    transaction, "DELETE FROM intake_object_targets WHERE bucket = @bucket AND object_name = @object", cancellationToken,
                    ("bucket", bucket), ("object", objectName));
                foreach (var target in targets.Distinct(StringComparer.Ordinal))
                {
                    await connection.ExecuteAsync(
                        transaction,
                        "INSERT INTO intake_object_targets (bucket, object_name, target) VALUES (@bucket, @object, @target)",
                        cancellationToken,
                        ("bucket", bucket), ("object", objectName), ("target", target));
                }

                return true;
            },
            cancellationToken);

    private static async Task<bool> IsCurrentAsync(
        DbConnection connection, DbTransaction? transaction, string bucket, string objectName, long generation, CancellationToken cancellationToken)
    {
        await using var current = connection.CreateCommand(
            "SELECT generation FROM intake_objects WHERE bucket = @bucket AND object_name = @object", transaction,
            ("bucket", bucket), ("object", objectName));
        var value = await current.ExecuteScalarAsync(cancellationToken);
        return value is not null and not DBNull && Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) == generation;
    }

    /// <summary>Whether any known object other than the given one declares <paramref name="target"/>.</summary>
    public Task<bool> IsDeclaredElsewhereAsync(string target, string bucket, string objectName, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            async connection =>
            {
                await using var command = connection.CreateCommand(
                    """
                    SELECT COUNT(*) FROM intake_object_targets
                    WHERE target = @target AND NOT (bucket = @bucket AND object_name = @object)
                    """,
                    null,
                    ("target", target), ("bucket", bucket), ("object", objectName));
                var value = await command.ExecuteScalarAsync(cancellationToken);
                return Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture) > 0;
            },
            cancellationToken);

    /// <summary>Records a run triggered through the Airflow API; false when the dag_run_id or logical date is taken.</summary>
    public Task<bool> TryInsertDagRunAsync(DagRunRecord run, CancellationToken cancellationToken) =>
        _database.WriteAsync(
            async (connection, transaction) =>
            {
                await using var command = connection.CreateCommand(
                    """
                    INSERT INTO intake_dag_runs (dag_id, dag_run_id, logical_date, conf, run_id, bucket, object_name, generation, created_at)
                    VALUES (@dag, @runName, @logical, @conf, @run, @bucket, @object, @generation, @now)
                    ON CONFLICT DO NOTHING
                    RETURNING dag_run_id
                    """,
                    transaction,
                    ("dag", run.DagId), ("runName", run.DagRunId), ("logical", DbTime.ToUnixMs(run.LogicalDate)), ("conf", run.ConfJson),
                    ("run", run.RunId), ("bucket", run.Bucket), ("object", run.ObjectName), ("generation", run.Generation),
                    ("now", DbTime.ToUnixMs(run.CreatedAt)));
                var value = await command.ExecuteScalarAsync(cancellationToken);
                return value is not null and not DBNull;
            },
            cancellationToken);

    public Task SetDagRunRunIdAsync(string dagId, string dagRunId, long runId, CancellationToken cancellationToken) =>
        _database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(
                transaction,
                "UPDATE intake_dag_runs SET run_id = @run WHERE dag_id = @dag AND dag_run_id = @runName",
                cancellationToken,
                ("run", runId), ("dag", dagId), ("runName", dagRunId)),
            cancellationToken);

    public Task<DagRunRecord?> GetDagRunAsync(string dagId, string dagRunId, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            async connection => (await connection.QueryAsync(
                null, $"{DagRunSelect} WHERE dag_id = @dag AND dag_run_id = @runName", MapDagRun, cancellationToken,
                ("dag", dagId), ("runName", dagRunId))).FirstOrDefault(),
            cancellationToken);

    /// <summary>Whether a run of the DAG has this logical date already (Airflow refuses a second one).</summary>
    public Task<DagRunRecord?> FindDagRunByLogicalDateAsync(string dagId, DateTimeOffset logicalDate, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            async connection => (await connection.QueryAsync(
                null, $"{DagRunSelect} WHERE dag_id = @dag AND logical_date = @logical", MapDagRun, cancellationToken,
                ("dag", dagId), ("logical", DbTime.ToUnixMs(logicalDate)))).FirstOrDefault(),
            cancellationToken);

    /// <summary>Runs triggered through the Airflow API for one DAG (all DAGs when null), oldest first.</summary>
    public Task<List<DagRunRecord>> ListDagRunsAsync(string? dagId, CancellationToken cancellationToken) =>
        _database.ReadAsync(
            connection => dagId is null
                ? connection.QueryAsync(null, $"{DagRunSelect} ORDER BY created_at, dag_run_id", MapDagRun, cancellationToken)
                : connection.QueryAsync(
                    null, $"{DagRunSelect} WHERE dag_id = @dag ORDER BY created_at, dag_run_id", MapDagRun, cancellationToken, ("dag", dagId)),
            cancellationToken);

    private const string DagRunSelect =
        "SELECT dag_id, dag_run_id, logical_date, conf, run_id, bucket, object_name, generation, created_at FROM intake_dag_runs";

    private static DagRunRecord MapDagRun(DbDataReader r) => new(
        r.GetString(0),
        r.GetString(1),
        DbTime.FromUnixMs(r.GetInt64(2)),
        r.GetNullableString(3),
        r.GetNullableInt64(4),
        r.GetNullableString(5),
        r.GetNullableString(6),
        r.GetNullableInt64(7),
        DbTime.FromUnixMs(r.GetInt64(8)));

    private static async Task<IntakeEvent?> ReadEventAsync(
        DbConnection connection, DbTransaction? transaction, string where, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters)
    {
        var rows = await connection.QueryAsync(
            transaction, $"SELECT {EventColumns} FROM intake_events WHERE {where}", MapEvent, cancellationToken, parameters);
        return rows.FirstOrDefault();
    }

    private static IntakeEvent MapEvent(DbDataReader r) => new()
    {
        Id = r.GetInt64(0),
        Channel = r.GetString(1),
        Bucket = r.GetString(2),
        ObjectName = r.GetString(3),
        Generation = r.GetInt64(4),
        Change = IntakeNames.ParseChange(r.GetString(5)),
        Source = r.GetString(6),
        State = IntakeNames.ParseState(r.GetString(7)),
        Reason = r.GetNullableString(8),
        Dispatches = r.GetNullableString(9) is { } json
            ? JsonSerializer.Deserialize<List<IntakeDispatch>>(json, Json) ?? []
            : [],
        Size = r.GetNullableInt64(10),
        ObjectUpdatedAt = DbTime.FromUnixMs(r.GetNullableInt64(11)),
        ObservedAt = DbTime.FromUnixMs(r.GetNullableInt64(12)),
        ReceivedAt = DbTime.FromUnixMs(r.GetInt64(13)),
        FinishedAt = DbTime.FromUnixMs(r.GetNullableInt64(14)),
        Attempts = r.GetInt32(15),
        Problems = r.GetNullableString(16) is { } problems
            ? JsonSerializer.Deserialize<List<ManifestProblem>>(problems, Json) ?? []
            : [],
    };
}
