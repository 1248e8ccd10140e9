using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;
using Sluice.Manifests.Values;

namespace Sluice.Controller.Rollouts.Steps;

/// <summary>
/// update-in-place (strategy update): launches the <c>to</c> version with <c>update: true</c> under the running job's
/// name, exactly once, then waits until the old job is UPDATED and the new one RUNNING. When Dataflow refuses (no job
/// to update, an incompatible graph: the new job fails while the old keeps running) the manifest decides: fail, or
/// fall back to a restart, which the steps after this one then perform.
/// </summary>
public sealed class UpdateInPlaceStep(RolloutStepServices services) : RolloutStepHandler(services)
{
    protected override string StepName => RolloutSteps.UpdateInPlace;

    protected override async Task<StepOutcome> ExecuteAsync(RolloutStepCall call, CancellationToken cancellationToken)
    {
        var spec = call.Input.Spec;
        var current = call.Context.GetOutput<CurrentJobs>(RolloutSteps.CheckCurrent)
            ?? throw new InvalidOperationException("check-current left no output.");
        var old = current.Running.FirstOrDefault(j => j.JobId == current.UpdateJobId);
        if (old is null)
        {
            return await RefuseAsync(call, $"no job of pipeline {spec.Pipeline} is RUNNING, so there is nothing to update in place", cancellationToken);
        }

        var data = call.Context.GetData<UpdateData>() ?? new UpdateData();
        var now = call.Now;
        if (data.NewJobId is null)
        {
            if (spec.To.JobName != old.JobName)
            {
                await call.LogAsync($"An in-place update keeps the job name: the new job is named {old.JobName}, not {spec.To.JobName}.", cancellationToken);
            }

            var revision = await Registry.GetRevisionByRunAsync(call.RunId, cancellationToken)
                ?? throw new InvalidOperationException($"Run {call.RunId} has no revision in the pipeline registry.");
            var identity = new LaunchIdentity(spec.Pipeline, call.RunId, StepName);
            LaunchedJob launched;
            try
            {
                launched = await call.Context.EffectAsync(
                    $"update:{old.JobName}",
                    async ct => await call.Dataflow.FindLaunchedJobAsync(identity, old.JobName, ct) is { } found ? LaunchedJob.From(found) : null,
                    async ct =>
                    {
                        var job = await JobLaunches.LaunchAsync(call.Dataflow, spec.To, old.JobName, identity, update: true, validateOnly: false, ct)
                            ?? throw new InvalidOperationException("Dataflow answered the update without a job.");
                        return LaunchedJob.From(job);
                    },
                    cancellationToken);
            }
            catch (DataflowApiException e) when (!e.IsTransient)
            {
                return await RefuseAsync(call, DataflowErrors.Describe(e).TrimEnd('.'), cancellationToken);
            }

            await Registry.RecordJobAsync(
                new PipelineJob
                {
                    JobId = launched.JobId, Pipeline = spec.Pipeline, JobName = launched.JobName, Revision = revision.Revision, RunId = call.RunId,
                    Version = spec.To.Version, JobType = launched.JobType, CreatedAt = now,
                },
                cancellationToken);
            await call.LogAsync($"Dataflow accepted the update of job {old.JobName} ({old.JobId}); the new job is {launched.JobId}.", cancellationToken);
            data = new UpdateData { NewJobId = launched.JobId, NewJobName = launched.JobName, NewJobType = launched.JobType, StartedAt = now };
        }

        var newJob = await call.Dataflow.GetJobAsync(data.NewJobId, cancellationToken: cancellationToken);
        var oldJob = await call.Dataflow.GetJobAsync(old.JobId, cancellationToken: cancellationToken);
        await Registry.UpdateJobStateAsync(newJob.Id ?? data.NewJobId, newJob.State.ToWireName(), null, cancellationToken);
        await Registry.UpdateJobStateAsync(old.JobId, oldJob.State.ToWireName(), null, cancellationToken);

        if (newJob.State.IsTerminal() && oldJob.State.IsActive())
        {
            var cause = await LastErrorAsync(call, data.NewJobId, cancellationToken);
            return await RefuseAsync(
                call,
                $"the new job {data.NewJobId} ended {newJob.State.ToWireName()} while job {old.JobId} kept running" + (cause is null ? "" : $" ({cause.TrimEnd('.', ' ')})"),
                cancellationToken);
        }

        if (newJob.State == JobState.Running && oldJob.State == JobState.Updated)
        {
            var revision = await Registry.GetRevisionByRunAsync(call.RunId, cancellationToken);
            await Registry.SetCurrentJobAsync(spec.Pipeline, revision?.Revision, spec.To.Version, data.NewJobId, data.NewJobName ?? old.JobName,
                newJob.State.ToWireName(), cancellationToken);
            await call.LogAsync($"Job {old.JobId} is JOB_STATE_UPDATED and job {data.NewJobId} is JOB_STATE_RUNNING.", cancellationToken);
            return StepOutcome.SucceededWith(new UpdateResult(false, null, new LaunchedJob(data.NewJobId, data.NewJobName ?? old.JobName, data.NewJobType), old.JobId));
        }

        if (newJob.State.IsTerminal())
        {
            return StepOutcome.Failed(
                $"The in-place update failed: the new job {data.NewJobId} ended {newJob.State.ToWireName()} and the old job {old.JobId} is {oldJob.State.ToWireName()}.");
        }

        var deadline = (data.StartedAt ?? now) + spec.Validation.Timeout;
        if (now >= deadline)
        {
            return StepOutcome.Failed(
                $"The in-place update did not finish within {Durations.Format(spec.Validation.Timeout)}: the old job {old.JobId} is " +
                $"{oldJob.State.ToWireName()} and the new job {data.NewJobId} is {newJob.State.ToWireName()}.");
        }

        call.Context.SetData(data);
        var next = now + Options.PollInterval;
        return StepOutcome.WaitUntil(next < deadline ? next : deadline);
    }

    private static async Task<StepOutcome> RefuseAsync(RolloutStepCall call, string reason, CancellationToken cancellationToken)
    {
        if (call.Input.Spec.OnUpdateRefused == UpdateRefusedAction.Fail)
        {
            return StepOutcome.Failed($"Dataflow refused the in-place update: {reason}. Set onUpdateRefused: restart to fall back to a restart.");
        }

        await call.LogAsync($"Dataflow refused the in-place update: {reason}. onUpdateRefused is restart: falling back to a restart.", cancellationToken);
        return StepOutcome.SucceededWith(new UpdateResult(true, reason, null, null));
    }

    internal static async Task<string?> LastErrorAsync(RolloutStepCall call, string jobId, CancellationToken cancellationToken)
    {
        var messages = await call.Dataflow.ListAllJobMessagesAsync(
            jobId, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Error }, cancellationToken);
        return messages.JobMessages?.LastOrDefault()?.MessageText;
    }

    /// <summary>Kept between checks: the job the update launched.</summary>
    public sealed class UpdateData
    {
        public string? NewJobId { get; init; }

        public string? NewJobName { get; init; }

        public string? NewJobType { get; init; }

        public DateTimeOffset? StartedAt { get; init; }
    }
}
