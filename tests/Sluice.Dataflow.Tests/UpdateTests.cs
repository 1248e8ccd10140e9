using System.Globalization;
using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Dataflow.Tests;

[Collection(EmulatorTestGroup.Name)]
public sealed class UpdateTests(EmulatorFixture fixture)
{
    private DataflowClient Client => fixture.Client;

    [Fact]
    public async Task Flex_update_with_the_transform_mapping_replaces_the_running_job_without_a_gap()
    {
        var name = EmulatorFixture.UniqueName("flex");
        var output = $"gs://out/{name}";
        var v1 = (await Client.LaunchFlexTemplateAsync(new LaunchFlexTemplateParameter
        {
            JobName = name,
            ContainerSpecGcsPath = ExampleTemplates.StreamingCounterFlex,
            Parameters = new() { ["output"] = output, ["intervalMs"] = "20" },
        })).Job!;
        await fixture.WaitForStateAsync(v1.Id!, JobState.Running);
        Assert.Equal(JobType.Streaming, v1.Type);

        // v2 renamed a transform: without a mapping the new job fails its compatibility check and v1 keeps running.
        var refused = (await Client.LaunchFlexTemplateAsync(new LaunchFlexTemplateParameter
        {
            JobName = name,
            ContainerSpecGcsPath = ExampleTemplates.StreamingCounterFlexV2,
            Parameters = new() { ["output"] = output, ["intervalMs"] = "20" },
            Update = true,
        })).Job!;
        Assert.Equal(v1.Id, refused.ReplaceJobId);
        Assert.Equal(JobState.Failed, (await fixture.WaitForStateAsync(refused.Id!, JobState.Failed, JobState.Running)).State);
        var why = await Client.ListAllJobMessagesAsync(refused.Id!, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Error });
        Assert.Contains(why.JobMessages!, message => message.MessageText!.Contains("WindowCounts", StringComparison.Ordinal));
        Assert.Equal(JobState.Running, (await Client.GetJobAsync(v1.Id!)).State);

        var v2 = (await Client.LaunchFlexTemplateAsync(new LaunchFlexTemplateParameter
        {
            JobName = name,
            ContainerSpecGcsPath = ExampleTemplates.StreamingCounterFlexV2,
            Parameters = new() { ["output"] = output, ["intervalMs"] = "20" },
            Update = true,
            TransformNameMappings = new() { ["WindowCounts"] = "CountPerWindow" },
        })).Job!;
        Assert.Equal(v1.Id, v2.ReplaceJobId);
        await fixture.WaitForStateAsync(v2.Id!, JobState.Running);
        var old = await fixture.WaitForStateAsync(v1.Id!, JobState.Updated, JobState.Failed);
        Assert.Equal(JobState.Updated, old.State);
        Assert.Equal(v2.Id, old.ReplacedByJobId);

        await WaitForMoreElementsAsync(output, 10);
        await Client.DrainJobAsync(v2.Id!);
        await fixture.WaitForStateAsync(v2.Id!, JobState.Drained);
        var sequences = File.ReadAllLines(Path.Combine(BucketPaths.ToLocalPath(fixture.BucketsDirectory, output), "elements.txt"))
            .Select(line => long.Parse(line.Split('\t')[0], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(Enumerable.Range(0, sequences.Count).Select(i => (long)i), sequences);
        Assert.Contains(File.ReadAllLines(Path.Combine(BucketPaths.ToLocalPath(fixture.BucketsDirectory, output), "elements.txt")),
            line => line.Contains(v2.Id!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Update_without_a_running_job_of_that_name_is_refused_with_not_found()
    {
        var error = await Assert.ThrowsAsync<DataflowApiException>(() => Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter,
            new LaunchTemplateParameters
            {
                JobName = EmulatorFixture.UniqueName("nothing"),
                Parameters = new() { ["output"] = "gs://out/nothing" },
                Update = true,
            }));
        Assert.Equal(404, error.StatusCode);
        Assert.Equal("NOT_FOUND", error.Status);
        Assert.Contains("in RUNNING OR DRAINING state", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Running_batch_jobs_cannot_be_drained_or_updated_only_cancelled()
    {
        // Any program can be a job: a batch template that runs `sleep`, which prints nothing.
        var template = "gs://tests/templates/sleeper";
        var file = BucketPaths.ToLocalPath(fixture.BucketsDirectory, template);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, """{"sluiceLocal": {"command": ["sleep", "60"]}}""");

        var name = EmulatorFixture.UniqueName("sleeper");
        var job = (await Client.LaunchTemplateAsync(template, new LaunchTemplateParameters { JobName = name })).Job!;
        Assert.Equal(JobType.Batch, job.Type);
        await fixture.WaitForStateAsync(job.Id!, JobState.Running);

        var drain = await Assert.ThrowsAsync<DataflowApiException>(() => Client.DrainJobAsync(job.Id!));
        Assert.Equal(400, drain.StatusCode);
        Assert.Equal("FAILED_PRECONDITION", drain.Status);
        Assert.Contains("batch job", drain.Message, StringComparison.Ordinal);

        var update = await Assert.ThrowsAsync<DataflowApiException>(() =>
            Client.LaunchTemplateAsync(template, new LaunchTemplateParameters { JobName = name, Update = true }));
        Assert.Equal("FAILED_PRECONDITION", update.Status);

        await Client.CancelJobAsync(job.Id!);
        Assert.Equal(JobState.Cancelled, (await fixture.WaitForStateAsync(job.Id!, JobState.Cancelled, JobState.Failed)).State);
    }

    [Fact]
    public async Task Batch_job_with_missing_input_fails_with_a_clear_message()
    {
        var name = EmulatorFixture.UniqueName("batch");
        var job = (await Client.LaunchTemplateAsync(ExampleTemplates.WordCount, new LaunchTemplateParameters
        {
            JobName = name,
            Parameters = new() { ["inputFile"] = "gs://nowhere/missing.txt", ["output"] = $"gs://out/{name}/counts.txt" },
        })).Job!;
        Assert.Equal(JobState.Failed, (await fixture.WaitForStateAsync(job.Id!, JobState.Failed, JobState.Done)).State);
        var messages = await Client.ListAllJobMessagesAsync(job.Id!, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Error });
        Assert.Contains(messages.JobMessages!, message => message.MessageText!.Contains("gs://nowhere/missing.txt does not exist", StringComparison.Ordinal));
    }

    private async Task WaitForMoreElementsAsync(string output, int count)
    {
        var file = Path.Combine(BucketPaths.ToLocalPath(fixture.BucketsDirectory, output), "elements.txt");
        int Count() => File.Exists(file) ? File.ReadAllLines(file).Length : 0;
        var start = Count();
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (Count() < start + count)
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "the updated job emitted no new elements");
            await Task.Delay(50);
        }
    }
}
