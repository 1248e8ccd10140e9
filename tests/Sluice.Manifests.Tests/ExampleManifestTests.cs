namespace Sluice.Manifests.Tests;

public class ExampleManifestTests
{
    [Fact]
    public void Every_example_is_valid()
    {
        var result = ManifestFiles.ReadAll([TestPaths.Examples]);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Problems));
        Assert.Equal(7, result.FileCount);
        Assert.Equal(7, result.Manifests.Count);
    }

    [Fact]
    public void Daily_wordcount_renders_three_slots_with_the_slot_date_in_parameters()
    {
        var schedule = Assert.IsType<ScheduleManifest>(Assert.Single(ManifestReader.ReadFile(Path.Combine(TestPaths.Examples, "daily-wordcount.yaml")).Manifests));
        var expression = schedule.Spec.GetExpression();

        var slots = expression.GetDueSlots(null, new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), catchup: true);

        Assert.Equal(3, slots.Count);
        var job = schedule.Spec.Job.Render(Templating.SlotContext.For(schedule.Spec, slots[1]));
        Assert.Equal("daily-wordcount-20260102", job.JobName);
        Assert.Equal("gs://sluice-examples/data/words-20260102.txt", job.Parameters["inputFile"]);
        Assert.Equal("gs://sluice-output/wordcount/2026-01-02/", job.Parameters["output"]);
    }
}
