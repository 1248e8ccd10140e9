namespace Sluice.Manifests.Values;

/// <summary>IANA time zones (<c>Europe/Berlin</c>, <c>America/New_York</c>, <c>UTC</c>) and local-time resolution.</summary>
public static class TimeZones
{
    private static readonly Lazy<string[]> KnownIds = new(() =>
        [.. TimeZoneInfo.GetSystemTimeZones().Select(zone => zone.Id).Where(id => id.Contains('/', StringComparison.Ordinal)).Append("UTC")]);

    public static bool TryFind(string? id, out TimeZoneInfo zone, out string? error, out string? hint)
    {
        zone = TimeZoneInfo.Utc;
        error = null;
        hint = null;
        var value = id?.Trim() ?? string.Empty;
        if (value.Length == 0)
        {
            error = "a time zone is required, e.g. Europe/Berlin or UTC";
            return false;
        }

        if (value.Length <= 64 && TimeZoneInfo.TryFindSystemTimeZoneById(value, out var found) && found is not null && found.HasIanaId)
        {
            zone = found;
            return true;
        }

        error = $"'{value}' is not an IANA time zone";
        hint = Suggestions.DidYouMean(value, KnownIds.Value) ?? "use a name such as Europe/Berlin, America/New_York or UTC";
        return false;
    }

    public static TimeZoneInfo Find(string id) =>
        TryFind(id, out var zone, out var error, out _) ? zone : throw new ArgumentException(error, nameof(id));

    /// <summary>
    /// The instant of a wall-clock time in a zone. A time in a daylight-saving gap (it does not exist) moves
    /// forward by the gap, as a clock would; an ambiguous time (it happens twice) is its first occurrence.
    /// </summary>
    public static DateTimeOffset Resolve(DateTime local, TimeZoneInfo zone)
    {
        local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (zone.IsInvalidTime(local))
        {
            // The offset in force just before the gap, applied to the nonexistent time, lands after the gap.
            var before = zone.GetUtcOffset(local.AddHours(-3));
            return TimeZoneInfo.ConvertTime(new DateTimeOffset(local, before), zone);
        }

        if (zone.IsAmbiguousTime(local))
        {
            var offsets = zone.GetAmbiguousTimeOffsets(local);
            return new DateTimeOffset(local, offsets.Max());
        }

        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>The same instant, expressed with the zone's offset at that instant.</summary>
    public static DateTimeOffset InZone(DateTimeOffset instant, TimeZoneInfo zone) => TimeZoneInfo.ConvertTime(instant, zone);
}
