using Sluice.Controller.Rollouts;
using Sluice.Controller.Tests.Intake;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;
using static Sluice.Controller.Tests.Rollouts.Manifests;

namespace Sluice.Controller.Tests.Rollouts;

/// <summary>Two controller replicas on one PostgreSQL database (SLUICE_TEST_POSTGRES), driving the same emulator.</summary>
[Collection(RolloutEmulatorGroup.Name)]
public sealed class PostgresRolloutTests(EmulatorFixture emulator)
{
    private readonly string pipeline = "pg" + Guid.NewGuid().ToString("N")[..8];

    private V Counter(string version) =>
        new(version, ExampleTemplates.StreamingCounter,
            new Dictionary<string, string> { ["output"] = emulator.Output($"{pipeline}/{version}").GcsPath, ["intervalMs"] = "50" });

    [Fact]
    public async Task The_same_event_applied_on_two_replicas_starts_one_rollout_that_launches_one_job()
    {
        var store = await TestPostgres.CreateDatabaseAsync();
        await using var first = await Controller.StartAsync(store, emulator.Host.BaseUri);
        await using var second = await Controller.StartAsync(store, emulator.Host.BaseUri);

        // The same bucket object version, delivered many times to both replicas at once (watcher, push, rescan…).
        var yaml = Yaml($"{pipeline}-v1", pipeline, null, Counter("v1"));
        var key = $"event:manifests/{pipeline}-v1.yaml#1764583200123456";
        var starts = Enumerable.Range(0, 10).Select(i => (i % 2 == 0 ? first : second).ApplyAsync(yaml, key));
        var runIds = (await Task.WhenAll(starts)).Distinct().ToList();
        var runId = Assert.Single(runIds);

        var run = await first.WaitAsync(runId);
        Assert.True(run.Run.Status == RunStatus.Succeeded, await first.LogsAsync(runId));
        var job = Assert.Single(await emulator.JobsAsync(pipeline));
        Assert.Equal(JobState.Running, job.State);
        var revision = Assert.Single(await second.Registry.ListRevisionsAsync(new RevisionQuery { Pipeline = pipeline }, CancellationToken.None));
        Assert.Equal((runId, RevisionStatus.Stable, job.Id), (revision.RunId, revision.Status, revision.JobId));
        Assert.Equal(PipelineState.Stable, (await second.Registry.GetPipelineAsync(pipeline, CancellationToken.None))!.State);

        // Two rollouts of the pipeline started on different replicas, the second while the first runs, run one after
        // the other in arrival order (the second's from is what the first leaves running).
        var ids = new[]
        {
            await first.ApplyAsync(Yaml($"{pipeline}-v2", pipeline, Counter("v1"), Counter("v2"))),
            await second.ApplyAsync(Yaml($"{pipeline}-v3", pipeline, Counter("v2"), Counter("v3"))),
        };
        var runs = new[] { await first.WaitAsync(ids[0]), await first.WaitAsync(ids[1]) }.OrderBy(r => r.Run.StartedAt).ToArray();
        Assert.All(runs, r => Assert.Equal(RunStatus.Succeeded, r.Run.Status));
        Assert.True(runs[0].Run.FinishedAt <= runs[1].Run.StartedAt, "The two rollouts of one pipeline overlapped.");
        Assert.Equal($"{pipeline}-v3", Assert.Single(await emulator.JobsAsync(pipeline), j => j.State.IsActive()).Name);
        Assert.Equal(3, (await first.Registry.ListRevisionsAsync(new RevisionQuery { Pipeline = pipeline }, CancellationToken.None)).Count);
    }
}
