namespace Sluice.Manifests;

/// <summary>
/// Dataflow runtime environment overrides: every field of the classic <c>RuntimeEnvironment</c> and the flex
/// <c>FlexTemplateRuntimeEnvironment</c> (same names as the REST API). Null means "not set" (the template's
/// or Dataflow's default). Fields that exist for only one template kind are rejected for the other.
/// </summary>
public sealed record RuntimeEnvironment
{
    public int? NumWorkers { get; init; }

    public int? MaxWorkers { get; init; }

    public string? Zone { get; init; }

    public string? WorkerRegion { get; init; }

    public string? WorkerZone { get; init; }

    public string? ServiceAccountEmail { get; init; }

    public string? TempLocation { get; init; }

    public string? MachineType { get; init; }

    public IReadOnlyList<string>? AdditionalExperiments { get; init; }

    public IReadOnlyList<string>? AdditionalPipelineOptions { get; init; }

    public string? Network { get; init; }

    public string? Subnetwork { get; init; }

    public IReadOnlyDictionary<string, string>? AdditionalUserLabels { get; init; }

    public string? KmsKeyName { get; init; }

    /// <summary>WORKER_IP_PUBLIC or WORKER_IP_PRIVATE.</summary>
    public string? IpConfiguration { get; init; }

    public bool? EnableStreamingEngine { get; init; }

    public int? DiskSizeGb { get; init; }

    /// <summary>STREAMING_MODE_EXACTLY_ONCE or STREAMING_MODE_AT_LEAST_ONCE.</summary>
    public string? StreamingMode { get; init; }

    /// <summary>Classic templates only.</summary>
    public bool? BypassTempDirValidation { get; init; }

    /// <summary>Flex templates only.</summary>
    public string? StagingLocation { get; init; }

    /// <summary>Flex templates only.</summary>
    public string? SdkContainerImage { get; init; }

    /// <summary>Flex templates only: AUTOSCALING_ALGORITHM_NONE or AUTOSCALING_ALGORITHM_BASIC.</summary>
    public string? AutoscalingAlgorithm { get; init; }

    /// <summary>Flex templates only: FLEXRS_SPEED_OPTIMIZED or FLEXRS_COST_OPTIMIZED.</summary>
    public string? FlexrsGoal { get; init; }

    /// <summary>Flex templates only.</summary>
    public string? LauncherMachineType { get; init; }

    /// <summary>Flex templates only.</summary>
    public bool? DumpHeapOnOom { get; init; }

    /// <summary>Flex templates only.</summary>
    public string? SaveHeapDumpsToGcsPath { get; init; }

    /// <summary>Flex templates only.</summary>
    public bool? EnableLauncherVmSerialPortLogging { get; init; }
}
