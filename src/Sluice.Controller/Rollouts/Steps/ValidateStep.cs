using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;
using Sluice.Manifests.Values;

namespace Sluice.Controller.Rollouts.Steps;

/// <summary>
/// validate: a sensor over the new job. Within the manifest's timeout all checks must hold at once (state, autoscaling,
/// messages, metrics); a check that can no longer pass (the job FAILED, too many errors) fails the step at once.
/// </summary>
public sealed class ValidateStep(RolloutStepServices services) : RolloutStepHandler(services)
{
    protected override string StepName => RolloutSteps.Validate;

    protected override async Task<StepOutcome> ExecuteAsync(RolloutStepCall call, CancellationToken cancellationToken)
    {
        var spec = call.Input.Spec;
        var target = NewJob.Of(call);
        var data = call.Context.GetData<ValidateData>() ?? new ValidateData();
        var now = call.Now;
        if (data.StartedAt is null)
        {
            data.StartedAt = now;
            await call.LogAsync(
                $"Validating job {target.JobName} ({target.JobId}) within {Durations.Format(spec.Validation.Timeout)}: " +
                string.Join(", ", spec.Validation.Checks.Select(RolloutSteps.DescribeCheck)) + ".",
                cancellationToken);
        }

        var job = await call.Dataflow.GetJobAsync(target.JobId, cancellationToken: cancellationToken);
        var state = job.State.ToWireName();
        if (data.LastState != state)
        {
            data.LastState = state;
            await Registry.UpdateJobStateAsync(target.JobId, state, job.Type is { } t ? JobTypeNames.Of(t) : null, cancellationToken);
            await call.LogAsync($"Job {target.JobName} is {state}.", cancellationToken);
        }

        if (job.State == JobState.Running && data.RunningSince is null)
        {
            data.RunningSince = now;
        }

        var observation = await ObserveAsync(call, job, target, data, spec.Validation.Checks, cancellationToken);
        var results = JobValidation.Evaluate(spec.Validation.Checks, observation, now);
        foreach (var result in results.Where(r => r.Status == CheckStatus.Passed))
        {
            var name = RolloutSteps.DescribeCheck(result.Check);
            if (data.Passed.Add(name))
            {
                await call.LogAsync($"Check passed: {result}.", cancellationToken);
            }
        }

        // Every check that can no longer pass, not just the first: a job that ended FAILED usually fails the state
        // check and the messages check together, and the messages say why.
        // Checks that failed for the same reason (the job ended) are named together, the reason once.
        var failed = results.Where(r => r.Status == CheckStatus.Failed)
            .GroupBy(r => r.Detail.TrimEnd('.', ' '), StringComparer.Ordinal)
            .Select(g => $"{string.Join(", ", g.Select(r => RolloutSteps.DescribeCheck(r.Check)))}: {g.Key}")
            .ToList();
        if (failed.Count > 0)
        {
            return StepOutcome.Failed($"Validation of job {target.JobName} ({target.JobId}) failed: {string.Join("; ", failed)}.");
        }

        if (results.All(r => r.Status == CheckStatus.Passed))
        {
            await call.LogAsync($"Job {target.JobName} is healthy: every check holds.", cancellationToken);
            return StepOutcome.SucceededWith(new ValidationReport(target.JobId, results.Select(r => r.ToString()).ToList()));
        }

        var deadline = data.StartedAt.Value + spec.Validation.Timeout;
        if (now >= deadline)
        {
            return StepOutcome.Failed(
                $"Validation of job {target.JobName} ({target.JobId}) did not pass within {Durations.Format(spec.Validation.Timeout)}: " +
                string.Join("; ", results.Where(r => r.Status != CheckStatus.Passed)) + ".");
        }

        call.Context.SetData(data);
        var next = now + Options.PollInterval;
        if (JobValidation.NextWindowEnd(spec.Validation.Checks, observation, now) is { } windowEnd && windowEnd < next)
        {
            next = windowEnd;
        }

        return StepOutcome.WaitUntil(next < deadline ? next : deadline);
    }

    private static async Task<JobObservation> ObserveAsync(RolloutStepCall call, Job job, NewJob target, ValidateData data,
        IReadOnlyList<ValidationCheck> checks, CancellationToken cancellationToken)
    {
        var isBatch = job.Type == JobType.Batch;
        var ended = job.State.IsTerminal() && !(isBatch && job.State == JobState.Done);
        int errors = 0, warnings = 0;
        string? lastError = null, firstError = null;
        long? current = null, peak = null;
        if (ended || checks.Any(c => c is MessagesCheck or AutoscalingCheck))
        {
            // Errors count from the job's creation for a job this run launched, from the start of validation for a job it kept.
            var since = target.Kept ? data.StartedAt : job.CreateTime;
            var messages = await call.Dataflow.ListAllJobMessagesAsync(
                target.JobId, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Warning, StartTime = since }, cancellationToken);
            foreach (var message in messages.JobMessages ?? [])
            {
                if (message.MessageImportance == JobMessageImportance.Error)
                {
                    errors++;
                    firstError ??= message.MessageText;
                    lastError = message.MessageText;
                }
                else if (message.MessageImportance == JobMessageImportance.Warning)
                {
                    warnings++;
                }
            }

            foreach (var scaling in messages.AutoscalingEvents ?? [])
            {
                if (scaling.CurrentNumWorkers is { } workers)
                {
                    current = workers;
                    peak = Math.Max(peak ?? 0, workers);
                }
            }
        }

        var metrics = checks.Any(c => c is MetricCheck)
            ? JobValidation.SumMetrics(await call.Dataflow.GetJobMetricsAsync(target.JobId, cancellationToken: cancellationToken))
            : new Dictionary<string, double>();
        return new JobObservation
        {
            State = job.State,
            IsBatch = isBatch,
            RunningSince = data.RunningSince,
            Errors = errors,
            Warnings = warnings,
            LastError = lastError,
            FirstError = firstError,
            CurrentWorkers = current,
            PeakWorkers = peak,
            Metrics = metrics,
        };
    }

    /// <summary>Kept between checks.</summary>
    public sealed class ValidateData
    {
        public DateTimeOffset? StartedAt { get; set; }

        public DateTimeOffset? RunningSince { get; set; }

        public string? LastState { get; set; }

        public HashSet<string> Passed { get; init; } = [];
    }
}

/// <summary>The job a run validates and records: the one it launched, the one an update created, or the one a rollback kept.</summary>
internal sealed record NewJob(string JobId, string JobName, bool Kept)
{
    public static NewJob Of(RolloutStepCall call)
    {
        var context = call.Context;
        if (call.IsRollback && context.GetOutput<CurrentJobs>(RolloutSteps.CheckCurrent) is { KeepJobId: { } keep } current)
        {
            return new NewJob(keep, current.Running.First(j => j.JobId == keep).JobName, Kept: true);
        }

        if (call.Input.Spec.Strategy == RolloutStrategy.Update && !call.IsRollback
            && context.GetOutput<UpdateResult>(RolloutSteps.UpdateInPlace) is { Refused: false, Job: { } updated })
        {
            return new NewJob(updated.JobId, updated.JobName, Kept: false);
        }

        var launched = context.GetOutput<LaunchedJob>(RolloutSteps.LaunchNew)
            ?? throw new InvalidOperationException("launch-new left no output.");
        return new NewJob(launched.JobId, launched.JobName, Kept: false);
    }
}
