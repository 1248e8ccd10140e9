namespace Sluice.Manifests.Binding;

/// <summary>The fields an object of the manifest language may have. The JSON Schema test compares these with the schema.</summary>
internal sealed record FieldSet(string SchemaDefinition, string Description, IReadOnlyList<string> Names)
{
    public bool Contains(string name) => Names.Contains(name, StringComparer.Ordinal);
}

internal static class ManifestFields
{
    public static readonly FieldSet Document = new("document", "a manifest", ["apiVersion", "kind", "metadata", "spec"]);

    public static readonly FieldSet Metadata = new("metadata", "metadata", ["name", "labels"]);

    public static readonly FieldSet RolloutSpec = new("rolloutSpec", "a Rollout spec",
        ["pipeline", "project", "region", "strategy", "from", "to", "stop", "validation", "rollback", "onUpdateRefused", "onMismatch"]);

    public static readonly FieldSet VersionSpec = new("versionSpec", "a version spec",
        ["version", "jobName", "template", "environment", "parameters", "transformNameMapping"]);

    public static readonly FieldSet Template = new("template", "a template reference", ["kind", "gcsPath"]);

    public static readonly FieldSet Stop = new("stop", "stop settings", ["mode", "timeout"]);

    public static readonly FieldSet Validation = new("validation", "validation settings", ["timeout", "checks"]);

    public static readonly FieldSet Check = new("check", "a validation check", ["state", "autoscaling", "messages", "metric"]);

    public static readonly FieldSet AutoscalingCheck = new("autoscalingCheck", "an autoscaling check", ["minWorkers", "maxWorkers"]);

    public static readonly FieldSet MessagesCheck = new("messagesCheck", "a messages check", ["maxErrors", "maxWarnings", "for"]);

    public static readonly FieldSet MetricCheck = new("metricCheck", "a metric check", ["name", "min", "max"]);

    public static readonly FieldSet ScheduleSpec = new("scheduleSpec", "a Schedule spec",
        ["dagId", "schedule", "timeZone", "startDate", "endDate", "catchup", "maxActiveRuns", "paused", "project", "region", "job", "retries"]);

    public static readonly FieldSet ScheduledJob = new("scheduledJob", "a scheduled job",
        ["template", "jobName", "environment", "parameters", "timeout"]);

    public static readonly FieldSet Retries = new("retries", "retry settings", ["count", "delay", "exponentialBackoff", "maxDelay"]);

    public static readonly FieldSet UnscheduleSpec = new("unscheduleSpec", "an Unschedule spec", ["dagId", "cancelRunning"]);

    /// <summary>Fields of both the classic RuntimeEnvironment and the flex FlexTemplateRuntimeEnvironment.</summary>
    public static readonly IReadOnlyList<string> CommonEnvironmentFields =
    [
        "numWorkers", "maxWorkers", "zone", "workerRegion", "workerZone", "serviceAccountEmail", "tempLocation",
        "machineType", "additionalExperiments", "additionalPipelineOptions", "network", "subnetwork",
        "additionalUserLabels", "kmsKeyName", "ipConfiguration", "enableStreamingEngine", "diskSizeGb", "streamingMode",
    ];

    public static readonly IReadOnlyList<string> ClassicOnlyEnvironmentFields = ["bypassTempDirValidation"];

    public static readonly IReadOnlyList<string> FlexOnlyEnvironmentFields =
    [
        "stagingLocation", "sdkContainerImage", "autoscalingAlgorithm", "flexrsGoal", "launcherMachineType",
        "dumpHeapOnOom", "saveHeapDumpsToGcsPath", "enableLauncherVmSerialPortLogging",
    ];

    public static readonly FieldSet Environment = new("environment", "a runtime environment",
        [.. CommonEnvironmentFields, .. ClassicOnlyEnvironmentFields, .. FlexOnlyEnvironmentFields]);

    public static readonly IReadOnlyList<FieldSet> All =
    [
        Document, Metadata, RolloutSpec, VersionSpec, Template, Stop, Validation, Check, AutoscalingCheck, MessagesCheck,
        MetricCheck, ScheduleSpec, ScheduledJob, Retries, UnscheduleSpec, Environment,
    ];

    /// <summary>Names people write by habit (from Airflow, Kubernetes or the Dataflow CLI) and the field they mean.</summary>
    public static readonly IReadOnlyDictionary<string, string> KnownAliases = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["path"] = "gcsPath",
        ["gcs_path"] = "gcsPath",
        ["containerSpecGcsPath"] = "gcsPath",
        ["validate"] = "validation",
        ["timezone"] = "timeZone",
        ["tz"] = "timeZone",
        ["schedule_interval"] = "schedule",
        ["dag_id"] = "dagId",
        ["start_date"] = "startDate",
        ["end_date"] = "endDate",
        ["max_active_runs"] = "maxActiveRuns",
        ["retry_delay"] = "delay",
        ["max_num_workers"] = "maxWorkers",
        ["num_workers"] = "numWorkers",
        ["worker_machine_type"] = "machineType",
        ["workerMachineType"] = "machineType",
        ["labels"] = "additionalUserLabels",
        ["experiments"] = "additionalExperiments",
        ["name"] = "jobName",
        ["params"] = "parameters",
        ["env"] = "environment",
        ["retry"] = "retries",
        ["transformNameMappings"] = "transformNameMapping",
    };
}
