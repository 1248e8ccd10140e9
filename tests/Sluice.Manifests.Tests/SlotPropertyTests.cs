using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Sluice.Manifests.Scheduling;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Tests;

/// <summary>Invariants of slot arithmetic over many schedules, zones (with odd DST rules) and start dates.</summary>
public class SlotPropertyTests
{
    private static readonly string[] Schedules =
    [
        "@hourly", "@daily", "@weekly", "@monthly", "@quarterly", "@yearly", "*/15 * * * *", "30 2 * * *", "30 1 * * *",
        "0 1,2,3 * * *", "0 0 * * 1-5", "0 */6 * * *", "0 30 1 * * *", "PT6H", "P1D", "PT45M", "P1W", "P1M", "90m", "P1DT12H",
    ];

    private static readonly string[] Zones =
        ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo", "Pacific/Chatham", "America/Santiago"];

    public sealed record Case(string Schedule, string Zone, DateTimeOffset Start)
    {
        public ScheduleExpression Expression() => ScheduleExpression.Create(Schedule, TimeZones.Find(Zone), Start, null);

        public override string ToString() => $"{Schedule} in {Zone} from {DateValues.Format(Start)}";
    }

    private static Arbitrary<Case> Cases() =>
        (from schedule in Gen.Elements(Schedules)
         from zone in Gen.Elements(Zones)
         from minutes in Gen.Choose(0, 10 * 366 * 24 * 60)
         select new Case(schedule, zone, new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero).AddMinutes(minutes))).ToArbitrary();

    [Property(MaxTest = 150)]
    public Property Slots_are_contiguous_increasing_and_found_again() => Prop.ForAll(Cases(), testCase =>
    {
        var expression = testCase.Expression();
        var slots = new List<Slot>();
        for (var slot = expression.GetFirstSlot(); slot is not null && slots.Count < 60; slot = expression.GetSlotAfter(slot))
        {
            slots.Add(slot);
        }

        Assert.Equal(60, slots.Count);
        Assert.True(slots[0].LogicalDate >= testCase.Start);
        Slot? previous = null;
        foreach (var slot in slots)
        {
            Assert.True(slot.DataIntervalEnd > slot.DataIntervalStart, $"{slot} is empty");
            Assert.Equal(slot.DataIntervalStart, slot.LogicalDate);
            Assert.Equal(slot.DataIntervalEnd, slot.DueAt);
            Assert.Equal(slot, expression.GetSlot(slot.LogicalDate));
            Assert.Equal(slot, expression.GetLatestDueSlot(slot.DueAt));
            Assert.Equal(previous, expression.GetLatestDueSlot(slot.DueAt.AddTicks(-1)));
            if (previous is not null)
            {
                Assert.Equal(previous.DataIntervalEnd, slot.DataIntervalStart);
            }

            previous = slot;
        }

        Assert.Equal(slots, expression.GetSlots(slots[0].LogicalDate, slots[^1].LogicalDate));
        return true;
    });

    /// <summary>
    /// A scheduler that wakes at random times (minutes to days apart, like a controller that is sometimes down)
    /// and creates what <see cref="ScheduleExpression.GetDueSlots"/> returns, gets every slot exactly once with
    /// catch-up, and only ever the latest due slot, in increasing order, without it.
    /// </summary>
    [Property(MaxTest = 100)]
    public Property A_scheduler_waking_at_random_times_neither_skips_nor_doubles_a_slot() => Prop.ForAll(
        Cases(),
        Gen.ListOf(Gen.Choose(1, 4 * 24 * 60), 40).ToArbitrary(),
        (testCase, steps) =>
        {
            var expression = testCase.Expression();
            var now = testCase.Start;
            var created = new List<Slot>();
            var latestOnly = new List<Slot>();
            foreach (var step in steps)
            {
                now = now.AddMinutes(step);
                created.AddRange(expression.GetDueSlots(created.Count == 0 ? null : created[^1].LogicalDate, now, catchup: true));
                var latest = expression.GetDueSlots(latestOnly.Count == 0 ? null : latestOnly[^1].LogicalDate, now, catchup: false);
                Assert.True(latest.Count <= 1);
                if (latest.Count == 1)
                {
                    Assert.Equal(expression.GetLatestDueSlot(now), latest[0]);
                    Assert.True(latestOnly.Count == 0 || latest[0].LogicalDate > latestOnly[^1].LogicalDate);
                    latestOnly.Add(latest[0]);
                }
            }

            var expected = expression.GetSlots(testCase.Start, now).Where(slot => slot.DueAt <= now).ToList();
            Assert.Equal(expected, created);
            Assert.Equal(expected.Count > 0 ? expected[^1] : null, latestOnly.Count > 0 ? latestOnly[^1] : null);
            return true;
        });
}
