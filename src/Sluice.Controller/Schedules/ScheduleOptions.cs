namespace Sluice.Controller.Schedules;

/// <summary>Settings of the schedule flow; <see cref="Validate"/> reports every problem at once.</summary>
public sealed class ScheduleOptions
{
    /// <summary>
    /// How often the scheduler asks the store for schedules changed by another replica, re-checks schedules held back by
    /// maxActiveRuns, and repairs claimed slots whose run was never created. Local changes apply at once.
    /// </summary>
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a slot run asks Dataflow for the state of its job.</summary>
    public TimeSpan JobPollInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often a backfill run looks whether it may start more slots.</summary>
    public TimeSpan BackfillPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Slot runs of one backfill at once, unless the request says otherwise.</summary>
    public int BackfillMaxActiveRuns { get; set; } = 4;

    /// <summary>The most slots one backfill may cover.</summary>
    public int BackfillMaxSlots { get; set; } = 10_000;

    /// <summary>Schedules claimed in one transaction when many fall due at once.</summary>
    public int DispatchBatchSize { get; set; } = 500;

    /// <summary>Slot runs created in one engine transaction when many slots are claimed at once.</summary>
    public int StartBatchSize { get; set; } = 50;

    /// <summary>Such transactions in flight at once (PostgreSQL runs them side by side; SQLite commits them together).</summary>
    public int StartParallelism { get; set; } = 4;

    /// <summary>A claimed slot without a run after this long is started again (its run's creation was interrupted).</summary>
    public TimeSpan ClaimRepairAge { get; set; } = TimeSpan.FromSeconds(30);

    public void Validate()
    {
        var problems = new List<string>();
        if (SyncInterval <= TimeSpan.Zero)
        {
            problems.Add($"sync interval must be positive (got {SyncInterval})");
        }

        if (JobPollInterval <= TimeSpan.Zero || BackfillPollInterval <= TimeSpan.Zero)
        {
            problems.Add("job and backfill poll intervals must be positive");
        }

        if (BackfillMaxActiveRuns < 1)
        {
            problems.Add($"backfill max active runs must be at least 1 (got {BackfillMaxActiveRuns})");
        }

        if (BackfillMaxSlots < 1 || DispatchBatchSize < 1 || StartParallelism < 1 || StartBatchSize < 1)
        {
            problems.Add("backfill max slots, dispatch batch size, start batch size and start parallelism must be at least 1");
        }

        if (ClaimRepairAge <= TimeSpan.Zero)
        {
            problems.Add($"claim repair age must be positive (got {ClaimRepairAge})");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid schedule options: " + string.Join("; ", problems) + ".");
        }
    }
}

/// <summary>Where the scheduler reports the delay between a slot falling due and its run starting (Prometheus in the server).</summary>
public interface ISchedulerLagRecorder
{
    void RecordSchedulerLag(TimeSpan lag);
}
