using Sluice.Dataflow;

namespace Sluice.Controller.Rollouts.Steps;

/// <summary>A job of the pipeline as check-current saw it.</summary>
public sealed record ObservedJob(string JobId, string JobName, string? Version, string? JobType, string State)
{
    public bool IsBatch => JobType == JobTypeNames.Batch;

    public static ObservedJob From(Job job, string? version) =>
        new(job.Id ?? "", job.Name ?? "", version, job.Type is { } type ? JobTypeNames.Of(type) : null, job.State.ToWireName());

    public override string ToString() => $"{JobName} ({JobId}, {Version ?? "version unknown"}, {State})";
}

/// <summary>Output of check-current: what runs now, and what the rest of the run does with it.</summary>
/// <param name="Running">Active jobs of the pipeline.</param>
/// <param name="KeepJobId">A rollback's job of the target version that still runs: kept, not relaunched.</param>
/// <param name="UpdateJobId">Strategy update: the running job to update in place.</param>
public sealed record CurrentJobs(IReadOnlyList<ObservedJob> Running, string? KeepJobId, string? UpdateJobId)
{
    public IEnumerable<ObservedJob> ToStop => Running.Where(j => j.JobId != KeepJobId);
}

/// <summary>A stop request stop-old made.</summary>
/// <param name="Mode"><c>drain</c> or <c>cancel</c>.</param>
public sealed record StopRequest(string JobId, string JobName, string Mode, DateTimeOffset RequestedAt);

public sealed record StopRequests(IReadOnlyList<StopRequest> Jobs);

/// <summary>A job launched (or kept) by the run: launch-new's and update-in-place's output.</summary>
public sealed record LaunchedJob(string JobId, string JobName, string? JobType)
{
    public static LaunchedJob From(Job job) => new(job.Id ?? "", job.Name ?? "", job.Type is { } type ? JobTypeNames.Of(type) : null);
}

/// <summary>Output of update-in-place.</summary>
/// <param name="Refused">Dataflow refused the update and the manifest says to fall back to a restart.</param>
public sealed record UpdateResult(bool Refused, string? Reason, LaunchedJob? Job, string? ReplacedJobId);

/// <summary>Output of validate: the job and how each check ended.</summary>
public sealed record ValidationReport(string JobId, IReadOnlyList<string> Checks);

internal static class JobTypeNames
{
    public const string Batch = "JOB_TYPE_BATCH";
    public const string Streaming = "JOB_TYPE_STREAMING";

    public static string? Of(JobType type) => type switch
    {
        JobType.Batch => Batch,
        JobType.Streaming => Streaming,
        _ => null,
    };
}
