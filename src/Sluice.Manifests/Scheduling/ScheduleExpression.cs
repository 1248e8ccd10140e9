using Cronos;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Scheduling;

/// <summary>
/// A schedule bound to its time zone, start date and end date: the slot arithmetic of Airflow's timetables.
/// <list type="bullet">
/// <item>Cron and presets: slots run from one occurrence to the next; the first slot starts at the first
/// occurrence at or after the start date (CronDataIntervalTimetable).</item>
/// <item>Durations: slots start exactly at the start date and follow each other (DeltaDataIntervalTimetable).</item>
/// <item><c>@once</c>: one slot at the start date. <c>@none</c>: no scheduled slots, only triggered ones.</item>
/// </list>
/// A slot is scheduled when its logical date (interval start) is on or after the start date and on or before the
/// end date. A slot is due when its interval has ended.
/// </summary>
public sealed class ScheduleExpression
{
    /// <summary>Presets and the cron expressions they stand for.</summary>
    public static readonly IReadOnlyDictionary<string, string> Presets = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["@hourly"] = "0 * * * *",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@weekly"] = "0 0 * * 0",
        ["@monthly"] = "0 0 1 * *",
        ["@quarterly"] = "0 0 1 */3 *",
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
    };

    public const string Syntax = "a preset (@once, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly, @none), a cron expression with 5 or 6 fields (\"30 2 * * *\"), or a duration (PT6H, P1D, 90m)";

    private const int DefaultLimit = 100_000;

    private readonly Timetable? _timetable;

    private ScheduleExpression(string text, ScheduleKind kind, Timetable? timetable, TimeZoneInfo zone, DateTimeOffset start, DateTimeOffset? end)
    {
        Text = text;
        Kind = kind;
        _timetable = timetable;
        TimeZone = zone;
        StartDate = TimeZones.InZone(start, zone);
        EndDate = end is null ? null : TimeZones.InZone(end.Value, zone);
    }

    public string Text { get; }

    public ScheduleKind Kind { get; }

    public TimeZoneInfo TimeZone { get; }

    public DateTimeOffset StartDate { get; }

    public DateTimeOffset? EndDate { get; }

    /// <summary>Checks the syntax of a schedule without binding it to dates.</summary>
    public static bool TryValidate(string? text, out ScheduleKind kind, out string? error, out string? hint)
    {
        kind = ScheduleKind.None;
        error = null;
        hint = null;
        var value = text?.Trim() ?? string.Empty;
        if (value.Length == 0)
        {
            error = "a schedule is required: " + Syntax;
            return false;
        }

        if (value.StartsWith('@'))
        {
            if (value is "@once")
            {
                kind = ScheduleKind.Once;
                return true;
            }

            if (value is "@none")
            {
                kind = ScheduleKind.None;
                return true;
            }

            if (Presets.ContainsKey(value))
            {
                kind = ScheduleKind.Cron;
                return true;
            }

            error = $"'{value}' is not a preset";
            hint = Suggestions.DidYouMean(value, Presets.Keys.Append("@once").Append("@none")) ?? "use one of @once, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly, @none";
            return false;
        }

        if (value.Contains(' ', StringComparison.Ordinal) || value.Contains('*', StringComparison.Ordinal))
        {
            if (TryParseCron(value, out _, out error))
            {
                kind = ScheduleKind.Cron;
                return true;
            }

            return false;
        }

        if (ScheduleInterval.TryParse(value, out var interval, out _) && interval.IsPositive)
        {
            if ((interval.Months * 30.44) + interval.Days + interval.Time.TotalDays > 36_600)
            {
                error = $"'{value}' is longer than 100 years; use a shorter interval";
                return false;
            }

            kind = ScheduleKind.Interval;
            return true;
        }

        error = $"'{value}' is not {Syntax}";
        return false;
    }

    /// <summary>Binds a schedule to a zone and dates. Throws <see cref="FormatException"/> for an invalid schedule (validate first).</summary>
    public static ScheduleExpression Create(string schedule, TimeZoneInfo zone, DateTimeOffset startDate, DateTimeOffset? endDate)
    {
        var text = schedule.Trim();
        if (!TryValidate(text, out var kind, out var error, out _))
        {
            throw new FormatException(error);
        }

        Timetable? timetable = kind switch
        {
            ScheduleKind.Cron => new CronTimetable(ParseCron(Presets.TryGetValue(text, out var cron) ? cron : text), zone),
            ScheduleKind.Interval => new IntervalTimetable(ParseInterval(text), startDate, zone),
            _ => null,
        };
        return new ScheduleExpression(text, kind, timetable, zone, startDate, endDate);
    }

    /// <summary>The first scheduled slot, or null when there is none (end date before the first occurrence, @none).</summary>
    public Slot? GetFirstSlot()
    {
        if (Kind == ScheduleKind.Once)
        {
            return InRange(StartDate) ? OnceSlot(StartDate) : null;
        }

        var first = _timetable?.Next(StartDate, inclusive: true);
        return first is null ? null : ScheduledSlotAt(first.Value);
    }

    /// <summary>The scheduled slot after <paramref name="slot"/>, or null past the end date.</summary>
    public Slot? GetSlotAfter(Slot slot)
    {
        if (_timetable is null)
        {
            return null;
        }

        var next = _timetable.Next(slot.DataIntervalStart, inclusive: false);
        if (next is null)
        {
            return null;
        }

        // A slot before the start date (a manual one) continues with the first scheduled slot.
        if (next.Value < StartDate)
        {
            return GetFirstSlot();
        }

        return ScheduledSlotAt(next.Value);
    }

    /// <summary>
    /// The slot whose logical date is <paramref name="logicalDate"/>, if that date is on the schedule
    /// (start and end dates do not restrict it, so a backfill may reach before the start date); otherwise null.
    /// </summary>
    public Slot? GetSlot(DateTimeOffset logicalDate)
    {
        if (Kind == ScheduleKind.Once)
        {
            return logicalDate == StartDate ? OnceSlot(StartDate) : null;
        }

        if (_timetable is null || !_timetable.IsBoundary(logicalDate))
        {
            return null;
        }

        return SlotAt(logicalDate);
    }

    /// <summary>
    /// The slot of a manually triggered run with this logical date (Airflow's infer_manual_data_interval): the
    /// scheduled slot when the date is on the schedule, else the latest whole interval that ends at or before it,
    /// with the given logical date, due at once.
    /// </summary>
    public Slot GetManualSlot(DateTimeOffset logicalDate)
    {
        logicalDate = TimeZones.InZone(logicalDate, TimeZone);
        var scheduled = GetSlot(logicalDate);
        if (scheduled is not null)
        {
            return scheduled;
        }

        var end = _timetable?.Previous(logicalDate, inclusive: true);
        var start = end is null ? null : _timetable!.Previous(end.Value, inclusive: false);
        return start is null || end is null
            ? new Slot(logicalDate, logicalDate, logicalDate, logicalDate)
            : new Slot(logicalDate, start.Value, end.Value, logicalDate);
    }

    /// <summary>The latest scheduled slot that is due at <paramref name="now"/> (its interval has ended), or null.</summary>
    public Slot? GetLatestDueSlot(DateTimeOffset now)
    {
        if (Kind == ScheduleKind.Once)
        {
            var once = GetFirstSlot();
            return once is not null && once.DueAt <= now ? once : null;
        }

        if (_timetable is null)
        {
            return null;
        }

        var end = _timetable.Previous(now, inclusive: true);
        var start = end is null ? null : _timetable.Previous(end.Value, inclusive: false);
        if (start is null)
        {
            return null;
        }

        if (EndDate is not null && start.Value > EndDate.Value)
        {
            // Past the end date: the last scheduled slot is the latest one, and it is due already.
            var last = _timetable.Previous(EndDate.Value, inclusive: true);
            if (last is null)
            {
                return null;
            }

            start = last;
        }

        return start.Value < StartDate ? null : ScheduledSlotAt(start.Value);
    }

    /// <summary>The scheduled slots whose logical dates fall in [<paramref name="from"/>, <paramref name="to"/>], in order.</summary>
    public IReadOnlyList<Slot> GetSlots(DateTimeOffset from, DateTimeOffset to, int limit = DefaultLimit)
    {
        var slots = new List<Slot>();
        var slot = GetFirstSlotAtOrAfter(from);
        while (slot is not null && slot.LogicalDate <= to && slots.Count < limit)
        {
            slots.Add(slot);
            slot = GetSlotAfter(slot);
        }

        return slots;
    }

    /// <summary>
    /// The slots a scheduler should create now, after the slot with logical date <paramref name="lastLogicalDate"/>
    /// (null if none ran yet), as Airflow's next_dagrun_info does: with catch-up every due slot in order; without
    /// catch-up only the latest due slot, and nothing if that one already ran.
    /// </summary>
    public IReadOnlyList<Slot> GetDueSlots(DateTimeOffset? lastLogicalDate, DateTimeOffset now, bool catchup, int limit = DefaultLimit)
    {
        if (!catchup)
        {
            var latest = GetLatestDueSlot(now);
            return latest is null || (lastLogicalDate is not null && latest.LogicalDate <= lastLogicalDate.Value) ? [] : [latest];
        }

        var slots = new List<Slot>();
        var slot = lastLogicalDate is null ? GetFirstSlot() : GetFirstSlotAtOrAfter(lastLogicalDate.Value.AddTicks(1));
        while (slot is not null && slot.DueAt <= now && slots.Count < limit)
        {
            slots.Add(slot);
            slot = GetSlotAfter(slot);
        }

        return slots;
    }

    private Slot? GetFirstSlotAtOrAfter(DateTimeOffset time)
    {
        if (time <= StartDate)
        {
            return GetFirstSlot();
        }

        if (Kind == ScheduleKind.Once || _timetable is null)
        {
            return null;
        }

        var next = _timetable.Next(time, inclusive: true);
        return next is null ? null : ScheduledSlotAt(next.Value);
    }

    private Slot? ScheduledSlotAt(DateTimeOffset start) => InRange(start) ? SlotAt(start) : null;

    private bool InRange(DateTimeOffset logicalDate) =>
        logicalDate >= StartDate && (EndDate is null || logicalDate <= EndDate.Value);

    private Slot? SlotAt(DateTimeOffset start)
    {
        var end = _timetable!.Next(start, inclusive: false);
        if (end is null)
        {
            return null;
        }

        var logical = TimeZones.InZone(start, TimeZone);
        var intervalEnd = TimeZones.InZone(end.Value, TimeZone);
        return new Slot(logical, logical, intervalEnd, intervalEnd);
    }

    private static Slot OnceSlot(DateTimeOffset start) => new(start, start, start, start);

    internal static bool TryParseCron(string text, out CronExpression? expression, out string? error)
    {
        expression = null;
        error = null;
        var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length is not (5 or 6))
        {
            error = $"the cron expression '{text}' has {fields.Length} fields; write 5 (minute hour day month weekday) or 6 (with seconds first)";
            return false;
        }

        try
        {
            expression = CronExpression.Parse(string.Join(' ', fields), fields.Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            return true;
        }
        catch (CronFormatException ex)
        {
            var reason = ex.Message;
            var cut = reason.IndexOf("format. ", StringComparison.Ordinal);
            reason = (cut >= 0 ? reason[(cut + 8)..] : reason).TrimEnd('.');
            error = $"'{text}' is not a valid cron expression: {reason}";
            return false;
        }
    }

    private static CronExpression ParseCron(string text) =>
        TryParseCron(text, out var expression, out var error) ? expression! : throw new FormatException(error);

    private static ScheduleInterval ParseInterval(string text) =>
        ScheduleInterval.TryParse(text, out var interval, out var error) ? interval : throw new FormatException(error);
}
