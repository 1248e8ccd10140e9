namespace Sluice.Manifests.Scheduling;

/// <summary>
/// One time slot of a schedule, as Airflow defines a DAG run's data interval: the logical date is the start of
/// the interval, and the run is due when the interval has ended. Times carry the schedule's time-zone offset.
/// For <c>@once</c> the interval is empty and the run is due at the start date.
/// </summary>
public sealed record Slot(DateTimeOffset LogicalDate, DateTimeOffset DataIntervalStart, DateTimeOffset DataIntervalEnd, DateTimeOffset DueAt)
{
    public bool IsDue(DateTimeOffset now) => DueAt <= now;

    public override string ToString() => $"{Values.DateValues.Format(DataIntervalStart)} – {Values.DateValues.Format(DataIntervalEnd)}";
}

public enum ScheduleKind
{
    /// <summary>One run at the start date.</summary>
    Once,

    /// <summary>Cron expression or preset such as @daily.</summary>
    Cron,

    /// <summary>Fixed interval from the start date (ISO-8601 or short duration).</summary>
    Interval,

    /// <summary>No automatic runs; only triggered runs (<c>@none</c>).</summary>
    None,
}
