using Prometheus;

namespace Sluice.Server.Metrics;

/// <summary>
/// The product's Prometheus metrics, served at <c>/metrics</c>. One instance per server (a singleton in DI) with its
/// own registry, so that several servers in one test process do not share counters. The flows call the Record methods.
/// </summary>
public sealed class SluiceMetrics
{
    private static readonly double[] DurationBuckets = [0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600];
    private static readonly double[] LagBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

    private readonly Counter _rollouts;
    private readonly Histogram _stepDuration;
    private readonly Histogram _schedulerLag;
    private readonly Histogram _eventIntakeLag;
    private readonly Counter _events;
    private readonly Counter _runnerErrors;

    public SluiceMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _rollouts = factory.CreateCounter(
            "sluice_rollouts_total", "Finished rollouts by pipeline-independent outcome.", ["outcome"]);
        _stepDuration = factory.CreateHistogram(
            "sluice_step_duration_seconds", "Duration of finished workflow steps by step kind and outcome.",
            new HistogramConfiguration { LabelNames = ["kind", "outcome"], Buckets = DurationBuckets });
        _schedulerLag = factory.CreateHistogram(
            "sluice_scheduler_lag_seconds", "Delay between a schedule slot being due and its run starting.",
            new HistogramConfiguration { Buckets = LagBuckets });
        _eventIntakeLag = factory.CreateHistogram(
            "sluice_event_intake_lag_seconds", "Delay between a bucket object being written and Sluice recording its event.",
            new HistogramConfiguration { LabelNames = ["source"], Buckets = LagBuckets });
        _events = factory.CreateCounter(
            "sluice_events_total", "Bucket events recorded by source and outcome (accepted, rejected, duplicate, ignored).", ["source", "outcome"]);
        _runnerErrors = factory.CreateCounter(
            "sluice_runner_api_errors_total", "Failed calls to the Dataflow API (or the emulator) by operation and HTTP status.", ["operation", "status"]);
    }

    /// <summary>The registry <c>/metrics</c> exports.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>A rollout finished: outcome is succeeded, failed, rolled_back or cancelled.</summary>
    public void RecordRollout(string outcome) => _rollouts.WithLabels(outcome).Inc();

    /// <summary>A workflow step finished: kind is the step kind (launch, stop, validate…), outcome its final state.</summary>
    public void RecordStep(string kind, string outcome, TimeSpan duration) =>
        _stepDuration.WithLabels(kind, outcome).Observe(Math.Max(0, duration.TotalSeconds));

    /// <summary>A slot run started <paramref name="lag"/> after its slot was due.</summary>
    public void RecordSchedulerLag(TimeSpan lag) => _schedulerLag.Observe(Math.Max(0, lag.TotalSeconds));

    /// <summary>A bucket event was recorded: source (local, gcs, pubsub, eventarc, api), outcome, and the delay since the object was written.</summary>
    public void RecordEvent(string source, string outcome, TimeSpan lag)
    {
        _events.WithLabels(source, outcome).Inc();
        _eventIntakeLag.WithLabels(source).Observe(Math.Max(0, lag.TotalSeconds));
    }

    /// <summary>A call to the Dataflow API failed: operation (launch, get, list, update, messages, metrics) and HTTP status (or "network").</summary>
    public void RecordRunnerError(string operation, string status) => _runnerErrors.WithLabels(operation, status).Inc();
}
