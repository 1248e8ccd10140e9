using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Rollouts.Steps;

/// <summary>
/// stop-old: asks Dataflow to stop the pipeline's old jobs, once each: drain for a streaming job when the manifest
/// says drain, cancel otherwise (a batch job cannot be drained). Waiting for the stop is wait-terminal's work.
/// </summary>
public sealed class StopOldStep(RolloutStepServices services) : RolloutStepHandler(services)
{
    public const string Drain = "drain";
    public const string Cancel = "cancel";

    protected override string StepName => RolloutSteps.StopOld;

    protected override async Task<StepOutcome> ExecuteAsync(RolloutStepCall call, CancellationToken cancellationToken)
    {
        var spec = call.Input.Spec;
        if (UpdateWasAccepted(call))
        {
            return StepOutcome.Skipped("the in-place update was accepted: Dataflow replaced the old job itself");
        }

        var current = call.Context.GetOutput<CurrentJobs>(RolloutSteps.CheckCurrent)
            ?? throw new InvalidOperationException("check-current left no output.");
        var jobs = current.ToStop.ToList();
        if (jobs.Count == 0)
        {
            return StepOutcome.Skipped(current.KeepJobId is null ? "nothing runs that needs stopping" : "only the kept job runs");
        }

        var requests = new List<StopRequest>();
        foreach (var job in jobs)
        {
            var mode = spec.Stop.Mode == StopMode.Drain && !job.IsBatch ? Drain : Cancel;
            if (spec.Stop.Mode == StopMode.Drain && job.IsBatch)
            {
                await call.LogAsync($"Job {job.JobName} is a batch job, which Dataflow cannot drain; cancelling it.", cancellationToken);
            }

            var effect = await call.Context.EffectAsync(
                $"{mode}:{job.JobId}",
                ct => LookupStopAsync(call, job.JobId, mode, ct),
                ct => RequestStopAsync(call, job.JobId, mode, ct),
                cancellationToken);
            await Registry.UpdateJobStateAsync(job.JobId, effect.State, null, cancellationToken);
            await call.LogAsync($"Requested {mode} of job {job.JobName} ({job.JobId}); it is {effect.State}.", cancellationToken);
            requests.Add(new StopRequest(job.JobId, job.JobName, mode, effect.RequestedAt));
        }

        return StepOutcome.SucceededWith(new StopRequests(requests));
    }

    /// <summary>Strategy update: the fallback steps run only when the update was refused.</summary>
    internal static bool UpdateWasAccepted(RolloutStepCall call) =>
        call.Input.Kind == RolloutRunKinds.Rollout && call.Input.Spec.Strategy == RolloutStrategy.Update
        && call.Context.GetOutput<UpdateResult>(RolloutSteps.UpdateInPlace) is not { Refused: true };

    /// <summary>After a crash between the request and its record: the job shows whether the stop was asked for.</summary>
    private static async Task<StopEffect?> LookupStopAsync(RolloutStepCall call, string jobId, string mode, CancellationToken ct)
    {
        var job = await call.Dataflow.GetJobAsync(jobId, cancellationToken: ct);
        var asked = mode == Drain
            ? job.RequestedState is JobState.Drained or JobState.Draining or JobState.Cancelled || job.State is JobState.Draining or JobState.Cancelling
            : job.RequestedState == JobState.Cancelled || job.State == JobState.Cancelling;
        return asked || job.State.IsTerminal()
            ? new StopEffect(job.State.ToWireName(), job.CurrentStateTime ?? call.Now)
            : null;
    }

    internal static async Task<StopEffect> RequestStopAsync(RolloutStepCall call, string jobId, string mode, CancellationToken ct)
    {
        var requestedAt = call.Now;
        try
        {
            var job = mode == Drain
                ? await call.Dataflow.DrainJobAsync(jobId, ct)
                : await call.Dataflow.CancelJobAsync(jobId, ct);
            return new StopEffect(job.State.ToWireName(), requestedAt);
        }
        catch (DataflowApiException e) when (e.IsJobTerminated)
        {
            // The job ended on its own (it failed, say) between check-current and now: stopped is what we wanted.
            var ended = await call.Dataflow.GetJobAsync(jobId, cancellationToken: ct);
            return new StopEffect(ended.State.ToWireName(), requestedAt);
        }
    }
}

/// <summary>The recorded result of a stop request.</summary>
public sealed record StopEffect(string State, DateTimeOffset RequestedAt);
