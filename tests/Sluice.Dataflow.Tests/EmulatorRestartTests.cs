using System.Text.Json.Nodes;
using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Dataflow.Tests;

public sealed class EmulatorRestartTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "sluice-df-restart-" + Guid.NewGuid().ToString("N")[..8]);

    private string Buckets => Path.Combine(_root, "buckets");

    public Task InitializeAsync() => ExampleTemplates.SeedAsync(Buckets);

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }

        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_restarted_emulator_still_knows_its_jobs_and_says_why_running_ones_ended()
    {
        string batchId, streamingId;
        await using (var host = await EmulatorFixture.StartHostAsync(Buckets))
        {
            using var client = new DataflowClient(DataflowClientOptions.ForEmulator(host.BaseUri));
            var day = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
            batchId = (await client.LaunchTemplateAsync(ExampleTemplates.WordCount, new LaunchTemplateParameters
            {
                JobName = "count",
                Parameters = new() { ["inputFile"] = ExampleTemplates.WordsInput(day), ["output"] = "gs://out/count.txt" },
            })).Job!.Id!;
            streamingId = (await client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, new LaunchTemplateParameters
            {
                JobName = "counter",
                Parameters = new() { ["output"] = "gs://out/counter", ["intervalMs"] = "20" },
            })).Job!.Id!;
            await WaitForAsync(client, batchId, JobState.Done);
            await WaitForAsync(client, streamingId, JobState.Running);
        }

        await using (var host = await EmulatorFixture.StartHostAsync(Buckets))
        {
            using var client = new DataflowClient(DataflowClientOptions.ForEmulator(host.BaseUri));
            var batch = await client.GetJobAsync(batchId);
            Assert.Equal(JobState.Done, batch.State);
            var batchMessages = await client.ListAllJobMessagesAsync(batchId, new ListJobMessagesRequest());
            Assert.Contains(batchMessages.JobMessages!, message => message.MessageText!.Contains("counted", StringComparison.Ordinal));

            // Stopping the emulator stopped the streaming job (after SIGTERM, so its checkpoint is written).
            var streaming = await client.GetJobAsync(streamingId);
            Assert.Equal(JobState.Failed, streaming.State);
            var why = await client.ListAllJobMessagesAsync(streamingId, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Error });
            Assert.Contains(why.JobMessages!, message => message.MessageText!.Contains("emulator stopped", StringComparison.Ordinal));
            Assert.True(File.Exists(Path.Combine(Buckets, "out", "counter", "checkpoint.json")));

            // The name is free again.
            var relaunched = (await client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, new LaunchTemplateParameters
            {
                JobName = "counter",
                Parameters = new() { ["output"] = "gs://out/counter", ["intervalMs"] = "20" },
            })).Job!;
            await WaitForAsync(client, relaunched.Id!, JobState.Running);
            await client.CancelJobAsync(relaunched.Id!);
            await WaitForAsync(client, relaunched.Id!, JobState.Cancelled);
        }
    }

    [Fact]
    public async Task A_job_whose_process_died_while_the_emulator_was_down_ends_failed_with_a_message_saying_so()
    {
        await using (var host = await EmulatorFixture.StartHostAsync(Buckets))
        {
            using var client = new DataflowClient(DataflowClientOptions.ForEmulator(host.BaseUri));
            var id = (await client.LaunchTemplateAsync(ExampleTemplates.WordCount, new LaunchTemplateParameters
            {
                JobName = "crashed",
                Parameters = new() { ["inputFile"] = ExampleTemplates.WordsInput(DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime)), ["output"] = "gs://out/c.txt" },
            })).Job!.Id!;
            await WaitForAsync(client, id, JobState.Done);
        }

        // Simulate a crash of the emulator while the job ran: the table still says RUNNING, with a process that is gone.
        var table = Path.Combine(_root, "dataflow-emulator", "jobs.json");
        var root = JsonNode.Parse(await File.ReadAllTextAsync(table))!;
        var stored = root["jobs"]![0]!;
        stored["job"]!["currentState"] = "JOB_STATE_RUNNING";
        stored["processId"] = int.MaxValue - 1;
        await File.WriteAllTextAsync(table, root.ToJsonString());

        await using (var host = await EmulatorFixture.StartHostAsync(Buckets))
        {
            using var client = new DataflowClient(DataflowClientOptions.ForEmulator(host.BaseUri));
            var job = Assert.Single(await client.ListAllJobsAsync(JobListFilter.All, "crashed").ToListAsync());
            Assert.Equal(JobState.Failed, job.State);
            var messages = await client.ListAllJobMessagesAsync(job.Id!, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Error });
            Assert.Contains(messages.JobMessages!, message => message.MessageText!.Contains("while the emulator was not running", StringComparison.Ordinal));
        }
    }

    private static async Task WaitForAsync(DataflowClient client, string jobId, JobState state)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while ((await client.GetJobAsync(jobId)).State != state)
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"job {jobId} did not reach {state}");
            await Task.Delay(50);
        }
    }
}
