using System.Globalization;
using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;
using Sluice.Manifests.Templating;

namespace Sluice.Controller.Schedules;

/// <summary>
/// Step 1 of a slot run: renders the job from the schedule's current spec and the slot's macros, so that a spec
/// changed before the slot started applies to it, and keeps it as the step's output so that every later attempt
/// launches the same job. Reads only: the launch step records the outcome in the slot, in one write with the job.
/// </summary>
public sealed class SlotRenderStep(IDatabase database) : IStepHandler
{
    public const string StepKind = "schedule-render";

    private readonly ScheduleStore store = new(database);

    public string Kind => StepKind;

    public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        var input = context.GetInput<SlotRunInput>();
        var schedule = await store.GetScheduleAsync(input.DagId, cancellationToken);
        if (schedule is null)
        {
            return StepOutcome.Failed($"The schedule '{input.DagId}' does not exist, so its slot cannot be rendered.");
        }

        var spec = schedule.Spec;
        var slot = input.ToSlot();
        RenderedJob rendered;
        try
        {
            rendered = spec.Job.Render(SlotContext.For(spec, slot, SlotRuns.AirflowRunId(input.Trigger, input.LogicalDate)));
        }
        catch (FormatException ex)
        {
            return StepOutcome.Failed($"The job of schedule '{input.DagId}' could not be rendered for {slot}: {ex.Message}");
        }

        var job = new SlotJob
        {
            DagId = input.DagId,
            Project = spec.Project,
            Region = spec.Region,
            JobName = SlotJobs.NameForSlot(spec.Job.JobName, rendered.JobName, input.LogicalDate),
            Template = rendered.Template,
            Environment = rendered.Environment,
            Parameters = rendered.Parameters,
            MaxAttempts = 1 + Math.Max(0, spec.Retries.Count),
            Retries = spec.Retries,
            Timeout = spec.Job.Timeout,
            SpecVersion = schedule.SpecVersion,
        };
        return StepOutcome.SucceededWith(job);
    }
}

/// <summary>Step 2 of a slot run: launches the first attempt of the job, exactly once.</summary>
public sealed class SlotLaunchStep(IDatabase database, IDataflowClients clients) : IStepHandler
{
    public const string StepKind = "schedule-launch";

    private readonly ScheduleStore store = new(database);

    public string Kind => StepKind;

    public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        var input = context.GetInput<SlotRunInput>();
        var job = context.GetOutput<SlotJob>(SlotRuns.RenderStep)
            ?? throw new InvalidOperationException("The render step left no job to launch.");
        var dataflow = clients.For(job.Project, job.Region);
        try
        {
            var attempt = await SlotLaunching.LaunchAttemptAsync(context, dataflow, job, 1, cancellationToken);
            await store.MarkLaunchedAsync(
                input.DagId, DbTime.ToUnixMs(input.LogicalDate), input.Generation, context.Run.Id, attempt.JobId, attempt.JobName, cancellationToken);
            await context.LogAsync(
                $"Launched job {attempt.JobName} ({attempt.JobId}) from {job.Template.GcsPath} for slot {input.ToSlot()} " +
                $"(spec version {job.SpecVersion.ToString(CultureInfo.InvariantCulture)})",
                cancellationToken);
            return StepOutcome.SucceededWith(attempt);
        }
        catch (DataflowApiException ex) when (!ex.IsTransient)
        {
            return StepOutcome.Failed($"Dataflow refused to launch job {job.JobName}: {ex.Message}");
        }
    }
}

/// <summary>
/// Step 3 of a slot run: checks the job until it is DONE, without holding a thread. A FAILED job is relaunched after the
/// retry delay as a new attempt with its own name, until the manifest's retries are used up; then the slot fails.
/// </summary>
public sealed class SlotWaitStep(IDatabase database, IDataflowClients clients, ScheduleOptions options) : IStepHandler
{
    public const string StepKind = "schedule-wait";

    private readonly ScheduleStore store = new(database);

    public string Kind => StepKind;

    /// <summary>What the step keeps between checks.</summary>
    public sealed record WaitData(SlotJobAttempt Current, DateTimeOffset? RetryAt, string? LastState);

    public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        var input = context.GetInput<SlotRunInput>();
        var job = context.GetOutput<SlotJob>(SlotRuns.RenderStep)
            ?? throw new InvalidOperationException("The render step left no job.");
        var dataflow = clients.For(job.Project, job.Region);
        var data = context.GetData<WaitData>();
        if (data is null)
        {
            // Just launched: no Dataflow job is done the moment it is created, so the first look is one poll interval
            // later. This also keeps the store free for other slots' launches when many fall due together.
            context.SetData(new WaitData(
                context.GetOutput<SlotJobAttempt>(SlotRuns.LaunchStep) ?? throw new InvalidOperationException("The launch step left no job."), null, null));
            return StepOutcome.Wait(options.JobPollInterval);
        }

        var logical = DbTime.ToUnixMs(input.LogicalDate);
        var now = context.TimeProvider.GetUtcNow();

        if (data.RetryAt is { } retryAt)
        {
            if (now < retryAt)
            {
                return StepOutcome.WaitUntil(retryAt);
            }

            var next = data.Current.Attempt + 1;
            SlotJobAttempt relaunched;
            try
            {
                relaunched = await SlotLaunching.LaunchAttemptAsync(context, dataflow, job, next, cancellationToken);
            }
            catch (DataflowApiException ex) when (!ex.IsTransient)
            {
                return StepOutcome.Failed($"Dataflow refused to relaunch job {SlotJobs.NameForAttempt(job.JobName, next)} (attempt {next} of {job.MaxAttempts}): {ex.Message}");
            }

            await store.UpdateJobAsync(input.DagId, logical, input.Generation, next, relaunched.JobId, relaunched.JobName, null, cancellationToken);
            await context.LogAsync($"Attempt {next} of {job.MaxAttempts}: launched job {relaunched.JobName} ({relaunched.JobId})", cancellationToken);
            context.SetData(new WaitData(relaunched, null, null));
            return StepOutcome.Wait(options.JobPollInterval);
        }

        Job current;
        try
        {
            current = await dataflow.GetJobAsync(data.Current.JobId, JobView.Summary, cancellationToken);
        }
        catch (DataflowApiException ex) when (ex.IsTransient)
        {
            return StepOutcome.Wait(options.JobPollInterval);
        }
        catch (DataflowApiException ex) when (ex.IsNotFound)
        {
            return StepOutcome.Failed($"Job {data.Current.JobName} ({data.Current.JobId}) no longer exists in Dataflow.");
        }

        var state = current.State;
        var wire = state.ToWireName();
        if (wire != data.LastState)
        {
            await store.UpdateJobAsync(input.DagId, logical, input.Generation, data.Current.Attempt, data.Current.JobId, data.Current.JobName, wire, cancellationToken);
            context.SetData(data with { LastState = wire });
        }

        switch (state)
        {
            case JobState.Done:
                await context.LogAsync($"Job {data.Current.JobName} ({data.Current.JobId}) is done", cancellationToken);
                return StepOutcome.SucceededWith(data.Current);

            case JobState.Failed when data.Current.Attempt < job.MaxAttempts:
            {
                var at = now + job.Retries.DelayBefore(data.Current.Attempt);
                await context.LogAsync(
                    $"Job {data.Current.JobName} ({data.Current.JobId}) failed on attempt {data.Current.Attempt} of {job.MaxAttempts}; relaunching at {at:O}",
                    cancellationToken);
                context.SetData(new WaitData(data.Current, at, wire));
                return StepOutcome.WaitUntil(at);
            }

            case JobState.Failed:
                return StepOutcome.Failed(
                    $"Job {data.Current.JobName} ({data.Current.JobId}) failed on attempt {data.Current.Attempt} of {job.MaxAttempts}; no retries are left.");

            case JobState.Cancelled or JobState.Drained or JobState.Updated:
                return StepOutcome.Failed($"Job {data.Current.JobName} ({data.Current.JobId}) ended {wire} outside Sluice.");
        }

        if (job.Timeout is { } timeout && now - data.Current.LaunchedAt > timeout)
        {
            try
            {
                await dataflow.CancelJobAsync(data.Current.JobId, cancellationToken);
            }
            catch (DataflowApiException ex) when (!ex.IsTransient)
            {
                await context.LogAsync($"Cancelling job {data.Current.JobId} after its timeout failed: {ex.Message}", cancellationToken);
            }

            return StepOutcome.Failed($"Job {data.Current.JobName} ({data.Current.JobId}) did not finish within its timeout of {timeout}; it was cancelled.");
        }

        return StepOutcome.Wait(options.JobPollInterval);
    }
}

internal static class SlotLaunching
{
    /// <summary>
    /// Launches attempt <paramref name="attempt"/> inside a recorded side effect: after a crash the lookup finds the job by
    /// its name and identity labels instead of launching a second one.
    /// </summary>
    public static Task<SlotJobAttempt> LaunchAttemptAsync(
        StepContext context, IDataflowClient dataflow, SlotJob job, int attempt, CancellationToken cancellationToken)
    {
        var name = SlotJobs.NameForAttempt(job.JobName, attempt);
        var identity = SlotJobs.IdentityFor(job.DagId, context.Run.Id, attempt);
        return context.EffectAsync(
            "launch-attempt-" + attempt.ToString(CultureInfo.InvariantCulture),
            async ct => await SlotJobs.FindAsync(dataflow, identity, name, ct) is { Id: { } id } found
                ? new SlotJobAttempt(attempt, id, found.Name ?? name, found.CreateTime ?? context.TimeProvider.GetUtcNow())
                : null,
            async ct =>
            {
                var launched = await SlotJobs.LaunchAsync(dataflow, job, identity, name, ct);
                return new SlotJobAttempt(attempt, launched.Id ?? throw new InvalidOperationException($"Dataflow returned job {name} without an id."),
                    launched.Name ?? name, context.TimeProvider.GetUtcNow());
            },
            cancellationToken);
    }
}
