using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Dataflow.Tests;

[Collection(EmulatorTestGroup.Name)]
public sealed class LaunchAndGetTests(EmulatorFixture fixture)
{
    [Fact]
    public async Task Classic_batch_template_launches_runs_and_ends_done_with_its_output_written()
    {
        var day = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
        var name = EmulatorFixture.UniqueName("wordcount");
        var response = await fixture.Client.LaunchTemplateAsync(ExampleTemplates.WordCount, new LaunchTemplateParameters
        {
            JobName = name,
            Parameters = new() { ["inputFile"] = ExampleTemplates.WordsInput(day), ["output"] = $"gs://out/{name}/counts.txt" },
        });

        var job = response.Job!;
        Assert.Equal(name, job.Name);
        Assert.Equal(JobType.Batch, job.Type);
        Assert.False(string.IsNullOrEmpty(job.Id));

        var done = await fixture.WaitForStateAsync(job.Id!, JobState.Done, JobState.Failed);
        Assert.Equal(JobState.Done, done.State);
        var counts = await File.ReadAllLinesAsync(Path.Combine(fixture.BucketsDirectory, "out", name, "counts.txt"));
        Assert.NotEmpty(counts);
        Assert.Equal(160, counts.Sum(line => long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture)));
    }
}
