using System.Globalization;
using Sluice.Manifests.Scheduling;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Tests;

/// <summary>
/// The table of slot cases: Airflow data intervals (logical date = interval start, due at interval end) for presets,
/// cron, durations, daylight-saving changes in Europe/Berlin and America/New_York, end dates and catch-up.
/// Times are written as local ISO-8601 with offset; "a/b" is the interval [a, b).
/// </summary>
public class SlotTableTests
{
    private static ScheduleExpression Expression(string schedule, string zone, string start, string? end = null)
    {
        var timeZone = TimeZones.Find(zone);
        Assert.True(DateValues.TryParse(start, timeZone, out var startDate, out var error), error);
        DateTimeOffset? endDate = null;
        if (end is not null)
        {
            Assert.True(DateValues.TryParse(end, timeZone, out var parsed, out error), error);
            endDate = parsed;
        }

        return ScheduleExpression.Create(schedule, timeZone, startDate, endDate);
    }

    private static string Show(Slot slot) => $"{DateValues.Format(slot.DataIntervalStart)}/{DateValues.Format(slot.DataIntervalEnd)}";

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static List<string> First(ScheduleExpression expression, int count)
    {
        var slots = new List<string>();
        var slot = expression.GetFirstSlot();
        while (slot is not null && slots.Count < count)
        {
            Assert.Equal(slot.DataIntervalStart, slot.LogicalDate);
            Assert.Equal(slot.DataIntervalEnd, slot.DueAt);
            slots.Add(Show(slot));
            slot = expression.GetSlotAfter(slot);
        }

        return slots;
    }

    public static TheoryData<string, string, string, string?, string[]> FirstSlots => new()
    {
        // presets: the first slot starts at the first occurrence at or after the start date
        { "@daily", "UTC", "2026-01-01", null, ["2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00", "2026-01-02T00:00:00+00:00/2026-01-03T00:00:00+00:00"] },
        { "@hourly", "UTC", "2026-01-01T10:30", null, ["2026-01-01T11:00:00+00:00/2026-01-01T12:00:00+00:00", "2026-01-01T12:00:00+00:00/2026-01-01T13:00:00+00:00"] },
        { "@weekly", "UTC", "2026-01-01", null, ["2026-01-04T00:00:00+00:00/2026-01-11T00:00:00+00:00"] },
        { "@monthly", "UTC", "2026-01-15", null, ["2026-02-01T00:00:00+00:00/2026-03-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00/2026-04-01T00:00:00+00:00"] },
        { "@quarterly", "UTC", "2026-02-10", null, ["2026-04-01T00:00:00+00:00/2026-07-01T00:00:00+00:00", "2026-07-01T00:00:00+00:00/2026-10-01T00:00:00+00:00"] },
        { "@yearly", "UTC", "2026-03-01", null, ["2027-01-01T00:00:00+00:00/2028-01-01T00:00:00+00:00"] },
        { "@daily", "Europe/Berlin", "2026-11-01", null, ["2026-11-01T00:00:00+01:00/2026-11-02T00:00:00+01:00"] },
        // cron, 5 and 6 fields
        { "15 6 * * 1-5", "UTC", "2026-01-02", null, ["2026-01-02T06:15:00+00:00/2026-01-05T06:15:00+00:00", "2026-01-05T06:15:00+00:00/2026-01-06T06:15:00+00:00"] },
        { "*/30 * * * * *", "UTC", "2026-01-01T00:00:10", null, ["2026-01-01T00:00:30+00:00/2026-01-01T00:01:00+00:00", "2026-01-01T00:01:00+00:00/2026-01-01T00:01:30+00:00"] },
        // DST, Europe/Berlin: spring forward on 2026-03-29 02:00 → 03:00, fall back on 2026-10-25 03:00 → 02:00
        { "@daily", "Europe/Berlin", "2026-03-28", null, ["2026-03-28T00:00:00+01:00/2026-03-29T00:00:00+01:00", "2026-03-29T00:00:00+01:00/2026-03-30T00:00:00+02:00", "2026-03-30T00:00:00+02:00/2026-03-31T00:00:00+02:00"] },
        { "30 2 * * *", "Europe/Berlin", "2026-03-28", null, ["2026-03-28T02:30:00+01:00/2026-03-29T03:00:00+02:00", "2026-03-29T03:00:00+02:00/2026-03-30T02:30:00+02:00", "2026-03-30T02:30:00+02:00/2026-03-31T02:30:00+02:00"] },
        { "30 2 * * *", "Europe/Berlin", "2026-10-24", null, ["2026-10-24T02:30:00+02:00/2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+02:00/2026-10-26T02:30:00+01:00"] },
        { "0 * * * *", "Europe/Berlin", "2026-10-25T01:00", null, ["2026-10-25T01:00:00+02:00/2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+02:00/2026-10-25T02:00:00+01:00", "2026-10-25T02:00:00+01:00/2026-10-25T03:00:00+01:00"] },
        // DST, America/New_York: spring forward on 2026-03-08 02:00 → 03:00, fall back on 2026-11-01 02:00 → 01:00
        { "@daily", "America/New_York", "2026-10-31", null, ["2026-10-31T00:00:00-04:00/2026-11-01T00:00:00-04:00", "2026-11-01T00:00:00-04:00/2026-11-02T00:00:00-05:00"] },
        { "30 2 * * *", "America/New_York", "2026-03-07", null, ["2026-03-07T02:30:00-05:00/2026-03-08T03:00:00-04:00", "2026-03-08T03:00:00-04:00/2026-03-09T02:30:00-04:00"] },
        { "30 1 * * *", "America/New_York", "2026-10-31", null, ["2026-10-31T01:30:00-04:00/2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-04:00/2026-11-02T01:30:00-05:00"] },
        { "@hourly", "America/New_York", "2026-11-01T00:00", null, ["2026-11-01T00:00:00-04:00/2026-11-01T01:00:00-04:00", "2026-11-01T01:00:00-04:00/2026-11-01T01:00:00-05:00", "2026-11-01T01:00:00-05:00/2026-11-01T02:00:00-05:00"] },
        // durations: slots start exactly at the start date; days are calendar days, hours are elapsed time
        { "PT6H", "UTC", "2026-01-01T03:00", null, ["2026-01-01T03:00:00+00:00/2026-01-01T09:00:00+00:00", "2026-01-01T09:00:00+00:00/2026-01-01T15:00:00+00:00"] },
        { "90m", "UTC", "2026-01-01", null, ["2026-01-01T00:00:00+00:00/2026-01-01T01:30:00+00:00", "2026-01-01T01:30:00+00:00/2026-01-01T03:00:00+00:00"] },
        { "P1D", "Europe/Berlin", "2026-03-28T06:00", null, ["2026-03-28T06:00:00+01:00/2026-03-29T06:00:00+02:00", "2026-03-29T06:00:00+02:00/2026-03-30T06:00:00+02:00"] },
        { "PT24H", "Europe/Berlin", "2026-03-28T06:00", null, ["2026-03-28T06:00:00+01:00/2026-03-29T07:00:00+02:00", "2026-03-29T07:00:00+02:00/2026-03-30T07:00:00+02:00"] },
        { "P1M", "UTC", "2026-01-31", null, ["2026-01-31T00:00:00+00:00/2026-02-28T00:00:00+00:00", "2026-02-28T00:00:00+00:00/2026-03-31T00:00:00+00:00", "2026-03-31T00:00:00+00:00/2026-04-30T00:00:00+00:00"] },
        { "P1W", "America/New_York", "2026-10-28T09:00", null, ["2026-10-28T09:00:00-04:00/2026-11-04T09:00:00-05:00"] },
        // end dates: a slot is scheduled while its logical date is on or before the end date
        { "@daily", "UTC", "2026-01-01", "2026-01-03", ["2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00", "2026-01-02T00:00:00+00:00/2026-01-03T00:00:00+00:00", "2026-01-03T00:00:00+00:00/2026-01-04T00:00:00+00:00"] },
        { "@daily", "UTC", "2026-01-01", "2026-01-02T12:00", ["2026-01-01T00:00:00+00:00/2026-01-02T00:00:00+00:00", "2026-01-02T00:00:00+00:00/2026-01-03T00:00:00+00:00"] },
        { "@monthly", "UTC", "2026-01-02", "2026-01-31", [] },
    };

    [Theory]
    [MemberData(nameof(FirstSlots))]
    public void First_slots(string schedule, string zone, string start, string? end, string[] expected)
    {
        var expression = Expression(schedule, zone, start, end);

        Assert.Equal(expected, First(expression, expected.Length + (end is null ? 0 : 5)));
    }

    [Theory]
    [InlineData("@hourly", "Europe/Berlin", "2026-03-29", 23)]
    [InlineData("@hourly", "Europe/Berlin", "2026-10-25", 25)]
    [InlineData("@hourly", "America/New_York", "2026-03-08", 23)]
    [InlineData("@hourly", "America/New_York", "2026-11-01", 25)]
    [InlineData("*/15 * * * *", "Europe/Berlin", "2026-10-25", 100)]
    [InlineData("*/15 * * * *", "America/New_York", "2026-03-08", 92)]
    [InlineData("@hourly", "UTC", "2026-03-29", 24)]
    public void Slots_of_a_day_with_a_DST_change_cover_every_real_hour_once(string schedule, string zone, string day, int count)
    {
        var timeZone = TimeZones.Find(zone);
        var start = TimeZones.Resolve(DateTime.Parse(day, CultureInfo.InvariantCulture), timeZone);
        var end = TimeZones.Resolve(DateTime.Parse(day, CultureInfo.InvariantCulture).AddDays(1), timeZone);
        var expression = ScheduleExpression.Create(schedule, timeZone, start, null);

        var slots = expression.GetSlots(start, end.AddTicks(-1));

        Assert.Equal(count, slots.Count);
        Assert.Equal(slots.Count, slots.Select(slot => slot.LogicalDate.UtcDateTime).Distinct().Count());
        Assert.All(slots.Zip(slots.Skip(1)), pair => Assert.Equal(pair.First.DataIntervalEnd, pair.Second.DataIntervalStart));
        Assert.Equal(end, slots[^1].DataIntervalEnd);
        Assert.Equal(end - start, slots.Aggregate(TimeSpan.Zero, (sum, slot) => sum + (slot.DataIntervalEnd - slot.DataIntervalStart)));
    }

    [Fact]
    public void Once_is_one_empty_slot_at_the_start_date_due_at_once()
    {
        var expression = Expression("@once", "Europe/Berlin", "2026-05-05T10:00");

        var slot = expression.GetFirstSlot()!;

        Assert.Equal(At("2026-05-05T10:00:00+02:00"), slot.LogicalDate);
        Assert.Equal(slot.LogicalDate, slot.DataIntervalEnd);
        Assert.Equal(slot.LogicalDate, slot.DueAt);
        Assert.Null(expression.GetSlotAfter(slot));
        Assert.Null(expression.GetLatestDueSlot(At("2026-05-05T09:59:59+02:00")));
        Assert.Equal(slot, expression.GetLatestDueSlot(At("2026-05-05T10:00:00+02:00")));
        Assert.Equal([slot], expression.GetDueSlots(null, At("2027-01-01T00:00:00Z"), catchup: true));
        Assert.Empty(expression.GetDueSlots(slot.LogicalDate, At("2027-01-01T00:00:00Z"), catchup: true));
    }

    [Fact]
    public void None_schedules_nothing_but_gives_manual_slots()
    {
        var expression = Expression("@none", "UTC", "2026-01-01");
        var logical = At("2026-02-03T04:05:06Z");

        Assert.Null(expression.GetFirstSlot());
        Assert.Null(expression.GetLatestDueSlot(At("2030-01-01T00:00:00Z")));
        Assert.Equal(new Slot(logical, logical, logical, logical), expression.GetManualSlot(logical));
    }

    // Catch-up after the controller was down: the last slot that ran is 2026-01-05; it comes back on 2026-01-09 00:30,
    // when the slots 01-06, 01-07 and 01-08 are due (01-08 ended at 01-09 00:00).
    [Theory]
    [InlineData(true, "2026-01-09T00:30:00Z", new[] { "2026-01-06", "2026-01-07", "2026-01-08" })]
    [InlineData(false, "2026-01-09T00:30:00Z", new[] { "2026-01-08" })]
    [InlineData(true, "2026-01-09T00:00:00Z", new[] { "2026-01-06", "2026-01-07", "2026-01-08" })]
    [InlineData(true, "2026-01-08T23:59:59Z", new[] { "2026-01-06", "2026-01-07" })]
    [InlineData(false, "2026-01-06T00:00:00Z", new string[0])]
    [InlineData(false, "2026-01-07T00:00:00Z", new[] { "2026-01-06" })]
    public void Controller_down_for_three_slots(bool catchup, string now, string[] expected)
    {
        var expression = Expression("@daily", "UTC", "2026-01-01");

        var due = expression.GetDueSlots(At("2026-01-05T00:00:00Z"), At(now), catchup);

        Assert.Equal(expected, due.Select(slot => slot.LogicalDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData(true, 3)]
    [InlineData(false, 1)]
    public void First_run_of_a_schedule_that_started_in_the_past(bool catchup, int expected)
    {
        var expression = Expression("@daily", "Europe/Berlin", "2026-01-01", "2026-01-03");

        var due = expression.GetDueSlots(null, At("2026-12-01T00:00:00Z"), catchup);

        Assert.Equal(expected, due.Count);
        Assert.Equal(At("2026-01-03T00:00:00+01:00"), due[^1].LogicalDate);
    }

    [Fact]
    public void A_start_date_in_the_future_has_nothing_due()
    {
        var expression = Expression("@daily", "UTC", "2027-01-01");

        Assert.Null(expression.GetLatestDueSlot(At("2026-12-31T23:00:00Z")));
        Assert.Empty(expression.GetDueSlots(null, At("2026-12-31T23:00:00Z"), catchup: true));
        Assert.Empty(expression.GetDueSlots(null, At("2026-12-31T23:00:00Z"), catchup: false));
        Assert.Equal(At("2027-01-02T00:00:00Z"), expression.GetFirstSlot()!.DueAt);
    }

    [Fact]
    public void Latest_due_slot_stops_at_the_end_date()
    {
        var expression = Expression("@daily", "UTC", "2026-01-01", "2026-01-03");

        Assert.Equal(At("2026-01-03T00:00:00Z"), expression.GetLatestDueSlot(At("2030-01-01T00:00:00Z"))!.LogicalDate);
        Assert.Equal(At("2026-01-01T00:00:00Z"), expression.GetLatestDueSlot(At("2026-01-02T05:00:00Z"))!.LogicalDate);
        Assert.Null(expression.GetLatestDueSlot(At("2026-01-01T23:59:59Z")));
    }

    [Fact]
    public void GetSlot_accepts_only_logical_dates_on_the_schedule()
    {
        var expression = Expression("0 6 * * *", "Europe/Berlin", "2026-01-01");

        Assert.Equal(At("2026-01-03T06:00:00+01:00"), expression.GetSlot(At("2026-01-03T05:00:00Z"))!.LogicalDate);
        Assert.Null(expression.GetSlot(At("2026-01-03T06:00:00Z")));
        Assert.Equal(At("2025-12-20T06:00:00+01:00"), expression.GetSlot(At("2025-12-20T06:00:00+01:00"))!.LogicalDate);
    }

    [Fact]
    public void A_manual_run_off_the_schedule_covers_the_latest_whole_interval()
    {
        var expression = Expression("@daily", "UTC", "2026-01-01");
        var logical = At("2026-01-25T01:00:00Z");

        var slot = expression.GetManualSlot(logical);

        Assert.Equal(logical, slot.LogicalDate);
        Assert.Equal(At("2026-01-24T00:00:00Z"), slot.DataIntervalStart);
        Assert.Equal(At("2026-01-25T00:00:00Z"), slot.DataIntervalEnd);
    }

    [Fact]
    public void GetSlots_lists_logical_dates_in_the_range_inclusive()
    {
        var expression = Expression("@daily", "America/New_York", "2026-01-01");

        var slots = expression.GetSlots(At("2026-02-01T00:00:00-05:00"), At("2026-02-03T00:00:00-05:00"));

        Assert.Equal(["2026-02-01", "2026-02-02", "2026-02-03"], slots.Select(slot => slot.LogicalDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
    }
}
