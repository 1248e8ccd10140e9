using System.Globalization;
using Sluice.Dataflow;
using Sluice.Manifests;
using Sluice.Manifests.Values;

namespace Sluice.Controller.Rollouts;

/// <summary>What validation saw of a job in one check.</summary>
public sealed record JobObservation
{
    public required JobState State { get; init; }

    public bool IsBatch { get; init; }

    /// <summary>When the job was first seen RUNNING (null: not yet).</summary>
    public DateTimeOffset? RunningSince { get; init; }

    public int Errors { get; init; }

    public int Warnings { get; init; }

    /// <summary>The newest error message, for the reason of a failure.</summary>
    public string? LastError { get; init; }

    /// <summary>The job's first error message: for a failed job usually the cause, where the last is a summary.</summary>
    public string? FirstError { get; init; }

    /// <summary>The worker count of the newest autoscaling event (null: none yet).</summary>
    public long? CurrentWorkers { get; init; }

    /// <summary>The highest worker count any autoscaling event reported.</summary>
    public long? PeakWorkers { get; init; }

    /// <summary>Metric values by name (summed over contexts, tentative values left out).</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; init; } = new Dictionary<string, double>();
}

/// <summary>The state of one check.</summary>
public enum CheckStatus
{
    Pending,
    Passed,

    /// <summary>Can no longer pass: validation fails at once instead of at its timeout.</summary>
    Failed,
}

public sealed record CheckResult(ValidationCheck Check, CheckStatus Status, string Detail)
{
    // Details may end with a job message's own full stop; the sentences they go into add theirs.
    public override string ToString() => $"{RolloutSteps.DescribeCheck(Check)}: {Detail.TrimEnd('.', ' ')}";
}

/// <summary>
/// The validation checks as a pure function of what was observed, so that the sensor holds no logic of its own and
/// the rules are tested without a job: all checks must pass at the same time; a job that ended (other than a batch
/// job DONE) or too many error messages fail at once.
/// </summary>
public static class JobValidation
{
    public static IReadOnlyList<CheckResult> Evaluate(IReadOnlyList<ValidationCheck> checks, JobObservation job, DateTimeOffset now) =>
        checks.Select(check => Evaluate(check, job, now)).ToList();

    /// <summary>The first error message (usually the cause) and the last (often a summary), or null when there were none.</summary>
    private static string? DescribeErrors(JobObservation job) =>
        job.FirstError is { } first && first != job.LastError ? $"{first} … {job.LastError}" : job.LastError;

    public static CheckResult Evaluate(ValidationCheck check, JobObservation job, DateTimeOffset now)
    {
        var state = job.State.ToWireName();
        var ended = job.State.IsTerminal();
        var doneBatch = job.IsBatch && job.State == JobState.Done;
        if (ended && !doneBatch)
        {
            return new CheckResult(check, CheckStatus.Failed, $"the job ended {state}" + (DescribeErrors(job) is { } errors ? $": {errors}" : ""));
        }

        switch (check)
        {
            case StateCheck s:
            {
                // A batch job's healthy end is DONE whatever the manifest expects; a streaming job never reaches DONE.
                var expected = job.IsBatch ? JobState.Done : s.State == ExpectedJobState.Done ? JobState.Done : JobState.Running;
                return job.State == expected
                    ? new CheckResult(check, CheckStatus.Passed, $"the job is {state}")
                    : new CheckResult(check, CheckStatus.Pending, $"the job is {state}, not yet {expected.ToWireName()}");
            }

            case AutoscalingCheck a:
            {
                var workers = doneBatch ? job.PeakWorkers : job.CurrentWorkers;
                if (workers is not { } count)
                {
                    return new CheckResult(check, CheckStatus.Pending, "no autoscaling event yet");
                }

                var ok = (a.MinWorkers is not { } min || count >= min) && (a.MaxWorkers is not { } max || count <= max);
                return new CheckResult(check, ok ? CheckStatus.Passed : CheckStatus.Pending, $"{count} worker(s)");
            }

            case MessagesCheck m:
            {
                if (job.Errors > m.MaxErrors)
                {
                    return new CheckResult(
                        check, CheckStatus.Failed, $"{job.Errors} error message(s), at most {m.MaxErrors} allowed" + (DescribeErrors(job) is { } errors ? $": {errors}" : ""));
                }

                if (m.MaxWarnings is { } maxWarnings && job.Warnings > maxWarnings)
                {
                    return new CheckResult(check, CheckStatus.Failed, $"{job.Warnings} warning message(s), at most {maxWarnings} allowed");
                }

                if (doneBatch)
                {
                    return new CheckResult(check, CheckStatus.Passed, $"{job.Errors} error(s) until the job was DONE");
                }

                if (job.RunningSince is not { } since)
                {
                    return new CheckResult(check, CheckStatus.Pending, "the job is not running yet");
                }

                var ran = now - since;
                return ran >= m.For
                    ? new CheckResult(check, CheckStatus.Passed, $"{job.Errors} error(s) in {Durations.Format(m.For)} of running")
                    : new CheckResult(check, CheckStatus.Pending, $"{job.Errors} error(s) so far; running for {Durations.Format(Truncate(ran))} of {Durations.Format(m.For)}");
            }

            case MetricCheck m:
            {
                if (!job.Metrics.TryGetValue(m.Name, out var value))
                {
                    return new CheckResult(check, CheckStatus.Pending, "not reported yet");
                }

                var ok = (m.Min is not { } min || value >= min) && (m.Max is not { } max || value <= max);
                return new CheckResult(check, ok ? CheckStatus.Passed : CheckStatus.Pending, $"{m.Name} = {value.ToString(CultureInfo.InvariantCulture)}");
            }

            default:
                return new CheckResult(check, CheckStatus.Failed, $"unknown check {check.GetType().Name}");
        }
    }

    /// <summary>When a pending messages check could pass next (its window closes), so that the sensor wakes then.</summary>
    public static DateTimeOffset? NextWindowEnd(IReadOnlyList<ValidationCheck> checks, JobObservation job, DateTimeOffset now) =>
        job.RunningSince is not { } since
            ? null
            : checks.OfType<MessagesCheck>().Select(m => since + m.For).Where(end => end > now).Order().Cast<DateTimeOffset?>().FirstOrDefault();

    /// <summary>Sums a metric's values over its contexts, leaving out tentative values (Dataflow reports both).</summary>
    public static Dictionary<string, double> SumMetrics(JobMetrics metrics)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var update in metrics.Metrics ?? [])
        {
            if (update.Name?.Name is not { } name || update.ScalarValue() is not { } value)
            {
                continue;
            }

            if (update.Name.Context is { } context && context.TryGetValue("tentative", out var tentative) && tentative == "true")
            {
                continue;
            }

            result[name] = result.GetValueOrDefault(name) + value;
        }

        return result;
    }

    private static TimeSpan Truncate(TimeSpan span) => TimeSpan.FromSeconds(Math.Floor(span.TotalSeconds));
}
