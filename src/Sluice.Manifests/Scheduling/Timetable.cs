using Cronos;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Scheduling;

/// <summary>The boundaries of a repeating schedule, unbounded in both directions.</summary>
internal abstract class Timetable
{
    /// <summary>The first boundary at or after (<paramref name="inclusive"/>) or strictly after <paramref name="time"/>.</summary>
    public abstract DateTimeOffset? Next(DateTimeOffset time, bool inclusive);

    /// <summary>The last boundary at or before (<paramref name="inclusive"/>) or strictly before <paramref name="time"/>.</summary>
    public abstract DateTimeOffset? Previous(DateTimeOffset time, bool inclusive);

    public bool IsBoundary(DateTimeOffset time) => Next(time, inclusive: true) == time;
}

/// <summary>Cron occurrences in a time zone (Cronos: a time skipped by DST runs at the jump; a repeated time runs once).</summary>
internal sealed class CronTimetable(CronExpression expression, TimeZoneInfo zone) : Timetable
{
    private static readonly TimeSpan[] Windows =
        [TimeSpan.FromMinutes(2), TimeSpan.FromHours(2), TimeSpan.FromDays(2), TimeSpan.FromDays(40), TimeSpan.FromDays(400), TimeSpan.FromDays(366 * 9)];

    // "At or after t" is asked as "after t minus one tick": an occurrence that DST moved (02:30 skipped, run at
    // 03:00) is only found by Cronos when searching from before the jump, and occurrences fall on whole seconds.
    public override DateTimeOffset? Next(DateTimeOffset time, bool inclusive)
    {
        var next = expression.GetNextOccurrence(inclusive ? time.AddTicks(-1) : time, zone, inclusive: false);
        return next is null ? null : TimeZones.InZone(next.Value, zone);
    }

    // Cronos only looks forward, so look back in growing windows and keep the last occurrence found.
    public override DateTimeOffset? Previous(DateTimeOffset time, bool inclusive)
    {
        foreach (var window in Windows)
        {
            var from = time - window;
            DateTimeOffset? last = null;
            foreach (var occurrence in expression.GetOccurrences(from, time, zone, fromInclusive: true, toInclusive: inclusive))
            {
                last = occurrence;
            }

            if (last is not null)
            {
                return TimeZones.InZone(last.Value, zone);
            }
        }

        return null;
    }
}

/// <summary>
/// Boundaries every <see cref="ScheduleInterval"/> from an anchor (the start date). Calendar parts (days, months)
/// step in wall-clock time of the zone; the time part is elapsed time.
/// </summary>
internal sealed class IntervalTimetable(ScheduleInterval interval, DateTimeOffset anchor, TimeZoneInfo zone) : Timetable
{
    private readonly DateTime _anchorLocal = TimeZones.InZone(anchor, zone).DateTime;

    public DateTimeOffset Boundary(long index)
    {
        if (!interval.HasCalendarPart)
        {
            return TimeZones.InZone(anchor + TimeSpan.FromTicks(checked(interval.Time.Ticks * index)), zone);
        }

        var local = _anchorLocal.AddMonths(checked((int)(interval.Months * index))).AddDays(interval.Days * (double)index);
        var instant = TimeZones.Resolve(local, zone) + TimeSpan.FromTicks(checked(interval.Time.Ticks * index));
        return TimeZones.InZone(instant, zone);
    }

    /// <summary>The index of the last boundary at or before <paramref name="time"/>.</summary>
    private long IndexAtOrBefore(DateTimeOffset time)
    {
        var approximate = interval.ApproximateLength.Ticks;
        var index = (long)Math.Floor((time - anchor).Ticks / (double)approximate);
        while (Boundary(index) > time)
        {
            index--;
        }

        while (Boundary(index + 1) <= time)
        {
            index++;
        }

        return index;
    }

    public override DateTimeOffset? Next(DateTimeOffset time, bool inclusive)
    {
        try
        {
            var index = IndexAtOrBefore(time);
            var boundary = Boundary(index);
            return inclusive && boundary == time ? boundary : Boundary(index + 1);
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or OverflowException)
        {
            return null;
        }
    }

    public override DateTimeOffset? Previous(DateTimeOffset time, bool inclusive)
    {
        try
        {
            var index = IndexAtOrBefore(time);
            var boundary = Boundary(index);
            return inclusive || boundary < time ? boundary : Boundary(index - 1);
        }
        catch (Exception ex) when (ex is ArgumentOutOfRangeException or OverflowException)
        {
            return null;
        }
    }
}
