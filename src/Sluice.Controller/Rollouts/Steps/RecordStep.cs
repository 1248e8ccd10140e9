using Sluice.Dataflow;
using Sluice.Engine;

namespace Sluice.Controller.Rollouts.Steps;

/// <summary>record: the validated job becomes the pipeline's current job and its revision the stable one.</summary>
public sealed class RecordStep(RolloutStepServices services) : RolloutStepHandler(services)
{
    protected override string StepName => RolloutSteps.Record;

    protected override async Task<StepOutcome> ExecuteAsync(RolloutStepCall call, CancellationToken cancellationToken)
    {
        var target = NewJob.Of(call);
        var job = await call.Dataflow.GetJobAsync(target.JobId, cancellationToken: cancellationToken);
        var revision = await Registry.MarkStableAsync(call.RunId, target.JobId, target.JobName, job.State.ToWireName(), cancellationToken);
        await call.LogAsync(
            $"Pipeline {call.Pipeline} runs version {call.Input.Spec.To.Version} (revision {revision}) as job {target.JobName} ({target.JobId}).",
            cancellationToken);
        return StepOutcome.SucceededWith(new { jobId = target.JobId, jobName = target.JobName, revision, version = call.Input.Spec.To.Version });
    }
}
