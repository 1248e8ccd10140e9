using System.Text.Json.Serialization;

namespace Sluice.Dataflow;

/// <summary>Answer of jobs.list (schema <c>ListJobsResponse</c>); Dataflow answers <c>{}</c> when there are no jobs.</summary>
public sealed class ListJobsResponse
{
    public List<Job>? Jobs { get; set; }
    public string? NextPageToken { get; set; }
    public List<FailedLocation>? FailedLocation { get; set; }
}

/// <summary>Schema <c>FailedLocation</c>.</summary>
public sealed class FailedLocation
{
    public string? Name { get; set; }
}

/// <summary>Answer of jobs.messages.list (schema <c>ListJobMessagesResponse</c>), both lists ascending by time.</summary>
public sealed class ListJobMessagesResponse
{
    public List<JobMessage>? JobMessages { get; set; }
    public List<AutoscalingEvent>? AutoscalingEvents { get; set; }
    public string? NextPageToken { get; set; }
}

/// <summary>Schema <c>JobMessage</c>.</summary>
public sealed class JobMessage
{
    public string? Id { get; set; }
    public DateTimeOffset? Time { get; set; }
    public string? MessageText { get; set; }
    public JobMessageImportance? MessageImportance { get; set; }
}

/// <summary>Importance of a job message, lowest first, so that <c>&gt;=</c> compares importance.</summary>
[JsonConverter(typeof(WireEnumConverter<JobMessageImportance>))]
public enum JobMessageImportance
{
    [JsonStringEnumMemberName("JOB_MESSAGE_IMPORTANCE_UNKNOWN")] Unknown = 0,
    [JsonStringEnumMemberName("JOB_MESSAGE_DEBUG")] Debug,
    [JsonStringEnumMemberName("JOB_MESSAGE_DETAILED")] Detailed,
    [JsonStringEnumMemberName("JOB_MESSAGE_BASIC")] Basic,
    [JsonStringEnumMemberName("JOB_MESSAGE_WARNING")] Warning,
    [JsonStringEnumMemberName("JOB_MESSAGE_ERROR")] Error,
}

/// <summary>Schema <c>AutoscalingEvent</c>. Worker counts are int64 and travel as JSON strings.</summary>
public sealed class AutoscalingEvent
{
    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString)]
    public long? CurrentNumWorkers { get; set; }

    [JsonNumberHandling(JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.WriteAsString)]
    public long? TargetNumWorkers { get; set; }

    public AutoscalingEventType? EventType { get; set; }
    public StructuredMessage? Description { get; set; }
    public DateTimeOffset? Time { get; set; }
    public string? WorkerPool { get; set; }
}

[JsonConverter(typeof(WireEnumConverter<AutoscalingEventType>))]
public enum AutoscalingEventType
{
    [JsonStringEnumMemberName("TYPE_UNKNOWN")] Unknown = 0,
    [JsonStringEnumMemberName("TARGET_NUM_WORKERS_CHANGED")] TargetNumWorkersChanged,
    [JsonStringEnumMemberName("CURRENT_NUM_WORKERS_CHANGED")] CurrentNumWorkersChanged,
    [JsonStringEnumMemberName("ACTUATION_FAILURE")] ActuationFailure,
    [JsonStringEnumMemberName("NO_CHANGE")] NoChange,
}

/// <summary>Schema <c>StructuredMessage</c>.</summary>
public sealed class StructuredMessage
{
    public string? MessageText { get; set; }
    public string? MessageKey { get; set; }
    public List<StructuredMessageParameter>? Parameters { get; set; }
}

/// <summary>Schema <c>Parameter</c> (a key and value of a structured message).</summary>
public sealed class StructuredMessageParameter
{
    public string? Key { get; set; }
    public System.Text.Json.JsonElement? Value { get; set; }
}
