using System.Globalization;
using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Dataflow.Tests;

[Collection(EmulatorTestGroup.Name)]
public sealed class StreamingJobTests(EmulatorFixture fixture)
{
    private DataflowClient Client => fixture.Client;

    [Fact]
    public async Task Drain_then_relaunch_on_the_same_output_loses_no_element_and_repeats_none()
    {
        var name = EmulatorFixture.UniqueName("counter");
        var output = $"gs://out/{name}";
        var parameters = new LaunchTemplateParameters
        {
            JobName = name,
            Parameters = new() { ["output"] = output, ["intervalMs"] = "20" },
        };

        var first = (await Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, parameters)).Job!;
        Assert.Equal(JobType.Streaming, first.Type);
        await fixture.WaitForStateAsync(first.Id!, JobState.Running);
        await WaitForElementsAsync(output, 20);

        var draining = await Client.DrainJobAsync(first.Id!);
        Assert.Equal(JobState.Draining, draining.State);
        var drained = await fixture.WaitForStateAsync(first.Id!, JobState.Drained, JobState.Failed);
        Assert.Equal(JobState.Drained, drained.State);
        var afterFirst = ReadSequences(output);

        // The name is free again once the job is terminal: a restart rollout relaunches under the same name.
        var second = (await Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, parameters)).Job!;
        await fixture.WaitForStateAsync(second.Id!, JobState.Running);
        await WaitForElementsAsync(output, afterFirst.Count + 20);
        await Client.DrainJobAsync(second.Id!);
        Assert.Equal(JobState.Drained, (await fixture.WaitForStateAsync(second.Id!, JobState.Drained, JobState.Failed)).State);

        var sequences = ReadSequences(output);
        Assert.Equal(Enumerable.Range(0, sequences.Count).Select(i => (long)i), sequences);
        Assert.True(sequences.Count >= afterFirst.Count + 20);

        // Windows cover every element exactly once, including the windows flushed on drain.
        var windowed = Directory.GetFiles(LocalDirectory(output, "windows"))
            .Select(file => System.Text.Json.JsonDocument.Parse(File.ReadAllText(file)).RootElement.GetProperty("count").GetInt32())
            .Sum();
        Assert.Equal(sequences.Count, windowed);
    }

    [Fact]
    public async Task Running_streaming_job_reports_messages_autoscaling_events_and_metrics()
    {
        var name = EmulatorFixture.UniqueName("metrics");
        var output = $"gs://out/{name}";
        var job = (await Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, new LaunchTemplateParameters
        {
            JobName = name,
            Parameters = new() { ["output"] = output, ["intervalMs"] = "20" },
            Environment = new RuntimeEnvironment { NumWorkers = 2, MaxWorkers = 5 },
        })).Job!;
        await fixture.WaitForStateAsync(job.Id!, JobState.Running);
        await WaitForElementsAsync(output, 10);

        var metrics = await Client.GetJobMetricsAsync(job.Id!);
        var elementCount = metrics.Metrics!.Single(metric => metric.Name!.Name == "ElementCount");
        Assert.Equal("Sum", elementCount.Kind);
        Assert.True(elementCount.ScalarValue() >= 10);
        Assert.NotNull(metrics.MetricTime);

        var messages = await Client.ListAllJobMessagesAsync(job.Id!, new ListJobMessagesRequest());
        Assert.Contains(messages.JobMessages!, message => message.MessageText!.Contains("starting at sequence", StringComparison.Ordinal));
        var started = messages.AutoscalingEvents!.Last(autoscaling => autoscaling.EventType == AutoscalingEventType.CurrentNumWorkersChanged);
        Assert.Equal(2, started.CurrentNumWorkers);

        // Runtime-updatable parameters: the worker bounds move the pool.
        var updated = await Client.UpdateRuntimeParamsAsync(job.Id!, new RuntimeUpdatableParams { MinNumWorkers = 3, MaxNumWorkers = 4 });
        Assert.Equal(3, updated.RuntimeUpdatableParams!.MinNumWorkers);
        messages = await Client.ListAllJobMessagesAsync(job.Id!, new ListJobMessagesRequest());
        Assert.Equal(3, messages.AutoscalingEvents!.Last().CurrentNumWorkers);

        var refused = await Assert.ThrowsAsync<DataflowApiException>(() =>
            Client.UpdateRuntimeParamsAsync(job.Id!, new RuntimeUpdatableParams { MinNumWorkers = 5, MaxNumWorkers = 4 }));
        Assert.Equal(400, refused.StatusCode);
        Assert.Equal("INVALID_ARGUMENT", refused.Status);

        // As on Dataflow, one request cannot change both the state and masked fields.
        var both = await Assert.ThrowsAsync<DataflowApiException>(() => Client.UpdateJobAsync(job.Id!,
            new Job { RequestedState = JobState.Cancelled, RuntimeUpdatableParams = new RuntimeUpdatableParams { MaxNumWorkers = 4 } },
            "runtime_updatable_params.max_num_workers"));
        Assert.Equal("INVALID_ARGUMENT", both.Status);
        Assert.Equal(JobState.Running, (await Client.GetJobAsync(job.Id!)).State);

        await Client.CancelJobAsync(job.Id!);
        await fixture.WaitForStateAsync(job.Id!, JobState.Cancelled);
    }

    [Fact]
    public async Task Cancel_moves_through_cancelling_to_cancelled_and_a_second_cancel_says_the_job_has_terminated()
    {
        var name = EmulatorFixture.UniqueName("cancel");
        var job = (await Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, new LaunchTemplateParameters
        {
            JobName = name,
            Parameters = new() { ["output"] = $"gs://out/{name}" },
        })).Job!;
        await fixture.WaitForStateAsync(job.Id!, JobState.Running);

        var cancelling = await Client.CancelJobAsync(job.Id!);
        Assert.Contains(cancelling.State, new[] { JobState.Cancelling, JobState.Cancelled });
        Assert.Equal(JobState.Cancelled, (await fixture.WaitForStateAsync(job.Id!, JobState.Cancelled, JobState.Failed)).State);

        var again = await Assert.ThrowsAsync<DataflowApiException>(() => Client.CancelJobAsync(job.Id!));
        Assert.Equal(400, again.StatusCode);
        Assert.Equal("FAILED_PRECONDITION", again.Status);
        Assert.True(again.IsJobTerminated, again.Message);
        Assert.Matches(@"^\([0-9a-f]{16}\): ", again.Message);
    }

    [Fact]
    public async Task Failing_streaming_job_ends_failed_with_its_error_as_a_job_message()
    {
        var name = EmulatorFixture.UniqueName("failing");
        var job = (await Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounterFailing, new LaunchTemplateParameters
        {
            JobName = name,
            Parameters = new() { ["output"] = $"gs://out/{name}", ["intervalMs"] = "20" },
        })).Job!;

        Assert.Equal(JobState.Failed, (await fixture.WaitForStateAsync(job.Id!, JobState.Failed, JobState.Done)).State);
        var errors = await Client.ListAllJobMessagesAsync(job.Id!, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Error });
        Assert.All(errors.JobMessages!, message => Assert.Equal(JobMessageImportance.Error, message.MessageImportance));
        Assert.Contains(errors.JobMessages!, message => message.MessageText!.Contains("simulated failure after 10 elements", StringComparison.Ordinal));
        Assert.Contains(errors.JobMessages!, message => message.MessageText!.Contains("exited with code 1", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Streaming_counter_consumes_files_dropped_into_its_input_directory()
    {
        var name = EmulatorFixture.UniqueName("input");
        var output = $"gs://out/{name}";
        var input = $"gs://in/{name}";
        var job = (await Client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, new LaunchTemplateParameters
        {
            JobName = name,
            Parameters = new() { ["output"] = output, ["inputDir"] = input, ["intervalMs"] = "20" },
        })).Job!;
        await fixture.WaitForStateAsync(job.Id!, JobState.Running);

        var inputDirectory = BucketPaths.ToLocalPath(fixture.BucketsDirectory, input);
        Directory.CreateDirectory(inputDirectory);
        await DropAsync(inputDirectory, "a.txt", "alpha", "beta", "gamma");
        await WaitForElementsAsync(output, 3);
        await DropAsync(inputDirectory, "b.txt", "delta");
        await WaitForElementsAsync(output, 4);

        await Client.DrainJobAsync(job.Id!);
        await fixture.WaitForStateAsync(job.Id!, JobState.Drained);
        var payloads = File.ReadAllLines(LocalDirectory(output, "elements.txt")).Select(line => line.Split('\t')[2]);
        Assert.Equal(["alpha", "beta", "gamma", "delta"], payloads);
    }

    /// <summary>Drops a file the way uploads land: written under a temporary name, then renamed.</summary>
    private static async Task DropAsync(string directory, string name, params string[] lines)
    {
        var temp = Path.Combine(directory, name + ".tmp");
        await File.WriteAllLinesAsync(temp, lines);
        File.Move(temp, Path.Combine(directory, name));
    }

    private string LocalDirectory(string gcsPath, params string[] more) =>
        Path.Combine([BucketPaths.ToLocalPath(fixture.BucketsDirectory, gcsPath), .. more]);

    private List<long> ReadSequences(string output)
    {
        var file = LocalDirectory(output, "elements.txt");
        return File.Exists(file)
            ? File.ReadAllLines(file).Select(line => long.Parse(line.Split('\t')[0], CultureInfo.InvariantCulture)).ToList()
            : [];
    }

    private async Task WaitForElementsAsync(string output, int count)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (ReadSequences(output).Count < count)
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"{output} has {ReadSequences(output).Count} elements, expected {count}.");
            }

            await Task.Delay(50);
        }
    }
}
