using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sluice.Engine;

/// <summary>A run id that does not exist.</summary>
public sealed class RunNotFoundException : Exception
{
    public RunNotFoundException(long runId)
        : base($"Run {runId} does not exist; list runs to find its id.")
    {
        RunId = runId;
    }

    public RunNotFoundException()
    {
    }

    public RunNotFoundException(string message)
        : base(message)
    {
    }

    public RunNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public long RunId { get; }
}

/// <summary>
/// The durable workflow engine. Runs and steps live in the store; any replica holding a run's lease advances it.
/// <see cref="RunLoopAsync"/> (the hosted service) processes work as it becomes due; tests with a fake clock call
/// <see cref="ProcessDueRunsAsync"/> instead.
/// </summary>
public sealed class WorkflowEngine : IAsyncDisposable
{
    private readonly IEnumerable<IStepHandler> handlerSource;
    private readonly IEnumerable<IRunObserver> observerSource;
    private readonly IEnumerable<IMigrationSource> migrationSources;
    private readonly RunStore store;
    private readonly ConcurrentDictionary<long, RunExecution> executions = new();
    private readonly Pulse work = new();
    private readonly SemaphoreSlim readyGate = new(1, 1);
    private Dictionary<string, IStepHandler>? handlers;
    private IReadOnlyList<IRunObserver>? observers;
    private bool storeReady;
    private long nextLocalDueAt = long.MaxValue;

    public WorkflowEngine(
        IDatabase database,
        IEnumerable<IStepHandler> handlers,
        IEnumerable<IRunObserver>? observers = null,
        EngineOptions? options = null,
        ILogger<WorkflowEngine>? logger = null,
        IEnumerable<IMigrationSource>? migrations = null)
    {
        Database = database;
        handlerSource = handlers;
        observerSource = observers ?? [];
        migrationSources = migrations ?? [];
        Options = options ?? new EngineOptions();
        Options.Validate();
        Logger = (ILogger?)logger ?? NullLogger.Instance;
        store = new RunStore(database);
    }

    public IDatabase Database { get; }

    public EngineOptions Options { get; }

    internal ILogger Logger { get; }

    // Pulses per run that someone in this process waits on (followers, WaitForRunAsync): fired on each of that run's
    // transitions and log lines, so that a waiter re-reads only when its run changed.
    private readonly ConcurrentDictionary<long, Pulse> runChanges = new();

    // Resolved on first use so that handlers and observers may themselves depend on the engine.
    internal IReadOnlyList<IRunObserver> Observers => observers ??= observerSource.ToList();

    private Dictionary<string, IStepHandler> Handlers => handlers ??= BuildHandlers(handlerSource);

    /// <summary>Applies the engine's migrations and those of every registered module, once.</summary>
    public async Task EnsureStoreReadyAsync(CancellationToken cancellationToken)
    {
        if (storeReady)
        {
            return;
        }

        await readyGate.WaitAsync(cancellationToken);
        try
        {
            if (!storeReady)
            {
                var runner = new MigrationRunner(Database);
                await runner.ApplyAsync(new EngineMigrations(), cancellationToken);
                await runner.ApplyAsync(migrationSources, cancellationToken);
                storeReady = true;
            }
        }
        finally
        {
            readyGate.Release();
        }
    }

    /// <summary>Stores a new run (queued) and wakes the loop; with an idempotency key seen before, returns that run.</summary>
    public async Task<RunStart> StartRunAsync(RunRequest request, CancellationToken cancellationToken) =>
        (await StartRunsAsync([request], cancellationToken))[0];

    /// <summary>
    /// Stores several runs (queued) in one transaction and wakes the loop once: for callers that start many runs at the
    /// same moment, such as the scheduler when many slots fall due. Each request behaves as in
    /// <see cref="StartRunAsync"/>; the result has one entry per request, in order. Every request is checked before any
    /// run is stored.
    /// </summary>
    public async Task<IReadOnlyList<RunStart>> StartRunsAsync(IReadOnlyList<RunRequest> requests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (requests.Count == 0)
        {
            return [];
        }

        var runs = requests.Select(r => (r, (IReadOnlyList<StepRow>)Validate(r))).ToList();
        await EnsureStoreReadyAsync(cancellationToken);
        var starts = await store.InsertRunsAsync(runs, cancellationToken);
        if (starts.Exists(s => s.Created))
        {
            Wake();
        }

        return starts;
    }

    /// <summary>
    /// Asks for a run to be cancelled: running handlers are cancelled, unfinished steps become cancelled, the run ends
    /// cancelled. Returns false when the run had already finished.
    /// </summary>
    public async Task<bool> CancelRunAsync(long runId, string reason, CancellationToken cancellationToken)
    {
        await EnsureStoreReadyAsync(cancellationToken);
        var changed = await store.RequestCancelAsync(runId, reason, cancellationToken);
        if (changed == 0)
        {
            _ = await GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
            return false;
        }

        if (executions.TryGetValue(runId, out var execution))
        {
            execution.RequestCancel(reason);
        }

        Wake();
        return true;
    }

    public async Task<RunDetail?> GetRunAsync(long runId, CancellationToken cancellationToken)
    {
        await EnsureStoreReadyAsync(cancellationToken);
        return await store.GetRunDetailAsync(runId, cancellationToken);
    }

    public async Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        await EnsureStoreReadyAsync(cancellationToken);
        return await store.ListRunsAsync(query, cancellationToken);
    }

    /// <summary>Log lines of a run (one step, or all), oldest first, after the given log id.</summary>
    public async Task<IReadOnlyList<StepLog>> GetStepLogsAsync(
        long runId, string? stepName, long afterId, int limit, CancellationToken cancellationToken)
    {
        await EnsureStoreReadyAsync(cancellationToken);
        return await store.GetLogsAsync(runId, stepName, afterId, Math.Clamp(limit, 1, 10_000), cancellationToken);
    }

    /// <summary>Streams log lines as they are written until the run has finished and every line was returned.</summary>
    public async IAsyncEnumerable<StepLog> FollowStepLogsAsync(
        long runId, string? stepName, long afterId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await EnsureStoreReadyAsync(cancellationToken);
        var last = afterId;
        var finishedSeen = false;
        var pulse = runChanges.GetOrAdd(runId, _ => new Pulse());
        try
        {
            while (true)
            {
                var changed = pulse.WaitAsync();
                var logs = await store.GetLogsAsync(runId, stepName, last, 500, cancellationToken);
                foreach (var log in logs)
                {
                    last = log.Id;
                    yield return log;
                }

                if (logs.Count == 500)
                {
                    continue;
                }

                if (finishedSeen)
                {
                    yield break;
                }

                var run = await store.GetRunDetailAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
                if (run.Run.IsFinished)
                {
                    // One more read: lines written just before the run finished are returned before the stream ends.
                    finishedSeen = true;
                    continue;
                }

                await Pulse.WaitAnyAsync(changed, Options.PollInterval, Database.TimeProvider, cancellationToken);
            }
        }
        finally
        {
            runChanges.TryRemove(KeyValuePair.Create(runId, pulse));
        }
    }

    /// <summary>Waits until the run has finished (this replica's transitions wake it at once; others are polled).</summary>
    public async Task<RunDetail> WaitForRunAsync(long runId, CancellationToken cancellationToken)
    {
        var pulse = runChanges.GetOrAdd(runId, _ => new Pulse());
        try
        {
            while (true)
            {
                var changed = pulse.WaitAsync();
                var run = await GetRunAsync(runId, cancellationToken) ?? throw new RunNotFoundException(runId);
                if (run.Run.IsFinished)
                {
                    return run;
                }

                await Pulse.WaitAnyAsync(changed, Options.PollInterval, Database.TimeProvider, cancellationToken);
            }
        }
        finally
        {
            // Another waiter on the same run falls back to polling; entries do not pile up.
            runChanges.TryRemove(KeyValuePair.Create(runId, pulse));
        }
    }

    /// <summary>The side effects recorded by a run's steps.</summary>
    public async Task<IReadOnlyList<EffectRecord>> GetEffectsAsync(long runId, CancellationToken cancellationToken)
    {
        await EnsureStoreReadyAsync(cancellationToken);
        return await store.GetEffectsAsync(runId, cancellationToken);
    }

    /// <summary>
    /// Processes everything due at the current time of the clock, to completion, and returns how many run claims that
    /// took. For tests with a fake clock: advance the clock, call this, assert.
    /// </summary>
    public async Task<int> ProcessDueRunsAsync(CancellationToken cancellationToken)
    {
        await EnsureStoreReadyAsync(cancellationToken);
        var processed = 0;
        for (var pass = 0; pass < 10_000; pass++)
        {
            var claimed = await ClaimAsync(Options.MaxConcurrentRuns, cancellationToken);
            if (claimed.Count == 0)
            {
                break;
            }

            processed += claimed.Count;
            await Task.WhenAll(claimed.Select(run => ExecuteAsync(run, cancellationToken)));
        }

        return processed;
    }

    /// <summary>The engine loop: claims due runs, processes them concurrently, renews leases, until cancelled.</summary>
    public async Task RunLoopAsync(CancellationToken stoppingToken)
    {
        await EnsureStoreReadyAsync(stoppingToken);
        var reclaimed = Database.Dialect == StoreDialect.Sqlite && Options.ReclaimSqliteLeasesAtStartup
            ? await store.ReclaimLeasesAsync(null, stoppingToken)
            : await store.ReclaimLeasesAsync(Options.ReplicaId, stoppingToken);
        if (reclaimed > 0)
        {
            Logger.LogInformation("Took back {Count} run lease(s) left by a previous process", reclaimed);
        }

        Logger.LogInformation("Workflow engine {ReplicaId} started on {Store}", Options.ReplicaId, Database.DisplayName);
        var running = new ConcurrentDictionary<Task, bool>();
        var heartbeat = HeartbeatLoopAsync(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var wake = work.WaitAsync();
                var dueNow = Interlocked.Read(ref nextLocalDueAt);
                if (dueNow <= Database.NowMs())
                {
                    // Due now: this claim picks it up.
                    Interlocked.CompareExchange(ref nextLocalDueAt, long.MaxValue, dueNow);
                }

                var capacity = Options.MaxConcurrentRuns - executions.Count;
                var claimedAll = false;
                if (capacity > 0)
                {
                    try
                    {
                        var claimed = await ClaimAsync(capacity, stoppingToken);
                        claimedAll = claimed.Count == capacity;
                        foreach (var run in claimed)
                        {
                            var task = ExecuteAsync(run, stoppingToken);
                            running[task] = true;
                            _ = task.ContinueWith(
                                t =>
                                {
                                    running.TryRemove(t, out _);
                                    work.Fire();
                                },
                                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                        }
                    }
                    catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                    {
                        break;
                    }
                    catch (Exception ex)
                    {
                        Logger.LogError(ex, "Claiming due runs from {Store} failed; trying again", Database.DisplayName);
                    }
                }

                if (claimedAll)
                {
                    continue; // more may be due
                }

                var delay = Options.PollInterval;
                var localDue = Interlocked.Read(ref nextLocalDueAt);
                if (localDue != long.MaxValue)
                {
                    var untilDue = TimeSpan.FromMilliseconds(Math.Max(1, localDue - Database.NowMs()));
                    delay = untilDue < delay ? untilDue : delay;
                }

                try
                {
                    await Pulse.WaitAnyAsync(wake, delay, Database.TimeProvider, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }
        finally
        {
            // Executions see the stopping token, hand their runs back and end.
            await Task.WhenAll(running.Keys.ToList());
            try
            {
                await heartbeat;
            }
            catch (OperationCanceledException)
            {
                // expected on shutdown
            }

            Logger.LogInformation("Workflow engine {ReplicaId} stopped", Options.ReplicaId);
        }
    }

    public async ValueTask DisposeAsync()
    {
        readyGate.Dispose();
        await Task.CompletedTask;
    }

    internal IStepHandler? FindHandler(string kind) => Handlers.GetValueOrDefault(kind);

    /// <summary>Wakes this process's waiters on the run (a transition or a log line was stored).</summary>
    internal void RunChanged(long runId)
    {
        if (runChanges.TryGetValue(runId, out var pulse))
        {
            pulse.Fire();
        }
    }

    /// <summary>Forgets the waiters' pulse of a finished run (they re-read once more and stop).</summary>
    internal void RunFinished(long runId)
    {
        if (runChanges.TryRemove(runId, out var pulse))
        {
            pulse.Fire();
        }
    }

    /// <summary>Wakes the loop now (new or newly due work in this process).</summary>
    internal void Wake() => work.Fire();

    /// <summary>Makes the loop look again at <paramref name="dueAt"/> when that is sooner than its poll interval.</summary>
    internal void NoteDue(long? dueAt)
    {
        if (dueAt is not { } due)
        {
            return;
        }

        long current;
        do
        {
            current = Interlocked.Read(ref nextLocalDueAt);
            if (due >= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref nextLocalDueAt, due, current) != current);

        // Sooner than the loop planned to look: wake it so that it recomputes its sleep.
        Wake();
    }

    private static Dictionary<string, IStepHandler> BuildHandlers(IEnumerable<IStepHandler> source)
    {
        var result = new Dictionary<string, IStepHandler>(StringComparer.Ordinal);
        foreach (var handler in source)
        {
            if (!result.TryAdd(handler.Kind, handler))
            {
                throw new InvalidOperationException(
                    $"Two step handlers are registered for kind '{handler.Kind}' ({result[handler.Kind].GetType().Name} and {handler.GetType().Name}); register one.");
            }
        }

        return result;
    }

    private async Task<List<RunRow>> ClaimAsync(int limit, CancellationToken cancellationToken)
    {
        var now = Database.NowMs();
        var claimed = await store.ClaimDueAsync(
            Options.ReplicaId, now, now + (long)Options.LeaseDuration.TotalMilliseconds, limit, cancellationToken);
        // A run of ours whose lease lapsed (a stalled heartbeat) may come back; it is still being processed here.
        claimed.RemoveAll(run => executions.ContainsKey(run.Id));
        return claimed;
    }

    private async Task ExecuteAsync(RunRow run, CancellationToken stopping)
    {
        // Leave the claiming loop at once; the run is processed on the thread pool.
        await Task.Yield();
        using var execution = new RunExecution(this, store, run, stopping);
        if (!executions.TryAdd(run.Id, execution))
        {
            return;
        }

        try
        {
            await execution.RunAsync();
        }
        finally
        {
            executions.TryRemove(run.Id, out _);
        }
    }

    private async Task HeartbeatLoopAsync(CancellationToken stoppingToken)
    {
        var interval = Options.LeaseDuration / 3;
        while (!stoppingToken.IsCancellationRequested)
        {
            await Task.Delay(interval, Database.TimeProvider, stoppingToken);
            foreach (var execution in executions.Values)
            {
                await execution.RenewAsync();
            }
        }
    }

    private List<StepRow> Validate(RunRequest request)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(request.Kind))
        {
            problems.Add("the run kind is empty");
        }

        if (string.IsNullOrWhiteSpace(request.Name))
        {
            problems.Add("the run name is empty");
        }

        if (request.Steps is not { Count: > 0 })
        {
            problems.Add("a run needs at least one step");
        }

        if (request.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            problems.Add($"the run timeout must be positive (got {timeout})");
        }

        CheckJson(request.InputJson, "the run input", problems);
        var steps = new List<StepRow>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var requestSteps = request.Steps ?? [];
        for (var i = 0; i < requestSteps.Count; i++)
        {
            var step = requestSteps[i];
            var label = $"step {i + 1} ('{step.Name}')";
            if (string.IsNullOrWhiteSpace(step.Name))
            {
                problems.Add($"step {i + 1} has no name");
            }
            else if (!names.Add(step.Name))
            {
                problems.Add($"two steps are named '{step.Name}'");
            }

            if (string.IsNullOrWhiteSpace(step.Kind))
            {
                problems.Add($"{label} has no kind");
            }
            else if (FindHandler(step.Kind) is null)
            {
                problems.Add($"{label} has kind '{step.Kind}', for which no step handler is registered");
            }

            if (step.Timeout is { } stepTimeout && stepTimeout <= TimeSpan.Zero)
            {
                problems.Add($"{label}: the timeout must be positive (got {stepTimeout})");
            }

            var retry = step.Retry ?? Options.DefaultRetry;
            problems.AddRange(retry.Validate(label));
            CheckJson(step.InputJson, $"the input of {label}", problems);
            steps.Add(new StepRow
            {
                Position = i,
                Name = step.Name,
                Kind = step.Kind,
                Status = StepStatus.Pending,
                InputJson = step.InputJson,
                DependsOn = step.DependsOn?.ToArray() ?? (i == 0 ? [] : [requestSteps[i - 1].Name]),
                Retry = retry,
                TimeoutMs = step.Timeout is { } t ? (long)t.TotalMilliseconds : null,
            });
        }

        foreach (var step in steps)
        {
            foreach (var dependency in step.DependsOn.Where(d => !names.Contains(d) || d == step.Name))
            {
                problems.Add(dependency == step.Name
                    ? $"step '{step.Name}' depends on itself"
                    : $"step '{step.Name}' depends on '{dependency}', which is not a step of this run");
            }
        }

        if (problems.Count == 0 && HasCycle(steps) is { } cycle)
        {
            problems.Add($"the step dependencies form a cycle through '{cycle}'");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException($"Cannot start run '{request.Name}': {string.Join("; ", problems)}.", nameof(request));
        }

        return steps;
    }

    private static void CheckJson(string? json, string what, List<string> problems)
    {
        if (json is null)
        {
            return;
        }

        try
        {
            using var _ = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            problems.Add($"{what} is not valid JSON ({ex.Message})");
        }
    }

    private static string? HasCycle(List<StepRow> steps)
    {
        var byName = steps.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 visiting, 2 done
        string? Visit(string name)
        {
            if (state.TryGetValue(name, out var s))
            {
                return s == 1 ? name : null;
            }

            state[name] = 1;
            foreach (var dependency in byName[name].DependsOn)
            {
                if (Visit(dependency) is { } found)
                {
                    return found;
                }
            }

            state[name] = 2;
            return null;
        }

        return steps.Select(s => Visit(s.Name)).FirstOrDefault(c => c is not null);
    }
}
