using System.Globalization;

namespace Sluice.Engine.Tests;

/// <summary>
/// The engine's behaviour, identical on every store: run once per dialect (see the subclasses at the end).
/// Time is a fake clock; <see cref="WorkflowEngine.ProcessDueRunsAsync"/> processes what is due "now".
/// </summary>
public abstract class EngineContractTests
{
    protected abstract StoreDialect Dialect { get; }

    // A generous bound so that a hang fails the test instead of the whole run.
    private readonly CancellationTokenSource timeout = new(TimeSpan.FromMinutes(2));

    private CancellationToken Ct => timeout.Token;

    [Fact]
    public async Task Steps_run_in_order_and_pass_outputs_on()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var order = new List<string>();
        h.Handle("produce", ctx =>
        {
            order.Add(ctx.Step.Name);
            return StepOutcome.SucceededWith(new Payload(ctx.GetInput<Payload>().Value * 2));
        });
        h.Handle("consume", ctx =>
        {
            order.Add(ctx.Step.Name);
            return StepOutcome.SucceededWith(new Payload(ctx.GetOutput<Payload>("double")!.Value + 1));
        });
        var engine = h.NewEngine();

        var start = await engine.StartRunAsync(
            new RunRequest("test", "pipeline-a", [new StepRequest("double", "produce"), new StepRequest("add", "consume")], InputJson: """{"value":20}"""),
            Ct);
        Assert.True(start.Created);
        var queued = await engine.GetRunAsync(start.RunId, Ct);
        Assert.Equal(RunStatus.Queued, queued!.Run.Status);

        await engine.ProcessDueRunsAsync(Ct);

        var run = await engine.GetRunAsync(start.RunId, Ct);
        Assert.Equal(RunStatus.Succeeded, run!.Run.Status);
        Assert.Equal(["double", "add"], order);
        Assert.All(run.Steps, s => Assert.Equal(StepStatus.Succeeded, s.Status));
        Assert.Equal("""{"value":41}""", run.GetStep("add")!.OutputJson);
        Assert.Equal(1, run.GetStep("add")!.Attempt);
        Assert.Equal(h.Time.GetUtcNow(), run.Run.FinishedAt);
        Assert.Null(run.Run.LeaseOwner);
        Assert.Single(h.Observer.Finished);
        Assert.Equal(RunStatus.Succeeded, h.Observer.Finished[0].Run.Status);
    }

    [Fact]
    public async Task Starting_twice_with_one_idempotency_key_returns_the_first_run()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        h.Handle("noop", _ => StepOutcome.Succeeded());
        var engine = h.NewEngine();
        var request = RunRequests.Steps("once", "noop") with { IdempotencyKey = "event:bucket/object#17" };

        var first = await engine.StartRunAsync(request, Ct);
        var second = await engine.StartRunAsync(request with { Name = "other" }, Ct);

        Assert.True(first.Created);
        Assert.False(second.Created);
        Assert.Equal(first.RunId, second.RunId);
        var page = await engine.ListRunsAsync(new RunQuery(), Ct);
        Assert.Single(page.Runs);
    }

    [Fact]
    public async Task A_retry_waits_for_its_backoff_and_gives_up_after_max_attempts()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var calls = 0;
        h.Handle("flaky", _ =>
        {
            calls++;
            return StepOutcome.Retry($"unavailable #{calls}");
        });
        var engine = h.NewEngine();
        var retry = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromSeconds(10), Multiplier = 2, JitterFraction = 0 };
        var start = await engine.StartRunAsync(
            new RunRequest("test", "retry", [new StepRequest("call", "flaky", Retry: retry)]), Ct);

        await engine.ProcessDueRunsAsync(Ct);
        var step = (await engine.GetRunAsync(start.RunId, Ct))!.GetStep("call")!;
        Assert.Equal(StepStatus.Pending, step.Status);
        Assert.Equal(1, step.Attempt);
        Assert.Equal(h.Time.GetUtcNow().AddSeconds(10), step.DueAt);
        Assert.Contains("unavailable #1", step.Reason, StringComparison.Ordinal);

        h.Time.Advance(TimeSpan.FromSeconds(9));
        await engine.ProcessDueRunsAsync(Ct);
        Assert.Equal(1, calls);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        await engine.ProcessDueRunsAsync(Ct);
        Assert.Equal(2, calls);
        step = (await engine.GetRunAsync(start.RunId, Ct))!.GetStep("call")!;
        Assert.Equal(h.Time.GetUtcNow().AddSeconds(20), step.DueAt); // 10 s × 2

        h.Time.Advance(TimeSpan.FromSeconds(20));
        await engine.ProcessDueRunsAsync(Ct);
        Assert.Equal(3, calls);
        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal(RunStatus.Failed, run.Run.Status);
        Assert.Equal(StepStatus.Failed, run.GetStep("call")!.Status);
        Assert.Contains("gave up after 3 attempt(s): unavailable #3", run.Run.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exception_is_retried_and_logged()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var calls = 0;
        h.Handle("throws-once", _ => ++calls == 1 ? throw new InvalidOperationException("boom") : StepOutcome.Succeeded());
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(RunRequests.Steps("exception", "throws-once"), Ct);

        await engine.ProcessDueRunsAsync(Ct);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await engine.ProcessDueRunsAsync(Ct);

        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal(RunStatus.Succeeded, run.Run.Status);
        Assert.Equal(2, run.Steps[0].Attempt);
        var logs = await engine.GetStepLogsAsync(start.RunId, null, 0, 100, Ct);
        Assert.Contains(logs, l => l.Message.Contains("InvalidOperationException: boom", StringComparison.Ordinal) && l.Attempt == 1);
    }

    [Fact]
    public async Task A_waiting_step_holds_no_thread_and_is_rechecked_at_its_due_time_with_its_data()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var checks = new List<int>();
        h.Handle("sensor", ctx =>
        {
            var seen = ctx.GetData<SensorData>()?.Checks ?? 0;
            checks.Add(seen);
            ctx.SetData(new SensorData(seen + 1));
            return seen < 2 ? StepOutcome.Wait(TimeSpan.FromMinutes(5)) : StepOutcome.SucceededWith(new SensorData(seen + 1));
        });
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(RunRequests.Steps("sensor", "sensor"), Ct);

        await engine.ProcessDueRunsAsync(Ct);
        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal(StepStatus.Waiting, run.Steps[0].Status);
        Assert.Equal(h.Time.GetUtcNow().AddMinutes(5), run.Steps[0].DueAt);
        Assert.Equal(h.Time.GetUtcNow().AddMinutes(5), run.Run.NextDueAt);
        Assert.Null(run.Run.LeaseOwner);

        h.Time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(0, await engine.ProcessDueRunsAsync(Ct));
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await engine.ProcessDueRunsAsync(Ct);
        h.Time.Advance(TimeSpan.FromMinutes(5));
        await engine.ProcessDueRunsAsync(Ct);

        run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal([0, 1, 2], checks);
        Assert.Equal(RunStatus.Succeeded, run.Run.Status);
        Assert.Equal(1, run.Steps[0].Attempt);
        Assert.Equal("""{"checks":3}""", run.Steps[0].DataJson);
    }

    [Fact]
    public async Task A_step_that_waits_past_its_timeout_fails_the_run_on_time()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        h.Handle("never-ready", _ => StepOutcome.Wait(TimeSpan.FromMinutes(3)));
        h.Handle("after", _ => StepOutcome.Succeeded());
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(
            new RunRequest("test", "timeout", [new StepRequest("wait", "never-ready", Timeout: TimeSpan.FromMinutes(10)), new StepRequest("next", "after")]),
            Ct);

        await engine.ProcessDueRunsAsync(Ct);
        for (var i = 0; i < 3; i++)
        {
            h.Time.Advance(TimeSpan.FromMinutes(3));
            await engine.ProcessDueRunsAsync(Ct);
        }

        Assert.Equal(RunStatus.Running, (await engine.GetRunAsync(start.RunId, Ct))!.Run.Status);
        h.Time.Advance(TimeSpan.FromMinutes(1)); // 10 minutes after the start
        await engine.ProcessDueRunsAsync(Ct);

        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal(RunStatus.Failed, run.Run.Status);
        Assert.Equal(StepStatus.Failed, run.GetStep("wait")!.Status);
        Assert.Contains("timed out after 10:00", run.GetStep("wait")!.Reason, StringComparison.Ordinal);
        Assert.Equal(StepStatus.Cancelled, run.GetStep("next")!.Status);
        Assert.Equal(h.Time.GetUtcNow(), run.Run.FinishedAt);
    }

    [Fact]
    public async Task A_run_timeout_fails_the_run_and_cancels_a_blocked_handler()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        h.Handle("slow", _ => StepOutcome.Wait(TimeSpan.FromHours(1)));
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(
            RunRequests.Steps("run-timeout", "slow") with { Timeout = TimeSpan.FromMinutes(30) }, Ct);

        await engine.ProcessDueRunsAsync(Ct);
        Assert.Equal(h.Time.GetUtcNow().AddMinutes(30), (await engine.GetRunAsync(start.RunId, Ct))!.Run.NextDueAt);
        h.Time.Advance(TimeSpan.FromMinutes(30));
        await engine.ProcessDueRunsAsync(Ct);

        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal(RunStatus.Failed, run.Run.Status);
        Assert.Contains("run timed out", run.Run.Reason, StringComparison.Ordinal);
        Assert.Equal(StepStatus.Cancelled, run.Steps[0].Status);
    }

    [Fact]
    public async Task Runs_with_one_mutex_key_run_one_at_a_time_in_arrival_order()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var started = new List<string>();
        h.Handle("deploy", ctx =>
        {
            if (ctx.GetData<SensorData>() is null)
            {
                started.Add(ctx.Run.Name);
                ctx.SetData(new SensorData(1));
                return StepOutcome.Wait(TimeSpan.FromMinutes(1));
            }

            return StepOutcome.Succeeded();
        });
        var engine = h.NewEngine();
        var first = await engine.StartRunAsync(RunRequests.Steps("v1", "deploy") with { MutexKey = "pipeline:clicks" }, Ct);
        var second = await engine.StartRunAsync(RunRequests.Steps("v2", "deploy") with { MutexKey = "pipeline:clicks" }, Ct);
        var third = await engine.StartRunAsync(RunRequests.Steps("v3", "deploy") with { MutexKey = "pipeline:clicks" }, Ct);
        var other = await engine.StartRunAsync(RunRequests.Steps("other", "deploy") with { MutexKey = "pipeline:sales" }, Ct);

        await engine.ProcessDueRunsAsync(Ct);
        Assert.Equal(["other", "v1"], started.Order(StringComparer.Ordinal));
        Assert.Equal(RunStatus.Queued, (await engine.GetRunAsync(second.RunId, Ct))!.Run.Status);
        Assert.Equal(RunStatus.Queued, (await engine.GetRunAsync(third.RunId, Ct))!.Run.Status);

        h.Time.Advance(TimeSpan.FromMinutes(1));
        await engine.ProcessDueRunsAsync(Ct); // v1 finishes, which starts v2 at once (not v3)
        Assert.Equal(RunStatus.Succeeded, (await engine.GetRunAsync(first.RunId, Ct))!.Run.Status);
        Assert.Equal(RunStatus.Running, (await engine.GetRunAsync(second.RunId, Ct))!.Run.Status);
        Assert.Equal(RunStatus.Queued, (await engine.GetRunAsync(third.RunId, Ct))!.Run.Status);

        h.Time.Advance(TimeSpan.FromMinutes(1));
        await engine.ProcessDueRunsAsync(Ct);
        h.Time.Advance(TimeSpan.FromMinutes(1));
        await engine.ProcessDueRunsAsync(Ct);

        Assert.Equal(["v1", "v2", "v3"], started.Where(s => s != "other").ToList());
        foreach (var id in new[] { first.RunId, second.RunId, third.RunId, other.RunId })
        {
            Assert.Equal(RunStatus.Succeeded, (await engine.GetRunAsync(id, Ct))!.Run.Status);
        }
    }

    [Fact]
    public async Task Cancelling_a_waiting_run_cancels_its_steps_and_starts_the_next_queued_run()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        h.Handle("wait", _ => StepOutcome.Wait(TimeSpan.FromHours(1)));
        h.Handle("noop", _ => StepOutcome.Succeeded());
        var engine = h.NewEngine();
        var waiting = await engine.StartRunAsync(
            new RunRequest("test", "a", [new StepRequest("w", "wait"), new StepRequest("after", "noop")], MutexKey: "k"), Ct);
        var queued = await engine.StartRunAsync(RunRequests.Steps("b", "noop") with { MutexKey = "k" }, Ct);
        await engine.ProcessDueRunsAsync(Ct);

        Assert.True(await engine.CancelRunAsync(waiting.RunId, "superseded by b", Ct));
        await engine.ProcessDueRunsAsync(Ct);

        var run = (await engine.GetRunAsync(waiting.RunId, Ct))!;
        Assert.Equal(RunStatus.Cancelled, run.Run.Status);
        Assert.Equal("superseded by b", run.Run.Reason);
        Assert.All(run.Steps, s => Assert.Equal(StepStatus.Cancelled, s.Status));
        Assert.Equal(RunStatus.Succeeded, (await engine.GetRunAsync(queued.RunId, Ct))!.Run.Status);
        Assert.False(await engine.CancelRunAsync(waiting.RunId, "again", Ct));
        await Assert.ThrowsAsync<RunNotFoundException>(() => engine.CancelRunAsync(999_999, "nope", Ct));
        Assert.Contains(h.Observer.Finished, r => r.Run.Id == waiting.RunId && r.Run.Status == RunStatus.Cancelled);
    }

    [Fact]
    public async Task Cancelling_a_run_cancels_its_running_handler()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawCancellation = false;
        h.HandleAsync("block", async (_, ct) =>
        {
            entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
                sawCancellation = true;
                throw;
            }

            return StepOutcome.Succeeded();
        });
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(RunRequests.Steps("block", "block"), Ct);
        var processing = engine.ProcessDueRunsAsync(Ct);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        await engine.CancelRunAsync(start.RunId, "operator asked", Ct);
        await processing.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.True(sawCancellation);
        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal(RunStatus.Cancelled, run.Run.Status);
        Assert.Equal(StepStatus.Cancelled, run.Steps[0].Status);
    }

    [Fact]
    public async Task Runs_started_together_are_stored_in_order_once_per_key_and_their_first_step_starts_fresh()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var calls = new List<(string Run, int Attempt, bool Resumed)>();
        h.Handle("noop", ctx =>
        {
            lock (calls)
            {
                calls.Add((ctx.Run.Name, ctx.Attempt, ctx.Resumed));
            }

            return StepOutcome.Succeeded();
        });
        var engine = h.NewEngine();
        var existing = await engine.StartRunAsync(RunRequests.Steps("existing", "noop") with { IdempotencyKey = "slot:a" }, Ct);

        var starts = await engine.StartRunsAsync(
            [
                RunRequests.Steps("first", "noop", "noop") with { IdempotencyKey = "slot:b" },
                RunRequests.Steps("again", "noop") with { IdempotencyKey = "slot:a" },
                RunRequests.Steps("second", "noop") with { IdempotencyKey = "slot:c" },
                RunRequests.Steps("same key in the batch", "noop") with { IdempotencyKey = "slot:b" },
            ],
            Ct);

        Assert.Equal([true, false, true, false], starts.Select(s => s.Created));
        Assert.Equal(existing.RunId, starts[1].RunId);
        Assert.Equal(starts[0].RunId, starts[3].RunId);
        Assert.True(starts[2].RunId > starts[0].RunId);
        await engine.ProcessDueRunsAsync(Ct);
        Assert.Equal(3, (await engine.ListRunsAsync(new RunQuery(), Ct)).Runs.Count(r => r.Status == RunStatus.Succeeded));
        // Every step ran once, as a first attempt that was started for it, never as a resumed one.
        Assert.Equal(4, calls.Count);
        Assert.All(calls, c => Assert.Equal((1, false), (c.Attempt, c.Resumed)));
    }

    [Fact]
    public async Task A_bad_request_in_a_batch_stores_none_of_the_batch()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var engine = h.NewEngine();

        await Assert.ThrowsAsync<ArgumentException>(() => engine.StartRunsAsync(
            [RunRequests.Steps("good", "noop"), new RunRequest("test", "no steps", [])], Ct));

        Assert.Empty((await engine.ListRunsAsync(new RunQuery(), Ct)).Runs);
    }

    [Fact]
    public async Task One_effect_key_used_twice_in_one_call_is_performed_once()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var performed = 0;
        h.HandleAsync("launch", async (ctx, ct) =>
        {
            var first = await ctx.EffectAsync("launch-job", _ => Task.FromResult<JobRef?>(null), _ => Task.FromResult(new JobRef($"job-{++performed}")), ct);
            var second = await ctx.EffectAsync("launch-job", _ => Task.FromResult<JobRef?>(null), _ => Task.FromResult(new JobRef($"job-{++performed}")), ct);
            return StepOutcome.SucceededWith(new[] { first, second });
        });
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(RunRequests.Steps("twice", "launch"), Ct);

        await engine.ProcessDueRunsAsync(Ct);

        Assert.Equal(1, performed);
        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal("""[{"id":"job-1"},{"id":"job-1"}]""", run.Steps[0].OutputJson);
    }

    [Fact]
    public async Task An_effect_is_performed_once_even_when_its_step_is_retried()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var performed = 0;
        var lookups = 0;
        var calls = 0;
        h.HandleAsync("launch", async (ctx, ct) =>
        {
            calls++;
            var job = await ctx.EffectAsync(
                "launch-job",
                _ =>
                {
                    lookups++;
                    return Task.FromResult<JobRef?>(null);
                },
                _ => Task.FromResult(new JobRef($"job-{++performed}")),
                ct);
            return calls == 1 ? StepOutcome.Retry("watch failed after launch") : StepOutcome.SucceededWith(job);
        });
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(RunRequests.Steps("launch", "launch"), Ct);

        await engine.ProcessDueRunsAsync(Ct);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await engine.ProcessDueRunsAsync(Ct);

        Assert.Equal(2, calls);
        Assert.Equal(1, performed);
        Assert.Equal(0, lookups); // done effects return the stored result without asking
        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal("""{"id":"job-1"}""", run.Steps[0].OutputJson);
        var effects = await engine.GetEffectsAsync(start.RunId, Ct);
        var effect = Assert.Single(effects);
        Assert.Equal(EffectStatus.Done, effect.Status);
        Assert.Equal("""{"id":"job-1"}""", effect.ResultJson);
    }

    [Fact]
    public async Task An_effect_that_may_have_happened_is_looked_up_before_it_is_performed_again()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var outside = new List<string>(); // the "outside world": jobs that exist
        var attempts = 0;
        h.HandleAsync("launch", async (ctx, ct) =>
        {
            attempts++;
            var job = await ctx.EffectAsync(
                "launch-job",
                _ => Task.FromResult(outside.Count > 0 ? new JobRef(outside[0]) : null),
                _ =>
                {
                    outside.Add("job-1");
                    // The launch happened but the answer was lost (a timeout, a crash before the result was stored).
                    return attempts == 1 ? throw new TimeoutException("no answer") : Task.FromResult(new JobRef("job-1"));
                },
                ct);
            return StepOutcome.SucceededWith(job);
        });
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(RunRequests.Steps("launch", "launch"), Ct);

        await engine.ProcessDueRunsAsync(Ct);
        Assert.Equal(EffectStatus.Pending, Assert.Single(await engine.GetEffectsAsync(start.RunId, Ct)).Status);
        h.Time.Advance(TimeSpan.FromSeconds(1));
        await engine.ProcessDueRunsAsync(Ct);

        Assert.Equal(["job-1"], outside);
        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal(RunStatus.Succeeded, run.Run.Status);
        Assert.Equal(EffectStatus.Done, Assert.Single(await engine.GetEffectsAsync(start.RunId, Ct)).Status);
        var logs = await engine.GetStepLogsAsync(start.RunId, "s1", 0, 100, Ct);
        Assert.Contains(logs, l => l.Message.Contains("had already happened", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Step_logs_are_stored_and_followed_until_the_run_finishes()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        h.HandleAsync("chatty", async (ctx, ct) =>
        {
            for (var i = 1; i <= 3; i++)
            {
                await ctx.LogAsync($"line {i} of {ctx.Step.Name}", ct);
            }

            return StepOutcome.Succeeded();
        });
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(RunRequests.Steps("logs", "chatty", "chatty"), Ct);
        var followed = new List<string>();
        var follow = Task.Run(
            async () =>
            {
                await foreach (var log in engine.FollowStepLogsAsync(start.RunId, null, 0, Ct))
                {
                    followed.Add(log.Message);
                }
            },
            Ct);

        await engine.ProcessDueRunsAsync(Ct);
        await follow.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        var expected = new[] { "line 1 of s1", "line 2 of s1", "line 3 of s1", "line 1 of s2", "line 2 of s2", "line 3 of s2" };
        Assert.Equal(expected, followed);
        var onlyS2 = await engine.GetStepLogsAsync(start.RunId, "s2", 0, 100, Ct);
        Assert.Equal(expected[3..], onlyS2.Select(l => l.Message));
        var afterFirst = await engine.GetStepLogsAsync(start.RunId, null, onlyS2[0].Id, 100, Ct);
        Assert.Equal(expected[4..], afterFirst.Select(l => l.Message));
    }

    [Fact]
    public async Task Steps_of_a_dag_run_when_their_dependencies_are_done()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var order = new List<string>();
        h.Handle("record", ctx =>
        {
            lock (order)
            {
                order.Add(ctx.Step.Name);
            }

            return ctx.Step.Name == "skip-me" ? StepOutcome.Skipped("nothing to do") : StepOutcome.Succeeded();
        });
        var engine = h.NewEngine();
        var start = await engine.StartRunAsync(
            new RunRequest("test", "dag",
            [
                new StepRequest("join", "record", DependsOn: ["left", "skip-me"]),
                new StepRequest("left", "record", DependsOn: []),
                new StepRequest("skip-me", "record", DependsOn: []),
            ]),
            Ct);

        await engine.ProcessDueRunsAsync(Ct);

        var run = (await engine.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal(RunStatus.Succeeded, run.Run.Status);
        Assert.Equal("join", order[^1]);
        Assert.Equal(StepStatus.Skipped, run.GetStep("skip-me")!.Status);
        Assert.Equal("nothing to do", run.GetStep("skip-me")!.Reason);
    }

    [Fact]
    public async Task An_observer_that_fails_is_called_again_later()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        h.Handle("noop", _ => StepOutcome.Succeeded());
        var failures = 1;
        h.Observer.OnFinished = _ => failures-- > 0 ? throw new InvalidOperationException("registry down") : Task.CompletedTask;
        var engine = h.NewEngine(configure: o => o.ObserverRetryDelay = TimeSpan.FromSeconds(10));
        var start = await engine.StartRunAsync(RunRequests.Steps("observed", "noop"), Ct);

        await engine.ProcessDueRunsAsync(Ct);
        Assert.Empty(h.Observer.Finished);
        Assert.Equal(RunStatus.Succeeded, (await engine.GetRunAsync(start.RunId, Ct))!.Run.Status);

        h.Time.Advance(TimeSpan.FromSeconds(10));
        await engine.ProcessDueRunsAsync(Ct);
        Assert.Single(h.Observer.Finished);
        h.Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, await engine.ProcessDueRunsAsync(Ct));
        Assert.Single(h.Observer.Finished);
    }

    [Fact]
    public async Task A_replica_that_lost_its_lease_stops_acting_and_the_new_owner_finishes_the_step()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var performedBy = new List<string>();
        var replicaAEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseReplicaA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var executions = new List<(string Replica, bool Resumed)>();
        h.HandleAsync("launch", async (ctx, ct) =>
        {
            var replica = ctx.Run.LeaseOwner!;
            lock (executions)
            {
                executions.Add((replica, ctx.Resumed));
            }

            if (replica == "replica-a")
            {
                replicaAEntered.TrySetResult();
                await releaseReplicaA.Task; // a long pause (GC, network partition) while the lease runs out
            }

            var job = await ctx.EffectAsync(
                "launch",
                _ => Task.FromResult<JobRef?>(null),
                _ =>
                {
                    lock (performedBy)
                    {
                        performedBy.Add(replica);
                    }

                    return Task.FromResult(new JobRef(replica));
                },
                ct);
            return StepOutcome.SucceededWith(job);
        });
        var replicaA = h.NewEngine("replica-a", o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        var replicaB = h.NewEngine("replica-b", o => o.LeaseDuration = TimeSpan.FromSeconds(30));
        var start = await replicaA.StartRunAsync(RunRequests.Steps("failover", "launch"), Ct);

        var processingA = replicaA.ProcessDueRunsAsync(Ct);
        await replicaAEntered.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(0, await replicaB.ProcessDueRunsAsync(Ct)); // the lease is A's

        h.Time.Advance(TimeSpan.FromSeconds(31));
        await replicaB.ProcessDueRunsAsync(Ct); // takes over after expiry
        releaseReplicaA.SetResult();
        await processingA.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(["replica-b"], performedBy);
        Assert.Contains(("replica-b", true), executions);
        var run = (await replicaB.GetRunAsync(start.RunId, Ct))!;
        Assert.Equal(RunStatus.Succeeded, run.Run.Status);
        Assert.Equal("""{"id":"replica-b"}""", run.Steps[0].OutputJson);
        Assert.Single(h.Observer.Finished);
    }

    [Fact]
    public async Task A_long_step_keeps_its_lease_through_heartbeats_so_no_other_replica_takes_it()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = 0;
        h.HandleAsync("long", async (_, _) =>
        {
            Interlocked.Increment(ref calls);
            entered.TrySetResult();
            await release.Task;
            return StepOutcome.Succeeded();
        });
        void Configure(EngineOptions o)
        {
            o.LeaseDuration = TimeSpan.FromSeconds(30);
            o.PollInterval = TimeSpan.FromHours(1);
        }

        var replicaA = h.NewEngine("replica-a", Configure);
        var replicaB = h.NewEngine("replica-b", Configure);
        var t0 = h.Time.GetUtcNow();
        var start = await replicaA.StartRunAsync(RunRequests.Steps("long", "long"), Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var loop = replicaA.RunLoopAsync(stop.Token);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        h.Time.Advance(TimeSpan.FromSeconds(10)); // the heartbeat (every lease/3) renews the lease to t0 + 40 s
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(30);
        while ((await replicaA.GetRunAsync(start.RunId, Ct))!.Run is var run && run.LeaseOwner == "replica-a" &&
               (await ReadLeaseExpiryAsync(h, start.RunId)) != t0.AddSeconds(40).ToUnixTimeMilliseconds())
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "The heartbeat never renewed the lease.");
            await Task.Delay(10, Ct);
        }

        h.Time.Advance(TimeSpan.FromSeconds(25)); // past the first expiry (t0 + 30 s), before the renewed one
        Assert.Equal(0, await replicaB.ProcessDueRunsAsync(Ct));

        release.SetResult();
        var finished = await replicaA.WaitForRunAsync(start.RunId, Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(RunStatus.Succeeded, finished.Run.Status);
        Assert.Equal(1, calls);
    }

    private static Task<long?> ReadLeaseExpiryAsync(EngineHarness h, long runId)
    {
        var database = h.OpenDatabase();
        return database.ReadAsync(
            async c => (await c.QueryAsync(null, "SELECT lease_expires_at FROM engine_runs WHERE id = @id", r => r.GetNullableInt64(0), CancellationToken.None, ("id", runId)))[0],
            CancellationToken.None);
    }

    [Fact]
    public async Task Runs_are_listed_newest_first_with_filters_and_pages()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        h.Handle("noop", _ => StepOutcome.Succeeded());
        var engine = h.NewEngine();
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            var labels = new Dictionary<string, string> { ["pipeline"] = i % 2 == 0 ? "even" : "odd" };
            ids.Add((await engine.StartRunAsync(
                RunRequests.Steps($"run-{i}", "noop") with { Labels = labels, Kind = i < 3 ? "rollout" : "slot" }, Ct)).RunId);
        }

        await engine.ProcessDueRunsAsync(Ct);
        var first = await engine.ListRunsAsync(new RunQuery { Limit = 2 }, Ct);
        Assert.Equal([ids[4], ids[3]], first.Runs.Select(r => r.Id));
        var second = await engine.ListRunsAsync(new RunQuery { Limit = 2, BeforeId = first.NextBeforeId }, Ct);
        Assert.Equal([ids[2], ids[1]], second.Runs.Select(r => r.Id));
        var even = await engine.ListRunsAsync(new RunQuery { Labels = new Dictionary<string, string> { ["pipeline"] = "even" }, Kind = "rollout" }, Ct);
        Assert.Equal([ids[2], ids[0]], even.Runs.Select(r => r.Id));
        Assert.Null(even.NextBeforeId);
        Assert.Equal("even", even.Runs[0].Labels["pipeline"]);
        var succeeded = await engine.ListRunsAsync(new RunQuery { Statuses = [RunStatus.Succeeded], Name = "run-3" }, Ct);
        Assert.Equal(ids[3], Assert.Single(succeeded.Runs).Id);
    }

    [Fact]
    public async Task Bad_requests_are_rejected_with_every_problem_named()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        h.Handle("noop", _ => StepOutcome.Succeeded());
        var engine = h.NewEngine();

        var error = await Assert.ThrowsAsync<ArgumentException>(() => engine.StartRunAsync(
            new RunRequest("test", "bad",
            [
                new StepRequest("a", "noop", InputJson: "{oops"),
                new StepRequest("a", "unknown-kind"),
                new StepRequest("c", "noop", DependsOn: ["missing"]),
            ]),
            Ct));

        Assert.Contains("two steps are named 'a'", error.Message, StringComparison.Ordinal);
        Assert.Contains("'unknown-kind', for which no step handler is registered", error.Message, StringComparison.Ordinal);
        Assert.Contains("depends on 'missing'", error.Message, StringComparison.Ordinal);
        Assert.Contains("is not valid JSON", error.Message, StringComparison.Ordinal);

        var cycle = await Assert.ThrowsAsync<ArgumentException>(() => engine.StartRunAsync(
            new RunRequest("test", "cycle", [new StepRequest("x", "noop", DependsOn: ["y"]), new StepRequest("y", "noop", DependsOn: ["x"])]),
            Ct));
        Assert.Contains("cycle", cycle.Message, StringComparison.Ordinal);
        Assert.Empty((await engine.ListRunsAsync(new RunQuery(), Ct)).Runs);
    }

    [Fact]
    public async Task Module_migrations_apply_once_and_a_newer_schema_is_refused()
    {
        await using var h = await EngineHarness.CreateAsync(Dialect);
        var database = h.OpenDatabase();
        var runner = new MigrationRunner(database);
        var module = new TestModule();

        await runner.ApplyAsync(module, Ct);
        await runner.ApplyAsync(module, Ct);
        Assert.Equal(2, await runner.GetVersionAsync("pipelines-test", Ct));
        var rows = await database.ReadAsync(
            async c =>
            {
                await using var command = c.CreateCommand("SELECT COUNT(*) FROM test_pipelines WHERE note = 'v2'", null);
                return Convert.ToInt64(await command.ExecuteScalarAsync(Ct), CultureInfo.InvariantCulture);
            },
            Ct);
        Assert.Equal(1, rows);

        await database.WriteAsync((c, t) => c.ExecuteAsync(t, "UPDATE sluice_schema SET version = 7 WHERE module = 'pipelines-test'", Ct), Ct);
        var error = await Assert.ThrowsAsync<SchemaTooNewException>(() => runner.ApplyAsync(module, Ct));
        Assert.Contains("schema version 7 for 'pipelines-test'", error.Message, StringComparison.Ordinal);
        Assert.Contains("only up to version 2", error.Message, StringComparison.Ordinal);
    }

    private sealed class TestModule : IMigrationSource
    {
        public string Module => "pipelines-test";

        public IReadOnlyList<Migration> Migrations { get; } =
        [
            new(1, "CREATE TABLE test_pipelines (name TEXT PRIMARY KEY, note TEXT)", "CREATE TABLE test_pipelines (name TEXT PRIMARY KEY, note TEXT)"),
            new(2, "INSERT INTO test_pipelines VALUES ('a', 'v2')", "INSERT INTO test_pipelines VALUES ('a', 'v2')"),
        ];
    }

    private sealed record Payload(int Value);

    private sealed record SensorData(int Checks);

    private sealed record JobRef(string Id);
}

public sealed class SqliteEngineContractTests : EngineContractTests
{
    protected override StoreDialect Dialect => StoreDialect.Sqlite;
}

public sealed class PostgresEngineContractTests : EngineContractTests
{
    protected override StoreDialect Dialect => StoreDialect.Postgres;
}
