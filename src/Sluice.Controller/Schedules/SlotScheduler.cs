using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Engine;
using Sluice.Manifests.Scheduling;

namespace Sluice.Controller.Schedules;

/// <summary>
/// Starts one run per slot when slots fall due. It keeps the next due time of every active schedule in memory
/// (<see cref="DueQueue"/>) and sleeps on one timer until the earliest, so idle schedules cost no work. The queue is
/// rebuilt from the store at start-up, updated at once by local changes (register, pause, unschedule, a finished run),
/// and by a cheap "what changed since revision N" query for changes made by other replicas.
/// </summary>
public sealed partial class SlotScheduler : BackgroundService
{
    private readonly ScheduleStore store;
    private readonly WorkflowEngine engine;
    private readonly ScheduleOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly IReadOnlyList<ISchedulerLagRecorder> lagRecorders;
    private readonly DueQueue queue = new();

    // When each queued schedule entered the queue with its current due time: lag counts from then for slots that were
    // already due when the scheduler learnt of them (catch-up, a restart), so that a backlog is not reported as lag.
    private readonly Dictionary<string, long> enqueuedAt = new(StringComparer.Ordinal);
    private readonly Lock enqueuedGate = new();
    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long seenRevision;
    private long nextSyncAt;

    public SlotScheduler(
        IDatabase database,
        WorkflowEngine engine,
        ScheduleOptions options,
        TimeProvider time,
        IEnumerable<ISchedulerLagRecorder>? lagRecorders = null,
        ILogger<SlotScheduler>? logger = null)
    {
        options.Validate();
        store = new ScheduleStore(database);
        this.engine = engine;
        this.options = options;
        this.time = time;
        this.lagRecorders = lagRecorders?.ToList() ?? [];
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Completes when the queue has been loaded from the store.</summary>
#pragma warning disable VSTHRD003 // a completion signal of our own, set once the queue is loaded; awaiting it cannot deadlock
    public Task Started => started.Task;
#pragma warning restore VSTHRD003

    /// <summary>Schedules in the in-memory queue (active ones with a next slot).</summary>
    public int QueuedSchedules => queue.Count;

    /// <summary>The time the scheduler will next look at this schedule, or null when it is not queued.</summary>
    public DateTimeOffset? GetQueuedDueAt(string dagId) => DbTime.FromUnixMs(queue.GetDueAt(dagId));

    /// <summary>Loads the queue from the store and repairs claims whose run was never created. Called once by the loop.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        seenRevision = await store.GetRevisionAsync(cancellationToken);
        var rows = await store.ListSchedulesAsync(includeDeleted: false, cancellationToken);
        foreach (var row in rows)
        {
            Apply(row);
        }

        await RepairAsync(time.GetUtcNow().ToUnixTimeMilliseconds() + 1, cancellationToken);
        LogLoaded(logger, rows.Count, queue.Count);
    }

    /// <summary>Takes a schedule's current row into the queue (or out of it when paused, removed or ended).</summary>
    internal void Apply(ScheduleRow row)
    {
        if (!row.IsActive)
        {
            queue.Remove(row.DagId);
            Signal();
            return;
        }

        long? due;
        try
        {
            due = NextSlot(row.Spec.GetExpression(), row.CursorAt) is { } next ? DbTime.ToUnixMs(next.DueAt) : null;
        }
        catch (Exception ex) when (ex is FormatException or TimeZoneNotFoundException or InvalidTimeZoneException or System.Text.Json.JsonException)
        {
            LogBadSpec(logger, row.DagId, ex.Message);
            due = null;
        }

        if (due is { } dueAt)
        {
            Enqueue(row.DagId, dueAt);
        }
        else
        {
            queue.Remove(row.DagId);
        }

        Signal();
    }

    /// <summary>A run of this schedule finished: look at it again now, since it may have been held back by maxActiveRuns.</summary>
    public void Wake(string dagId)
    {
        if (queue.Contains(dagId))
        {
            queue.SetEarlier(dagId, time.GetUtcNow().ToUnixTimeMilliseconds());
            Signal();
        }
    }

    /// <summary>One pass: claims and starts every slot due now. Returns the number of runs started.</summary>
    public async Task<int> DispatchDueAsync(CancellationToken cancellationToken)
    {
        // Claim everything due first, then create the runs: the claims are quick, and a burst of slots then reaches the
        // engine without each batch of claims waiting for the previous batch's runs.
        var claims = new List<Claim>();
        try
        {
            while (true)
            {
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                var due = queue.TakeDue(now, options.DispatchBatchSize);
                if (due.Count == 0)
                {
                    break;
                }

                try
                {
                    claims.AddRange(await ClaimAsync(due, cancellationToken));
                }
                catch
                {
                    // Nothing is lost: the claim transaction rolled back, and the schedules go back into the queue to be
                    // tried again.
                    foreach (var (dagId, dueAt) in due)
                    {
                        queue.SetEarlier(dagId, dueAt);
                    }

                    throw;
                }
            }
        }
        finally
        {
            // Slots claimed before a failure still get their runs now (the repair would create them later otherwise).
            if (claims.Count > 0)
            {
                await StartRunsAsync(claims, cancellationToken);
            }
        }

        return claims.Count;
    }

    /// <summary>Picks up changes made by other replicas and repairs interrupted claims. Runs every <see cref="ScheduleOptions.SyncInterval"/>.</summary>
    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var changed = await store.ListChangedSinceAsync(seenRevision, cancellationToken);
        foreach (var row in changed)
        {
            Apply(row);
            seenRevision = Math.Max(seenRevision, row.Revision);
        }

        await RepairAsync(time.GetUtcNow().ToUnixTimeMilliseconds() - (long)options.ClaimRepairAge.TotalMilliseconds, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LoadAsync(stoppingToken);
                break;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogLoopError(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }

        started.TrySetResult();
        nextSyncAt = time.GetUtcNow().ToUnixTimeMilliseconds() + (long)options.SyncInterval.TotalMilliseconds;
        while (!stoppingToken.IsCancellationRequested)
        {
            // Take a fresh wake-up source before looking at the queue, so that a change made while we look is not missed.
            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref wake, signal);
            try
            {
                await DispatchDueAsync(stoppingToken);
                var now = time.GetUtcNow().ToUnixTimeMilliseconds();
                if (now >= nextSyncAt)
                {
                    nextSyncAt = now + (long)options.SyncInterval.TotalMilliseconds;
                    await SyncAsync(stoppingToken);
                    continue;
                }

                var wakeAt = Math.Min(queue.PeekDueAt() ?? long.MaxValue, nextSyncAt);
                if (wakeAt <= now)
                {
                    continue;
                }

                await SleepAsync(TimeSpan.FromMilliseconds(Math.Min(wakeAt - now, TimeSpan.FromHours(1).TotalMilliseconds)), signal.Task, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogLoopError(logger, ex);
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }
        }
    }

    /// <summary>The first slot after the cursor (the first slot of the schedule when none was claimed yet).</summary>
    internal static Slot? NextSlot(ScheduleExpression expression, long? cursorAt) =>
        cursorAt is { } cursor
            ? expression.GetSlots(DbTime.FromUnixMs(cursor + 1), DateTimeOffset.MaxValue, 1) is [var first, ..] ? first : null
            : expression.GetFirstSlot();

    private async Task SleepAsync(TimeSpan delay, Task signal, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sleep = Task.Delay(delay, time, timer.Token);
#pragma warning disable VSTHRD003 // the signal is a TaskCompletionSource of this loop, completed by Signal(); nothing runs on it
        await Task.WhenAny(sleep, signal);
#pragma warning restore VSTHRD003
        await timer.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    private void Signal() => Volatile.Read(ref wake).TrySetResult();

    private void Enqueue(string dagId, long dueAt)
    {
        queue.Set(dagId, dueAt);
        lock (enqueuedGate)
        {
            enqueuedAt[dagId] = time.GetUtcNow().ToUnixTimeMilliseconds();
        }
    }

    private long TakeEnqueuedAt(string dagId)
    {
        lock (enqueuedGate)
        {
            return enqueuedAt.Remove(dagId, out var at) ? at : long.MinValue;
        }
    }

    private sealed record Claim(SlotRow Slot, long LagFrom);

    private async Task<List<Claim>> ClaimAsync(List<(string DagId, long DueAt)> due, CancellationToken cancellationToken)
    {
        var dagIds = due.Select(d => d.DagId).ToList();
        var lagFrom = dagIds.ToDictionary(d => d, TakeEnqueuedAt, StringComparer.Ordinal);
        var now = time.GetUtcNow();
        var nowMs = now.ToUnixTimeMilliseconds();
        var syncMs = (long)options.SyncInterval.TotalMilliseconds;
        var (claims, next) = await store.Database.WriteAsync(
            async (connection, transaction) =>
            {
                // Fresh lists on every attempt: the store re-runs the whole work after a transient conflict.
                var claimed = new List<Claim>();
                var nextDue = new List<(string DagId, long? DueAt)>();
                var rows = await store.LockSchedulesAsync(connection, transaction, dagIds, cancellationToken);
                foreach (var row in rows)
                {
                    if (!row.IsActive)
                    {
                        nextDue.Add((row.DagId, null));
                        continue;
                    }

                    ScheduleExpression expression;
                    try
                    {
                        expression = row.Spec.GetExpression();
                    }
                    catch (Exception ex) when (ex is FormatException or TimeZoneNotFoundException or InvalidTimeZoneException or System.Text.Json.JsonException)
                    {
                        LogBadSpec(logger, row.DagId, ex.Message);
                        nextDue.Add((row.DagId, null));
                        continue;
                    }

                    var spec = row.Spec;
                    var active = await ScheduleStore.CountActiveScheduledAsync(connection, transaction, row.DagId, cancellationToken);
                    var capacity = Math.Max(0, spec.MaxActiveRuns - active);
                    var cursor = row.CursorAt is { } c ? DbTime.FromUnixMs(c) : (DateTimeOffset?)null;
                    var dueSlots = expression.GetDueSlots(cursor, now, spec.Catchup, Math.Max(capacity, 1));
                    var cursorAt = row.CursorAt;
                    foreach (var slot in dueSlots.Take(capacity))
                    {
                        var slotRow = SlotRow.For(row.DagId, spec, slot, SlotTrigger.Scheduled, SlotState.Queued, nowMs);
                        if (await ScheduleStore.TryInsertSlotAsync(connection, transaction, slotRow, cancellationToken))
                        {
                            claimed.Add(new Claim(slotRow, Math.Max(slotRow.DueAt, lagFrom.GetValueOrDefault(row.DagId, long.MinValue))));
                        }

                        cursorAt = slotRow.LogicalDate;
                    }

                    if (cursorAt != row.CursorAt)
                    {
                        await ScheduleStore.AdvanceCursorAsync(connection, transaction, row.DagId, cursorAt!.Value, cancellationToken);
                    }

                    // Held back by maxActiveRuns: a finished run wakes the schedule; the sync interval is the safety net
                    // (a run that finished on another replica).
                    var blocked = dueSlots.Count > capacity;
                    nextDue.Add((row.DagId, blocked ? nowMs + syncMs : NextSlot(expression, cursorAt) is { } n ? DbTime.ToUnixMs(n.DueAt) : null));
                }

                return (claimed, nextDue);
            },
            cancellationToken);

        foreach (var (dagId, dueAt) in next)
        {
            if (dueAt is { } at)
            {
                // Keep an earlier wake-up that arrived while we claimed (a run finished meanwhile).
                if (!queue.Contains(dagId))
                {
                    Enqueue(dagId, at);
                }
                else
                {
                    queue.SetEarlier(dagId, at);
                }
            }
        }

        return claims;
    }

    private async Task<int> StartRunsAsync(IReadOnlyList<Claim> claims, CancellationToken cancellationToken)
    {
        if (claims.Count == 0)
        {
            return 0;
        }

        // One engine transaction per chunk: a burst of a thousand slots costs a handful of commits, not a thousand, and
        // the engine starts on the first chunk while the next is stored.
        var runs = new (string DagId, long LogicalDate, int Generation, long RunId)[claims.Count];
        var chunks = Enumerable.Range(0, (claims.Count + options.StartBatchSize - 1) / options.StartBatchSize).ToList();
        await Parallel.ForEachAsync(
            chunks,
            new ParallelOptions { MaxDegreeOfParallelism = options.StartParallelism, CancellationToken = cancellationToken },
            async (chunk, ct) =>
            {
                var first = chunk * options.StartBatchSize;
                var count = Math.Min(options.StartBatchSize, claims.Count - first);
                var starts = await engine.StartRunsAsync(
                    Enumerable.Range(first, count).Select(i => SlotRuns.RequestFor(claims[i].Slot)).ToList(), ct);
                var nowMs = time.GetUtcNow().ToUnixTimeMilliseconds();
                for (var k = 0; k < count; k++)
                {
                    var claim = claims[first + k];
                    runs[first + k] = (claim.Slot.DagId, claim.Slot.LogicalDate, claim.Slot.Generation, starts[k].RunId);
                    var lag = TimeSpan.FromMilliseconds(Math.Max(0, nowMs - claim.LagFrom));
                    foreach (var recorder in lagRecorders)
                    {
                        recorder.RecordSchedulerLag(lag);
                    }
                }
            });
        await store.SetRunIdsAsync(runs, cancellationToken);
        LogStarted(logger, claims.Count);
        return claims.Count;
    }

    /// <summary>Claimed slots whose run was never created (a crash between the claim and the start): start them now.</summary>
    private async Task RepairAsync(long claimedBefore, CancellationToken cancellationToken)
    {
        var stale = await store.ListUnstartedClaimsAsync(claimedBefore, cancellationToken);
        if (stale.Count > 0)
        {
            LogRepairing(logger, stale.Count);
            await StartRunsAsync(stale.Select(s => new Claim(s, long.MaxValue)).ToList(), cancellationToken);
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Scheduler loaded {Schedules} schedules; {Queued} are waiting for a slot")]
    private static partial void LogLoaded(ILogger logger, int schedules, int queued);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "Started {Count} slot runs")]
    private static partial void LogStarted(ILogger logger, int count);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Starting {Count} claimed slots whose run was never created")]
    private static partial void LogRepairing(ILogger logger, int count);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Error, Message = "Schedule {DagId} has a spec that cannot be scheduled: {Reason}")]
    private static partial void LogBadSpec(ILogger logger, string dagId, string reason);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Error, Message = "Scheduler pass failed; trying again in a second")]
    private static partial void LogLoopError(ILogger logger, Exception exception);
}
