using Sluice.Controller.Schedules;
using Sluice.Engine;

namespace Sluice.Controller.Tests.Schedules;

/// <summary>The scheduler against a real SQLite store with a fake clock: which slots are claimed, when, and how often.</summary>
public sealed class SchedulerTests
{
    private static readonly CancellationToken None = CancellationToken.None;

    [Fact]
    public async Task Catch_up_over_three_past_days_claims_exactly_three_slots_with_their_dates_once()
    {
        var clock = ScheduleKit.ClockAt("2026-11-04T10:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);

        var registration = await kit.Service.RegisterAsync(ScheduleKit.Manifest("daily_sales"), "test", None);
        Assert.Equal(ScheduleChange.Created, registration.Change);

        Assert.Equal(3, await kit.DispatchAsync());
        Assert.Equal(0, await kit.DispatchAsync());

        var slots = await kit.SlotsAsync("daily_sales");
        Assert.Equal(
            ["2026-11-01", "2026-11-02", "2026-11-03"],
            slots.Select(s => s.LogicalDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.All(slots, s => Assert.Equal(SlotState.Queued, s.State));
        Assert.All(slots, s => Assert.NotNull(s.RunId));
        Assert.Equal(3, slots.Select(s => s.RunId).Distinct().Count());

        // The next slot (4 November) is due at midnight of the 5th.
        Assert.Equal(DateTimeOffset.Parse("2026-11-05T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), kit.Scheduler.GetQueuedDueAt("daily_sales"));
        var run = await kit.Engine.GetRunAsync(slots[0].RunId!.Value, None);
        Assert.Equal("slot:daily_sales:2026-11-01T00:00:00.0000000+00:00", run!.Run.IdempotencyKey);
        Assert.Equal(["render", "launch", "wait"], run.Steps.Select(s => s.Name));
    }

    [Fact]
    public async Task A_slot_falls_due_when_its_interval_ends_and_not_before()
    {
        var clock = ScheduleKit.ClockAt("2026-11-01T05:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        await kit.Service.RegisterAsync(ScheduleKit.Manifest("hourly", schedule: "@hourly", startDate: "2026-11-01T05:00:00Z"), "test", None);

        Assert.Equal(0, await kit.DispatchAsync());
        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, await kit.DispatchAsync());
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await kit.DispatchAsync());
        var slot = Assert.Single(await kit.SlotsAsync("hourly"));
        Assert.Equal(DateTimeOffset.Parse("2026-11-01T05:00:00Z", System.Globalization.CultureInfo.InvariantCulture), slot.LogicalDate);
        Assert.Equal(DateTimeOffset.Parse("2026-11-01T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture), slot.DataIntervalEnd);
    }

    [Fact]
    public async Task Without_catch_up_only_the_latest_due_slot_runs()
    {
        var clock = ScheduleKit.ClockAt("2026-11-10T03:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        await kit.Service.RegisterAsync(ScheduleKit.Manifest("latest_only", catchup: false), "test", None);

        Assert.Equal(1, await kit.DispatchAsync());
        var slot = Assert.Single(await kit.SlotsAsync("latest_only"));
        Assert.Equal(DateTimeOffset.Parse("2026-11-09T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), slot.LogicalDate);

        // Down for three days: only the latest slot runs when it comes back.
        clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(1, await kit.DispatchAsync());
        Assert.Equal(
            ["2026-11-09", "2026-11-12"],
            (await kit.SlotsAsync("latest_only")).Select(s => s.LogicalDate.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Max_active_runs_holds_slots_back_until_a_run_finishes()
    {
        var clock = ScheduleKit.ClockAt("2026-11-04T10:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        await kit.Service.RegisterAsync(ScheduleKit.Manifest("one_at_a_time", maxActiveRuns: 1), "test", None);

        Assert.Equal(1, await kit.DispatchAsync());
        Assert.Equal(0, await kit.DispatchAsync());
        var first = Assert.Single(await kit.SlotsAsync("one_at_a_time"));

        await kit.FinishRunAsync(first.RunId!.Value);
        Assert.Equal(SlotState.Cancelled, (await kit.SlotsAsync("one_at_a_time"))[0].State);

        // The finished run woke the schedule: the next slot starts without waiting for the sync interval.
        Assert.Equal(1, await kit.DispatchAsync());
        var slots = await kit.SlotsAsync("one_at_a_time");
        Assert.Equal(2, slots.Count);
        Assert.Equal(1, slots.Count(s => s.State == SlotState.Queued));
    }

    [Fact]
    public async Task Pause_stops_new_slots_and_unpause_catches_up()
    {
        var clock = ScheduleKit.ClockAt("2026-11-02T01:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        await kit.Service.RegisterAsync(ScheduleKit.Manifest("pausable"), "test", None);
        Assert.Equal(1, await kit.DispatchAsync());

        Assert.True(await kit.Service.PauseAsync("pausable", None));
        Assert.True((await kit.Service.GetAsync("pausable", None))!.Paused);
        clock.Advance(TimeSpan.FromDays(2));
        Assert.Equal(0, await kit.DispatchAsync());
        Assert.Single(await kit.SlotsAsync("pausable"));

        Assert.True(await kit.Service.UnpauseAsync("pausable", None));
        Assert.Equal(2, await kit.DispatchAsync());
        Assert.Equal(3, (await kit.SlotsAsync("pausable")).Count);
        Assert.False(await kit.Service.PauseAsync("no_such_dag", None));
    }

    [Fact]
    public async Task Unschedule_removes_the_schedule_keeps_its_history_and_a_new_registration_continues_after_the_last_slot()
    {
        var clock = ScheduleKit.ClockAt("2026-11-03T01:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        await kit.Service.RegisterAsync(ScheduleKit.Manifest("goes_away"), "test", None);
        Assert.Equal(2, await kit.DispatchAsync());

        Assert.True(await kit.Service.UnscheduleAsync("goes_away", cancelRunning: false, None));
        Assert.Null(await kit.Service.GetAsync("goes_away", None));
        Assert.DoesNotContain(await kit.Service.ListAsync(None), s => s.DagId == "goes_away");
        Assert.Null(kit.Scheduler.GetQueuedDueAt("goes_away"));
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await kit.DispatchAsync());
        Assert.Equal(2, (await kit.SlotsAsync("goes_away")).Count);
        Assert.False(await kit.Service.UnscheduleAsync("goes_away", cancelRunning: false, None));

        var again = await kit.Service.RegisterAsync(ScheduleKit.Manifest("goes_away"), "test", None);
        Assert.Equal(ScheduleChange.Created, again.Change);
        Assert.Equal(1, await kit.DispatchAsync());
        Assert.Equal(3, (await kit.SlotsAsync("goes_away")).Count);
    }

    [Fact]
    public async Task Unschedule_with_cancel_running_cancels_the_runs_in_flight()
    {
        var clock = ScheduleKit.ClockAt("2026-11-03T01:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        await kit.Service.RegisterAsync(ScheduleKit.Manifest("cancel_me"), "test", None);
        Assert.Equal(2, await kit.DispatchAsync());

        Assert.True(await kit.Service.UnscheduleAsync("cancel_me", cancelRunning: true, None));
        await kit.Engine.ProcessDueRunsAsync(None);
        var slots = await kit.SlotsAsync("cancel_me");
        Assert.All(slots, s => Assert.Equal(SlotState.Cancelled, s.State));
        foreach (var slot in slots)
        {
            Assert.Equal(RunStatus.Cancelled, (await kit.Engine.GetRunAsync(slot.RunId!.Value, None))!.Run.Status);
        }
    }

    [Fact]
    public async Task Registering_the_same_spec_again_changes_nothing_and_a_changed_spec_moves_the_next_slot()
    {
        var clock = ScheduleKit.ClockAt("2026-11-01T00:30:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        Assert.Equal(ScheduleChange.Created, (await kit.Service.RegisterAsync(ScheduleKit.Manifest("changing"), "a", None)).Change);
        Assert.Equal(ScheduleChange.Unchanged, (await kit.Service.RegisterAsync(ScheduleKit.Manifest("changing"), "b", None)).Change);
        Assert.Equal(DateTimeOffset.Parse("2026-11-02T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), kit.Scheduler.GetQueuedDueAt("changing"));

        var updated = await kit.Service.RegisterAsync(ScheduleKit.Manifest("changing", schedule: "@hourly"), "c", None);
        Assert.Equal(ScheduleChange.Updated, updated.Change);
        Assert.Equal(DateTimeOffset.Parse("2026-11-01T01:00:00Z", System.Globalization.CultureInfo.InvariantCulture), kit.Scheduler.GetQueuedDueAt("changing"));
        Assert.Equal(DateTimeOffset.Parse("2026-11-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture), updated.NextSlot!.LogicalDate);
    }

    [Fact]
    public async Task The_pause_flag_of_a_manifest_applies_at_creation_and_when_it_changes_only()
    {
        var clock = ScheduleKit.ClockAt("2026-11-01T00:30:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        Assert.True((await kit.Service.RegisterAsync(ScheduleKit.Manifest("flag", paused: true), "a", None)).Paused);
        await kit.Service.UnpauseAsync("flag", None);

        // Same paused: true in a changed manifest: the operator's unpause stands.
        Assert.False((await kit.Service.RegisterAsync(ScheduleKit.Manifest("flag", paused: true, maxActiveRuns: 3), "b", None)).Paused);
        Assert.False((await kit.Service.RegisterAsync(ScheduleKit.Manifest("flag", paused: false, maxActiveRuns: 3), "c", None)).Paused);
        Assert.True((await kit.Service.RegisterAsync(ScheduleKit.Manifest("flag", paused: true, maxActiveRuns: 3), "d", None)).Paused);
    }

    [Fact]
    public async Task A_restarted_scheduler_on_the_same_file_claims_no_slot_twice_and_starts_a_claim_whose_run_was_lost()
    {
        var store = ScheduleKit.NewSqliteUri();
        var clock = ScheduleKit.ClockAt("2026-11-04T10:00:00Z");
        await using (var first = await ScheduleKit.StartAsync(store, clock))
        {
            await first.Service.RegisterAsync(ScheduleKit.Manifest("survivor"), "test", None);
            Assert.Equal(3, await first.DispatchAsync());

            // A crash between claim and start leaves a claimed slot without a run: simulate it with the claim alone.
            await first.Database.WriteAsync(
                (connection, transaction) => connection.ExecuteAsync(
                    transaction,
                    "INSERT INTO schedule_slots (dag_id, logical_date, interval_start, interval_end, due_at, time_zone, run_trigger, generation, state, " +
                    "attempts, claimed_at, updated_at) VALUES ('survivor', @at, @at, @end, @end, 'UTC', 'scheduled', 0, 'queued', 0, @now, @now)",
                    None,
                    ("at", DateTimeOffset.Parse("2026-11-04T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()),
                    ("end", DateTimeOffset.Parse("2026-11-05T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds()),
                    ("now", clock.GetUtcNow().ToUnixTimeMilliseconds())),
                None);
        }

        clock.Advance(TimeSpan.FromDays(1));
        await using var second = await ScheduleKit.StartAsync(store, clock);
        await second.Scheduler.SyncAsync(None);
        Assert.Equal(0, await second.DispatchAsync());
        var slots = await second.SlotsAsync("survivor");
        Assert.Equal(4, slots.Count);
        Assert.All(slots, s => Assert.NotNull(s.RunId));
        var runs = await second.Engine.ListRunsAsync(new RunQuery { Kind = SlotRuns.RunKind, Limit = 100 }, None);
        Assert.Equal(4, runs.Runs.Count);
        Assert.Equal(4, runs.Runs.Select(r => r.IdempotencyKey).Distinct().Count());
    }

    [Fact]
    public async Task Slots_across_a_daylight_saving_change_are_neither_skipped_nor_doubled()
    {
        // Europe/Berlin leaves summer time on 2026-10-25: that day is 25 hours long.
        var clock = ScheduleKit.ClockAt("2026-10-27T00:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        await kit.Service.RegisterAsync(
            ScheduleKit.Manifest("berlin", schedule: "0 2 * * *", timeZone: "Europe/Berlin", startDate: "2026-10-23T00:00:00+02:00"), "test", None);
        await kit.DispatchAsync();
        var slots = await kit.SlotsAsync("berlin");
        Assert.Equal(
            ["2026-10-23T02:00:00+02:00", "2026-10-24T02:00:00+02:00", "2026-10-25T02:00:00+02:00"],
            slots.Select(s => s.LogicalDate.ToString("yyyy-MM-dd'T'HH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture)));
        // 02:00 happens twice on 25 October; the slot starts at the first and its interval runs 25 hours.
        Assert.Equal(TimeSpan.FromHours(24), slots[1].DataIntervalEnd - slots[1].DataIntervalStart);
        Assert.Equal(TimeSpan.FromHours(25), slots[2].DataIntervalEnd - slots[2].DataIntervalStart);
    }

    [Fact]
    public async Task A_trigger_starts_one_run_for_its_slot_and_a_second_trigger_of_the_same_date_starts_none()
    {
        var clock = ScheduleKit.ClockAt("2026-11-01T12:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        await kit.Service.RegisterAsync(ScheduleKit.Manifest("triggered", schedule: "@none"), "test", None);

        var conf = System.Text.Json.JsonDocument.Parse("""{"reason":"rerun"}""").RootElement;
        var first = await kit.Service.TriggerAsync("triggered", DateTimeOffset.Parse("2026-11-01T09:30:00Z", System.Globalization.CultureInfo.InvariantCulture), conf, None);
        Assert.True(first.Created);
        var second = await kit.Service.TriggerAsync("triggered", DateTimeOffset.Parse("2026-11-01T09:30:00Z", System.Globalization.CultureInfo.InvariantCulture), null, None);
        Assert.False(second.Created);
        Assert.Equal(first.RunId, second.RunId);
        var slot = Assert.Single(await kit.SlotsAsync("triggered"));
        Assert.Equal(SlotTrigger.Manual, slot.Trigger);
        await Assert.ThrowsAsync<ScheduleNotFoundException>(() => kit.Service.TriggerAsync("nope", null, null, None));
    }

    [Fact]
    public async Task A_backfill_plans_by_reprocess_mode_and_runs_only_what_it_planned()
    {
        var clock = ScheduleKit.ClockAt("2026-11-06T10:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        await kit.Service.RegisterAsync(ScheduleKit.Manifest("filled", startDate: "2026-11-03T00:00:00Z", maxActiveRuns: 1), "test", None);
        Assert.Equal(1, await kit.DispatchAsync());
        await kit.FinishRunAsync((await kit.SlotsAsync("filled"))[0].RunId!.Value);
        Assert.Equal(1, await kit.DispatchAsync());

        // 3 Nov cancelled, 4 Nov queued, 5 Nov never ran; 1 and 2 Nov are before the start date.
        DateTimeOffset At(string text) => DateTimeOffset.Parse(text, System.Globalization.CultureInfo.InvariantCulture);
        var none = await kit.Service.BackfillAsync(
            new BackfillRequest { DagId = "filled", From = At("2026-10-30T00:00:00Z"), To = At("2026-11-10T00:00:00Z"), DryRun = true }, None);
        Assert.Equal([BackfillAction.Skip, BackfillAction.Skip, BackfillAction.Run], none.Slots.Select(s => s.Action));

        var failed = await kit.Service.BackfillAsync(
            new BackfillRequest { DagId = "filled", From = At("2026-11-01T00:00:00Z"), To = At("2026-11-05T00:00:00Z"), Reprocess = ReprocessMode.Failed, DryRun = true },
            None);
        Assert.Equal([BackfillAction.Rerun, BackfillAction.Skip, BackfillAction.Run], failed.Slots.Select(s => s.Action));
        Assert.Equal(2, failed.ToRun);
        Assert.Null(failed.RunId);

        var real = await kit.Service.BackfillAsync(
            new BackfillRequest { DagId = "filled", From = At("2026-11-01T00:00:00Z"), To = At("2026-11-05T00:00:00Z"), Reprocess = ReprocessMode.Failed }, None);
        Assert.NotNull(real.RunId);
        var slots = await kit.SlotsAsync("filled");
        Assert.Equal([SlotState.Pending, SlotState.Queued, SlotState.Pending], slots.Select(s => s.State));
        Assert.Equal([1, 0, 0], slots.Select(s => s.Generation));
        Assert.Equal([SlotTrigger.Backfill, SlotTrigger.Scheduled, SlotTrigger.Backfill], slots.Select(s => s.Trigger));

        await Assert.ThrowsAsync<ScheduleException>(() => kit.Service.BackfillAsync(
            new BackfillRequest { DagId = "filled", From = At("2026-11-05T00:00:00Z"), To = At("2026-11-01T00:00:00Z") }, None));
    }

    [Fact]
    public async Task Changes_made_by_another_replica_reach_the_queue_at_the_next_sync()
    {
        var store = ScheduleKit.NewSqliteUri();
        var clock = ScheduleKit.ClockAt("2026-11-01T00:30:00Z");
        await using var a = await ScheduleKit.StartAsync(store, clock, replicaId: "a");
        await using var b = await ScheduleKit.StartAsync(store, clock, replicaId: "b");
        await a.Service.RegisterAsync(ScheduleKit.Manifest("shared"), "test", None);
        Assert.Null(b.Scheduler.GetQueuedDueAt("shared"));
        await b.Scheduler.SyncAsync(None);
        Assert.NotNull(b.Scheduler.GetQueuedDueAt("shared"));
        await a.Service.PauseAsync("shared", None);
        await b.Scheduler.SyncAsync(None);
        Assert.Null(b.Scheduler.GetQueuedDueAt("shared"));
    }
}

public sealed class PlannerTests
{
    [Fact]
    public async Task A_dry_run_plan_says_what_registering_would_start_and_changes_nothing()
    {
        var clock = ScheduleKit.ClockAt("2026-11-04T10:00:00Z");
        await using var kit = await ScheduleKit.StartAsync(ScheduleKit.NewSqliteUri(), clock);
        var planner = new ScheduleManifestPlanner(kit.Database, clock);
        var manifest = ScheduleKit.Manifest("planned", maxActiveRuns: 2);
        Assert.True(planner.CanPlan(manifest));

        var plan = await planner.PlanAsync(manifest, CancellationToken.None);
        Assert.Empty(plan.Problems);
        Assert.Equal(["register", "start due slots", "next slot"], plan.Steps.Select(s => s.Name));
        Assert.Contains("3 slot(s) are due now", plan.Steps[1].Description, StringComparison.Ordinal);
        Assert.Null(await kit.Service.GetAsync("planned", CancellationToken.None));

        var unschedule = await planner.PlanAsync(
            new Manifests.UnscheduleManifest { Metadata = new Manifests.ManifestMetadata("u"), Spec = new Manifests.UnscheduleSpec { DagId = "planned" } },
            CancellationToken.None);
        Assert.Empty(unschedule.Steps);
    }
}
