using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Sluice.Manifests;

namespace Sluice.Controller.Intake;

/// <summary>Told when an event reaches its final state (metrics, benchmarks). Must be quick and must not throw.</summary>
public interface IIntakeListener
{
    void OnEventCompleted(IntakeEvent intakeEvent);
}

/// <summary>
/// Takes events in and hands them to the workers. An event is written to the ledger before anything else happens
/// (so a crash loses nothing: rows left in state received are handled again at start-up), and events of the same
/// object are handled one at a time, in the order they arrived.
/// </summary>
public sealed class IntakeService : IAsyncDisposable
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    // Longer than any retry delay, so that an event waiting for its next attempt stays this process's.
    private static readonly TimeSpan ClaimDuration = MaxRetryDelay * 2;
    private readonly string _owner = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}";
    private readonly EventLedger _ledger;
    private readonly IntakeProcessor _processor;
    private readonly IntakeOptions _options;
    private readonly TimeProvider _time;
    private readonly IReadOnlyList<IIntakeListener> _listeners;
    private readonly ILogger _logger;
    private readonly Channel<IntakeEvent>[] _partitions;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private Task[] _workers = [];
    private bool _stopped;

    public IntakeService(
        EventLedger ledger,
        IntakeProcessor processor,
        IntakeOptions options,
        TimeProvider time,
        IEnumerable<IIntakeListener> listeners,
        ILogger<IntakeService> logger)
    {
        _ledger = ledger;
        _processor = processor;
        _options = options;
        _time = time;
        _listeners = listeners.ToArray();
        _logger = logger;
        _partitions = Enumerable.Range(0, options.Workers)
            .Select(_ => Channel.CreateUnbounded<IntakeEvent>(new UnboundedChannelOptions { SingleReader = true }))
            .ToArray();
    }

    public EventLedger Ledger => _ledger;

    /// <summary>Starts the workers and queues every event left in state received by an earlier process.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_workers.Length > 0 || _stopped)
            {
                return;
            }

            _workers = _partitions.Select(p => Task.Run(() => WorkAsync(p.Reader, _stopping.Token), CancellationToken.None))
                .Append(Task.Run(() => TakeOverAsync(_stopping.Token), CancellationToken.None))
                .ToArray();
        }

        List<IntakeEvent> pending;
        var pause = TimeSpan.FromTicks(Math.Max(_options.RetryDelay.Ticks, TimeSpan.FromMilliseconds(100).Ticks));
        while (true)
        {
            try
            {
                await _ledger.ReleaseClaimsOfEarlierProcessesAsync(cancellationToken);
                pending = await _ledger.ListReceivedAsync(cancellationToken);
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The store may still be starting (PostgreSQL in another container); nothing is lost meanwhile.
                _logger.LogWarning(e, "Could not read the events left from the last run; trying again in {Pause}", pause);
                await Task.Delay(pause, _time, cancellationToken);
                pause = TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, pause.Ticks * 2));
            }
        }

        if (pending.Count > 0)
        {
            _logger.LogInformation("Handling {Count} event(s) taken in before the last stop but not handled yet", pending.Count);
        }

        foreach (var intakeEvent in pending)
        {
            Enqueue(intakeEvent);
        }
    }

    /// <summary>
    /// Takes an event in: writes it to the ledger and queues it, or returns the row that was already there
    /// (<c>Created</c> false) — the same object version is never handled twice.
    /// </summary>
    public async Task<(IntakeEvent Event, bool Created)> IngestAsync(IncomingEvent incoming, CancellationToken cancellationToken)
    {
        var (intakeEvent, created) = await _ledger.TryInsertAsync(incoming, cancellationToken);
        if (created)
        {
            Enqueue(intakeEvent);
        }

        return (intakeEvent, created);
    }

    /// <summary>Stops the workers; events in flight stay received and are handled after the next start.</summary>
    public async Task StopAsync()
    {
        Task[] workers;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            workers = _workers;
        }

        await _stopping.CancelAsync();
        foreach (var partition in _partitions)
        {
            partition.Writer.TryComplete();
        }

        try
        {
            await Task.WhenAll(workers);
        }
        catch (OperationCanceledException)
        {
            // Expected while stopping.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
    }

    private void Enqueue(IntakeEvent intakeEvent)
    {
        // Same object, same partition: its versions are handled in arrival order.
        var hash = StringComparer.Ordinal.GetHashCode(intakeEvent.Bucket + "/" + intakeEvent.ObjectName);
        var partition = _partitions[(int)((uint)hash % (uint)_partitions.Length)];
        partition.Writer.TryWrite(intakeEvent);
    }

    private async Task WorkAsync(ChannelReader<IntakeEvent> reader, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var intakeEvent in reader.ReadAllAsync(cancellationToken))
            {
                await HandleAsync(intakeEvent, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task HandleAsync(IntakeEvent intakeEvent, CancellationToken cancellationToken)
    {
        try
        {
            // One process handles an event: another replica may hold it, or have finished it meanwhile.
            var until = (_time.GetUtcNow() + ClaimDuration).ToUnixTimeMilliseconds();
            if (!await _ledger.TryClaimAsync(intakeEvent.Id, _owner, until, cancellationToken))
            {
                return;
            }

            var outcome = await _processor.ProcessAsync(intakeEvent, cancellationToken);
            if (outcome.IsRetry)
            {
                await ScheduleRetryAsync(intakeEvent, outcome.Reason ?? "unknown error", cancellationToken);
                return;
            }

            await CompleteAsync(intakeEvent, outcome.State!.Value, outcome.Reason, outcome.Dispatches, outcome.Problems, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // The ledger itself failed (the store is down, say): the event stays received. Handling it again is safe
            // (the flows de-duplicate by key), so it goes back to the queue once the store answers.
            _logger.LogError(e, "Could not record the outcome of {Event}; it will be handled again", intakeEvent.Location);
            _ = RetryLaterAsync(intakeEvent.Id, MaxRetryDelay / 4, cancellationToken);
        }
    }

    /// <summary>
    /// Every <see cref="IntakeOptions.TakeOverAfter"/>, queues the received events nobody handles: taken in by a replica
    /// that died before handling them, or whose handler's claim expired. Their handling claims them first.
    /// </summary>
    private async Task TakeOverAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_options.TakeOverAfter, _time, cancellationToken);
                var before = (_time.GetUtcNow() - _options.TakeOverAfter).ToUnixTimeMilliseconds();
                var abandoned = await _ledger.ListAbandonedAsync(before, cancellationToken);
                if (abandoned.Count > 0)
                {
                    _logger.LogWarning("Taking over {Count} event(s) that were taken in but are not being handled", abandoned.Count);
                }

                foreach (var intakeEvent in abandoned)
                {
                    Enqueue(intakeEvent);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "Could not look for abandoned events; looking again in {Interval}", _options.TakeOverAfter);
            }
        }
    }

    private async Task CompleteAsync(
        IntakeEvent intakeEvent, IntakeEventState state, string? reason, IReadOnlyList<IntakeDispatch> dispatches,
        IReadOnlyList<ManifestProblem> problems, CancellationToken cancellationToken)
    {
        if (!await _ledger.CompleteAsync(intakeEvent.Id, state, reason, dispatches, problems, cancellationToken))
        {
            return; // Another worker or replica finished it first.
        }

        switch (state)
        {
            case IntakeEventState.Rejected:
                _logger.LogWarning("Rejected {Event}: {Reason}", intakeEvent.Location, reason);
                break;
            case IntakeEventState.Ignored:
                _logger.LogInformation("Ignored {Change} {Event}: {Reason}", intakeEvent.Change.ToStored(), intakeEvent.Location, reason);
                break;
            default:
                _logger.LogInformation("Dispatched {Event}: {Actions}", intakeEvent.Location,
                    string.Join(", ", dispatches.Select(d => d.RunId is { } run ? $"{d.Action} {d.Target} (run {run})" : $"{d.Action} {d.Target}")));
                break;
        }

        var completed = intakeEvent with
        {
            State = state,
            Reason = reason,
            Dispatches = dispatches,
            Problems = problems,
            FinishedAt = _time.GetUtcNow(),
        };
        foreach (var listener in _listeners)
        {
            try
            {
                listener.OnEventCompleted(completed);
            }
            catch (Exception e)
            {
                _logger.LogWarning(e, "An intake listener failed");
            }
        }
    }

    private async Task ScheduleRetryAsync(IntakeEvent intakeEvent, string reason, CancellationToken cancellationToken)
    {
        var attempts = await _ledger.RecordFailedAttemptAsync(intakeEvent.Id, reason, cancellationToken);
        if (attempts >= _options.MaxAttempts)
        {
            await CompleteAsync(
                intakeEvent, IntakeEventState.Rejected, $"Gave up after {attempts} attempts: {reason}", [], [], cancellationToken);
            return;
        }

        var delay = TimeSpan.FromTicks(Math.Min(MaxRetryDelay.Ticks, _options.RetryDelay.Ticks * (1L << Math.Min(attempts - 1, 20))));
        _logger.LogInformation("Trying {Event} again in {Delay} (attempt {Attempt} of {Max}): {Reason}",
            intakeEvent.Location, delay, attempts + 1, _options.MaxAttempts, reason);
        _ = RetryLaterAsync(intakeEvent.Id, delay, cancellationToken);
    }

    private async Task RetryLaterAsync(long id, TimeSpan delay, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(delay, _time, cancellationToken);
                if (await _ledger.GetAsync(id, cancellationToken) is { State: IntakeEventState.Received } current)
                {
                    Enqueue(current);
                }

                return;
            }
            catch (OperationCanceledException)
            {
                // Stopping: the event stays received and is handled after the next start.
                return;
            }
            catch (Exception e)
            {
                // The store does not answer yet; keep the event in mind and look again later.
                _logger.LogWarning(e, "Could not read event {Id} to try it again; looking again in {Delay}", id, MaxRetryDelay);
                delay = MaxRetryDelay;
            }
        }
    }
}
