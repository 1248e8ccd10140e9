using Sluice.Controller.Intake;
using Sluice.Server.Metrics;

namespace Sluice.Server.Intake;

/// <summary>Counts handled events by source and outcome, with the lag from the object's write to Sluice taking it in.</summary>
internal sealed class IntakeMetricsListener(SluiceMetrics metrics) : IIntakeListener
{
    public void OnEventCompleted(IntakeEvent intakeEvent)
    {
        var lag = intakeEvent.ObjectUpdatedAt is { } written && intakeEvent.Change == ObjectChange.Finalized
            ? intakeEvent.ReceivedAt - written
            : TimeSpan.Zero;
        metrics.RecordEvent(intakeEvent.Source, intakeEvent.State.ToStored(), lag);
    }
}
