using System.Collections.Concurrent;
using Sluice.Controller;
using Sluice.Manifests;

namespace Sluice.Controller.Tests.Intake;

/// <summary>
/// A flow double that records every call of the dispatch interfaces. Like the engine, it starts one run per
/// idempotency key: a second call with a key it has seen returns the first run id.
/// </summary>
internal sealed class RecordingFlows : IRolloutStarter, IScheduleRegistrar
{
    private readonly ConcurrentDictionary<string, long> _runsByKey = new(StringComparer.Ordinal);
    private long _nextRunId;

    public ConcurrentQueue<FlowCall> Calls { get; } = new();

    public ConcurrentDictionary<string, ScheduleManifest> Schedules { get; } = new(StringComparer.Ordinal);

    /// <summary>Makes the next calls fail: return an exception to throw for a manifest name, or null to go on.</summary>
    public Func<string, Exception?>? Fault { get; set; }

    /// <summary>Called at the start of every rollout start (benchmarks take the time here).</summary>
    public Action<RolloutManifest, string>? OnStart { get; set; }

    public IReadOnlyDictionary<string, long> RunsByKey => _runsByKey;

    public Task<long> StartAsync(RolloutManifest manifest, string idempotencyKey, string source, CancellationToken cancellationToken)
    {
        OnStart?.Invoke(manifest, idempotencyKey);
        Throw(manifest.Metadata.Name);
        Calls.Enqueue(new FlowCall("start", manifest.Metadata.Name, manifest.Spec.Pipeline, idempotencyKey, source));
        return Task.FromResult(_runsByKey.GetOrAdd(idempotencyKey, _ => Interlocked.Increment(ref _nextRunId)));
    }

    public Task RegisterAsync(ScheduleManifest manifest, string source, CancellationToken cancellationToken)
    {
        Throw(manifest.Metadata.Name);
        Calls.Enqueue(new FlowCall("register", manifest.Metadata.Name, manifest.Spec.DagId, null, source));
        Schedules[manifest.Spec.DagId] = manifest;
        return Task.CompletedTask;
    }

    public Task<bool> UnscheduleAsync(string dagId, bool cancelRunning, CancellationToken cancellationToken)
    {
        Calls.Enqueue(new FlowCall("unschedule", "", dagId, null, cancelRunning ? "cancel" : null));
        return Task.FromResult(Schedules.TryRemove(dagId, out _));
    }

    public IReadOnlyList<FlowCall> CallsOf(string what) => Calls.Where(c => c.What == what).ToArray();

    private void Throw(string name)
    {
        if (Fault?.Invoke(name) is { } exception)
        {
            throw exception;
        }
    }
}

internal sealed record FlowCall(string What, string Name, string Target, string? Key, string? Source);
