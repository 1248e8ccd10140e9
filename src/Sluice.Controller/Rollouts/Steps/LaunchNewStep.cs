using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Rollouts.Steps;

/// <summary>
/// launch-new: launches the <c>to</c> version from its template, exactly once. The launch runs inside
/// <see cref="StepContext.EffectAsync{T}"/> with the run's <see cref="LaunchIdentity"/> as job labels: if the controller
/// dies between Dataflow's answer and the record of it, the next call finds the job by name and labels instead of
/// launching a second one.
/// </summary>
public sealed class LaunchNewStep(RolloutStepServices services) : RolloutStepHandler(services)
{
    protected override string StepName => RolloutSteps.LaunchNew;

    protected override async Task<StepOutcome> ExecuteAsync(RolloutStepCall call, CancellationToken cancellationToken)
    {
        if (StopOldStep.UpdateWasAccepted(call))
        {
            return StepOutcome.Skipped("the in-place update was accepted: its job is the new job");
        }

        var current = call.Context.GetOutput<CurrentJobs>(RolloutSteps.CheckCurrent)
            ?? throw new InvalidOperationException("check-current left no output.");
        if (current.KeepJobId is { } keep)
        {
            return StepOutcome.Skipped($"version {call.Input.Spec.To.Version} still runs as job {keep}; nothing to launch");
        }

        var spec = call.Input.Spec;
        var revision = await Registry.GetRevisionByRunAsync(call.RunId, cancellationToken)
            ?? throw new InvalidOperationException($"Run {call.RunId} has no revision in the pipeline registry.");
        var jobName = spec.To.JobName;
        var isRolling = call.Input.Kind == RolloutRunKinds.Rollout && spec.Strategy == RolloutStrategy.Rolling;
        if (isRolling && current.Running.Any(j => j.JobName == jobName))
        {
            // Dataflow allows one active job per name, and rolling keeps the old job running beside the new one.
            jobName = $"{jobName}-r{revision.Revision}";
            await call.LogAsync($"Job name {spec.To.JobName} is taken by the job that keeps running; the new job is named {jobName}.", cancellationToken);
        }

        var identity = new LaunchIdentity(spec.Pipeline, call.RunId, StepName);
        var launched = await call.Context.EffectAsync(
            $"launch:{jobName}",
            async ct => await call.Dataflow.FindLaunchedJobAsync(identity, jobName, ct) is { } found ? LaunchedJob.From(found) : null,
            async ct =>
            {
                var job = await JobLaunches.LaunchAsync(call.Dataflow, spec.To, jobName, identity, update: false, validateOnly: false, ct)
                    ?? throw new InvalidOperationException("Dataflow answered the launch without a job.");
                return LaunchedJob.From(job);
            },
            cancellationToken);

        // Unless rolling, the old job is gone: the new one carries the pipeline now, validated or not. A rolling
        // rollout switches only once the new job is validated and the old one stopped.
        await Registry.RecordJobAsync(
            new PipelineJob
            {
                JobId = launched.JobId, Pipeline = spec.Pipeline, JobName = launched.JobName, Revision = revision.Revision, RunId = call.RunId,
                Version = spec.To.Version, JobType = launched.JobType, CreatedAt = call.Now,
            },
            cancellationToken,
            makeCurrent: !isRolling);

        await call.LogAsync(
            $"Launched version {spec.To.Version} as job {launched.JobName} ({launched.JobId}) from {spec.To.Template.GcsPath}.", cancellationToken);
        return StepOutcome.SucceededWith(launched);
    }
}
