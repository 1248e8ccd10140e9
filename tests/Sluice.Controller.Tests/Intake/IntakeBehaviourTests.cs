using Sluice.Controller.Intake;

namespace Sluice.Controller.Tests.Intake;

/// <summary>One object at a time: what each kind of object becomes.</summary>
public sealed class IntakeBehaviourTests : IAsyncLifetime
{
    private readonly IntakeHarness _harness = new();

    public Task InitializeAsync() => _harness.StartAsync();

    public Task DisposeAsync() => _harness.DisposeAsync().AsTask();

    [Fact]
    public async Task A_rollout_manifest_starts_one_rollout_with_the_event_key()
    {
        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "clickstream-v1.yaml", Manifests.Rollout("clickstream-v1"));

        var events = await _harness.WaitForSettledAsync(1);

        var intakeEvent = Assert.Single(events);
        Assert.Equal(IntakeEventState.Dispatched, intakeEvent.State);
        Assert.Equal("manifests", intakeEvent.Bucket);
        Assert.Equal("clickstream-v1.yaml", intakeEvent.ObjectName);
        var dispatch = Assert.Single(intakeEvent.Dispatches);
        Assert.Equal(IntakeActions.RolloutStarted, dispatch.Action);
        Assert.Equal("clickstream", dispatch.Target);
        var call = Assert.Single(_harness.Flows.CallsOf("start"));
        Assert.Equal($"event:manifests/clickstream-v1.yaml#{intakeEvent.Generation}", call.Key);
        Assert.Equal(_harness.Flows.RunsByKey[call.Key!], dispatch.RunId);
        Assert.Equal($"manifests/clickstream-v1.yaml#{intakeEvent.Generation}", call.Source);
    }

    [Fact]
    public async Task A_reupload_of_the_same_content_is_a_new_generation_and_a_new_run()
    {
        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "a.yaml", Manifests.Rollout("a"));
        var first = Assert.Single(await _harness.WaitForSettledAsync(1));

        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "a.yaml", Manifests.Rollout("a"));
        var events = await _harness.WaitForSettledAsync(2);

        Assert.Equal(2, events.Length);
        Assert.All(events, e => Assert.Equal(IntakeEventState.Dispatched, e.State));
        Assert.True(events[1].Generation > first.Generation);
        Assert.Equal(2, _harness.Flows.RunsByKey.Count);
        Assert.NotEqual(events[0].Dispatches[0].RunId, events[1].Dispatches[0].RunId);
    }

    [Theory]
    [InlineData("not-yaml.yaml", "spec: [unclosed", "error")]
    [InlineData("unknown-kind.yaml", "apiVersion: sluice/v1\nkind: Deployment\nmetadata:\n  name: x\nspec: {}\n", "kind")]
    [InlineData("empty.yaml", "", "empty")]
    [InlineData("no-documents.yaml", "# only a comment\n", "manifest")]
    public async Task A_bad_object_is_rejected_with_a_reason_and_nothing_starts(string name, string text, string reasonContains)
    {
        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, name, text);

        var intakeEvent = Assert.Single(await _harness.WaitForSettledAsync(1));

        Assert.Equal(IntakeEventState.Rejected, intakeEvent.State);
        Assert.Contains(reasonContains, intakeEvent.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(_harness.Flows.Calls);
    }

    [Fact]
    public async Task An_invalid_manifest_is_rejected_with_every_problem_at_its_line()
    {
        var text = Manifests.Rollout("bad").Replace("strategy: restart", "strategy: sideways").Replace("pipeline: clickstream", "pipeline: \"\"");
        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "bad.yaml", text);

        var intakeEvent = Assert.Single(await _harness.WaitForSettledAsync(1));

        Assert.Equal(IntakeEventState.Rejected, intakeEvent.State);
        Assert.StartsWith("The manifest is not valid (2 problems): ", intakeEvent.Reason, StringComparison.Ordinal);
        Assert.Equal(2, intakeEvent.Problems.Count);
        Assert.All(intakeEvent.Problems, p => Assert.Equal($"manifests/bad.yaml#{intakeEvent.Generation}", p.Path));
        var strategy = Assert.Single(intakeEvent.Problems, p => p.Field == "spec.strategy");
        Assert.Equal(7, strategy.Line);
        Assert.Single(intakeEvent.Problems, p => p.Field == "spec.pipeline");
    }

    [Fact]
    public async Task A_missing_template_is_rejected_with_its_path()
    {
        IntakeHarness.WriteAtomically(
            _harness.RolloutsDirectory, "typo.yaml", Manifests.Rollout("typo", template: "gs://sluice-templates/templates/countr.json"));

        var intakeEvent = Assert.Single(await _harness.WaitForSettledAsync(1));

        Assert.Equal(IntakeEventState.Rejected, intakeEvent.State);
        Assert.Contains("gs://sluice-templates/templates/countr.json does not exist", intakeEvent.Reason, StringComparison.Ordinal);
        Assert.Empty(_harness.Flows.Calls);
    }

    [Fact]
    public async Task A_schedule_in_the_rollouts_bucket_is_rejected_and_points_to_the_right_bucket()
    {
        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "daily.yaml", Manifests.Schedule("daily", "daily_sales"));

        var intakeEvent = Assert.Single(await _harness.WaitForSettledAsync(1));

        Assert.Equal(IntakeEventState.Rejected, intakeEvent.State);
        Assert.Contains("schedules bucket", intakeEvent.Reason, StringComparison.Ordinal);
        Assert.Empty(_harness.Flows.Calls);
    }

    [Fact]
    public async Task A_schedule_manifest_registers_and_its_deletion_unschedules()
    {
        IntakeHarness.WriteAtomically(_harness.SchedulesDirectory, "daily.yaml", Manifests.Schedule("daily", "daily_sales"));
        var registered = Assert.Single(await _harness.WaitForSettledAsync(1));
        Assert.Equal(IntakeEventState.Dispatched, registered.State);
        Assert.True(_harness.Flows.Schedules.ContainsKey("daily_sales"));

        File.Delete(Path.Combine(_harness.SchedulesDirectory, "daily.yaml"));
        var events = await _harness.WaitForSettledAsync(2);

        var deletion = events[1];
        Assert.Equal(ObjectChange.Deleted, deletion.Change);
        Assert.Equal(IntakeEventState.Dispatched, deletion.State);
        Assert.Equal(IntakeActions.Unscheduled, Assert.Single(deletion.Dispatches).Action);
        Assert.False(_harness.Flows.Schedules.ContainsKey("daily_sales"));
    }

    [Fact]
    public async Task Deleting_a_schedule_object_keeps_a_dag_id_that_another_object_declares()
    {
        IntakeHarness.WriteAtomically(_harness.SchedulesDirectory, "old.yaml", Manifests.Schedule("old", "daily_sales"));
        await _harness.WaitForSettledAsync(1);
        IntakeHarness.WriteAtomically(_harness.SchedulesDirectory, "new.yaml", Manifests.Schedule("new", "daily_sales"));
        await _harness.WaitForSettledAsync(2);

        File.Delete(Path.Combine(_harness.SchedulesDirectory, "old.yaml"));
        var deletion = (await _harness.WaitForSettledAsync(3))[2];

        Assert.Equal(IntakeEventState.Ignored, deletion.State);
        Assert.Contains("still declared by another object", deletion.Reason, StringComparison.Ordinal);
        Assert.Empty(_harness.Flows.CallsOf("unschedule"));
        Assert.True(_harness.Flows.Schedules.ContainsKey("daily_sales"));
    }

    [Fact]
    public async Task A_new_version_that_drops_a_dag_id_unschedules_it()
    {
        IntakeHarness.WriteAtomically(
            _harness.SchedulesDirectory, "pair.yaml", Manifests.Schedule("a", "dag_a") + "\n---\n" + Manifests.Schedule("b", "dag_b"));
        var first = Assert.Single(await _harness.WaitForSettledAsync(1));
        Assert.Equal(2, first.Dispatches.Count);

        IntakeHarness.WriteAtomically(_harness.SchedulesDirectory, "pair.yaml", Manifests.Schedule("a", "dag_a"));
        var second = (await _harness.WaitForSettledAsync(2))[1];

        Assert.Equal(IntakeEventState.Dispatched, second.State);
        Assert.Contains(second.Dispatches, d => d.Action == IntakeActions.Unscheduled && d.Target == "dag_b");
        Assert.True(_harness.Flows.Schedules.ContainsKey("dag_a"));
        Assert.False(_harness.Flows.Schedules.ContainsKey("dag_b"));
    }

    [Fact]
    public async Task Deleting_a_rollout_manifest_is_ignored_with_a_hint()
    {
        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "a.yaml", Manifests.Rollout("a"));
        await _harness.WaitForSettledAsync(1);

        File.Delete(Path.Combine(_harness.RolloutsDirectory, "a.yaml"));
        var deletion = (await _harness.WaitForSettledAsync(2))[1];

        Assert.Equal(IntakeEventState.Ignored, deletion.State);
        Assert.Contains("sluice rollback", deletion.Reason, StringComparison.Ordinal);
        Assert.Single(_harness.Flows.CallsOf("start"));
    }

    [Fact]
    public async Task An_unschedule_manifest_unschedules()
    {
        IntakeHarness.WriteAtomically(_harness.SchedulesDirectory, "daily.yaml", Manifests.Schedule("daily", "daily_sales"));
        await _harness.WaitForSettledAsync(1);

        IntakeHarness.WriteAtomically(_harness.SchedulesDirectory, "stop.yaml", Manifests.Unschedule("stop", "daily_sales"));
        var events = await _harness.WaitForSettledAsync(2);

        Assert.Equal(IntakeEventState.Dispatched, events[1].State);
        Assert.Equal(IntakeActions.Unscheduled, Assert.Single(events[1].Dispatches).Action);
        Assert.False(_harness.Flows.Schedules.ContainsKey("daily_sales"));
    }

    [Fact]
    public async Task A_passing_failure_is_retried_and_a_lasting_one_is_rejected_after_the_attempts()
    {
        var failures = 0;
        _harness.Flows.Fault = name => name switch
        {
            "flaky" when Interlocked.Increment(ref failures) <= 2 => new TimeoutException("the store did not answer"),
            "broken" => new InvalidOperationException("the flow is broken"),
            _ => null,
        };

        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "flaky.yaml", Manifests.Rollout("flaky"));
        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "broken.yaml", Manifests.Rollout("broken"));
        var events = await _harness.WaitForSettledAsync(2);

        var flaky = events.Single(e => e.ObjectName == "flaky.yaml");
        Assert.Equal(IntakeEventState.Dispatched, flaky.State);
        Assert.Equal(2, flaky.Attempts);
        var broken = events.Single(e => e.ObjectName == "broken.yaml");
        Assert.Equal(IntakeEventState.Rejected, broken.State);
        Assert.Equal(5, broken.Attempts);
        Assert.Equal("Gave up after 5 attempts: the flow is broken", broken.Reason);
    }

    [Fact]
    public async Task A_flow_refusal_is_rejected_at_once()
    {
        _harness.Flows.Fault = name => name == "locked" ? new ManifestRefusedException("The pipeline clickstream is locked; unlock it first.") : null;

        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "locked.yaml", Manifests.Rollout("locked"));
        var intakeEvent = Assert.Single(await _harness.WaitForSettledAsync(1));

        Assert.Equal(IntakeEventState.Rejected, intakeEvent.State);
        Assert.Equal("The pipeline clickstream is locked; unlock it first.", intakeEvent.Reason);
        Assert.Equal(0, intakeEvent.Attempts);
    }

    [Fact]
    public async Task Hidden_and_temporary_files_are_never_taken_in()
    {
        File.WriteAllText(Path.Combine(_harness.RolloutsDirectory, ".half.yaml.tmp"), Manifests.Rollout("half")[..40]);
        File.WriteAllText(Path.Combine(_harness.RolloutsDirectory, "upload.yaml.partial"), Manifests.Rollout("partial"));
        IntakeHarness.WriteAtomically(_harness.RolloutsDirectory, "real.yaml", Manifests.Rollout("real"));

        var events = await _harness.WaitForSettledAsync(1);

        Assert.Equal("real.yaml", Assert.Single(events).ObjectName);
    }
}
