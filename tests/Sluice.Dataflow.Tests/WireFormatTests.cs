using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sluice.Dataflow;

namespace Sluice.Dataflow.Tests;

public sealed class WireFormatTests
{
    /// <summary>
    /// Property names of the discovery document's schemas (DiscoveryJson/dataflow.v1b3.json), for the schemas Sluice
    /// models. Every JSON name of a wire type must be one of its schema's properties.
    /// </summary>
    private static readonly Dictionary<Type, string[]> Schemas = new()
    {
        [typeof(Job)] = ["clientRequestId", "createTime", "createdFromSnapshotId", "currentState", "currentStateTime", "environment", "executionInfo", "id", "jobMetadata", "labels", "location", "name", "pipelineDescription", "projectId", "replaceJobId", "replacedByJobId", "requestedState", "runtimeUpdatableParams", "satisfiesPzi", "satisfiesPzs", "serviceResources", "stageStates", "startTime", "steps", "stepsLocation", "tempFiles", "transformNameMapping", "type"],
        [typeof(Dataflow.Environment)] = ["clusterManagerApiService", "dataset", "debugOptions", "experiments", "flexResourceSchedulingGoal", "internalExperiments", "sdkPipelineOptions", "serviceAccountEmail", "serviceKmsKeyName", "serviceOptions", "shuffleMode", "streamingMode", "tempStoragePrefix", "useStreamingEngineResourceBasedBilling", "userAgent", "version", "workerPools", "workerRegion", "workerZone"],
        [typeof(RuntimeUpdatableParams)] = ["maxNumWorkers", "minNumWorkers", "workerUtilizationHint"],
        [typeof(ExecutionStageState)] = ["currentStateTime", "executionStageName", "executionStageState"],
        [typeof(JobMetadata)] = ["bigTableDetails", "bigqueryDetails", "datastoreDetails", "fileDetails", "pubsubDetails", "sdkVersion", "spannerDetails", "userDisplayProperties"],
        [typeof(SdkVersion)] = ["bugs", "sdkSupportStatus", "version", "versionDisplayName"],
        [typeof(FileIODetails)] = ["filePattern"],
        [typeof(LaunchTemplateParameters)] = ["environment", "jobName", "parameters", "transformNameMapping", "update"],
        [typeof(LaunchTemplateResponse)] = ["job"],
        [typeof(LaunchFlexTemplateRequest)] = ["launchParameter", "validateOnly"],
        [typeof(LaunchFlexTemplateParameter)] = ["containerSpec", "containerSpecGcsPath", "environment", "jobName", "launchOptions", "parameters", "transformNameMappings", "update"],
        [typeof(LaunchFlexTemplateResponse)] = ["job"],
        [typeof(RuntimeEnvironment)] = ["additionalExperiments", "additionalPipelineOptions", "additionalUserLabels", "bypassTempDirValidation", "diskSizeGb", "enableStreamingEngine", "ipConfiguration", "kmsKeyName", "machineType", "maxWorkers", "network", "numWorkers", "serviceAccountEmail", "streamingMode", "subnetwork", "tempLocation", "workerRegion", "workerZone", "zone"],
        [typeof(FlexTemplateRuntimeEnvironment)] = ["additionalExperiments", "additionalPipelineOptions", "additionalUserLabels", "autoscalingAlgorithm", "diskSizeGb", "dumpHeapOnOom", "enableLauncherVmSerialPortLogging", "enableStreamingEngine", "flexrsGoal", "ipConfiguration", "kmsKeyName", "launcherMachineType", "machineType", "maxWorkers", "network", "numWorkers", "saveHeapDumpsToGcsPath", "sdkContainerImage", "serviceAccountEmail", "stagingLocation", "streamingMode", "subnetwork", "tempLocation", "workerRegion", "workerZone", "zone"],
        [typeof(GetTemplateResponse)] = ["metadata", "runtimeMetadata", "status", "templateType"],
        [typeof(TemplateMetadata)] = ["defaultStreamingMode", "description", "name", "parameters", "streaming", "supportsAtLeastOnce", "supportsExactlyOnce"],
        [typeof(ParameterMetadata)] = ["customMetadata", "defaultValue", "enumOptions", "groupName", "helpText", "hiddenUi", "isOptional", "label", "name", "paramType", "parentName", "parentTriggerValues", "regexes"],
        [typeof(ParameterMetadataEnumOption)] = ["description", "label", "value"],
        [typeof(RuntimeMetadata)] = ["parameters", "sdkInfo"],
        [typeof(SdkInfo)] = ["language", "version"],
        [typeof(ContainerSpec)] = ["defaultEnvironment", "image", "imageRepositoryCertPath", "imageRepositoryPasswordSecretId", "imageRepositoryUsernameSecretId", "metadata", "sdkInfo"],
        [typeof(Status)] = ["code", "details", "message"],
        [typeof(ListJobsResponse)] = ["failedLocation", "jobs", "nextPageToken"],
        [typeof(FailedLocation)] = ["name"],
        [typeof(ListJobMessagesResponse)] = ["autoscalingEvents", "jobMessages", "nextPageToken"],
        [typeof(JobMessage)] = ["id", "messageImportance", "messageText", "time"],
        [typeof(AutoscalingEvent)] = ["currentNumWorkers", "description", "eventType", "targetNumWorkers", "time", "workerPool"],
        [typeof(StructuredMessage)] = ["messageKey", "messageText", "parameters"],
        [typeof(StructuredMessageParameter)] = ["key", "value"],
        [typeof(JobMetrics)] = ["metricTime", "metrics"],
        [typeof(MetricUpdate)] = ["cumulative", "distribution", "gauge", "internal", "kind", "meanCount", "meanSum", "name", "scalar", "set", "updateTime"],
        [typeof(MetricStructuredName)] = ["context", "name", "origin"],

        // Query parameters of jobs.list and jobs.messages.list (the discovery document's method parameters).
        [typeof(ListJobsRequest)] = ["filter", "name", "pageSize", "pageToken", "view", "location"],
        [typeof(ListJobMessagesRequest)] = ["endTime", "minimumImportance", "pageSize", "pageToken", "startTime", "location"],
    };

    [Fact]
    public void Every_wire_field_name_is_a_property_of_its_discovery_schema()
    {
        var wireTypes = typeof(Job).Assembly.GetTypes()
            .Where(type => type.IsPublic && type.IsClass && type.Namespace == "Sluice.Dataflow" && type.GetCustomAttribute<JsonConverterAttribute>() is null)
            .Where(type => type.GetConstructor(Type.EmptyTypes) is not null && type.GetProperties().Length > 0 && !typeof(Exception).IsAssignableFrom(type) && !typeof(JsonConverter).IsAssignableFrom(type))
            .Where(type => !type.Name.StartsWith("Google", StringComparison.Ordinal) && type.Name != nameof(DataflowClientOptions));
        foreach (var type in wireTypes)
        {
            Assert.True(Schemas.ContainsKey(type), $"{type.Name} is a wire type without its schema in this test");
            var info = DataflowJson.Options.GetTypeInfo(type);
            foreach (var property in info.Properties.Where(property => property.AttributeProvider?.IsDefined(typeof(JsonIgnoreAttribute), false) != true))
            {
                Assert.Contains(property.Name, Schemas[type]);
            }
        }
    }

    [Fact]
    public void Enums_travel_by_their_discovery_names_and_unknown_names_read_as_unknown()
    {
        var job = JsonSerializer.Deserialize<Job>("""{"currentState":"JOB_STATE_DRAINING","type":"JOB_TYPE_STREAMING","requestedState":"JOB_STATE_SOMETHING_NEW"}""", DataflowJson.Options)!;
        Assert.Equal(JobState.Draining, job.State);
        Assert.Equal(JobType.Streaming, job.Type);
        Assert.Equal(JobState.Unknown, job.RequestedState);
        Assert.Contains("\"requestedState\":\"JOB_STATE_CANCELLED\"", JsonSerializer.Serialize(new Job { RequestedState = JobState.Cancelled }, DataflowJson.Options), StringComparison.Ordinal);
        Assert.Equal("{}", JsonSerializer.Serialize(new Job(), DataflowJson.Options));
    }

    [Fact]
    public void Int64_worker_counts_travel_as_strings_and_timestamps_keep_up_to_nanoseconds()
    {
        var autoscaling = JsonSerializer.Deserialize<AutoscalingEvent>(
            """{"currentNumWorkers":"3","targetNumWorkers":"5","time":"2026-04-13T04:14:51.123456789Z","eventType":"TARGET_NUM_WORKERS_CHANGED"}""", DataflowJson.Options)!;
        Assert.Equal(3, autoscaling.CurrentNumWorkers);
        Assert.Equal(5, autoscaling.TargetNumWorkers);
        Assert.Equal(new DateTimeOffset(2026, 4, 13, 4, 14, 51, TimeSpan.Zero).AddTicks(1234567), autoscaling.Time);
        var json = JsonSerializer.Serialize(autoscaling, DataflowJson.Options);
        Assert.Contains("\"currentNumWorkers\":\"3\"", json, StringComparison.Ordinal);
        Assert.Contains("\"time\":\"2026-04-13T04:14:51.1234567Z\"", json, StringComparison.Ordinal);
        Assert.Equal("2026-04-13T04:14:51Z", GoogleTimestampConverter.Format(new DateTimeOffset(2026, 4, 13, 6, 14, 51, TimeSpan.FromHours(2))));
    }

    [Theory]
    [InlineData(JobState.Running, false, true)]
    [InlineData(JobState.Pending, false, true)]
    [InlineData(JobState.Draining, false, true)]
    [InlineData(JobState.Cancelling, false, true)]
    [InlineData(JobState.Queued, false, true)]
    [InlineData(JobState.Done, true, false)]
    [InlineData(JobState.Failed, true, false)]
    [InlineData(JobState.Cancelled, true, false)]
    [InlineData(JobState.Drained, true, false)]
    [InlineData(JobState.Updated, true, false)]
    [InlineData(JobState.Unknown, false, false)]
    public void Job_states_are_terminal_or_active_as_dataflow_defines_them(JobState state, bool terminal, bool active)
    {
        Assert.Equal(terminal, state.IsTerminal());
        Assert.Equal(active, state.IsActive());
    }

    [Fact]
    public void Launch_identity_labels_are_valid_label_values_and_stay_distinct_when_long()
    {
        var identity = new LaunchIdentity("Sales.Daily Report", 123, "launch:v2");
        Assert.Equal("sales-daily-report", identity.Labels[LaunchIdentity.PipelineLabel]);
        Assert.Equal("123", identity.Labels[LaunchIdentity.RunLabel]);
        Assert.Equal("launch-v2", identity.Labels[LaunchIdentity.StepLabel]);
        Assert.True(identity.Matches(new Dictionary<string, string>(identity.Labels) { ["other"] = "x" }));
        Assert.False(identity.Matches(new Dictionary<string, string>(identity.Labels) { [LaunchIdentity.RunLabel] = "124" }));

        var longA = LaunchIdentity.ToLabelValue(new string('a', 80) + "1");
        var longB = LaunchIdentity.ToLabelValue(new string('a', 80) + "2");
        Assert.True(longA.Length <= 63);
        Assert.NotEqual(longA, longB);
        Assert.Matches("^[a-z0-9_-]{0,63}$", longA);
    }
}
