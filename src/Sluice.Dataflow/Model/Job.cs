using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sluice.Dataflow;

/// <summary>A Dataflow job (discovery document schema <c>Job</c>; the fields Sluice reads or writes).</summary>
public sealed class Job
{
    public string? Id { get; set; }
    public string? ProjectId { get; set; }
    public string? Name { get; set; }
    public string? Location { get; set; }
    public JobType? Type { get; set; }
    public JobState? CurrentState { get; set; }
    public DateTimeOffset? CurrentStateTime { get; set; }
    public JobState? RequestedState { get; set; }
    public DateTimeOffset? CreateTime { get; set; }
    public DateTimeOffset? StartTime { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public string? ReplaceJobId { get; set; }
    public string? ReplacedByJobId { get; set; }
    public string? ClientRequestId { get; set; }
    public string? CreatedFromSnapshotId { get; set; }
    public Environment? Environment { get; set; }
    public List<ExecutionStageState>? StageStates { get; set; }
    public JobMetadata? JobMetadata { get; set; }
    public Dictionary<string, string>? TransformNameMapping { get; set; }
    public RuntimeUpdatableParams? RuntimeUpdatableParams { get; set; }
    public bool? SatisfiesPzs { get; set; }
    public bool? SatisfiesPzi { get; set; }
    public List<string>? TempFiles { get; set; }
    public string? StepsLocation { get; set; }

    /// <summary>The state, or <see cref="JobState.Unknown"/> when the answer had none.</summary>
    [JsonIgnore]
    public JobState State => CurrentState ?? JobState.Unknown;
}

/// <summary>Discovery document schema <c>Environment</c> (the job's environment as the service reports it).</summary>
public sealed class Environment
{
    public string? TempStoragePrefix { get; set; }
    public string? ClusterManagerApiService { get; set; }
    public List<string>? Experiments { get; set; }
    public List<string>? ServiceOptions { get; set; }
    public string? ServiceKmsKeyName { get; set; }
    public string? ServiceAccountEmail { get; set; }
    public string? WorkerRegion { get; set; }
    public string? WorkerZone { get; set; }
    public string? Dataset { get; set; }
    public string? FlexResourceSchedulingGoal { get; set; }
    public string? ShuffleMode { get; set; }
    public string? StreamingMode { get; set; }
    public bool? UseStreamingEngineResourceBasedBilling { get; set; }
    public Dictionary<string, JsonElement>? SdkPipelineOptions { get; set; }
    public Dictionary<string, JsonElement>? UserAgent { get; set; }
    public Dictionary<string, JsonElement>? Version { get; set; }
    public Dictionary<string, JsonElement>? InternalExperiments { get; set; }
    public List<JsonElement>? WorkerPools { get; set; }
    public List<JsonElement>? DebugOptions { get; set; }
}

/// <summary>Discovery document schema <c>RuntimeUpdatableParams</c>: what jobs.update may change on a running job.</summary>
public sealed class RuntimeUpdatableParams
{
    public int? MaxNumWorkers { get; set; }
    public int? MinNumWorkers { get; set; }
    public double? WorkerUtilizationHint { get; set; }
}

/// <summary>Discovery document schema <c>ExecutionStageState</c>.</summary>
public sealed class ExecutionStageState
{
    public string? ExecutionStageName { get; set; }
    [JsonPropertyName("executionStageState")]
    public JobState? StageState { get; set; }
    public DateTimeOffset? CurrentStateTime { get; set; }
}

/// <summary>Discovery document schema <c>JobMetadata</c> (the parts Sluice shows).</summary>
public sealed class JobMetadata
{
    public SdkVersion? SdkVersion { get; set; }
    public Dictionary<string, string>? UserDisplayProperties { get; set; }
    public List<FileIODetails>? FileDetails { get; set; }
}

/// <summary>Discovery document schema <c>SdkVersion</c>.</summary>
public sealed class SdkVersion
{
    public string? Version { get; set; }
    public string? VersionDisplayName { get; set; }
    public string? SdkSupportStatus { get; set; }
}

/// <summary>Discovery document schema <c>FileIODetails</c>.</summary>
public sealed class FileIODetails
{
    public string? FilePattern { get; set; }
}
