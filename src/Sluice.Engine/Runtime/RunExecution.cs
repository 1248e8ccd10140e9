using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Sluice.Engine;

/// <summary>
/// One claimed run, processed by this replica while it holds the lease: steps are executed as they become ready,
/// every transition is written (conditionally, with a lease touch) before the in-memory copy changes, and the lease is
/// released with the time the run is due next.
/// </summary>
internal sealed class RunExecution : IDisposable
{
    private readonly WorkflowEngine engine;
    private readonly RunStore store;
    private readonly CancellationTokenSource abort;
    private StepRow[] steps = [];
    private int abortReason;

    // Steps this execution started that had never been started before: their first call cannot find effects of an
    // earlier call, so it need not look them up.
    private readonly HashSet<int> firstStarts = [];

    // Outputs of finished steps, deserialized once per execution (they never change once a step succeeded).
    private readonly Dictionary<(string Step, Type Type), object?> outputs = [];

    public RunExecution(WorkflowEngine engine, RunStore store, RunRow run, CancellationToken stopping)
    {
        this.engine = engine;
        this.store = store;
        Run = run;
        abort = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Stopping = stopping;
    }

    private enum AbortReason
    {
        None,
        LeaseLost,
        CancelRequested,
    }

    public RunRow Run { get; }

    public IDatabase Database => store.Database;

    public CancellationToken Stopping { get; }

    private string Owner => engine.Options.ReplicaId;

    private bool LeaseLost => Volatile.Read(ref abortReason) == (int)AbortReason.LeaseLost;

    private bool CancelRequested => Run.CancelRequestedAt is not null || Volatile.Read(ref abortReason) == (int)AbortReason.CancelRequested;

    public void Dispose() => abort.Dispose();

    /// <summary>Stops handlers of this run: another replica owns it now.</summary>
    public void MarkLeaseLost()
    {
        Interlocked.Exchange(ref abortReason, (int)AbortReason.LeaseLost);
        TryCancel();
    }

    /// <summary>Stops handlers of this run so that the run can be cancelled.</summary>
    public void RequestCancel(string reason)
    {
        Run.CancelReason ??= reason;
        Interlocked.CompareExchange(ref abortReason, (int)AbortReason.CancelRequested, (int)AbortReason.None);
        TryCancel();
    }

    /// <summary>Renews the lease (the heartbeat); learns about cancel requests from other processes.</summary>
    public async Task RenewAsync()
    {
        try
        {
            await WriteAsync((_, _, _) => Task.FromResult(0));
        }
        catch (LeaseLostException)
        {
            MarkLeaseLost();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Without the store we cannot prove the lease is ours; past its expiry another replica may own the run.
            if (Run.LeaseExpiresAt is { } expires && Database.NowMs() >= expires)
            {
                MarkLeaseLost();
            }

            engine.Logger.LogWarning(ex, "Could not renew the lease of run {RunId}", Run.Id);
        }
    }

    /// <summary>A finished step's output as <typeparamref name="T"/>, deserialized once per execution.</summary>
    public T? GetOutput<T>(string stepName)
    {
        var step = Array.Find(steps, s => s.Name == stepName);
        if (step?.OutputJson is not { } json)
        {
            return default;
        }

        if (step.Status != StepStatus.Succeeded)
        {
            return JsonSerializer.Deserialize<T>(json, EngineJson.Options);
        }

        lock (outputs)
        {
            if (outputs.TryGetValue((stepName, typeof(T)), out var cached))
            {
                return (T?)cached;
            }
        }

        var value = JsonSerializer.Deserialize<T>(json, EngineJson.Options);
        lock (outputs)
        {
            outputs[(stepName, typeof(T))] = value;
        }

        return value;
    }

    public async Task LogAsync(string stepName, int attempt, string message, CancellationToken cancellationToken)
    {
        await store.AppendLogAsync(Run.Id, stepName, attempt, message, cancellationToken);
        engine.RunChanged(Run.Id);
    }

    public async Task RunAsync()
    {
        try
        {
            steps = [.. Run.Steps ?? await Database.ReadAsync(c => RunStore.LoadStepsAsync(c, null, Run.Id, CancellationToken.None), CancellationToken.None)];
            Run.Steps = null;
            while (true)
            {
                if (Run.Status.IsFinished())
                {
                    await NotifyObserversAsync();
                    return;
                }

                if (LeaseLost)
                {
                    throw new LeaseLostException($"Run {Run.Id} was taken over.");
                }

                Stopping.ThrowIfCancellationRequested();
                var now = Database.NowMs();
                if (CancelRequested)
                {
                    var reason = Run.CancelReason ?? "cancelled";
                    await FinishAsync(RunStatus.Cancelled, reason, "run cancelled: " + reason);
                    continue;
                }

                if (Run.Status == RunStatus.Queued)
                {
                    if (!await TryStartAsync())
                    {
                        return;
                    }

                    continue;
                }

                if (Run.DeadlineAt is { } runDeadline && runDeadline <= now)
                {
                    var reason = $"the run timed out after {Format(Run.TimeoutMs)}";
                    await FinishAsync(RunStatus.Failed, reason, reason);
                    continue;
                }

                var timedOut = Array.Find(steps, s => !s.Status.IsFinished() && s.DeadlineAt is { } d && d <= now);
                if (timedOut is not null)
                {
                    await SaveOutcomeAsync(timedOut, timedOut.Status, StepOutcome.Failed($"the step timed out after {Format(timedOut.TimeoutMs)}"), timedOut.DataJson, timedOut.Attempt);
                    continue;
                }

                var failed = Array.Find(steps, s => s.Status == StepStatus.Failed);
                if (failed is not null)
                {
                    await FinishAsync(RunStatus.Failed, $"step '{failed.Name}' failed: {failed.Reason}", $"step '{failed.Name}' failed");
                    continue;
                }

                if (Array.TrueForAll(steps, s => s.Status.IsFinished()))
                {
                    await FinishAsync(RunStatus.Succeeded, null, "");
                    continue;
                }

                var ready = steps
                    .Where(s => !s.Status.IsFinished() && DependenciesDone(s) && (s.Status == StepStatus.Running || s.DueAt is null || s.DueAt <= now))
                    .ToList();
                if (ready.Count == 0)
                {
                    var next = NextDueAt(now);
                    await store.ReleaseAsync(Run.Id, Owner, next, CancellationToken.None);
                    engine.NoteDue(next);
                    return;
                }

                if (ready.Count == 1)
                {
                    // One step at a time: each completion may start the next step in the same transaction. The claim
                    // may have started a fresh run's first step already.
                    var startedByClaim = Run.ClaimStartedStep == ready[0].Position && ready[0].Status == StepStatus.Running;
                    Run.ClaimStartedStep = null;
                    if (startedByClaim)
                    {
                        firstStarts.Add(ready[0].Position);
                        engine.RunChanged(Run.Id);
                    }

                    var next = await ExecuteStepAsync(ready[0], chain: true, startedInChain: startedByClaim);
                    while (next is not null && !Stopping.IsCancellationRequested)
                    {
                        next = await ExecuteStepAsync(next, chain: true, startedInChain: true);
                    }
                }
                else
                {
                    await Task.WhenAll(ready.Select(s => ExecuteStepAsync(s, chain: false, startedInChain: false)));
                }
            }
        }
        catch (LeaseLostException ex)
        {
            engine.Logger.LogWarning("Stopped processing run {RunId}: {Reason}", Run.Id, ex.Message);
        }
        catch (OperationCanceledException) when (Stopping.IsCancellationRequested)
        {
            // Shutting down: give the run back at once so that another replica (or the next start) resumes it.
            await TryReleaseAsync(Database.NowMs());
        }
        catch (Exception ex)
        {
            engine.Logger.LogError(ex, "Processing run {RunId} failed; it is retried shortly", Run.Id);
            await TryReleaseAsync(Database.NowMs() + (long)engine.Options.ObserverRetryDelay.TotalMilliseconds);
        }
    }

    public async Task<T> EffectAsync<T>(
        string stepName, int attempt, bool mayHaveRecords, string key, Func<CancellationToken, Task<T?>> lookup, Func<CancellationToken, Task<T>> perform,
        CancellationToken cancellationToken)
        where T : class
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        var existing = mayHaveRecords ? await store.GetEffectAsync(Run.Id, stepName, key, cancellationToken) : null;
        if (existing is { Status: EffectStatus.Done })
        {
            return JsonSerializer.Deserialize<T>(existing.ResultJson ?? "null", EngineJson.Options)!;
        }

        if (existing is not null)
        {
            // Recorded but never completed: it may have happened. Ask before acting again.
            var found = await lookup(cancellationToken);
            if (found is not null)
            {
                await store.CompleteEffectAsync(Run.Id, stepName, key, Serialize(found), CancellationToken.None);
                await LogAsync(stepName, attempt, $"effect '{key}' had already happened; not performed again", cancellationToken);
                return found;
            }

            await WriteAsync((_, _, _) => Task.FromResult(0));
        }
        else
        {
            var now = Database.NowMs();
            await WriteAsync((c, t, _) => RunStore.RecordEffectPendingAsync(c, t, Run.Id, stepName, key, attempt, now, CancellationToken.None));
        }

        if (CancelRequested)
        {
            throw new OperationCanceledException($"Run {Run.Id} is being cancelled.");
        }

        // At-least-once window: a crash between perform and CompleteEffect leaves the effect pending; the next call
        // finds it through lookup instead of performing it again.
        var result = await perform(cancellationToken);
        await store.CompleteEffectAsync(Run.Id, stepName, key, Serialize(result), CancellationToken.None);
        return result;
    }

    private static string Serialize(object value) => JsonSerializer.Serialize(value, value.GetType(), EngineJson.Options);

    private static string Format(long? ms) =>
        ms is not { } v ? "?" : TimeSpan.FromMilliseconds(v).ToString(v >= 3_600_000 ? @"h\:mm\:ss" : @"m\:ss\.fff", CultureInfo.InvariantCulture);

    private void TryCancel()
    {
        try
        {
            abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run finished meanwhile.
        }
    }

    private Task<int> WriteAsync(Func<DbConnection, DbTransaction, long, Task> work) =>
        WriteAsync(async (c, t, now) =>
        {
            await work(c, t, now);
            return 0;
        });

    /// <summary>Runs <paramref name="work"/> in a transaction that first touches (renews and checks) the lease.</summary>
    private async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, long, Task<T>> work)
    {
        var now = Database.NowMs();
        var expires = now + (long)engine.Options.LeaseDuration.TotalMilliseconds;
        var (touch, result) = await Database.WriteAsync(
            async (c, t) =>
            {
                var touched = await RunStore.TouchLeaseAsync(c, t, Run.Id, Owner, expires, CancellationToken.None);
                return (touched, await work(c, t, now));
            },
            CancellationToken.None);
        AfterTouch(touch, expires);
        return result;
    }

    /// <summary>Stores step transitions together with the lease touch, in one command.</summary>
    private async Task SaveStepsAsync(params (StepRow Step, StepStatus Expected)[] updates)
    {
        var now = Database.NowMs();
        var expires = now + (long)engine.Options.LeaseDuration.TotalMilliseconds;
        var touch = await Database.WriteAsync(
            (c, t) => RunStore.TouchAndSaveStepsAsync(c, t, Run.Id, Owner, expires, now, updates, CancellationToken.None),
            CancellationToken.None);
        AfterTouch(touch, expires);
    }

    private void AfterTouch(LeaseTouch touch, long expires)
    {
        Run.LeaseExpiresAt = expires;
        if (touch.CancelRequestedAt is not null && Run.CancelRequestedAt is null && !Run.Status.IsFinished())
        {
            Run.CancelRequestedAt = touch.CancelRequestedAt;
            RequestCancel(touch.CancelReason ?? "cancelled");
        }
    }

    private async Task TryReleaseAsync(long nextDueAt)
    {
        try
        {
            await store.ReleaseAsync(Run.Id, Owner, nextDueAt, CancellationToken.None);
            engine.NoteDue(nextDueAt);
        }
        catch (Exception ex)
        {
            engine.Logger.LogWarning(ex, "Could not release run {RunId}; it is taken over when its lease expires", Run.Id);
        }
    }

    private async Task<bool> TryStartAsync()
    {
        var recheck = Database.NowMs() + (long)engine.Options.QueuedRecheckInterval.TotalMilliseconds;
        var started = await WriteAsync((c, t, now) => store.TryStartRunAsync(c, t, Run, Owner, now, recheck, CancellationToken.None));
        if (started)
        {
            Run.Status = RunStatus.Running;
            Run.StartedAt = Database.NowMs();
            Run.DeadlineAt = Run.TimeoutMs is { } timeout ? Run.StartedAt + timeout : null;
            engine.RunChanged(Run.Id);
        }

        return started;
    }

    private async Task FinishAsync(RunStatus status, string? reason, string stepReason)
    {
        var notified = engine.Observers.Count == 0;
        var now = Database.NowMs();
        var woken = await WriteAsync((c, t, _) => store.FinishRunAsync(c, t, Run, status, reason, stepReason, Owner, notified, now, CancellationToken.None));
        Run.Status = status;
        Run.Reason = reason;
        Run.FinishedAt = now;
        Run.ObserversNotified = notified;
        if (notified)
        {
            // FinishRunAsync gave the lease back in the same transaction.
            Run.LeaseOwner = null;
            Run.NextDueAt = null;
        }
        foreach (var step in steps.Where(s => !s.Status.IsFinished()))
        {
            step.Status = StepStatus.Cancelled;
            step.Reason = stepReason;
            step.DueAt = null;
            step.FinishedAt = now;
        }

        engine.RunFinished(Run.Id);
        if (woken is not null)
        {
            engine.Wake();
        }
    }

    private async Task NotifyObserversAsync()
    {
        if (Run.ObserversNotified)
        {
            if (Run.LeaseOwner is not null && Run.NextDueAt is not null)
            {
                await store.ReleaseAsync(Run.Id, Owner, null, CancellationToken.None);
            }

            return;
        }

        var detail = new RunDetail(Run.ToSummary(), steps.Select(s => s.ToState()).ToList());
        try
        {
            foreach (var observer in engine.Observers)
            {
                await observer.OnRunFinishedAsync(detail, Stopping);
            }

            await store.MarkObserversNotifiedAsync(Run.Id, Owner, CancellationToken.None);
            Run.ObserversNotified = true;
        }
        catch (Exception ex) when (!Stopping.IsCancellationRequested)
        {
            engine.Logger.LogError(ex, "A run observer failed for run {RunId}; observers are called again later", Run.Id);
            await TryReleaseAsync(Database.NowMs() + (long)engine.Options.ObserverRetryDelay.TotalMilliseconds);
        }
    }

    private bool DependenciesDone(StepRow step, StepRow? updated = null)
    {
        foreach (var dependency in step.DependsOn)
        {
            var other = updated?.Name == dependency ? updated : Array.Find(steps, s => s.Name == dependency);
            if (other is null || other.Status is not (StepStatus.Succeeded or StepStatus.Skipped))
            {
                return false;
            }
        }

        return true;
    }

    private long? NextDueAt(long now)
    {
        long? next = Run.DeadlineAt;
        foreach (var step in steps.Where(s => !s.Status.IsFinished()))
        {
            if (DependenciesDone(step) && step.DueAt is { } due)
            {
                next = next is null ? due : Math.Min(next.Value, due);
            }

            if (step.DeadlineAt is { } deadline)
            {
                next = next is null ? deadline : Math.Min(next.Value, deadline);
            }
        }

        // Nothing due should not happen while steps are unfinished; look again later rather than forget the run.
        return next ?? now + (long)engine.Options.QueuedRecheckInterval.TotalMilliseconds;
    }

    private static StepRow StartedCopy(StepRow step, long now)
    {
        var running = step.Clone();
        running.Status = StepStatus.Running;
        running.Attempt = step.Status == StepStatus.Pending ? step.Attempt + 1 : Math.Max(1, step.Attempt);
        running.StartedAt ??= now;
        running.DeadlineAt ??= step.TimeoutMs is { } timeout ? now + timeout : null;
        running.DueAt = null;
        return running;
    }

    /// <summary>
    /// Executes one step and stores its outcome. With <paramref name="chain"/>, when the outcome makes exactly one
    /// other step ready, that step is started in the same transaction and returned, to be executed next.
    /// </summary>
    private async Task<StepRow?> ExecuteStepAsync(StepRow step, bool chain, bool startedInChain)
    {
        var resumed = step.Status == StepStatus.Running && !startedInChain;
        var attempt = startedInChain || resumed ? Math.Max(1, step.Attempt) : step.Status == StepStatus.Pending ? step.Attempt + 1 : Math.Max(1, step.Attempt);
        if (!resumed && !startedInChain)
        {
            var running = StartedCopy(step, Database.NowMs());
            if (step.Status == StepStatus.Pending && step.Attempt == 0)
            {
                firstStarts.Add(step.Position);
            }

            await SaveStepsAsync((running, step.Status));
            step = Replace(running);
            engine.RunChanged(Run.Id);
        }

        var handler = engine.FindHandler(step.Kind);
        if (handler is null)
        {
            return await SaveOutcomeAsync(
                step, StepStatus.Running,
                StepOutcome.Failed($"no handler is registered for step kind '{step.Kind}'; register an IStepHandler with that Kind"),
                step.DataJson, attempt, chain: false);
        }

        var context = new StepContext(this, step, attempt, resumed, firstCall: firstStarts.Remove(step.Position));
        var deadline = MinDeadline(step.DeadlineAt, Run.DeadlineAt);
        using var deadlineSource = deadline is { } d
            ? new CancellationTokenSource(TimeSpan.FromMilliseconds(Math.Max(1, d - Database.NowMs())), Database.TimeProvider)
            : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(abort.Token, deadlineSource.Token);
        StepOutcome outcome;
        try
        {
            outcome = await handler.ExecuteAsync(context, linked.Token)
                ?? StepOutcome.Failed($"the handler of step kind '{step.Kind}' returned no outcome");
        }
        catch (LeaseLostException)
        {
            throw;
        }
        catch (OperationCanceledException) when (LeaseLost)
        {
            throw new LeaseLostException($"Run {Run.Id} was taken over while step '{step.Name}' ran.");
        }
        catch (OperationCanceledException) when (CancelRequested || Stopping.IsCancellationRequested)
        {
            // The run loop cancels the run, or the next owner resumes the step.
            return null;
        }
        catch (OperationCanceledException) when (deadlineSource.IsCancellationRequested)
        {
            if (Run.DeadlineAt is { } runDeadline && runDeadline <= Database.NowMs())
            {
                return null; // the run loop fails the run
            }

            outcome = StepOutcome.Failed($"the step timed out after {Format(step.TimeoutMs)}");
        }
        catch (Exception ex)
        {
            engine.Logger.LogWarning(ex, "Step {Step} of run {RunId} threw on attempt {Attempt}", step.Name, Run.Id, attempt);
            outcome = StepOutcome.Retry($"{ex.GetType().Name}: {ex.Message}");
            await TryLogAsync(step.Name, attempt, $"attempt {attempt} threw {ex.GetType().Name}: {ex.Message}");
        }

        return await SaveOutcomeAsync(step, StepStatus.Running, outcome, context.DataJson, attempt, chain);
    }

    private async Task TryLogAsync(string stepName, int attempt, string message)
    {
        try
        {
            await LogAsync(stepName, attempt, message, CancellationToken.None);
        }
        catch (Exception ex)
        {
            engine.Logger.LogWarning(ex, "Could not store a log line of run {RunId}", Run.Id);
        }
    }

    private static long? MinDeadline(long? a, long? b) => a is null ? b : b is null ? a : Math.Min(a.Value, b.Value);

    private async Task<StepRow?> SaveOutcomeAsync(
        StepRow step, StepStatus expected, StepOutcome outcome, string? dataJson, int attempt, bool chain = false)
    {
        var now = Database.NowMs();
        var next = step.Clone();
        next.DataJson = dataJson;
        next.Attempt = Math.Max(attempt, step.Attempt);
        switch (outcome.Kind)
        {
            case StepOutcomeKind.Succeeded:
                next.Status = StepStatus.Succeeded;
                next.OutputJson = outcome.Output is null ? null : Serialize(outcome.Output);
                next.Reason = null;
                next.DueAt = null;
                next.FinishedAt = now;
                break;
            case StepOutcomeKind.Skipped:
            case StepOutcomeKind.Failed:
                next.Status = outcome.Kind == StepOutcomeKind.Skipped ? StepStatus.Skipped : StepStatus.Failed;
                next.Reason = outcome.Reason;
                next.DueAt = null;
                next.FinishedAt = now;
                break;
            case StepOutcomeKind.Wait:
                var due = outcome.Until is { } until ? DbTime.ToUnixMs(until) : now + (long)(outcome.Delay ?? TimeSpan.Zero).TotalMilliseconds;
                // At least 1 ms ahead, so that a zero wait cannot spin; never past the deadline, so a timeout is on time.
                due = Math.Max(due, now + 1);
                next.Status = StepStatus.Waiting;
                next.DueAt = next.DeadlineAt is { } deadline ? Math.Min(due, deadline) : due;
                break;
            case StepOutcomeKind.Retry:
                if (attempt >= step.Retry.MaxAttempts)
                {
                    next.Status = StepStatus.Failed;
                    next.Reason = $"gave up after {attempt} attempt(s): {outcome.Reason}";
                    next.DueAt = null;
                    next.FinishedAt = now;
                }
                else
                {
                    var delay = outcome.Delay ?? step.Retry.GetDelay(attempt, Random.Shared.NextDouble());
                    next.Status = StepStatus.Pending;
                    next.Reason = $"attempt {attempt} failed: {outcome.Reason}";
                    next.DueAt = now + Math.Max(1, (long)delay.TotalMilliseconds);
                }

                break;
            default:
                throw new InvalidOperationException($"Unknown step outcome {outcome.Kind}.");
        }

        var successor = chain ? FindSuccessor(next, now) : null;
        var started = successor is null ? null : StartedCopy(successor, now);
        if (successor is { Status: StepStatus.Pending, Attempt: 0 })
        {
            firstStarts.Add(successor.Position);
        }

        if (started is null)
        {
            await SaveStepsAsync((next, expected));
        }
        else
        {
            await SaveStepsAsync((next, expected), (started, successor!.Status));
        }

        Replace(next);
        if (started is not null)
        {
            Replace(started);
        }

        engine.RunChanged(Run.Id);
        return started;
    }

    /// <summary>The one step that <paramref name="finished"/> makes ready now, if exactly one and nothing else needs the loop.</summary>
    private StepRow? FindSuccessor(StepRow finished, long now)
    {
        if (finished.Status is not (StepStatus.Succeeded or StepStatus.Skipped) || CancelRequested || LeaseLost ||
            Run.DeadlineAt <= now || Array.Exists(steps, s => !s.Status.IsFinished() && s.Position != finished.Position && s.DeadlineAt <= now))
        {
            return null;
        }

        StepRow? found = null;
        foreach (var candidate in steps)
        {
            if (candidate.Position == finished.Position || candidate.Status is not (StepStatus.Pending or StepStatus.Waiting) ||
                candidate.DueAt > now || !DependenciesDone(candidate, finished))
            {
                continue;
            }

            if (found is not null)
            {
                return null; // several ready: the run loop executes them side by side
            }

            found = candidate;
        }

        return found;
    }

    private StepRow Replace(StepRow updated)
    {
        steps[updated.Position] = updated;
        return updated;
    }
}
