using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;
using Sluice.Manifests.Scheduling;
using Sluice.Manifests.Values;

namespace Sluice.Controller.Schedules;

/// <summary>
/// The schedule registry: register, pause, unschedule, backfill and trigger schedules, and read them with their slots.
/// Every change is stored first and then applied to the in-memory scheduler at once.
/// </summary>
public sealed partial class ScheduleService
{
    private readonly ScheduleStore store;
    private readonly WorkflowEngine engine;
    private readonly SlotScheduler scheduler;
    private readonly IDataflowClients clients;
    private readonly ScheduleOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;

    public ScheduleService(
        IDatabase database,
        WorkflowEngine engine,
        SlotScheduler scheduler,
        IDataflowClients clients,
        ScheduleOptions options,
        TimeProvider time,
        ILogger<ScheduleService>? logger = null)
    {
        store = new ScheduleStore(database);
        this.engine = engine;
        this.scheduler = scheduler;
        this.clients = clients;
        this.options = options;
        this.time = time;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>
    /// Registers a schedule, or updates the one with the same dag id, at once. A changed spec applies to every slot that
    /// has not started yet; the slots already claimed keep their place. Registering the same spec again changes nothing.
    /// </summary>
    public async Task<ScheduleRegistration> RegisterAsync(ScheduleManifest manifest, string source, CancellationToken cancellationToken)
    {
        var spec = manifest.Spec;
        var expression = Check(spec);
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var (row, change) = await store.UpsertAsync(spec, manifest.Metadata.Name, source, cancellationToken);
        if (change != ScheduleChange.Unchanged)
        {
            scheduler.Apply(row);
            LogRegistered(logger, spec.DagId, change, source);
        }

        var next = SlotScheduler.NextSlot(expression, row.CursorAt);
        return new ScheduleRegistration(spec.DagId, change, row.Paused, next is null ? null : new SlotTime(next.LogicalDate, next.DueAt));
    }

    /// <summary>
    /// Removes a schedule: no new slot starts. Runs in flight finish, or with <paramref name="cancelRunning"/> are cancelled
    /// together with their Dataflow jobs. False when no such schedule is registered.
    /// </summary>
    public async Task<bool> UnscheduleAsync(string dagId, bool cancelRunning, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var row = await store.MarkDeletedAsync(dagId, cancellationToken);
        if (row is null)
        {
            return false;
        }

        scheduler.Apply(row);
        LogUnscheduled(logger, dagId, cancelRunning);
        if (cancelRunning)
        {
            await CancelActiveSlotsAsync(dagId, "the schedule was unscheduled with cancelRunning", cancellationToken);
        }

        return true;
    }

    /// <summary>Stops new slots from starting; running slots finish. False when no such schedule is registered.</summary>
    public Task<bool> PauseAsync(string dagId, CancellationToken cancellationToken) => SetPausedAsync(dagId, true, cancellationToken);

    /// <summary>Lets slots start again: with catch-up the slots missed while paused run, without it only the latest.</summary>
    public Task<bool> UnpauseAsync(string dagId, CancellationToken cancellationToken) => SetPausedAsync(dagId, false, cancellationToken);

    /// <summary>
    /// Runs the slots whose logical dates fall in [from, to] and are already due, with the backfill's own concurrency
    /// limit. With <see cref="BackfillRequest.DryRun"/> only the plan is returned.
    /// </summary>
    public async Task<BackfillPlan> BackfillAsync(BackfillRequest request, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var row = await store.GetScheduleAsync(request.DagId, cancellationToken);
        if (row is null || row.Deleted)
        {
            throw new ScheduleNotFoundException(request.DagId);
        }

        if (request.From > request.To)
        {
            throw new ScheduleException($"The backfill's start {DateValues.Format(request.From)} is after its end {DateValues.Format(request.To)}; swap them.");
        }

        var maxActive = request.MaxActiveRuns ?? options.BackfillMaxActiveRuns;
        if (maxActive < 1)
        {
            throw new ScheduleException($"A backfill needs at least one active run at a time (got {maxActive}).");
        }

        var now = time.GetUtcNow();
        var expression = row.Spec.GetExpression();
        var slots = expression.GetSlots(request.From, request.To, options.BackfillMaxSlots + 1).Where(s => s.DueAt <= now).ToList();
        if (slots.Count > options.BackfillMaxSlots)
        {
            throw new ScheduleException(
                $"The backfill covers more than {options.BackfillMaxSlots} slots of '{request.DagId}'; split it into smaller date ranges.");
        }

        var nowMs = now.ToUnixTimeMilliseconds();
        var fromMs = DbTime.ToUnixMs(request.From);
        var toMs = DbTime.ToUnixMs(request.To);
        var existing = await store.Database.ReadAsync(
            connection => ScheduleStore.ListSlotsInRangeAsync(connection, null, request.DagId, fromMs, toMs, cancellationToken), cancellationToken);
        var plan = Plan(slots, existing, request.Reprocess);
        if (request.DryRun || plan.All(p => p.Action == BackfillAction.Skip))
        {
            return new BackfillPlan { DagId = request.DagId, DryRun = request.DryRun, MaxActiveRuns = maxActive, Slots = plan };
        }

        var spec = row.Spec;
        var backfillId = await store.Database.WriteAsync(
            async (connection, transaction) =>
            {
                var id = await ScheduleStore.InsertBackfillAsync(
                    connection, transaction,
                    new BackfillRow(0, request.DagId, fromMs, toMs, request.Reprocess.ToStored(), maxActive, plan.Count(p => p.Action != BackfillAction.Skip), null, nowMs),
                    cancellationToken);
                foreach (var (slot, item) in slots.Zip(plan))
                {
                    var slotRow = SlotRow.For(request.DagId, spec, slot, SlotTrigger.Backfill, SlotState.Pending, nowMs) with { BackfillId = id };
                    if (item.Action == BackfillAction.Run)
                    {
                        await ScheduleStore.TryInsertSlotAsync(connection, transaction, slotRow, cancellationToken);
                    }
                    else if (item.Action == BackfillAction.Rerun)
                    {
                        await connection.ExecuteAsync(
                            transaction,
                            "UPDATE schedule_slots SET state = 'pending', run_trigger = 'backfill', generation = generation + 1, backfill_id = @backfill, " +
                            "run_id = NULL, attempts = 0, job_id = NULL, job_name = NULL, job_state = NULL, reason = NULL, conf_json = NULL, " +
                            "claimed_at = @now, started_at = NULL, finished_at = NULL, updated_at = @now " +
                            "WHERE dag_id = @dag AND logical_date = @logical AND state IN ('succeeded', 'failed', 'cancelled')",
                            cancellationToken,
                            ("backfill", id), ("now", nowMs), ("dag", request.DagId), ("logical", slotRow.LogicalDate));
                    }
                }

                return id;
            },
            cancellationToken);
        var runId = await StartBackfillRunAsync(backfillId, request.DagId, maxActive, cancellationToken);
        LogBackfill(logger, backfillId, request.DagId, plan.Count(p => p.Action != BackfillAction.Skip));
        return new BackfillPlan { DagId = request.DagId, DryRun = false, BackfillId = backfillId, RunId = runId, MaxActiveRuns = maxActive, Slots = plan };
    }

    /// <summary>
    /// Starts a run for one slot now (Airflow's "trigger DAG"): the scheduled slot at <paramref name="logicalDate"/> (now
    /// when null), or the latest whole interval before it when that date is not on the schedule. A slot that already has
    /// a run is not started again (<see cref="TriggerResult.Created"/> is false).
    /// </summary>
    public async Task<TriggerResult> TriggerAsync(string dagId, DateTimeOffset? logicalDate, JsonElement? conf, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var row = await store.GetScheduleAsync(dagId, cancellationToken);
        if (row is null || row.Deleted)
        {
            throw new ScheduleNotFoundException(dagId);
        }

        var spec = row.Spec;
        var slot = spec.GetExpression().GetManualSlot(logicalDate ?? time.GetUtcNow());
        var slotRow = SlotRow.For(dagId, spec, slot, SlotTrigger.Manual, SlotState.Queued, time.GetUtcNow().ToUnixTimeMilliseconds()) with
        {
            ConfJson = conf is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } c ? c.GetRawText() : null,
        };
        var (created, existing) = await store.Database.WriteAsync(
            async (connection, transaction) =>
            {
                if (await ScheduleStore.TryInsertSlotAsync(connection, transaction, slotRow, cancellationToken))
                {
                    return (true, (SlotRow?)null);
                }

                return (false, await ScheduleStore.GetSlotAsync(connection, transaction, dagId, slotRow.LogicalDate, cancellationToken));
            },
            cancellationToken);
        if (!created)
        {
            return new TriggerResult(dagId, slot.LogicalDate, existing?.RunId, false, existing?.State ?? SlotState.Queued);
        }

        var start = await engine.StartRunAsync(SlotRuns.RequestFor(slotRow), cancellationToken);
        await store.SetRunIdsAsync([(dagId, slotRow.LogicalDate, 0, start.RunId)], cancellationToken);
        LogTriggered(logger, dagId, slot.LogicalDate, start.RunId);
        return new TriggerResult(dagId, slot.LogicalDate, start.RunId, true, SlotState.Queued);
    }

    /// <summary>Every registered schedule with its next slot, last run and active runs, by dag id.</summary>
    public async Task<IReadOnlyList<ScheduleInfo>> ListAsync(CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var rows = await store.ListSchedulesAsync(includeDeleted: false, cancellationToken);
        var summaries = await store.SummarizeSlotsAsync(null, cancellationToken);
        return rows.Select(r => ToInfo(r, summaries.GetValueOrDefault(r.DagId) ?? new SlotSummary())).ToList();
    }

    /// <summary>One schedule, or null when no such schedule is registered (or it was unscheduled, unless asked for).</summary>
    public async Task<ScheduleInfo?> GetAsync(string dagId, CancellationToken cancellationToken, bool includeUnscheduled = false)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var row = await store.GetScheduleAsync(dagId, cancellationToken);
        if (row is null || (row.Deleted && !includeUnscheduled))
        {
            return null;
        }

        var summaries = await store.SummarizeSlotsAsync(dagId, cancellationToken);
        return ToInfo(row, summaries.GetValueOrDefault(dagId) ?? new SlotSummary());
    }

    /// <summary>Slots of a schedule that have (or had) a run, newest first; also readable after unschedule.</summary>
    public async Task<IReadOnlyList<SlotRunInfo>> ListSlotsAsync(
        string dagId, int limit, DateTimeOffset? before, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var rows = await store.ListSlotsAsync(dagId, Math.Clamp(limit, 1, 1000), before is { } b ? DbTime.ToUnixMs(b) : null, cancellationToken);
        return rows.Select(r => r.ToInfo()).ToList();
    }

    /// <summary>One slot by its logical date, or null.</summary>
    public async Task<SlotRunInfo?> GetSlotAsync(string dagId, DateTimeOffset logicalDate, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        return (await store.GetSlotAsync(dagId, DbTime.ToUnixMs(logicalDate), cancellationToken))?.ToInfo();
    }

    /// <summary>
    /// Reads a date or date-time the way manifests do (<c>2026-11-01</c>, <c>2026-11-01T06:00</c>, with or without an
    /// offset), in the schedule's time zone when it has none.
    /// </summary>
    public async Task<DateTimeOffset> ParseDateAsync(string dagId, string text, CancellationToken cancellationToken)
    {
        var row = await store.GetScheduleAsync(dagId, cancellationToken);
        if (row is null || row.Deleted)
        {
            throw new ScheduleNotFoundException(dagId);
        }

        var zone = row.Spec.GetTimeZone();
        return DateValues.TryParse(text, zone, out var value, out var error)
            ? value
            : throw new ScheduleException($"'{text}' is not a date: {error}");
    }

    /// <summary>Backfills whose run was never created (a crash right after the request): start them.</summary>
    public async Task RepairBackfillsAsync(CancellationToken cancellationToken)
    {
        var stale = await store.ListUnstartedBackfillsAsync(
            time.GetUtcNow().ToUnixTimeMilliseconds() - (long)options.ClaimRepairAge.TotalMilliseconds, cancellationToken);
        foreach (var backfill in stale)
        {
            await StartBackfillRunAsync(backfill.Id, backfill.DagId, backfill.MaxActive, cancellationToken);
        }
    }

    private async Task<long> StartBackfillRunAsync(long backfillId, string dagId, int maxActive, CancellationToken cancellationToken)
    {
        var start = await engine.StartRunAsync(
            new RunRequest(
                SlotRuns.BackfillRunKind,
                $"{dagId} backfill {backfillId}",
                [new StepRequest("dispatch", BackfillStep.StepKind, Retry: new Engine.RetryPolicy { MaxAttempts = 20, MaxDelay = TimeSpan.FromMinutes(1) })],
                InputJson: EngineJson.Serialize(new BackfillStep.BackfillInput(backfillId, dagId, maxActive)),
                IdempotencyKey: "backfill:" + backfillId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Labels: new Dictionary<string, string>(StringComparer.Ordinal) { [SlotRuns.DagLabel] = dagId }),
            cancellationToken);
        await store.SetBackfillRunAsync(backfillId, start.RunId, cancellationToken);
        return start.RunId;
    }

    private static List<BackfillSlot> Plan(List<Slot> slots, IReadOnlyList<SlotRow> existing, ReprocessMode reprocess)
    {
        var byDate = existing.ToDictionary(s => s.LogicalDate);
        var plan = new List<BackfillSlot>(slots.Count);
        foreach (var slot in slots)
        {
            if (!byDate.TryGetValue(DbTime.ToUnixMs(slot.LogicalDate), out var row))
            {
                plan.Add(new BackfillSlot(slot.LogicalDate, BackfillAction.Run, null));
                continue;
            }

            var rerun = row.State switch
            {
                SlotState.Failed or SlotState.Cancelled => reprocess is ReprocessMode.Failed or ReprocessMode.All,
                SlotState.Succeeded => reprocess is ReprocessMode.All,
                _ => false,
            };
            plan.Add(new BackfillSlot(slot.LogicalDate, rerun ? BackfillAction.Rerun : BackfillAction.Skip, row.State));
        }

        return plan;
    }

    private async Task<bool> SetPausedAsync(string dagId, bool paused, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var row = await store.SetPausedAsync(dagId, paused, cancellationToken);
        if (row is null)
        {
            return false;
        }

        scheduler.Apply(row);
        LogPaused(logger, dagId, paused);
        return true;
    }

    private async Task CancelActiveSlotsAsync(string dagId, string reason, CancellationToken cancellationToken)
    {
        var spec = (await store.GetScheduleAsync(dagId, cancellationToken))?.Spec;
        var dataflow = clients.For(spec?.Project, spec?.Region);
        foreach (var slot in await store.ListActiveSlotsAsync(dagId, cancellationToken))
        {
            if (slot.RunId is { } runId)
            {
                await engine.CancelRunAsync(runId, reason, cancellationToken);
            }

            if (slot.JobId is { } jobId)
            {
                try
                {
                    await dataflow.CancelJobAsync(jobId, cancellationToken);
                }
                catch (DataflowApiException ex)
                {
                    LogCancelJobFailed(logger, jobId, dagId, ex.Message);
                }
            }

            await store.FinishSlotAsync(dagId, slot.LogicalDate, slot.Generation, SlotState.Cancelled, reason, cancellationToken);
        }
    }

    private ScheduleInfo ToInfo(ScheduleRow row, SlotSummary summary)
    {
        SlotTime? next = null;
        try
        {
            next = SlotScheduler.NextSlot(row.Spec.GetExpression(), row.CursorAt) is { } slot ? new SlotTime(slot.LogicalDate, slot.DueAt) : null;
        }
        catch (Exception ex) when (ex is FormatException or TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            LogBadSpec(logger, row.DagId, ex.Message);
        }

        return new ScheduleInfo
        {
            DagId = row.DagId,
            Name = row.Name ?? row.DagId,
            Spec = row.Spec,
            SpecJson = row.SpecJson,
            Revision = row.SpecVersion,
            Unscheduled = row.Deleted,
            Counts = summary.Counts,
            Paused = row.Paused,
            Source = row.Source,
            NextSlot = next,
            LastRun = summary.Last?.ToInfo(),
            ActiveRuns = summary.Active,
            CreatedAt = DbTime.FromUnixMs(row.CreatedAt),
            UpdatedAt = DbTime.FromUnixMs(row.UpdatedAt),
        };
    }

    private static ScheduleExpression Check(ScheduleSpec spec)
    {
        if (string.IsNullOrWhiteSpace(spec.DagId))
        {
            throw new ScheduleException("The schedule has no dagId; set spec.dagId to a name like daily_sales.");
        }

        if (spec.MaxActiveRuns < 1)
        {
            throw new ScheduleException($"Schedule '{spec.DagId}': maxActiveRuns must be at least 1 (got {spec.MaxActiveRuns}).");
        }

        try
        {
            return spec.GetExpression();
        }
        catch (Exception ex) when (ex is FormatException or TimeZoneNotFoundException or InvalidTimeZoneException or ArgumentException)
        {
            throw new ScheduleException($"Schedule '{spec.DagId}' cannot be scheduled: {ex.Message}", ex);
        }
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Schedule {DagId} {Change} (from {Source})")]
    private static partial void LogRegistered(ILogger logger, string dagId, ScheduleChange change, string source);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Information, Message = "Schedule {DagId} unscheduled (cancel running: {CancelRunning})")]
    private static partial void LogUnscheduled(ILogger logger, string dagId, bool cancelRunning);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Information, Message = "Schedule {DagId} paused: {Paused}")]
    private static partial void LogPaused(ILogger logger, string dagId, bool paused);

    [LoggerMessage(EventId = 6104, Level = LogLevel.Information, Message = "Backfill {BackfillId} of {DagId}: {Count} slots to run")]
    private static partial void LogBackfill(ILogger logger, long backfillId, string dagId, int count);

    [LoggerMessage(EventId = 6105, Level = LogLevel.Information, Message = "Triggered {DagId} for {LogicalDate}: run {RunId}")]
    private static partial void LogTriggered(ILogger logger, string dagId, DateTimeOffset logicalDate, long runId);

    [LoggerMessage(EventId = 6106, Level = LogLevel.Warning, Message = "Cancelling job {JobId} of {DagId} failed: {Reason}")]
    private static partial void LogCancelJobFailed(ILogger logger, string jobId, string dagId, string reason);

    [LoggerMessage(EventId = 6107, Level = LogLevel.Error, Message = "Schedule {DagId} has a spec that cannot be scheduled: {Reason}")]
    private static partial void LogBadSpec(ILogger logger, string dagId, string reason);
}
