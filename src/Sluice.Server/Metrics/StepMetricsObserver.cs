using Sluice.Engine;

namespace Sluice.Server.Metrics;

/// <summary>
/// Records the duration of every step of a finished run in <c>sluice_step_duration_seconds</c>, so that all flows
/// get step metrics without calling <see cref="SluiceMetrics.RecordStep"/> themselves. Observers are told at least
/// once; a repeat after a crash counts a run's steps twice, which a histogram of durations tolerates.
/// </summary>
internal sealed class StepMetricsObserver(SluiceMetrics metrics) : IRunObserver
{
    public Task OnRunFinishedAsync(RunDetail run, CancellationToken cancellationToken)
    {
        foreach (var step in run.Steps.Where(s => s.StartedAt is not null && s.FinishedAt is not null))
        {
            metrics.RecordStep(step.Kind, step.Status.ToStored(), step.FinishedAt!.Value - step.StartedAt!.Value);
        }

        return Task.CompletedTask;
    }
}
