using Sluice.Manifests.Scheduling;
using Sluice.Manifests.Templating;
using Sluice.Manifests.Values;

namespace Sluice.Manifests;

/// <summary>A recurring batch job: one Dataflow job per slot (data interval), the way Airflow runs a DAG.</summary>
public sealed record ScheduleSpec
{
    public required string DagId { get; init; }

    /// <summary>A preset (<c>@daily</c>), a cron expression (5 or 6 fields) or a duration (<c>PT6H</c>, <c>P1D</c>).</summary>
    public required string Schedule { get; init; }

    /// <summary>IANA time zone in which the schedule, dates and slot macros are read.</summary>
    public string TimeZone { get; init; } = "UTC";

    public required DateTimeOffset StartDate { get; init; }

    /// <summary>The last logical date that may be scheduled (inclusive); null for no end.</summary>
    public DateTimeOffset? EndDate { get; init; }

    /// <summary>Run every missed slot (true) or only the latest one (false) after a pause or downtime.</summary>
    public bool Catchup { get; init; }

    public int MaxActiveRuns { get; init; } = 1;

    public bool Paused { get; init; }

    public string? Project { get; init; }

    public string? Region { get; init; }

    public required ScheduledJob Job { get; init; }

    public RetryPolicy Retries { get; init; } = new();

    public TimeZoneInfo GetTimeZone() => TimeZones.Find(TimeZone);

    /// <summary>The slot arithmetic of this schedule (start and end dates, time zone included).</summary>
    public ScheduleExpression GetExpression() =>
        ScheduleExpression.Create(Schedule, GetTimeZone(), StartDate, EndDate);
}

/// <summary>The job each slot launches. <see cref="JobName"/> and <see cref="Parameters"/> may use slot macros.</summary>
public sealed record ScheduledJob
{
    public required TemplateRef Template { get; init; }

    /// <summary>Job name template, e.g. <c>daily-sales-{{ ds_nodash }}</c>.</summary>
    public required string JobName { get; init; }

    public RuntimeEnvironment Environment { get; init; } = new();

    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>Cancel the job when it has not finished this long after launch; null for no limit.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The job for one slot: macros in the job name and parameters replaced by the slot's values.</summary>
    public RenderedJob Render(SlotContext context) => new()
    {
        JobName = SlotTemplate.Parse(JobName).Render(context),
        Template = Template,
        Environment = Environment,
        Parameters = Parameters.ToDictionary(pair => pair.Key, pair => SlotTemplate.Parse(pair.Value).Render(context)),
    };
}

public sealed record RenderedJob
{
    public required string JobName { get; init; }

    public required TemplateRef Template { get; init; }

    public required RuntimeEnvironment Environment { get; init; }

    public required IReadOnlyDictionary<string, string> Parameters { get; init; }
}

/// <summary>Retries of a slot's job after it fails (Airflow's retries / retry_delay / retry_exponential_backoff).</summary>
public sealed record RetryPolicy
{
    /// <summary>Retries after the first attempt; 0 means no retry.</summary>
    public int Count { get; init; }

    public TimeSpan Delay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Double the delay after each failed attempt, up to <see cref="MaxDelay"/>.</summary>
    public bool ExponentialBackoff { get; init; }

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The delay before retry number <paramref name="retry"/> (1 for the first retry).</summary>
    public TimeSpan DelayBefore(int retry)
    {
        if (!ExponentialBackoff || retry <= 1)
        {
            return Delay;
        }

        var factor = Math.Pow(2, Math.Min(retry - 1, 30));
        var ticks = Math.Min(Delay.Ticks * factor, MaxDelay.Ticks);
        return TimeSpan.FromTicks((long)Math.Max(ticks, Delay.Ticks));
    }
}
