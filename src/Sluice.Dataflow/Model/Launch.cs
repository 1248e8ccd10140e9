namespace Sluice.Dataflow;

/// <summary>Body of templates.launch (discovery document schema <c>LaunchTemplateParameters</c>).</summary>
public sealed class LaunchTemplateParameters
{
    public string? JobName { get; set; }
    public Dictionary<string, string>? Parameters { get; set; }
    public RuntimeEnvironment? Environment { get; set; }
    public bool? Update { get; set; }
    public Dictionary<string, string>? TransformNameMapping { get; set; }
}

/// <summary>Answer of templates.launch (schema <c>LaunchTemplateResponse</c>); no job when the launch only validated.</summary>
public sealed class LaunchTemplateResponse
{
    public Job? Job { get; set; }
}

/// <summary>Body of flexTemplates.launch (schema <c>LaunchFlexTemplateRequest</c>).</summary>
public sealed class LaunchFlexTemplateRequest
{
    public LaunchFlexTemplateParameter? LaunchParameter { get; set; }
    public bool? ValidateOnly { get; set; }
}

/// <summary>Schema <c>LaunchFlexTemplateParameter</c>. Note the plural <c>transformNameMappings</c>.</summary>
public sealed class LaunchFlexTemplateParameter
{
    public string? JobName { get; set; }
    public string? ContainerSpecGcsPath { get; set; }
    public ContainerSpec? ContainerSpec { get; set; }
    public Dictionary<string, string>? Parameters { get; set; }
    public Dictionary<string, string>? LaunchOptions { get; set; }
    public FlexTemplateRuntimeEnvironment? Environment { get; set; }
    public bool? Update { get; set; }
    public Dictionary<string, string>? TransformNameMappings { get; set; }
}

/// <summary>Answer of flexTemplates.launch (schema <c>LaunchFlexTemplateResponse</c>).</summary>
public sealed class LaunchFlexTemplateResponse
{
    public Job? Job { get; set; }
}

/// <summary>Schema <c>RuntimeEnvironment</c>: the runtime environment of a classic template launch.</summary>
public sealed class RuntimeEnvironment
{
    public int? NumWorkers { get; set; }
    public int? MaxWorkers { get; set; }
    public string? Zone { get; set; }
    public string? ServiceAccountEmail { get; set; }
    public string? TempLocation { get; set; }
    public bool? BypassTempDirValidation { get; set; }
    public string? MachineType { get; set; }
    public List<string>? AdditionalExperiments { get; set; }
    public List<string>? AdditionalPipelineOptions { get; set; }
    public string? Network { get; set; }
    public string? Subnetwork { get; set; }
    public Dictionary<string, string>? AdditionalUserLabels { get; set; }
    public string? KmsKeyName { get; set; }
    public string? IpConfiguration { get; set; }
    public string? WorkerRegion { get; set; }
    public string? WorkerZone { get; set; }
    public bool? EnableStreamingEngine { get; set; }
    public int? DiskSizeGb { get; set; }
    public string? StreamingMode { get; set; }
}

/// <summary>Schema <c>FlexTemplateRuntimeEnvironment</c>: the runtime environment of a flex template launch.</summary>
public sealed class FlexTemplateRuntimeEnvironment
{
    public int? NumWorkers { get; set; }
    public int? MaxWorkers { get; set; }
    public string? Zone { get; set; }
    public string? ServiceAccountEmail { get; set; }
    public string? TempLocation { get; set; }
    public string? MachineType { get; set; }
    public List<string>? AdditionalExperiments { get; set; }
    public List<string>? AdditionalPipelineOptions { get; set; }
    public string? Network { get; set; }
    public string? Subnetwork { get; set; }
    public Dictionary<string, string>? AdditionalUserLabels { get; set; }
    public string? KmsKeyName { get; set; }
    public string? IpConfiguration { get; set; }
    public string? WorkerRegion { get; set; }
    public string? WorkerZone { get; set; }
    public bool? EnableStreamingEngine { get; set; }
    public int? DiskSizeGb { get; set; }
    public string? StreamingMode { get; set; }
    public string? StagingLocation { get; set; }
    public string? SdkContainerImage { get; set; }
    public string? AutoscalingAlgorithm { get; set; }
    public string? FlexrsGoal { get; set; }
    public string? LauncherMachineType { get; set; }
    public bool? DumpHeapOnOom { get; set; }
    public string? SaveHeapDumpsToGcsPath { get; set; }
    public bool? EnableLauncherVmSerialPortLogging { get; set; }
}
