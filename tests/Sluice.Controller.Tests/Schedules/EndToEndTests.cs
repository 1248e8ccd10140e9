using System.Globalization;
using Sluice.Controller.Schedules;
using Sluice.Dataflow;

namespace Sluice.Controller.Tests.Schedules;

/// <summary>Schedules against the real emulator: real engine loop, real word-count job processes, real clock.</summary>
[Collection(ScheduleEmulatorGroup.Name)]
public sealed class EndToEndTests(ScheduleEmulator emulator)
{
    private static readonly CancellationToken None = CancellationToken.None;

    private static string ThreeDaysAgo()
    {
        var today = TimeProvider.System.GetUtcNow().UtcDateTime.Date;
        return today.AddDays(-3).ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture);
    }

    private static string[] PastDays(int count)
    {
        var today = TimeProvider.System.GetUtcNow().UtcDateTime.Date;
        return Enumerable.Range(1, count).Select(i => today.AddDays(i - count - 1).ToString("yyyyMMdd", CultureInfo.InvariantCulture)).ToArray();
    }

    [Fact]
    public async Task A_daily_schedule_with_catch_up_over_three_past_days_launches_three_word_count_jobs_that_end_done()
    {
        var dag = "daily_" + Guid.NewGuid().ToString("N")[..6];
        await using var host = await ScheduleHost.StartAsync(ScheduleKit.NewSqliteUri(), emulator.Host.BaseUri);
        await host.Schedules.RegisterAsync(
            ScheduleKit.Manifest(dag, startDate: ThreeDaysAgo(), jobName: dag.Replace('_', '-') + "-{{ ds_nodash }}", maxActiveRuns: 3), "test", None);

        var slots = await host.WaitForSlotsAsync(dag, s => s.Count == 3 && s.All(x => x.State.IsFinished()));
        Assert.All(slots, s => Assert.Equal(SlotState.Succeeded, s.State));
        Assert.All(slots, s => Assert.Equal("JOB_STATE_DONE", s.JobState));
        Assert.All(slots, s => Assert.Equal(1, s.Attempts));

        var prefix = dag.Replace('_', '-') + "-";
        var jobs = await emulator.JobsNamedAsync(prefix);
        Assert.Equal(PastDays(3).Select(d => prefix + d).Order(), jobs.Select(j => j.Name!).Order());
        Assert.All(jobs, j => Assert.Equal(JobState.Done, j.State));
        foreach (var slot in slots)
        {
            var day = slot.LogicalDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            Assert.True(File.Exists(Path.Combine(emulator.BucketsDirectory, "sluice-output", dag, day, "counts.txt")), $"no output for {day}");
        }
    }

    [Fact]
    public async Task A_failing_job_is_relaunched_under_its_own_name_and_then_the_slot_is_failed()
    {
        var dag = "failing_" + Guid.NewGuid().ToString("N")[..6];
        var prefix = dag.Replace('_', '-');
        var today = TimeProvider.System.GetUtcNow().UtcDateTime.Date;
        await using var host = await ScheduleHost.StartAsync(ScheduleKit.NewSqliteUri(), emulator.Host.BaseUri);
        await host.Schedules.RegisterAsync(
            ScheduleKit.Manifest(
                dag,
                startDate: today.AddDays(-1).ToString("yyyy-MM-dd'T'00:00:00'Z'", CultureInfo.InvariantCulture),
                jobName: prefix + "-{{ ds_nodash }}",
                parameters: new Dictionary<string, string>
                {
                    ["inputFile"] = "gs://sluice-examples/data/missing-{{ ds_nodash }}.txt",
                    ["output"] = "gs://sluice-output/" + dag + "/{{ ds }}/counts.txt",
                },
                retries: 1,
                retryDelay: TimeSpan.FromMilliseconds(300)),
            "test",
            None);

        var slot = Assert.Single(await host.WaitForSlotsAsync(dag, s => s.Count == 1 && s[0].State.IsFinished()));
        Assert.Equal(SlotState.Failed, slot.State);
        Assert.Equal(2, slot.Attempts);
        Assert.Contains("attempt 2 of 2", slot.Reason, StringComparison.Ordinal);

        var day = today.AddDays(-1).ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var jobs = await emulator.JobsNamedAsync(prefix);
        Assert.Equal([$"{prefix}-{day}", $"{prefix}-{day}-retry1"], jobs.Select(j => j.Name!).Order());
        Assert.All(jobs, j => Assert.Equal(JobState.Failed, j.State));
    }

    [Fact]
    public async Task A_restarted_controller_on_the_same_store_launches_no_slot_twice()
    {
        var dag = "restart_" + Guid.NewGuid().ToString("N")[..6];
        var prefix = dag.Replace('_', '-') + "-";
        var store = ScheduleKit.NewSqliteUri();
        await using (var first = await ScheduleHost.StartAsync(store, emulator.Host.BaseUri))
        {
            await first.Schedules.RegisterAsync(
                ScheduleKit.Manifest(dag, startDate: ThreeDaysAgo(), jobName: prefix + "{{ ds_nodash }}", maxActiveRuns: 3), "test", None);

            // Stop the controller while slots are in flight (at least one job launched, not all finished).
            await first.WaitForSlotsAsync(dag, s => s.Any(x => x.JobId is not null));
        }

        await using var second = await ScheduleHost.StartAsync(store, emulator.Host.BaseUri);
        var slots = await second.WaitForSlotsAsync(dag, s => s.Count == 3 && s.All(x => x.State.IsFinished()));
        Assert.All(slots, s => Assert.Equal(SlotState.Succeeded, s.State));
        var jobs = await emulator.JobsNamedAsync(prefix);
        Assert.Equal(PastDays(3).Select(d => prefix + d).Order(), jobs.Select(j => j.Name!).Order());
    }

    [Fact]
    public async Task Two_schedulers_on_one_postgres_database_launch_each_slot_once()
    {
        var dag = "pg_" + Guid.NewGuid().ToString("N")[..6];
        var prefix = dag.Replace('_', '-') + "-";
        var store = await ScheduleKit.NewPostgresStoreAsync();
        await using var a = await ScheduleHost.StartAsync(store, emulator.Host.BaseUri, "replica-a");
        await using var b = await ScheduleHost.StartAsync(store, emulator.Host.BaseUri, "replica-b");

        // Both replicas learn of the schedule (one registers it, the other by its sync) and race for the same slots.
        await a.Schedules.RegisterAsync(
            ScheduleKit.Manifest(dag, startDate: ThreeDaysAgo(), jobName: prefix + "{{ ds_nodash }}", maxActiveRuns: 3), "test", None);
        await b.Schedules.RegisterAsync(
            ScheduleKit.Manifest(dag, startDate: ThreeDaysAgo(), jobName: prefix + "{{ ds_nodash }}", maxActiveRuns: 3), "test", None);

        var slots = await a.WaitForSlotsAsync(dag, s => s.Count == 3 && s.All(x => x.State.IsFinished()));
        Assert.All(slots, s => Assert.Equal(SlotState.Succeeded, s.State));
        var jobs = await emulator.JobsNamedAsync(prefix);
        Assert.Equal(PastDays(3).Select(d => prefix + d).Order(), jobs.Select(j => j.Name!).Order());
        var runs = await a.Engine.ListRunsAsync(new Engine.RunQuery { Kind = SlotRuns.RunKind, Labels = new Dictionary<string, string> { [SlotRuns.DagLabel] = dag } }, None);
        Assert.Equal(3, runs.Runs.Count);
    }

    [Fact]
    public async Task A_backfill_reruns_failed_slots_within_its_own_limit()
    {
        var dag = "backfill_" + Guid.NewGuid().ToString("N")[..6];
        var prefix = dag.Replace('_', '-') + "-";
        await using var host = await ScheduleHost.StartAsync(ScheduleKit.NewSqliteUri(), emulator.Host.BaseUri);
        await host.Schedules.RegisterAsync(
            ScheduleKit.Manifest(dag, startDate: ThreeDaysAgo(), jobName: prefix + "{{ ds_nodash }}", maxActiveRuns: 3, paused: true), "test", None);

        var today = TimeProvider.System.GetUtcNow().UtcDateTime.Date;
        var plan = await host.Schedules.BackfillAsync(
            new BackfillRequest
            {
                DagId = dag,
                From = new DateTimeOffset(today.AddDays(-3), TimeSpan.Zero),
                To = new DateTimeOffset(today.AddDays(-2), TimeSpan.Zero),
                MaxActiveRuns = 1,
            },
            None);
        Assert.Equal(2, plan.ToRun);
        var slots = await host.WaitForSlotsAsync(dag, s => s.Count == 2 && s.All(x => x.State.IsFinished()));
        Assert.All(slots, s => Assert.Equal(SlotState.Succeeded, s.State));
        Assert.All(slots, s => Assert.Equal(SlotTrigger.Backfill, s.Trigger));
        Assert.Equal(2, (await emulator.JobsNamedAsync(prefix)).Count);
        var backfill = await host.Engine.GetRunAsync(plan.RunId!.Value, None);
        Assert.NotNull(backfill);
    }
}
