using Sluice.Manifests.Scheduling;
using Sluice.Manifests.Templating;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Tests;

public class SlotTemplateTests
{
    // The Berlin slot of 2026-11-01: 00:00+01:00 is 2026-10-31T23:00Z (Airflow would render ds in UTC; Sluice renders in the zone).
    private static readonly SlotContext Berlin = new(
        "daily_sales",
        new Slot(
            new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.FromHours(1)),
            new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.FromHours(1)),
            new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.FromHours(1)),
            new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.FromHours(1))),
        "run-42");

    [Theory]
    [InlineData("{{ ds }}", "2026-11-01")]
    [InlineData("{{ds_nodash}}", "20261101")]
    [InlineData("{{ ts }}", "2026-11-01T00:00:00+01:00")]
    [InlineData("{{ ts_nodash }}", "20261101T000000")]
    [InlineData("{{ logical_date }}", "2026-11-01T00:00:00+01:00")]
    [InlineData("{{ data_interval_start }}", "2026-11-01T00:00:00+01:00")]
    [InlineData("{{ data_interval_end }}", "2026-11-02T00:00:00+01:00")]
    [InlineData("{{ dag_id }}/{{ run_id }}", "daily_sales/run-42")]
    [InlineData("{{ logical_date | format('yyyyMMdd') }}", "20261101")]
    [InlineData("{{ logical_date | format(\"yyyy/MM/dd HH:mm\") }}", "2026/11/01 00:00")]
    [InlineData("{{ logical_date | utc }}", "2026-10-31T23:00:00+00:00")]
    [InlineData("{{ ds | utc }}", "2026-10-31")]
    [InlineData("{{ data_interval_end | utc | format('yyyyMMddHH') }}", "2026110123")]
    [InlineData("{{ logical_date.strftime('%Y%m%d') }}", "20261101")]
    [InlineData("{{ logical_date | strftime('%Y-%m-%dT%H:%M:%S%z %j %%') }}", "2026-11-01T00:00:00+0100 305 %")]
    [InlineData("gs://raw/sales/{{ ds }}/*.csv", "gs://raw/sales/2026-11-01/*.csv")]
    [InlineData("no macros } {", "no macros } {")]
    public void Macros_render_the_slot(string template, string expected)
    {
        Assert.Equal(expected, SlotTemplate.Parse(template).Render(Berlin));
    }

    [Theory]
    [InlineData("{{ dss }}", "unknown macro 'dss'", "did you mean 'ds'?")]
    [InlineData("{{ execution_date }}", "unknown macro 'execution_date'", null)]
    [InlineData("{{ ds | lower }}", "unknown filter 'lower' on the macro 'ds'", null)]
    [InlineData("{{ ds | format }}", "the filter 'format' needs a quoted format", "write e.g. | format('yyyyMMdd')")]
    [InlineData("{{ ds | utc('x') }}", "the filter 'utc' takes no argument", null)]
    [InlineData("{{ dag_id | format('x') }}", "the macro 'dag_id' is not a date and takes no filter", null)]
    [InlineData("{{ ds | format('yyyy') | utc }}", "the macro 'ds' takes at most one format, after '| utc'", null)]
    [InlineData("{{ ds | format('yyyy') | format('MM') }}", "the macro 'ds' takes at most one format, after '| utc'", null)]
    [InlineData("{{ ds | strftime('%Q') }}", "the strftime directive '%Q' is not supported", null)]
    [InlineData("{{ ds", "the macro starting at character 1 is not closed", "end it with }}, e.g. {{ ds }}")]
    [InlineData("a }} b", "'}}' at character 3 closes no macro", null)]
    [InlineData("{{ }}", "'{{ }}' is not a macro", null)]
    [InlineData("{{ ds + 1 }}", "'{{ ds + 1 }}' is not a macro", null)]
    public void Bad_templates_are_errors_at_validation_time(string template, string message, string? hint)
    {
        Assert.False(SlotTemplate.TryParse(template, out _, out var error, out var actualHint));
        Assert.StartsWith(message, error, StringComparison.Ordinal);
        if (hint is not null)
        {
            Assert.Equal(hint, actualHint);
        }
    }

    [Fact]
    public void Job_and_parameters_render_per_slot_with_the_run_id()
    {
        var text = """
            apiVersion: sluice/v1
            kind: Schedule
            metadata: { name: hourly }
            spec:
              dagId: hourly_events
              schedule: "@hourly"
              timeZone: America/New_York
              startDate: 2026-11-01
              job:
                template: { kind: flex, gcsPath: gs://acme/t.json }
                parameters:
                  from: "{{ data_interval_start | utc | format('yyyy-MM-ddTHH:mm') }}"
                  to: "{{ data_interval_end | utc | format('yyyy-MM-ddTHH:mm') }}"
                  run: "{{ run_id }}"
            """;
        var spec = Assert.IsType<ScheduleManifest>(Assert.Single(ManifestReader.Read(text, "h.yaml").Manifests)).Spec;
        var expression = spec.GetExpression();
        var slot = expression.GetSlot(new DateTimeOffset(2026, 11, 1, 1, 0, 0, TimeSpan.FromHours(-5)))!;

        var job = spec.Job.Render(SlotContext.For(spec, slot, 17L));

        Assert.Equal("hourly-events-20261101-060000", job.JobName);
        Assert.Equal("2026-11-01T06:00", job.Parameters["from"]);
        Assert.Equal("2026-11-01T07:00", job.Parameters["to"]);
        Assert.Equal("17", job.Parameters["run"]);
        Assert.Equal(TemplateKind.Flex, job.Template.Kind);
        Assert.Equal("scheduled__2026-11-01T01:00:00-05:00", SlotContext.DefaultRunId(slot));
    }

    [Fact]
    public void The_default_job_name_is_unique_for_every_hour_across_the_fall_back()
    {
        var text = """
            apiVersion: sluice/v1
            kind: Schedule
            metadata: { name: hourly }
            spec:
              dagId: hourly
              schedule: "@hourly"
              timeZone: Europe/Berlin
              startDate: 2026-10-25
              job:
                template: { gcsPath: gs://acme/t }
            """;
        var spec = Assert.IsType<ScheduleManifest>(Assert.Single(ManifestReader.Read(text, "h.yaml").Manifests)).Spec;

        var names = spec.GetExpression().GetSlots(spec.StartDate, new DateTimeOffset(2026, 10, 26, 0, 0, 0, TimeSpan.FromHours(1)).AddTicks(-1))
            .Select(slot => spec.Job.Render(SlotContext.For(spec, slot)).JobName)
            .ToList();

        Assert.Equal(25, names.Count);
        Assert.Equal(25, names.Distinct().Count());
        Assert.All(names, name => Assert.True(Patterns.IsJobName(name), name));
        Assert.Equal("hourly-20261024-220000", names[0]);
    }
}
