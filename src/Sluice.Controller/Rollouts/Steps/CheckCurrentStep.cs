using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Rollouts.Steps;

/// <summary>
/// check-current: finds the pipeline's active jobs (those Sluice launched, and a job named like <c>from</c> that it did
/// not launch) and checks that what runs matches <c>from</c>. Nothing running is fine. A mismatch stops the rollout
/// unless the manifest says <c>onMismatch: proceed</c>. Touches nothing in Dataflow.
/// </summary>
public sealed class CheckCurrentStep(RolloutStepServices services) : RolloutStepHandler(services)
{
    protected override string StepName => RolloutSteps.CheckCurrent;

    protected override async Task<StepOutcome> ExecuteAsync(RolloutStepCall call, CancellationToken cancellationToken)
    {
        var spec = call.Input.Spec;
        // The revision is normally recorded when the run is started; a crash in between leaves it to this step.
        if (!await Registry.MarkStartedAsync(call.RunId, cancellationToken)
            && await Registry.GetRevisionByRunAsync(call.RunId, cancellationToken) is null)
        {
            await Registry.AddRevisionAsync(RolloutService.ToNewRevision(call.Input, call.RunId), cancellationToken);
            await Registry.MarkStartedAsync(call.RunId, cancellationToken);
        }

        var running = await FindRunningJobsAsync(call, cancellationToken);
        if (call.IsRollback)
        {
            var keep = running.FirstOrDefault(j => j.Version == spec.To.Version && j.State == JobState.Running.ToWireName());
            if (keep is not null)
            {
                await call.LogAsync($"Version {spec.To.Version} still runs as job {keep}; keeping it.", cancellationToken);
            }

            await LogRunningAsync(call, running, keep, cancellationToken);
            return StepOutcome.SucceededWith(new CurrentJobs(running, keep?.JobId, null));
        }

        var from = spec.From;
        string? mismatch = null;
        if (running.Count == 0)
        {
            await call.LogAsync(
                from is null
                    ? $"Nothing runs for pipeline {spec.Pipeline}: first deploy."
                    : $"Nothing runs for pipeline {spec.Pipeline} (from says {from.Version}); continuing as a first deploy.",
                cancellationToken);
        }
        else if (from is null)
        {
            mismatch = $"pipeline {spec.Pipeline} already runs {Describe(running)}, but the manifest has no from";
        }
        else if (!running.Any(j => Matches(j, from)))
        {
            mismatch = $"pipeline {spec.Pipeline} runs {Describe(running)}, not version {from.Version} as from says";
        }
        else
        {
            await call.LogAsync($"Pipeline {spec.Pipeline} runs {Describe(running)}, as from says.", cancellationToken);
        }

        if (mismatch is not null)
        {
            if (spec.OnMismatch == MismatchAction.Stop)
            {
                return StepOutcome.Failed($"Mismatch: {mismatch}; correct from, or set onMismatch: proceed to roll out anyway.");
            }

            await call.LogAsync($"Mismatch: {mismatch}; onMismatch is proceed, so the rollout continues.", cancellationToken);
        }

        string? updateJobId = null;
        if (spec.Strategy == RolloutStrategy.Update)
        {
            var target = running.Where(j => j.State == JobState.Running.ToWireName())
                .OrderByDescending(j => from is not null && Matches(j, from))
                .FirstOrDefault();
            updateJobId = target?.JobId;
        }

        return StepOutcome.SucceededWith(new CurrentJobs(running, null, updateJobId));
    }

    /// <summary>A job matches <c>from</c> by its recorded version, or by name when Sluice did not launch it.</summary>
    private static bool Matches(ObservedJob job, VersionSpec from) =>
        job.Version is not null ? job.Version == from.Version : job.JobName == from.JobName;

    private static string Describe(IReadOnlyList<ObservedJob> jobs) =>
        string.Join(" and ", jobs.Select(j => (j.Version is null ? "an unknown version" : "version " + j.Version) + $" (job {j.JobName}, {j.JobId})"));

    private static async Task LogRunningAsync(RolloutStepCall call, IReadOnlyList<ObservedJob> running, ObservedJob? keep, CancellationToken ct)
    {
        var stop = running.Where(j => j != keep).ToList();
        await call.LogAsync(
            stop.Count == 0 ? "No other job of the pipeline runs." : $"To stop: {string.Join(", ", stop)}.", ct);
    }

    private async Task<IReadOnlyList<ObservedJob>> FindRunningJobsAsync(RolloutStepCall call, CancellationToken cancellationToken)
    {
        var spec = call.Input.Spec;
        var running = new List<ObservedJob>();
        foreach (var known in await Registry.ListLiveJobsAsync(spec.Pipeline, cancellationToken))
        {
            Job job;
            try
            {
                job = await call.Dataflow.GetJobAsync(known.JobId, cancellationToken: cancellationToken);
            }
            catch (DataflowApiException e) when (e.IsNotFound)
            {
                await call.LogAsync($"Job {known.JobName} ({known.JobId}) is unknown to Dataflow; forgetting it.", cancellationToken);
                await Registry.UpdateJobStateAsync(known.JobId, PipelineRegistry.NotFoundState, null, cancellationToken);
                continue;
            }

            var observed = ObservedJob.From(job, known.Version);
            await Registry.UpdateJobStateAsync(known.JobId, observed.State, observed.JobType, cancellationToken);
            if (job.State.IsActive())
            {
                running.Add(observed);
            }
        }

        // A job Sluice did not launch (deployed before Sluice, or by hand) is found by the name that from gives it.
        if (spec.From is { } from && running.All(j => j.JobName != from.JobName))
        {
            await foreach (var job in call.Dataflow.ListAllJobsAsync(JobListFilter.Active, from.JobName, cancellationToken))
            {
                if (job.Name != from.JobName || !job.State.IsActive() || job.Id is null || running.Any(j => j.JobId == job.Id))
                {
                    continue;
                }

                var observed = ObservedJob.From(job, version: null);
                await Registry.RecordJobAsync(
                    new PipelineJob
                    {
                        JobId = observed.JobId, Pipeline = spec.Pipeline, JobName = observed.JobName, JobType = observed.JobType,
                        LastState = observed.State, CreatedAt = call.Now,
                    },
                    cancellationToken);
                await call.LogAsync($"Found job {observed} that Sluice did not launch; it counts as the pipeline's current job.", cancellationToken);
                running.Add(observed);
            }
        }

        return running;
    }
}
