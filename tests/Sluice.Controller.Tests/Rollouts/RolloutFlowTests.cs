using Sluice.Controller.Rollouts;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;
using static Sluice.Controller.Tests.Rollouts.Manifests;

namespace Sluice.Controller.Tests.Rollouts;

/// <summary>Rollouts end to end: the engine and the flow in process, the emulator on loopback, jobs as real processes.</summary>
[Collection(RolloutEmulatorGroup.Name)]
public sealed class RolloutFlowTests(EmulatorFixture emulator) : IAsyncLifetime
{
    private readonly string dir = Path.Combine(emulator.Root, "controller-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string pipeline = "p" + Guid.NewGuid().ToString("N")[..8];
    private Controller controller = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(dir);
        controller = await Controller.StartAsync(Controller.SqliteStore(dir), emulator.Host.BaseUri);
    }

    public async Task DisposeAsync()
    {
        await controller.DisposeAsync();
        // Leave no job running for the next test.
        foreach (var job in await emulator.JobsAsync(pipeline))
        {
            if (job.State.IsActive())
            {
                await emulator.Client.CancelJobAsync(job.Id!);
            }
        }
    }

    private V Counter(string version, string? template = null, string? jobName = null, string? output = null, string? mapping = null,
        string? inputDir = null) =>
        new(version, template ?? ExampleTemplates.StreamingCounter,
            new Dictionary<string, string>
            {
                ["output"] = emulator.Output(output ?? $"{pipeline}/{version}").GcsPath,
                ["intervalMs"] = "50",
            }
            .Concat(inputDir is null ? [] : [KeyValuePair.Create("inputDir", inputDir)])
            .ToDictionary(),
            jobName, mapping);

    private async Task<RunDetail> DeployAsync(V version)
    {
        var run = await controller.WaitAsync(await controller.ApplyAsync(Yaml($"{pipeline}-{version.Version}", pipeline, null, version)));
        Assert.True(run.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(run.Run.Id));
        return run;
    }

    [Fact]
    public async Task A_first_deploy_launches_the_job_validates_it_and_records_a_stable_revision()
    {
        var run = await DeployAsync(Counter("v1"));

        Assert.Equal(
            ["check-current:succeeded", "stop-old:skipped", "wait-terminal:skipped", "launch-new:succeeded", "validate:succeeded", "record:succeeded"],
            run.Steps.Select(s => $"{s.Name}:{s.Status.ToStored()}"));
        var jobs = await emulator.JobsAsync(pipeline);
        var job = Assert.Single(jobs);
        Assert.Equal(JobState.Running, job.State);
        Assert.Equal($"{pipeline}-v1", job.Name);
        Assert.Equal(pipeline, job.Labels![LaunchIdentity.PipelineLabel]);
        Assert.Equal(run.Run.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), job.Labels[LaunchIdentity.RunLabel]);

        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.NotNull(registered);
        Assert.Equal(PipelineState.Stable, registered.State);
        Assert.Equal("v1", registered.Version);
        Assert.Equal(1, registered.Revision);
        Assert.Equal(1, registered.StableRevision);
        Assert.Equal(job.Id, registered.JobId);
        Assert.Null(registered.ActiveRunId);
        var revision = Assert.Single(await controller.Registry.ListRevisionsAsync(new RevisionQuery { Pipeline = pipeline }, CancellationToken.None));
        Assert.Equal(RevisionStatus.Stable, revision.Status);
        Assert.Equal(job.Id, revision.JobId);
        Assert.Contains("first deploy", await controller.LogsAsync(run.Run.Id), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validation_waits_until_workers_metrics_and_a_quiet_window_all_hold()
    {
        var runId = await controller.ApplyAsync(Yaml(
            $"{pipeline}-v1", pipeline, null, Counter("v1"),
            checks: "- state: RUNNING\n- autoscaling: { minWorkers: 1 }\n- metric: { name: ElementCount, min: 20 }\n- messages: { maxErrors: 0, for: 1s }"));
        var run = await controller.WaitAsync(runId);
        Assert.True(run.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(runId));

        var logs = await controller.LogsAsync(runId);
        Assert.Contains("Check passed: autoscaling workers ≥ 1: 1 worker(s)", logs, StringComparison.Ordinal);
        Assert.Contains("Check passed: metric ElementCount ≥ 20: ElementCount = ", logs, StringComparison.Ordinal);
        Assert.Contains("Check passed: at most 0 error message(s) for 1s", logs, StringComparison.Ordinal);
        var report = run.GetStep("validate")!.OutputJson!;
        Assert.Contains("state RUNNING: the job is JOB_STATE_RUNNING", report, StringComparison.Ordinal);
        // 20 elements at one per 50 ms take about a second: the step waited for the metric rather than passing early.
        var jobId = (await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None))!.JobId!;
        var metrics = JobValidation.SumMetrics(await emulator.Client.GetJobMetricsAsync(jobId));
        Assert.True(metrics["ElementCount"] >= 20);
    }

    [Fact]
    public async Task Validation_that_cannot_pass_in_time_fails_at_its_timeout_with_the_checks_that_did_not_hold()
    {
        var runId = await controller.ApplyAsync(Yaml(
            $"{pipeline}-v1", pipeline, null, Counter("v1"), timeout: "2s", checks: "- state: RUNNING\n- metric: { name: ElementCount, min: 1000000 }"));
        var run = await controller.WaitAsync(runId);
        Assert.Equal(RunStatus.Failed, run.Run.Status);
        var reason = run.GetStep("validate")!.Reason!;
        Assert.Contains("did not pass within 2s", reason, StringComparison.Ordinal);
        Assert.Contains("metric ElementCount ≥ 1000000: ElementCount = ", reason, StringComparison.Ordinal);
        Assert.DoesNotContain("state RUNNING", reason, StringComparison.Ordinal);
        // The registry records a failure when the engine tells its observer that the run ended, just after.
        var revision = await controller.WaitForRevisionAsync(runId, r => r.Status.IsFinished());
        Assert.Equal((RevisionStatus.Failed, reason), (revision.Status, revision.Reason));
        Assert.Equal(PipelineState.Failed, (await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None))!.State);
    }

    [Fact]
    public async Task A_restart_from_v1_to_v2_drains_the_streaming_job_without_losing_an_element()
    {
        var (inputGcs, inputDir) = emulator.Output($"{pipeline}/input");
        Directory.CreateDirectory(inputDir);
        var v1 = Counter("v1", output: $"{pipeline}/out", inputDir: inputGcs);
        var v2 = Counter("v2", template: ExampleTemplates.StreamingCounterFlex, output: $"{pipeline}/out", inputDir: inputGcs);
        await DeployAsync(v1);

        // Feed files while the rollout drains v1 and starts v2 on the same output and checkpoint.
        var expected = new List<string>();
        using var feeding = new CancellationTokenSource();
        var fed = 0;
        var feeder = Task.Run(async () =>
        {
            for (var file = 0; !feeding.IsCancellationRequested || file < 5; file++)
            {
                Interlocked.Increment(ref fed);
                var lines = Enumerable.Range(0, 5).Select(i => $"f{file}-l{i}").ToArray();
                var temp = Path.Combine(inputDir, $"batch-{file:D4}.tmp");
                await File.WriteAllLinesAsync(temp, lines);
                File.Move(temp, Path.Combine(inputDir, $"batch-{file:D4}.txt"));
                lock (expected)
                {
                    expected.AddRange(lines);
                }

                await Task.Delay(40);
            }
        });

        // The rollout starts once v1 has taken in elements of its own.
        var elementsFile = Path.Combine(emulator.Output($"{pipeline}/out").LocalPath, "elements.txt");
        var started = TimeProvider.System.GetUtcNow();
        while (ReadPayloads(elementsFile).Count == 0 && TimeProvider.System.GetUtcNow() - started < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(20);
        }

        var runId = await controller.ApplyAsync(Yaml($"{pipeline}-v2", pipeline, v1, v2, checks: "- state: RUNNING\n- messages: { maxErrors: 0, for: 1s }"));
        var run = await controller.WaitAsync(runId);
        // A few more files after the switch, so that the new job has work of its own too.
        var fedAtSwitch = Volatile.Read(ref fed);
        while (Volatile.Read(ref fed) < fedAtSwitch + 3)
        {
            await Task.Delay(20);
        }

        await feeding.CancelAsync();
        await feeder;
        Assert.True(run.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(runId));

        var jobs = await emulator.JobsAsync(pipeline);
        Assert.Equal(2, jobs.Count);
        var old = jobs.Single(j => j.Name == $"{pipeline}-v1");
        var current = jobs.Single(j => j.Name == $"{pipeline}-v2");
        Assert.Equal(JobState.Drained, old.State);
        Assert.Equal(JobState.Running, current.State);

        // Every element fed before, during and after the drain is in the output exactly once.
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        List<string> payloads;
        do
        {
            await Task.Delay(100);
            payloads = ReadPayloads(elementsFile);
        }
        while (payloads.Count < expected.Count && TimeProvider.System.GetUtcNow() < deadline);

        Assert.Equal(expected.Order(StringComparer.Ordinal), payloads.Order(StringComparer.Ordinal));
        Assert.Contains(File.ReadLines(elementsFile), line => line.Contains(old.Id!, StringComparison.Ordinal));
        Assert.Contains(File.ReadLines(elementsFile), line => line.Contains(current.Id!, StringComparison.Ordinal));

        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal(("v2", 2, current.Id), (registered!.Version, registered.Revision, registered.JobId));
        Assert.Equal(PipelineState.Stable, registered.State);
    }

    private static List<string> ReadPayloads(string elementsFile)
    {
        if (!File.Exists(elementsFile))
        {
            return [];
        }

        using var stream = new FileStream(elementsFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var result = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            var parts = line.Split('\t');
            if (parts.Length == 3)
            {
                result.Add(parts[2]);
            }
        }

        return result;
    }

    [Fact]
    public async Task A_rolling_rollout_runs_the_new_job_beside_the_old_one_then_stops_the_old_one()
    {
        var v2 = Counter("v2");
        await DeployAsync(v2);
        var v3 = Counter("v3");

        var runId = await controller.ApplyAsync(Yaml($"{pipeline}-v3", pipeline, v2, v3, strategy: "rolling"));
        var run = await controller.WaitAsync(runId);
        Assert.True(run.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(runId));

        Assert.Equal(
            ["check-current", "launch-new", "validate", "stop-old", "wait-terminal", "record"],
            run.Steps.Select(s => s.Name));
        // The new job was running (validated) before the old one was asked to stop.
        Assert.True(run.GetStep("validate")!.FinishedAt <= run.GetStep("stop-old")!.StartedAt);
        var jobs = await emulator.JobsAsync(pipeline);
        Assert.Equal(JobState.Drained, jobs.Single(j => j.Name == $"{pipeline}-v2").State);
        var current = jobs.Single(j => j.Name == $"{pipeline}-v3");
        Assert.Equal(JobState.Running, current.State);
        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal(("v3", current.Id), (registered!.Version, registered.JobId));
    }

    [Fact]
    public async Task A_rolling_rollout_to_the_name_of_the_running_job_gives_the_new_job_another_name()
    {
        // v1 runs under the pipeline's name; the manifest's from leaves the job name to its default (PIPELINE-v1).
        await DeployAsync(Counter("v1", jobName: pipeline));
        var run = await controller.WaitAsync(await controller.ApplyAsync(
            Yaml($"{pipeline}-v2", pipeline, Counter("v1"), Counter("v2", jobName: pipeline), strategy: "rolling")));
        Assert.True(run.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(run.Run.Id));
        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal($"{pipeline}-r2", registered!.JobName);
    }

    [Fact]
    public async Task An_in_place_update_replaces_the_job_under_the_same_name()
    {
        var v1 = Counter("v1", template: ExampleTemplates.StreamingCounterFlex, jobName: pipeline);
        await DeployAsync(v1);
        var v2 = Counter("v2", template: ExampleTemplates.StreamingCounterFlexV2, jobName: pipeline, mapping: "{ WindowCounts: CountPerWindow }");

        var runId = await controller.ApplyAsync(Yaml($"{pipeline}-v2", pipeline, v1, v2, strategy: "update"));
        var run = await controller.WaitAsync(runId);
        Assert.True(run.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(runId));

        Assert.Equal(
            ["check-current:succeeded", "update-in-place:succeeded", "stop-old:skipped", "wait-terminal:skipped", "launch-new:skipped", "validate:succeeded", "record:succeeded"],
            run.Steps.Select(s => $"{s.Name}:{s.Status.ToStored()}"));
        var jobs = await emulator.JobsAsync(pipeline);
        Assert.Equal(2, jobs.Count);
        var old = jobs.Single(j => j.State == JobState.Updated);
        var current = jobs.Single(j => j.State == JobState.Running);
        Assert.Equal(pipeline, current.Name);
        Assert.Equal(old.Id, current.ReplaceJobId);
        Assert.Equal(current.Id, old.ReplacedByJobId);
        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal(("v2", current.Id, PipelineState.Stable), (registered!.Version, registered.JobId, registered.State));
    }

    [Fact]
    public async Task A_refused_update_falls_back_to_a_restart_when_the_manifest_says_so_and_fails_otherwise()
    {
        var v1 = Counter("v1", template: ExampleTemplates.StreamingCounterFlex, jobName: pipeline);
        await DeployAsync(v1);
        // v2 renames a transform; without the mapping Dataflow's compatibility check fails the new job.
        var v2 = Counter("v2", template: ExampleTemplates.StreamingCounterFlexV2, jobName: pipeline);

        var refused = await controller.WaitAsync(await controller.ApplyAsync(
            Yaml($"{pipeline}-v2-fail", pipeline, v1, v2, strategy: "update", extra: "onUpdateRefused: fail")));
        Assert.Equal(RunStatus.Failed, refused.Run.Status);
        var reason = refused.GetStep("update-in-place")!.Reason!;
        Assert.Contains("refused the in-place update", reason, StringComparison.Ordinal);
        Assert.Contains("onUpdateRefused: restart", reason, StringComparison.Ordinal);
        var stillRunning = (await emulator.JobsAsync(pipeline)).Where(j => j.State == JobState.Running).ToList();
        Assert.Equal("v1", (await controller.Registry.GetJobAsync(Assert.Single(stillRunning).Id!, CancellationToken.None))!.Version);

        var fallback = await controller.WaitAsync(await controller.ApplyAsync(
            Yaml($"{pipeline}-v2-restart", pipeline, v1, v2, strategy: "update", extra: "onUpdateRefused: restart")));
        Assert.True(fallback.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(fallback.Run.Id));
        Assert.Equal(
            ["check-current:succeeded", "update-in-place:succeeded", "stop-old:succeeded", "wait-terminal:succeeded", "launch-new:succeeded", "validate:succeeded", "record:succeeded"],
            fallback.Steps.Select(s => $"{s.Name}:{s.Status.ToStored()}"));
        Assert.Contains("falling back to a restart", await controller.LogsAsync(fallback.Run.Id), StringComparison.Ordinal);
        var running = Assert.Single(await emulator.JobsAsync(pipeline), j => j.State == JobState.Running);
        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal(("v2", running.Id), (registered!.Version, registered.JobId));
    }

    [Fact]
    public async Task A_failing_version_with_rollback_auto_fails_with_the_reason_and_the_previous_version_runs_again()
    {
        var v2 = Counter("v2");
        await DeployAsync(v2);
        var v3 = Counter("v3", template: ExampleTemplates.StreamingCounterFailing);

        var runId = await controller.ApplyAsync(Yaml(
            $"{pipeline}-v3", pipeline, v2, v3, rollback: "auto", checks: "- state: RUNNING\n- messages: { maxErrors: 0, for: 5s }"));
        var failed = await controller.WaitAsync(runId);
        Assert.Equal(RunStatus.Failed, failed.Run.Status);
        var reason = failed.GetStep("validate")!.Reason!;
        Assert.True(reason.Contains("simulated failure", StringComparison.Ordinal), reason);

        var rollback = await WaitForRollbackAsync(runId);
        Assert.Equal(RolloutRunKinds.Rollback, rollback.Run.Kind);
        Assert.Equal(runId, rollback.Run.ParentRunId);
        Assert.True(rollback.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(rollback.Run.Id));

        var failedRevision = await controller.Registry.GetRevisionByRunAsync(runId, CancellationToken.None);
        Assert.Equal(RevisionStatus.Failed, failedRevision!.Status);
        Assert.Equal(reason, failedRevision.Reason);
        Assert.Equal(rollback.Run.Id, failedRevision.RollbackRunId);
        var rollbackRevision = await controller.Registry.GetRevisionByRunAsync(rollback.Run.Id, CancellationToken.None);
        Assert.Equal((runId, "v2", RevisionStatus.Stable), (rollbackRevision!.RollbackOfRunId, rollbackRevision.Version, rollbackRevision.Status));

        var running = Assert.Single(await emulator.JobsAsync(pipeline), j => j.State.IsActive());
        Assert.Equal($"{pipeline}-v2", running.Name);
        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal(("v2", running.Id, PipelineState.RolledBack), (registered!.Version, registered.JobId, registered.State));
    }

    [Fact]
    public async Task A_failed_rolling_rollout_is_rolled_back_by_stopping_the_new_job_and_keeping_the_old_one()
    {
        await DeployAsync(Counter("v2"));
        var oldJobId = (await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None))!.JobId;

        var runId = await controller.ApplyAsync(Yaml(
            $"{pipeline}-v3", pipeline, Counter("v2"), Counter("v3", template: ExampleTemplates.StreamingCounterFailing), strategy: "rolling",
            rollback: "auto", checks: "- state: RUNNING\n- messages: { maxErrors: 0, for: 5s }"));
        Assert.Equal(RunStatus.Failed, (await controller.WaitAsync(runId)).Run.Status);
        var rollback = await WaitForRollbackAsync(runId);
        Assert.True(rollback.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(rollback.Run.Id));

        // The v2 job never stopped: the rollback kept it and launched nothing.
        Assert.Equal("skipped", rollback.GetStep("launch-new")!.Status.ToStored());
        Assert.Contains("still runs as job", await controller.LogsAsync(rollback.Run.Id), StringComparison.Ordinal);
        var running = Assert.Single(await emulator.JobsAsync(pipeline), j => j.State.IsActive());
        Assert.Equal(oldJobId, running.Id);
        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal(("v2", oldJobId, PipelineState.RolledBack), (registered!.Version, registered.JobId, registered.State));
    }

    [Fact]
    public async Task With_rollback_manual_a_failed_version_stays_failed_until_the_manifest_with_from_and_to_swapped_is_applied()
    {
        await DeployAsync(Counter("v2"));
        var v3 = Counter("v3", template: ExampleTemplates.StreamingCounterFailing);
        var failed = await controller.WaitAsync(await controller.ApplyAsync(Yaml(
            $"{pipeline}-v3", pipeline, Counter("v2"), v3, checks: "- state: RUNNING\n- messages: { maxErrors: 0, for: 5s }")));
        Assert.Equal(RunStatus.Failed, failed.Run.Status);
        await controller.WaitForRevisionAsync(failed.Run.Id, r => r.Status == RevisionStatus.Failed);
        Assert.Empty((await controller.Engine.ListRunsAsync(new RunQuery { ParentRunId = failed.Run.Id }, CancellationToken.None)).Runs);
        Assert.Equal(PipelineState.Failed, (await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None))!.State);
        // The failing job ends on its own (its validation may have failed on its error message a moment before it exited).
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while ((await emulator.JobsAsync(pipeline)).Any(j => j.State.IsActive()) && TimeProvider.System.GetUtcNow() < deadline)
        {
            await Task.Delay(100);
        }

        Assert.DoesNotContain(await emulator.JobsAsync(pipeline), j => j.State.IsActive());

        var back = await controller.WaitAsync(await controller.ApplyAsync(Yaml($"{pipeline}-back-to-v2", pipeline, v3, Counter("v2"))));
        Assert.True(back.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(back.Run.Id));
        var running = Assert.Single(await emulator.JobsAsync(pipeline), j => j.State.IsActive());
        Assert.Equal($"{pipeline}-v2", running.Name);
        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal(("v2", 3, PipelineState.Stable), (registered!.Version, registered.Revision, registered.State));
    }

    private async Task<RunDetail> WaitForRollbackAsync(long failedRunId)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            var page = await controller.Engine.ListRunsAsync(new RunQuery { ParentRunId = failedRunId }, CancellationToken.None);
            if (page.Runs.Count > 0)
            {
                return await controller.WaitAsync(Assert.Single(page.Runs).Id);
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No rollback run was started for run {failedRunId}.");
    }

    [Fact]
    public async Task A_drain_that_never_finishes_is_cancelled_after_the_stop_timeout()
    {
        var stuck = new V("v1", EmulatorFixture.NeverDrainsTemplate, new Dictionary<string, string>());
        await DeployAsync(stuck);
        var runId = await controller.ApplyAsync(Yaml($"{pipeline}-v2", pipeline, stuck, Counter("v2"), stop: "{ mode: drain, timeout: 2s }"));
        var run = await controller.WaitAsync(runId);
        Assert.True(run.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(runId));

        var old = (await emulator.JobsAsync(pipeline)).Single(j => j.Name == $"{pipeline}-v1");
        Assert.Equal(JobState.Cancelled, old.State);
        var wait = run.GetStep("wait-terminal")!;
        Assert.True(wait.FinishedAt - run.GetStep("stop-old")!.StartedAt >= TimeSpan.FromSeconds(2));
        Assert.Contains("did not finish within 2s; cancelling it", await controller.LogsAsync(runId), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_manifests_for_the_same_pipeline_applied_at_once_run_one_after_the_other()
    {
        await DeployAsync(Counter("v1"));
        // The second arrives while the first runs: it queues, and its from is what the first leaves running.
        var ids = new[]
        {
            await controller.ApplyAsync(Yaml($"{pipeline}-v2", pipeline, Counter("v1"), Counter("v2"))),
            await controller.ApplyAsync(Yaml($"{pipeline}-v3", pipeline, Counter("v2"), Counter("v3"))),
        };
        Assert.Equal(RunStatus.Queued, (await controller.Engine.GetRunAsync(ids[1], CancellationToken.None))!.Run.Status);
        var first = await controller.WaitAsync(ids[0]);
        var second = await controller.WaitAsync(ids[1]);

        Assert.True(first.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(ids[0]));
        Assert.True(second.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(ids[1]));
        Assert.True(first.Run.FinishedAt <= second.Run.StartedAt, "The second rollout started before the first had finished.");
        var revisions = await controller.Registry.ListRevisionsAsync(new RevisionQuery { Pipeline = pipeline }, CancellationToken.None);
        Assert.Equal([3, 2, 1], revisions.Select(r => r.Revision));
        Assert.Equal(["v3", "v2", "v1"], revisions.Select(r => r.Version));
        var running = Assert.Single(await emulator.JobsAsync(pipeline), j => j.State.IsActive());
        Assert.Equal($"{pipeline}-v3", running.Name);
    }

    [Fact]
    public async Task A_mismatch_stops_the_rollout_with_the_reason_unless_the_manifest_says_proceed()
    {
        await DeployAsync(Counter("v1"));
        var mismatch = await controller.WaitAsync(await controller.ApplyAsync(
            Yaml($"{pipeline}-v3", pipeline, Counter("v2"), Counter("v3"), rollback: "auto")));
        Assert.Equal(RunStatus.Failed, mismatch.Run.Status);
        Assert.StartsWith($"Mismatch: pipeline {pipeline} runs version v1", mismatch.GetStep("check-current")!.Reason, StringComparison.Ordinal);
        Assert.Contains("onMismatch: proceed", mismatch.GetStep("check-current")!.Reason, StringComparison.Ordinal);
        // Nothing was touched, so nothing is rolled back.
        await Task.Delay(300);
        Assert.Empty((await controller.Engine.ListRunsAsync(new RunQuery { ParentRunId = mismatch.Run.Id }, CancellationToken.None)).Runs);
        Assert.Equal($"{pipeline}-v1", Assert.Single(await emulator.JobsAsync(pipeline), j => j.State.IsActive()).Name);

        var proceed = await controller.WaitAsync(await controller.ApplyAsync(
            Yaml($"{pipeline}-v3b", pipeline, Counter("v2"), Counter("v3"), extra: "onMismatch: proceed")));
        Assert.True(proceed.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(proceed.Run.Id));
        Assert.Equal($"{pipeline}-v3", Assert.Single(await emulator.JobsAsync(pipeline), j => j.State.IsActive()).Name);
    }

    [Fact]
    public async Task A_manual_rollback_restarts_the_previous_stable_revision_or_the_one_asked_for()
    {
        await DeployAsync(Counter("v1"));
        await controller.WaitAsync(await controller.ApplyAsync(Yaml($"{pipeline}-v2", pipeline, Counter("v1"), Counter("v2"))));

        var back = await controller.WaitAsync(await controller.Rollouts.RollbackAsync(pipeline, null, CancellationToken.None));
        Assert.True(back.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(back.Run.Id));
        Assert.Equal(RolloutRunKinds.Rollback, back.Run.Kind);
        var registered = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal(("v1", 3, PipelineState.Stable), (registered!.Version, registered.Revision, registered.State));
        Assert.Equal($"{pipeline}-v1", Assert.Single(await emulator.JobsAsync(pipeline), j => j.State.IsActive()).Name);

        var forward = await controller.WaitAsync(await controller.Rollouts.RollbackAsync(pipeline, 2, CancellationToken.None));
        Assert.True(forward.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(forward.Run.Id));
        Assert.Equal("v2", (await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None))!.Version);

        var unknown = await Assert.ThrowsAsync<RolloutException>(() => controller.Rollouts.RollbackAsync(pipeline, 42, CancellationToken.None));
        Assert.Equal(RolloutErrorKind.NotFound, unknown.Kind);
        var noPipeline = await Assert.ThrowsAsync<RolloutException>(() => controller.Rollouts.RollbackAsync("nope-" + pipeline, null, CancellationToken.None));
        Assert.Contains("no pipeline named", noPipeline.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_same_idempotency_key_starts_one_rollout()
    {
        var yaml = Yaml($"{pipeline}-v1", pipeline, null, Counter("v1"));
        var ids = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => controller.ApplyAsync(yaml, key: $"event:bucket/{pipeline}.yaml#1")));
        Assert.Single(ids.Distinct());
        await controller.WaitAsync(ids[0]);
        Assert.Single(await controller.Registry.ListRevisionsAsync(new RevisionQuery { Pipeline = pipeline }, CancellationToken.None));
        Assert.Single(await emulator.JobsAsync(pipeline));
    }

    [Fact]
    public async Task A_dry_run_lists_the_steps_and_reports_what_Dataflow_refuses_without_changing_anything()
    {
        var good = await controller.Rollouts.PlanAsync(Manifests.Rollout(Yaml($"{pipeline}-v1", pipeline, null, Counter("v1"))), CancellationToken.None);
        Assert.True(good.LaunchValid, good.LaunchProblem);
        Assert.Equal(["check-current", "stop-old", "wait-terminal", "launch-new", "validate", "record"], good.Steps.Select(s => s.Name));

        var bad = Counter("v1") with { Parameters = new Dictionary<string, string> { ["output"] = "not-a-gcs-path" } };
        var refused = await controller.Rollouts.PlanAsync(Manifests.Rollout(Yaml($"{pipeline}-v1", pipeline, null, bad)), CancellationToken.None);
        Assert.False(refused.LaunchValid);
        Assert.Contains("output", refused.LaunchProblem, StringComparison.Ordinal);

        Assert.Empty(await emulator.JobsAsync(pipeline));
        Assert.Null(await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None));
    }
}
