using Sluice.Manifests.Values;

namespace Sluice.Manifests.Binding;

/// <summary>Reads and checks a Dataflow runtime environment for a classic or flex template.</summary>
internal static class EnvironmentBinder
{
    /// <summary>Labels Sluice puts on every job it launches (idempotent launch); users may not set them.</summary>
    public const string ReservedLabelPrefix = "sluice-";

    private const int MaxUserLabels = 61;

    private static readonly IReadOnlyDictionary<string, string> IpConfigurations = Same("WORKER_IP_PUBLIC", "WORKER_IP_PRIVATE");
    private static readonly IReadOnlyDictionary<string, string> StreamingModes = Same("STREAMING_MODE_EXACTLY_ONCE", "STREAMING_MODE_AT_LEAST_ONCE");
    private static readonly IReadOnlyDictionary<string, string> AutoscalingAlgorithms = Same("AUTOSCALING_ALGORITHM_NONE", "AUTOSCALING_ALGORITHM_BASIC");
    private static readonly IReadOnlyDictionary<string, string> FlexrsGoals = Same("FLEXRS_SPEED_OPTIMIZED", "FLEXRS_COST_OPTIMIZED");

    public static RuntimeEnvironment? Read(BindContext context, ObjectReader parent, TemplateKind? templateKind)
    {
        var reader = ObjectReader.Open(context, parent.Take("environment"), parent.FieldPath("environment"), ManifestFields.Environment);
        if (reader is null)
        {
            return parent.Has("environment") ? null : new RuntimeEnvironment();
        }

        var before = context.Problems.Count;
        var environment = new RuntimeEnvironment
        {
            NumWorkers = reader.Int("numWorkers", 1, 1000),
            MaxWorkers = reader.Int("maxWorkers", 1, 1000),
            Zone = reader.Pattern("zone", Patterns.Zone, "a Compute Engine zone looks like us-central1-a", example: "us-central1-a"),
            WorkerRegion = reader.Pattern("workerRegion", Patterns.Region, "a Compute Engine region looks like us-central1", example: "us-central1"),
            WorkerZone = reader.Pattern("workerZone", Patterns.Zone, "a Compute Engine zone looks like us-central1-a", example: "us-central1-a"),
            ServiceAccountEmail = reader.Pattern("serviceAccountEmail", Patterns.Email, "a service account is an email address", example: "runner@my-project.iam.gserviceaccount.com"),
            TempLocation = reader.Pattern("tempLocation", Patterns.GcsPath, "a Cloud Storage path starts with gs://BUCKET/", example: "gs://my-bucket/tmp"),
            MachineType = reader.Pattern("machineType", Patterns.MachineType, "a Compute Engine machine type looks like n2-standard-2", example: "n2-standard-2"),
            AdditionalExperiments = reader.StringList("additionalExperiments", Patterns.Experiment, "an experiment is a NAME or NAME=VALUE, e.g. enable_prime"),
            AdditionalPipelineOptions = reader.StringList("additionalPipelineOptions", Patterns.PipelineOption, "a pipeline option is written NAME=VALUE, e.g. numberOfWorkerHarnessThreads=4"),
            Network = reader.Pattern("network", Patterns.Network, "a VPC network is a name such as default, or projects/PROJECT/global/networks/NAME", example: "default"),
            Subnetwork = reader.Pattern("subnetwork", Patterns.Subnetwork, "a subnetwork is regions/REGION/subnetworks/NAME or a full https://www.googleapis.com/compute/v1/… URL", example: "regions/us-central1/subnetworks/default"),
            AdditionalUserLabels = ReadLabels(context, reader),
            KmsKeyName = reader.Pattern("kmsKeyName", Patterns.KmsKeyName, "a Cloud KMS key is projects/P/locations/L/keyRings/R/cryptoKeys/K"),
            IpConfiguration = reader.Enum("ipConfiguration", Wrap(IpConfigurations))?.Value,
            EnableStreamingEngine = reader.Bool("enableStreamingEngine"),
            DiskSizeGb = reader.Int("diskSizeGb", 10, 65536),
            StreamingMode = reader.Enum("streamingMode", Wrap(StreamingModes))?.Value,
            BypassTempDirValidation = reader.Bool("bypassTempDirValidation"),
            StagingLocation = reader.Pattern("stagingLocation", Patterns.GcsPath, "a Cloud Storage path starts with gs://BUCKET/", example: "gs://my-bucket/staging"),
            SdkContainerImage = reader.Pattern("sdkContainerImage", Patterns.ContainerImage, "a container image looks like us-docker.pkg.dev/PROJECT/REPO/IMAGE:TAG"),
            AutoscalingAlgorithm = reader.Enum("autoscalingAlgorithm", Wrap(AutoscalingAlgorithms))?.Value,
            FlexrsGoal = reader.Enum("flexrsGoal", Wrap(FlexrsGoals))?.Value,
            LauncherMachineType = reader.Pattern("launcherMachineType", Patterns.MachineType, "a Compute Engine machine type looks like n1-standard-1", example: "n1-standard-1"),
            DumpHeapOnOom = reader.Bool("dumpHeapOnOom"),
            SaveHeapDumpsToGcsPath = reader.Pattern("saveHeapDumpsToGcsPath", Patterns.GcsPath, "a Cloud Storage path starts with gs://BUCKET/", example: "gs://my-bucket/heapdumps"),
            EnableLauncherVmSerialPortLogging = reader.Bool("enableLauncherVmSerialPortLogging"),
        };
        reader.Finish();

        if (environment.NumWorkers is { } num && environment.MaxWorkers is { } max && num > max)
        {
            reader.Error("numWorkers", $"is {num}, more than maxWorkers ({max})", "raise maxWorkers or lower numWorkers");
        }

        Exclusive(reader, "workerRegion", "workerZone", "choose a region (Dataflow picks the zone) or a zone, not both");
        Exclusive(reader, "zone", "workerZone", "zone is the older name of workerZone; keep only workerZone");
        Exclusive(reader, "zone", "workerRegion", "zone is the older name of workerZone and conflicts with workerRegion; keep only workerRegion");

        if (environment.StreamingMode == "STREAMING_MODE_AT_LEAST_ONCE" && environment.EnableStreamingEngine == false)
        {
            reader.Error("streamingMode", "at-least-once mode runs on Streaming Engine, but enableStreamingEngine is false", "remove enableStreamingEngine: false");
        }

        if (environment.SaveHeapDumpsToGcsPath is not null && environment.DumpHeapOnOom == false)
        {
            reader.Error("saveHeapDumpsToGcsPath", "saving heap dumps needs dumpHeapOnOom, which is false", "remove dumpHeapOnOom: false");
        }

        if (templateKind is { } kind)
        {
            var wrongFields = kind == TemplateKind.Classic ? ManifestFields.FlexOnlyEnvironmentFields : ManifestFields.ClassicOnlyEnvironmentFields;
            foreach (var field in wrongFields.Where(reader.Has))
            {
                var (applies, used) = kind == TemplateKind.Classic ? ("flex", "classic") : ("classic", "flex");
                reader.ErrorAtKey(field, $"applies to {applies} templates only, and this version uses a {used} template",
                    kind == TemplateKind.Classic ? "remove the field, or use template kind: flex" : "remove the field");
            }
        }

        return context.Problems.Count == before ? environment : null;
    }

    private static Dictionary<string, string>? ReadLabels(BindContext context, ObjectReader reader)
    {
        var labels = reader.StringMap(
            "additionalUserLabels",
            checkKey: key => LabelKeyError(key, reservedPrefix: true),
            checkValue: LabelValueError,
            lenientValues: false);
        if (labels is not null && labels.Count > MaxUserLabels)
        {
            reader.Error("additionalUserLabels", $"has {labels.Count} labels; Dataflow allows 64 per job and Sluice adds 3, so at most {MaxUserLabels}");
            return null;
        }

        _ = context;
        return labels;
    }

    public static string? LabelKeyError(string key, bool reservedPrefix)
    {
        if (!Patterns.IsLabelKey(key))
        {
            return $"the label key '{ObjectReader.Shorten(key)}' is not valid: keys are 1 to 63 lowercase letters, digits, '_' or '-', starting with a lowercase letter";
        }

        return reservedPrefix && key.StartsWith(ReservedLabelPrefix, StringComparison.Ordinal)
            ? $"the label key '{key}' is reserved: Sluice sets the labels starting with '{ReservedLabelPrefix}' itself"
            : null;
    }

    public static string? LabelValueError(string value) =>
        Patterns.IsLabelValue(value) ? null : $"the label value '{ObjectReader.Shorten(value)}' is not valid: values are up to 63 lowercase letters, digits, '_' or '-'";

    private static void Exclusive(ObjectReader reader, string first, string second, string hint)
    {
        if (reader.Has(first) && reader.Has(second))
        {
            reader.Error(second, $"cannot be combined with {first}", hint);
        }
    }

    private static Dictionary<string, string> Same(params string[] values) => values.ToDictionary(value => value, value => value, StringComparer.Ordinal);

    // Enum<T> needs a struct; wrap the string values.
    private static Dictionary<string, Wrapped> Wrap(IReadOnlyDictionary<string, string> values) =>
        values.ToDictionary(pair => pair.Key, pair => new Wrapped(pair.Value), StringComparer.Ordinal);

    private readonly record struct Wrapped(string Value);
}
