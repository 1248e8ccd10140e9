using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Sluice.Server.Intake;

// The JSON shapes of Airflow's stable REST API (/api/v1), as its OpenAPI document defines them: snake_case names,
// nulls written out. Only the fields a client of DAGs, DAG runs and task instances reads are filled in meaningfully.

/// <summary>Serializer settings of the Airflow-compatible API.</summary>
internal static class AirflowJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,

        // Dates keep their '+00:00' readable; the answers are application/json, never embedded in HTML.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Airflow's timestamps: ISO 8601 with microseconds and an explicit +00:00 offset.</summary>
    public static string? Format(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture) + "+00:00" : null;
}

/// <summary>DAG.</summary>
internal sealed record AirflowDag
{
    public required string DagId { get; init; }

    public required string DagDisplayName { get; init; }

    public required bool IsPaused { get; init; }

    public bool IsActive { get; init; } = true;

    public string? LastParsedTime { get; init; }

    public string? LastPickled { get; init; }

    public string? LastExpired { get; init; }

    public bool? SchedulerLock { get; init; }

    public string? PickleId { get; init; }

    public string DefaultView { get; init; } = "grid";

    public required string Fileloc { get; init; }

    public string FileToken { get; init; } = "";

    public IReadOnlyList<string> Owners { get; init; } = ["sluice"];

    public string? Description { get; init; }

    public JsonObject? ScheduleInterval { get; init; }

    public string? TimetableDescription { get; init; }

    public IReadOnlyList<AirflowTag> Tags { get; init; } = [];

    public int? MaxActiveTasks { get; init; }

    public int? MaxActiveRuns { get; init; }

    public bool HasTaskConcurrencyLimits { get; init; }

    public bool HasImportErrors { get; init; }

    public string? NextDagrun { get; init; }

    public string? NextDagrunDataIntervalStart { get; init; }

    public string? NextDagrunDataIntervalEnd { get; init; }

    public string? NextDagrunCreateAfter { get; init; }

    public int? MaxConsecutiveFailedDagRuns { get; init; }
}

internal sealed record AirflowTag(string Name);

/// <summary>DAGCollection.</summary>
internal sealed record AirflowDagCollection(IReadOnlyList<AirflowDag> Dags, int TotalEntries);

/// <summary>DAGRun.</summary>
internal sealed record AirflowDagRun
{
    public required string DagRunId { get; init; }

    public required string DagId { get; init; }

    public required string? LogicalDate { get; init; }

    public required string? ExecutionDate { get; init; }

    public string? StartDate { get; init; }

    public string? EndDate { get; init; }

    public string? DataIntervalStart { get; init; }

    public string? DataIntervalEnd { get; init; }

    public string? LastSchedulingDecision { get; init; }

    /// <summary>backfill, manual, scheduled.</summary>
    public required string RunType { get; init; }

    /// <summary>queued, running, success, failed.</summary>
    public required string State { get; init; }

    public required bool ExternalTrigger { get; init; }

    public JsonNode? Conf { get; init; }

    /// <summary>Why a run failed, or what it is waiting for.</summary>
    public string? Note { get; init; }
}

/// <summary>DAGRunCollection.</summary>
internal sealed record AirflowDagRunCollection(IReadOnlyList<AirflowDagRun> DagRuns, int TotalEntries);

/// <summary>TaskInstance.</summary>
internal sealed record AirflowTaskInstance
{
    public required string TaskId { get; init; }

    public required string TaskDisplayName { get; init; }

    public required string DagId { get; init; }

    public required string DagRunId { get; init; }

    public string? ExecutionDate { get; init; }

    public string? StartDate { get; init; }

    public string? EndDate { get; init; }

    public double? Duration { get; init; }

    public string? State { get; init; }

    public int TryNumber { get; init; }

    public int MapIndex { get; init; } = -1;

    public int MaxTries { get; init; }

    public string Hostname { get; init; } = "";

    public string Unixname { get; init; } = "sluice";

    public string Pool { get; init; } = "default_pool";

    public int PoolSlots { get; init; } = 1;

    public string? Queue { get; init; }

    public int? PriorityWeight { get; init; }

    public string? Operator { get; init; }

    public string? QueuedWhen { get; init; }

    public int? Pid { get; init; }

    public string? Executor { get; init; }

    public string ExecutorConfig { get; init; } = "{}";

    public JsonNode? SlaMiss { get; init; }

    public string? RenderedMapIndex { get; init; }

    public JsonObject RenderedFields { get; init; } = [];

    public JsonNode? Trigger { get; init; }

    public JsonNode? TriggererJob { get; init; }

    public string? Note { get; init; }
}

/// <summary>TaskInstanceCollection.</summary>
internal sealed record AirflowTaskInstanceCollection(IReadOnlyList<AirflowTaskInstance> TaskInstances, int TotalEntries);
