using Sluice.Dataflow;
using Sluice.Manifests;
using ManifestEnvironment = Sluice.Manifests.RuntimeEnvironment;

namespace Sluice.Controller.Rollouts;

/// <summary>Turns a version spec into a Dataflow template launch (classic or flex), with its environment and parameters.</summary>
public static class JobLaunches
{
    /// <summary>
    /// Launches <paramref name="version"/> as <paramref name="jobName"/>. With an <paramref name="identity"/> the client
    /// labels the job and makes the launch idempotent. Returns the job, or null for <paramref name="validateOnly"/>.
    /// </summary>
    public static async Task<Job?> LaunchAsync(IDataflowClient client, VersionSpec version, string jobName, LaunchIdentity? identity,
        bool update, bool validateOnly, CancellationToken cancellationToken)
    {
        var parameters = version.Parameters.Count == 0 ? null : new Dictionary<string, string>(version.Parameters);
        var mapping = update && version.TransformNameMapping.Count > 0 ? new Dictionary<string, string>(version.TransformNameMapping) : null;
        if (version.Template.Kind == TemplateKind.Classic)
        {
            var response = await client.LaunchTemplateAsync(
                version.Template.GcsPath,
                new LaunchTemplateParameters
                {
                    JobName = jobName,
                    Parameters = parameters,
                    Environment = ToClassic(version.Environment),
                    Update = update ? true : null,
                    TransformNameMapping = mapping,
                },
                identity, validateOnly, cancellationToken);
            return response.Job;
        }

        var flex = await client.LaunchFlexTemplateAsync(
            new LaunchFlexTemplateParameter
            {
                JobName = jobName,
                ContainerSpecGcsPath = version.Template.GcsPath,
                Parameters = parameters,
                Environment = ToFlex(version.Environment),
                Update = update ? true : null,
                TransformNameMappings = mapping,
            },
            identity, validateOnly, cancellationToken);
        return flex.Job;
    }

    public static Dataflow.RuntimeEnvironment ToClassic(ManifestEnvironment e) => new()
    {
        NumWorkers = e.NumWorkers,
        MaxWorkers = e.MaxWorkers,
        Zone = e.Zone,
        ServiceAccountEmail = e.ServiceAccountEmail,
        TempLocation = e.TempLocation,
        BypassTempDirValidation = e.BypassTempDirValidation,
        MachineType = e.MachineType,
        AdditionalExperiments = e.AdditionalExperiments?.ToList(),
        AdditionalPipelineOptions = e.AdditionalPipelineOptions?.ToList(),
        Network = e.Network,
        Subnetwork = e.Subnetwork,
        AdditionalUserLabels = e.AdditionalUserLabels is null ? null : new Dictionary<string, string>(e.AdditionalUserLabels),
        KmsKeyName = e.KmsKeyName,
        IpConfiguration = e.IpConfiguration,
        WorkerRegion = e.WorkerRegion,
        WorkerZone = e.WorkerZone,
        EnableStreamingEngine = e.EnableStreamingEngine,
        DiskSizeGb = e.DiskSizeGb,
        StreamingMode = e.StreamingMode,
    };

    public static FlexTemplateRuntimeEnvironment ToFlex(ManifestEnvironment e) => new()
    {
        NumWorkers = e.NumWorkers,
        MaxWorkers = e.MaxWorkers,
        Zone = e.Zone,
        ServiceAccountEmail = e.ServiceAccountEmail,
        TempLocation = e.TempLocation,
        MachineType = e.MachineType,
        AdditionalExperiments = e.AdditionalExperiments?.ToList(),
        AdditionalPipelineOptions = e.AdditionalPipelineOptions?.ToList(),
        Network = e.Network,
        Subnetwork = e.Subnetwork,
        AdditionalUserLabels = e.AdditionalUserLabels is null ? null : new Dictionary<string, string>(e.AdditionalUserLabels),
        KmsKeyName = e.KmsKeyName,
        IpConfiguration = e.IpConfiguration,
        WorkerRegion = e.WorkerRegion,
        WorkerZone = e.WorkerZone,
        EnableStreamingEngine = e.EnableStreamingEngine,
        DiskSizeGb = e.DiskSizeGb,
        StreamingMode = e.StreamingMode,
        StagingLocation = e.StagingLocation,
        SdkContainerImage = e.SdkContainerImage,
        AutoscalingAlgorithm = e.AutoscalingAlgorithm,
        FlexrsGoal = e.FlexrsGoal,
        LauncherMachineType = e.LauncherMachineType,
        DumpHeapOnOom = e.DumpHeapOnOom,
        SaveHeapDumpsToGcsPath = e.SaveHeapDumpsToGcsPath,
        EnableLauncherVmSerialPortLogging = e.EnableLauncherVmSerialPortLogging,
    };
}
