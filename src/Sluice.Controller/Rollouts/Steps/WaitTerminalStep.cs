using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests.Values;

namespace Sluice.Controller.Rollouts.Steps;

/// <summary>
/// wait-terminal: a sensor that waits until every stopped job is terminal. A drain that does not finish within the
/// manifest's stop timeout falls back to a cancel; a cancel that does not finish within the flow's cancel timeout
/// fails the rollout (Dataflow is stuck; a person has to look).
/// </summary>
public sealed class WaitTerminalStep(RolloutStepServices services) : RolloutStepHandler(services)
{
    protected override string StepName => RolloutSteps.WaitTerminal;

    protected override async Task<StepOutcome> ExecuteAsync(RolloutStepCall call, CancellationToken cancellationToken)
    {
        if (StopOldStep.UpdateWasAccepted(call))
        {
            return StepOutcome.Skipped("the in-place update was accepted: there is no old job to wait for");
        }

        var stops = call.Context.GetOutput<StopRequests>(RolloutSteps.StopOld);
        if (stops is null || stops.Jobs.Count == 0)
        {
            return StepOutcome.Skipped("no job was stopped");
        }

        var spec = call.Input.Spec;
        var data = call.Context.GetData<WaitData>() ?? new WaitData();
        var now = call.Now;
        var nextCheck = now + Options.PollInterval;
        var finalStates = new List<string>();
        var pending = 0;
        foreach (var stop in stops.Jobs)
        {
            var job = await call.Dataflow.GetJobAsync(stop.JobId, cancellationToken: cancellationToken);
            var state = job.State.ToWireName();
            if (!data.LastStates.TryGetValue(stop.JobId, out var last) || last != state)
            {
                data.LastStates[stop.JobId] = state;
                await Registry.UpdateJobStateAsync(stop.JobId, state, null, cancellationToken);
                await call.LogAsync($"Job {stop.JobName} ({stop.JobId}) is {state}.", cancellationToken);
            }

            if (job.State.IsTerminal())
            {
                finalStates.Add($"{stop.JobName} {state}");
                continue;
            }

            pending++;
            DateTimeOffset cancelSince;
            if (stop.Mode == StopOldStep.Drain && !data.CancelledAt.ContainsKey(stop.JobId))
            {
                var drainDeadline = stop.RequestedAt + spec.Stop.Timeout;
                if (now < drainDeadline)
                {
                    nextCheck = Min(nextCheck, drainDeadline);
                    continue;
                }

                await call.LogAsync(
                    $"The drain of job {stop.JobName} did not finish within {Durations.Format(spec.Stop.Timeout)}; cancelling it.", cancellationToken);
                var effect = await call.Context.EffectAsync(
                    $"cancel:{stop.JobId}",
                    async ct =>
                    {
                        var seen = await call.Dataflow.GetJobAsync(stop.JobId, cancellationToken: ct);
                        return seen.RequestedState == JobState.Cancelled || seen.State is JobState.Cancelling || seen.State.IsTerminal()
                            ? new StopEffect(seen.State.ToWireName(), seen.CurrentStateTime ?? call.Now)
                            : null;
                    },
                    ct => StopOldStep.RequestStopAsync(call, stop.JobId, StopOldStep.Cancel, ct),
                    cancellationToken);
                data.CancelledAt[stop.JobId] = effect.RequestedAt;
                cancelSince = effect.RequestedAt;
            }
            else
            {
                cancelSince = data.CancelledAt.TryGetValue(stop.JobId, out var at) ? at : stop.RequestedAt;
            }

            var cancelDeadline = cancelSince + Options.CancelTimeout;
            if (now >= cancelDeadline)
            {
                return StepOutcome.Failed(
                    $"Job {stop.JobName} ({stop.JobId}) is still {state} {Durations.Format(Options.CancelTimeout)} after it was cancelled; " +
                    "check the job in Dataflow and stop it by hand, then apply the rollout again.");
            }

            nextCheck = Min(nextCheck, cancelDeadline);
        }

        if (pending == 0)
        {
            return StepOutcome.SucceededWith(finalStates);
        }

        call.Context.SetData(data);
        return StepOutcome.WaitUntil(nextCheck);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>Kept between checks: when each drain fell back to a cancel, and the state last logged.</summary>
    public sealed class WaitData
    {
        public Dictionary<string, DateTimeOffset> CancelledAt { get; init; } = [];

        public Dictionary<string, string> LastStates { get; init; } = [];
    }
}
