using System.Globalization;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Tests;

public class ValueTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("15m", 900)]
    [InlineData("1h30m", 5400)]
    [InlineData("2d", 172800)]
    [InlineData("1w", 604800)]
    [InlineData("1.5h", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("PT15M", 900)]
    [InlineData("PT1H30M", 5400)]
    [InlineData("P1DT2H", 93600)]
    [InlineData("PT0.5S", 0.5)]
    [InlineData("P2W", 1209600)]
    public void Durations_parse(string text, double seconds)
    {
        Assert.True(Durations.TryParse(text, out var duration, out var error), error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("", "a duration is required")]
    [InlineData("15", "is not a duration such as")]
    [InlineData("15 minutes", "is not a duration such as")]
    [InlineData("-5m", "is not a duration such as")]
    [InlineData("P1M", "uses months or years, which have no fixed length")]
    [InlineData("PT", "is not a duration such as")]
    [InlineData("P1DT", "is not a duration such as")]
    [InlineData("1h 30m", "is not a duration such as")]
    [InlineData("999999999d", "too large")]
    public void Bad_durations_say_why(string text, string message)
    {
        Assert.False(Durations.TryParse(text, out _, out var error));
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(90, "1m30s")]
    [InlineData(5400, "1h30m")]
    [InlineData(93784.25, "1d2h3m4s250ms")]
    public void Durations_format_the_way_manifests_write_them(double seconds, string text)
    {
        Assert.Equal(text, Durations.Format(TimeSpan.FromSeconds(seconds)));
    }

    [Theory]
    [InlineData("2026-11-01", "Europe/Berlin", "2026-11-01T00:00:00+01:00")]
    [InlineData("2026-07-01", "Europe/Berlin", "2026-07-01T00:00:00+02:00")]
    [InlineData("2026-11-01T06:30", "America/New_York", "2026-11-01T06:30:00-05:00")]
    [InlineData("2026-11-01 06:30:15", "UTC", "2026-11-01T06:30:15+00:00")]
    [InlineData("2026-11-01T06:00:00Z", "Europe/Berlin", "2026-11-01T07:00:00+01:00")]
    [InlineData("2026-11-01T06:00:00+05:30", "UTC", "2026-11-01T00:30:00+00:00")]
    [InlineData("2026-10-25T02:30", "Europe/Berlin", "2026-10-25T02:30:00+02:00")]
    public void Dates_are_read_in_the_schedule_zone(string text, string zone, string expected)
    {
        Assert.True(DateValues.TryParse(text, TimeZones.Find(zone), out var value, out var error), error);
        Assert.Equal(expected, DateValues.Format(value));
    }

    [Fact]
    public void Time_zone_names_are_stored_in_their_canonical_spelling()
    {
        Assert.True(TimeZones.TryFind("america/new_york", out var zone, out _, out _));
        Assert.Equal("America/New_York", zone.Id);
    }

    [Theory]
    [InlineData("2026-02-30")]
    [InlineData("01.11.2026")]
    [InlineData("2026-11-01T25:00")]
    [InlineData("tomorrow")]
    public void Bad_dates_are_rejected(string text)
    {
        Assert.False(DateValues.TryParse(text, TimeZoneInfo.Utc, out _, out var error));
        Assert.Contains("is not a date such as 2026-11-01", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("9999-12-31", "9999-12-31 is outside the years 1970 to 2200 that Sluice schedules")]
    [InlineData("1900-01-01T00:00:00Z", "1900-01-01T00:00:00Z is outside the years 1970 to 2200 that Sluice schedules")]
    public void Dates_far_from_now_are_rejected(string text, string message)
    {
        Assert.False(DateValues.TryParse(text, TimeZoneInfo.Utc, out _, out var error));
        Assert.Equal(message, error);
    }

    [Theory]
    [InlineData("P200Y", "'P200Y' is longer than 100 years; use a shorter interval")]
    [InlineData("999999999d", "'999999999d' is longer than 100 years; use a shorter interval")]
    public void Schedule_intervals_are_bounded(string schedule, string message)
    {
        Assert.False(Scheduling.ScheduleExpression.TryValidate(schedule, out _, out var error, out _));
        Assert.Equal(message, error);
    }

    [Fact]
    public void A_time_skipped_by_daylight_saving_is_an_error_in_a_manifest_and_moves_forward_in_arithmetic()
    {
        var berlin = TimeZones.Find("Europe/Berlin");

        Assert.False(DateValues.TryParse("2026-03-29T02:30", berlin, out _, out var error));
        Assert.Equal("2026-03-29T02:30 does not exist in Europe/Berlin: the clocks skip it when daylight-saving time starts; use a time after the jump", error);
        Assert.Equal("2026-03-29T03:30:00+02:00", DateValues.Format(TimeZones.Resolve(new DateTime(2026, 3, 29, 2, 30, 0), berlin)));
    }

    [Theory]
    [InlineData("Europe/Berlin", true, null)]
    [InlineData("America/New_York", true, null)]
    [InlineData("UTC", true, null)]
    [InlineData("Europe/Berln", false, "did you mean 'Europe/Berlin'?")]
    [InlineData("W. Europe Standard Time", false, null)]
    [InlineData("Mars/Olympus", false, null)]
    public void Time_zones_are_IANA_names(string id, bool valid, string? hint)
    {
        Assert.Equal(valid, TimeZones.TryFind(id, out _, out var error, out var actualHint));
        if (!valid)
        {
            Assert.Equal($"'{id}' is not an IANA time zone", error);
            if (hint is not null)
            {
                Assert.Equal(hint, actualHint);
            }
        }
    }

    [Theory]
    [InlineData("maxWorker", "maxWorkers")]
    [InlineData("numworkers", "numWorkers")]
    [InlineData("tempLoaction", "tempLocation")]
    [InlineData("private", "WORKER_IP_PRIVATE")]
    [InlineData("zzzzzz", null)]
    public void Suggestions_find_likely_typos(string input, string? expected)
    {
        string[] candidates = ["maxWorkers", "numWorkers", "tempLocation", "WORKER_IP_PUBLIC", "WORKER_IP_PRIVATE"];
        Assert.Equal(expected, Suggestions.Closest(input, candidates));
    }

    [Theory]
    [InlineData("clickstream-v1", true)]
    [InlineData("a", true)]
    [InlineData("Clickstream", false)]
    [InlineData("1job", false)]
    [InlineData("job-", false)]
    [InlineData("job_name", false)]
    public void Job_names_follow_Dataflow(string name, bool valid) => Assert.Equal(valid, Patterns.IsJobName(name));

    [Theory]
    [InlineData("team", true)]
    [InlineData("équipe", true)]
    [InlineData("Team", false)]
    [InlineData("1team", false)]
    public void Label_keys_follow_Google_Cloud(string key, bool valid) => Assert.Equal(valid, Patterns.IsLabelKey(key));

    [Fact]
    public void Retry_delays_back_off_up_to_the_maximum()
    {
        var policy = new RetryPolicy { Count = 5, Delay = TimeSpan.FromMinutes(1), ExponentialBackoff = true, MaxDelay = TimeSpan.FromMinutes(5) };

        Assert.Equal(
            [1, 2, 4, 5, 5],
            Enumerable.Range(1, 5).Select(retry => (int)policy.DelayBefore(retry).TotalMinutes));
        Assert.Equal(TimeSpan.FromMinutes(1), (policy with { ExponentialBackoff = false }).DelayBefore(4));
    }

    [Fact]
    public void Format_strings_of_the_invariant_culture_are_used() =>
        Assert.Equal("2026-11-01", new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
}
