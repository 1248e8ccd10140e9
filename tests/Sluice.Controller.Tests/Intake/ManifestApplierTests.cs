using Microsoft.Extensions.DependencyInjection;
using Sluice.Controller.Intake;
using Sluice.Manifests;

namespace Sluice.Controller.Tests.Intake;

/// <summary><c>sluice apply</c>: what is written where, and that the watcher takes it in like an upload.</summary>
public sealed class ManifestApplierTests : IAsyncLifetime
{
    private readonly IntakeHarness _harness = new();

    private ManifestApplier Applier => _harness.Services.GetRequiredService<ManifestApplier>();

    public Task InitializeAsync() => _harness.StartAsync();

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Fact]
    public async Task Each_document_becomes_its_own_object_in_its_bucket_with_its_own_text_and_is_taken_in()
    {
        var rollout = "# the first deploy\n" + Manifests.Rollout("clickstream-v1");
        var text = rollout + "\n---\n" + Manifests.Schedule("daily", "daily_sales") + "\n---\n" + Manifests.Unschedule("stop-old", "old_dag");

        var result = await Applier.ApplyAsync([new ManifestFile("all.yaml", text)], dryRun: false, CancellationToken.None);

        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        Assert.Equal(3, result.DocumentCount);
        Assert.Equal(["manifests/clickstream-v1.yaml", "schedules/daily.yaml", "schedules/stop-old.yaml"],
            result.Manifests.Select(m => $"{m.Bucket}/{m.ObjectName}"));
        Assert.All(result.Manifests, m => Assert.Equal(ApplyAction.Written, m.Action));
        var written = await File.ReadAllTextAsync(Path.Combine(_harness.RolloutsDirectory, "clickstream-v1.yaml"));
        Assert.Equal(rollout.Trim() + "\n", written);
        Assert.Equal(Manifests.Unschedule("stop-old", "old_dag").Trim() + "\n", await File.ReadAllTextAsync(Path.Combine(_harness.SchedulesDirectory, "stop-old.yaml")));

        var events = await _harness.WaitForSettledAsync(3);
        foreach (var manifest in result.Manifests)
        {
            var intakeEvent = Assert.Single(events, e => e.Bucket == manifest.Bucket && e.ObjectName == manifest.ObjectName);
            Assert.Equal(manifest.Generation, intakeEvent.Generation);
            Assert.Equal(IntakeEventState.Dispatched, intakeEvent.State);
        }
    }

    [Fact]
    public async Task Applying_the_same_text_again_writes_nothing_and_a_change_writes_a_new_generation()
    {
        var file = new ManifestFile("v1.yaml", Manifests.Rollout("clickstream-v1"));
        var first = Assert.Single((await Applier.ApplyAsync([file], false, CancellationToken.None)).Manifests);

        var again = Assert.Single((await Applier.ApplyAsync([file], false, CancellationToken.None)).Manifests);
        await _harness.WaitForSettledAsync(1);
        var changed = Assert.Single((await Applier.ApplyAsync([file with { Text = file.Text + "# changed\n" }], false, CancellationToken.None)).Manifests);

        Assert.Equal(ApplyAction.Unchanged, again.Action);
        Assert.Equal(first.Generation, again.Generation);
        Assert.Equal(ApplyAction.Written, changed.Action);
        Assert.True(changed.Generation > first.Generation);
        var events = await _harness.WaitForSettledAsync(2);
        Assert.Equal(2, events.Length);
        Assert.Equal(2, _harness.Flows.CallsOf("start").Count);
    }

    [Fact]
    public async Task One_invalid_document_means_nothing_is_written_and_every_problem_is_reported()
    {
        var files = new[]
        {
            new ManifestFile("good.yaml", Manifests.Rollout("good")),
            new ManifestFile("bad.yaml", Manifests.Rollout("bad").Replace("strategy: restart", "strategy: sideways")),
            new ManifestFile("missing.yaml", Manifests.Rollout("missing", template: "gs://sluice-templates/nope.json")),
        };

        var result = await Applier.ApplyAsync(files, dryRun: false, CancellationToken.None);

        Assert.False(result.IsValid);
        Assert.Empty(result.Manifests);
        Assert.Contains(result.Problems, p => p.Path == "bad.yaml" && p.Field == "spec.strategy");
        Assert.Contains(result.Problems, p => p.Path == "missing.yaml" && p.Field == "spec.to.template.gcsPath" && p.Message.Contains("does not exist", StringComparison.Ordinal));
        Assert.Empty(Directory.EnumerateFiles(_harness.RolloutsDirectory));
    }

    [Fact]
    public async Task A_dry_run_plans_and_writes_nothing()
    {
        var result = await Applier.ApplyAsync([new ManifestFile("v1.json", """{"apiVersion": "sluice/v1", "kind": "Unschedule", "metadata": {"name": "x"}, "spec": {"dagId": "d"}}""")], dryRun: true, CancellationToken.None);

        var planned = Assert.Single(result.Manifests);
        Assert.Equal(ApplyAction.Planned, planned.Action);
        Assert.Equal("x.json", planned.ObjectName);
        Assert.Null(planned.Generation);
        Assert.IsType<UnscheduleManifest>(planned.Manifest);
        Assert.Empty(Directory.EnumerateFiles(_harness.SchedulesDirectory));
    }

    [Fact]
    public async Task Two_documents_with_one_name_are_refused()
    {
        var result = await Applier.ApplyAsync(
            [new ManifestFile("a.yaml", Manifests.Rollout("same")), new ManifestFile("b.yaml", Manifests.Rollout("same", version: "v2"))],
            dryRun: false, CancellationToken.None);

        var problem = Assert.Single(result.Problems);
        Assert.Equal("b.yaml", problem.Path);
        Assert.Equal("metadata.name", problem.Field);
    }
}
