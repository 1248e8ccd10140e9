using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Sluice.Manifests.Values;

/// <summary>
/// Human-readable durations: <c>90s</c>, <c>15m</c>, <c>1h30m</c>, <c>2d</c>, <c>500ms</c>, or ISO-8601 <c>PT15M</c>, <c>P1DT2H</c>.
/// As a timeout every unit is elapsed time (a day is 24 hours).
/// </summary>
public static partial class Durations
{
    public const string Syntax = "a duration such as 90s, 15m, 1h30m, 2d or PT15M";

    public static bool TryParse(string? text, out TimeSpan duration, out string? error)
    {
        duration = TimeSpan.Zero;
        error = null;
        if (!ScheduleInterval.TryParse(text, out var interval, out error))
        {
            return false;
        }

        if (interval.Months != 0)
        {
            error = $"'{text}' uses months or years, which have no fixed length; use days, hours, minutes or seconds";
            return false;
        }

        try
        {
            duration = TimeSpan.FromDays(interval.Days) + interval.Time;
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException)
        {
            error = $"'{text}' is too large a duration";
            return false;
        }

        return true;
    }

    public static TimeSpan Parse(string text) =>
        TryParse(text, out var duration, out var error) ? duration : throw new FormatException(error);

    /// <summary>Formats a duration the way manifests write it: <c>1h30m</c>, <c>90s</c>, <c>250ms</c>, <c>0s</c>.</summary>
    public static string Format(TimeSpan duration)
    {
        if (duration == TimeSpan.Zero)
        {
            return "0s";
        }

        var text = new StringBuilder();
        if (duration < TimeSpan.Zero)
        {
            text.Append('-');
            duration = duration.Duration();
        }

        Append(text, (long)duration.TotalDays, "d");
        Append(text, duration.Hours, "h");
        Append(text, duration.Minutes, "m");
        Append(text, duration.Seconds, "s");
        var fraction = duration.Ticks % TimeSpan.TicksPerSecond;
        if (fraction != 0)
        {
            if (fraction % TimeSpan.TicksPerMillisecond == 0)
            {
                Append(text, fraction / TimeSpan.TicksPerMillisecond, "ms");
            }
            else
            {
                Append(text, fraction / 10, "us");
            }
        }

        return text.ToString();
    }

    private static void Append(StringBuilder text, long value, string unit)
    {
        if (value != 0)
        {
            text.Append(value.ToString(CultureInfo.InvariantCulture)).Append(unit);
        }
    }
}

/// <summary>
/// A length of time with calendar parts (months, days) kept apart from elapsed time, so that a schedule of
/// <c>P1D</c> keeps its wall-clock time across daylight-saving changes while <c>PT24H</c> is exactly 24 hours.
/// </summary>
public readonly partial record struct ScheduleInterval(int Months, int Days, TimeSpan Time)
{
    public bool IsPositive => Months > 0 || Days > 0 || Time > TimeSpan.Zero;

    public bool HasCalendarPart => Months != 0 || Days != 0;

    /// <summary>Average length, to estimate how many intervals fit in a span.</summary>
    public TimeSpan ApproximateLength => TimeSpan.FromDays((Months * 30.436875) + Days) + Time;

    public static bool TryParse(string? text, out ScheduleInterval interval, out string? error)
    {
        interval = default;
        error = null;
        var value = text?.Trim() ?? string.Empty;
        if (value.Length == 0)
        {
            error = "a duration is required, e.g. 15m";
            return false;
        }

        if (value.Length > 64)
        {
            error = "the duration is too long to be a duration";
            return false;
        }

        var iso = IsoPattern().Match(value);
        if (iso.Success && value.Length > 1 && !value.EndsWith('T'))
        {
            try
            {
                checked
                {
                    var years = Int(iso.Groups["y"]);
                    var months = Int(iso.Groups["mo"]);
                    var weeks = Int(iso.Groups["w"]);
                    var days = Int(iso.Groups["d"]);
                    var time = TimeSpan.FromHours(Int(iso.Groups["h"])) + TimeSpan.FromMinutes(Int(iso.Groups["mi"]));
                    if (iso.Groups["s"].Success)
                    {
                        time += TimeSpan.FromSeconds(double.Parse(iso.Groups["s"].Value, NumberStyles.Float, CultureInfo.InvariantCulture));
                    }

                    interval = new ScheduleInterval((years * 12) + months, (weeks * 7) + days, time);
                }
            }
            catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException)
            {
                error = $"'{value}' is too large a duration";
                return false;
            }

            return CheckPositive(value, interval, out error);
        }

        var simple = SimplePattern().Match(value);
        if (!simple.Success)
        {
            error = $"'{value}' is not {Durations.Syntax}";
            return false;
        }

        try
        {
            var days = 0;
            var time = TimeSpan.Zero;
            foreach (Capture capture in simple.Groups["part"].Captures)
            {
                var part = PartPattern().Match(capture.Value);
                var number = double.Parse(part.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
                switch (part.Groups["u"].Value)
                {
                    case "w" when number == Math.Floor(number):
                        days = checked(days + ((int)number * 7));
                        break;
                    case "d" when number == Math.Floor(number):
                        days = checked(days + (int)number);
                        break;
                    case "w":
                    case "d":
                        time += TimeSpan.FromHours(number * (part.Groups["u"].Value == "w" ? 168 : 24));
                        break;
                    case "h":
                        time += TimeSpan.FromHours(number);
                        break;
                    case "m":
                        time += TimeSpan.FromMinutes(number);
                        break;
                    case "s":
                        time += TimeSpan.FromSeconds(number);
                        break;
                    case "ms":
                        time += TimeSpan.FromMilliseconds(number);
                        break;
                    case "us":
                        time += TimeSpan.FromMicroseconds(number);
                        break;
                    default:
                        error = $"'{value}' is not {Durations.Syntax}";
                        return false;
                }
            }

            interval = new ScheduleInterval(0, days, time);
        }
        catch (Exception ex) when (ex is OverflowException or ArgumentOutOfRangeException)
        {
            error = $"'{value}' is too large a duration";
            return false;
        }

        return CheckPositive(value, interval, out error);
    }

    private static bool CheckPositive(string value, ScheduleInterval interval, out string? error)
    {
        error = null;
        if (interval.Time < TimeSpan.Zero || interval.Days < 0 || interval.Months < 0)
        {
            error = $"'{value}' is negative; durations must be positive";
            return false;
        }

        return true;
    }

    private static int Int(Group group) =>
        group.Success ? int.Parse(group.Value, NumberStyles.None, CultureInfo.InvariantCulture) : 0;

    public override string ToString()
    {
        if (Months == 0 && Days == 0)
        {
            return Durations.Format(Time);
        }

        var text = new StringBuilder("P");
        if (Months / 12 != 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Months / 12}Y");
        }

        if (Months % 12 != 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Months % 12}M");
        }

        if (Days != 0)
        {
            text.Append(CultureInfo.InvariantCulture, $"{Days}D");
        }

        if (Time != TimeSpan.Zero)
        {
            text.Append('T');
            if ((int)Time.TotalHours != 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"{(int)Time.TotalHours}H");
            }

            if (Time.Minutes != 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"{Time.Minutes}M");
            }

            var seconds = Time.TotalSeconds - (Math.Floor(Time.TotalMinutes) * 60);
            if (seconds != 0)
            {
                text.Append(seconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('S');
            }
        }

        return text.ToString();
    }

    [GeneratedRegex(@"^P(?:(?<y>\d{1,4})Y)?(?:(?<mo>\d{1,5})M)?(?:(?<w>\d{1,5})W)?(?:(?<d>\d{1,6})D)?(?:T(?:(?<h>\d{1,7})H)?(?:(?<mi>\d{1,9})M)?(?:(?<s>\d{1,10}(?:\.\d{1,9})?)S)?)?$")]
    private static partial Regex IsoPattern();

    [GeneratedRegex(@"^(?<part>\d{1,9}(?:\.\d{1,9})?(?:ms|us|[wdhms]))+$")]
    private static partial Regex SimplePattern();

    [GeneratedRegex(@"^(?<n>\d{1,9}(?:\.\d{1,9})?)(?<u>ms|us|[wdhms])$")]
    private static partial Regex PartPattern();
}
