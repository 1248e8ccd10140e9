using System.Globalization;

namespace Sluice.Manifests.Values;

/// <summary>
/// Dates and date-times in manifests: <c>2026-11-01</c> (midnight in the schedule's time zone),
/// <c>2026-11-01T06:00</c> or <c>2026-11-01 06:00:00</c> (wall-clock time in that zone), or with an explicit
/// offset <c>2026-11-01T06:00:00+01:00</c> / <c>…Z</c>.
/// </summary>
public static class DateValues
{
    public const string Syntax = "a date such as 2026-11-01, a date-time such as 2026-11-01T06:00, or one with an offset such as 2026-11-01T06:00:00+01:00";

    private static readonly string[] LocalFormats =
    [
        "yyyy-MM-dd",
        "yyyy-MM-dd'T'HH:mm",
        "yyyy-MM-dd'T'HH:mm:ss",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm",
        "yyyy-MM-dd HH:mm:ss",
        "yyyy-MM-dd HH:mm:ss.FFFFFFF",
    ];

    private static readonly string[] OffsetFormats =
    [
        "yyyy-MM-dd'T'HH:mmzzz",
        "yyyy-MM-dd'T'HH:mm:sszzz",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd HH:mmzzz",
        "yyyy-MM-dd HH:mm:sszzz",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd'T'HH:mm'Z'",
        "yyyy-MM-dd'T'HH:mm:ss'Z'",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
    ];

    public const int MinYear = 1970;

    public const int MaxYear = 2200;

    /// <summary>Parses a date or date-time; wall-clock values are read in <paramref name="zone"/>.</summary>
    public static bool TryParse(string? text, TimeZoneInfo zone, out DateTimeOffset value, out string? error)
    {
        if (!TryParseAnyYear(text, zone, out value, out error))
        {
            return false;
        }

        if (value.Year is < MinYear or > MaxYear)
        {
            error = $"{text?.Trim()} is outside the years {MinYear} to {MaxYear} that Sluice schedules";
            return false;
        }

        return true;
    }

    private static bool TryParseAnyYear(string? text, TimeZoneInfo zone, out DateTimeOffset value, out string? error)
    {
        value = default;
        error = null;
        var input = text?.Trim() ?? string.Empty;
        if (input.Length is 0 or > 64)
        {
            error = $"'{input}' is not {Syntax}";
            return false;
        }

        if (input.EndsWith('Z') || input.EndsWith('z'))
        {
            if (DateTimeOffset.TryParseExact(input.ToUpperInvariant(), OffsetFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var utc))
            {
                value = TimeZones.InZone(utc, zone);
                return true;
            }
        }

        if (DateTimeOffset.TryParseExact(input, OffsetFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var withOffset))
        {
            value = TimeZones.InZone(withOffset, zone);
            return true;
        }

        if (DateTime.TryParseExact(input, LocalFormats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            if (zone.IsInvalidTime(local))
            {
                error = $"{input} does not exist in {zone.Id}: the clocks skip it when daylight-saving time starts; use a time after the jump";
                return false;
            }

            value = TimeZones.Resolve(local, zone);
            return true;
        }

        error = $"'{input}' is not {Syntax}";
        return false;
    }

    /// <summary>ISO-8601 with offset, the form manifests and JSON output use: <c>2026-11-01T00:00:00+01:00</c>.</summary>
    public static string Format(DateTimeOffset value) =>
        value.ToString(value.Millisecond == 0 && value.Ticks % TimeSpan.TicksPerMillisecond == 0 ? "yyyy-MM-dd'T'HH:mm:sszzz" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture);
}
