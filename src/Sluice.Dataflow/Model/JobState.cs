using System.Text.Json.Serialization;

namespace Sluice.Dataflow;

/// <summary>A Dataflow job's state (discovery document: <c>Job.currentState</c>).</summary>
[JsonConverter(typeof(WireEnumConverter<JobState>))]
public enum JobState
{
    [JsonStringEnumMemberName("JOB_STATE_UNKNOWN")] Unknown = 0,
    [JsonStringEnumMemberName("JOB_STATE_STOPPED")] Stopped,
    [JsonStringEnumMemberName("JOB_STATE_RUNNING")] Running,
    [JsonStringEnumMemberName("JOB_STATE_DONE")] Done,
    [JsonStringEnumMemberName("JOB_STATE_FAILED")] Failed,
    [JsonStringEnumMemberName("JOB_STATE_CANCELLED")] Cancelled,
    [JsonStringEnumMemberName("JOB_STATE_UPDATED")] Updated,
    [JsonStringEnumMemberName("JOB_STATE_DRAINING")] Draining,
    [JsonStringEnumMemberName("JOB_STATE_DRAINED")] Drained,
    [JsonStringEnumMemberName("JOB_STATE_PENDING")] Pending,
    [JsonStringEnumMemberName("JOB_STATE_CANCELLING")] Cancelling,
    [JsonStringEnumMemberName("JOB_STATE_QUEUED")] Queued,
    [JsonStringEnumMemberName("JOB_STATE_RESOURCE_CLEANING_UP")] ResourceCleaningUp,
}

public static class JobStateExtensions
{
    /// <summary>True for the states that accept no further change: DONE, FAILED, CANCELLED, UPDATED, DRAINED.</summary>
    public static bool IsTerminal(this JobState state) =>
        state is JobState.Done or JobState.Failed or JobState.Cancelled or JobState.Updated or JobState.Drained;

    /// <summary>
    /// True while a job holds its name: Dataflow allows one active job per name and region.
    /// Unknown is neither active nor terminal.
    /// </summary>
    public static bool IsActive(this JobState state) =>
        state is JobState.Stopped or JobState.Running or JobState.Draining or JobState.Pending or JobState.Cancelling
            or JobState.Queued or JobState.ResourceCleaningUp;

    /// <summary>The discovery document's name, e.g. <c>JOB_STATE_RUNNING</c>.</summary>
    public static string ToWireName(this JobState state) => WireNames.Of(state);
}

/// <summary>Discovery document: <c>Job.type</c>.</summary>
[JsonConverter(typeof(WireEnumConverter<JobType>))]
public enum JobType
{
    [JsonStringEnumMemberName("JOB_TYPE_UNKNOWN")] Unknown = 0,
    [JsonStringEnumMemberName("JOB_TYPE_BATCH")] Batch,
    [JsonStringEnumMemberName("JOB_TYPE_STREAMING")] Streaming,
}

/// <summary>The <c>view</c> parameter of jobs.get.</summary>
[JsonConverter(typeof(WireEnumConverter<JobView>))]
public enum JobView
{
    [JsonStringEnumMemberName("JOB_VIEW_UNKNOWN")] Unknown = 0,
    [JsonStringEnumMemberName("JOB_VIEW_SUMMARY")] Summary,
    [JsonStringEnumMemberName("JOB_VIEW_ALL")] All,
    [JsonStringEnumMemberName("JOB_VIEW_DESCRIPTION")] Description,
}

/// <summary>The <c>filter</c> parameter of jobs.list.</summary>
[JsonConverter(typeof(WireEnumConverter<JobListFilter>))]
public enum JobListFilter
{
    [JsonStringEnumMemberName("UNKNOWN")] Unknown = 0,
    [JsonStringEnumMemberName("ALL")] All,
    [JsonStringEnumMemberName("TERMINATED")] Terminated,
    [JsonStringEnumMemberName("ACTIVE")] Active,
}
