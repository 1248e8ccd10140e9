using System.Text.RegularExpressions;

namespace Sluice.Manifests.Values;

/// <summary>
/// The naming rules of Dataflow, Cloud Storage, Compute Engine and Airflow that manifests must follow. The same
/// expressions appear in schemas/sluice-v1.schema.json; a test keeps the two in step.
/// </summary>
public static partial class Patterns
{
    /// <summary>Dataflow job names: lowercase letter first, then lowercase letters, digits and dashes, not ending in a dash.</summary>
    public const string JobName = "^[a-z]([-a-z0-9]{0,1022}[a-z0-9])?$";

    /// <summary>Pipeline names end up in job names and labels, so they follow the stricter label length.</summary>
    public const string PipelineName = "^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$";

    /// <summary>Kubernetes-style object names (DNS subdomain).</summary>
    public const string MetadataName = "^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$";

    /// <summary>Airflow dag ids.</summary>
    public const string DagId = "^[A-Za-z0-9_.-]{1,250}$";

    public const string Version = "^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$";

    /// <summary>Google Cloud label keys: lowercase letter first; lowercase letters, digits, '_' and '-'; international letters allowed.</summary>
    public const string LabelKey = @"^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$";

    public const string LabelValue = @"^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$";

    /// <summary>A Cloud Storage path: gs://BUCKET or gs://BUCKET/OBJECT…</summary>
    public const string GcsPath = "^gs://[a-z0-9][a-z0-9._-]{1,61}[a-z0-9](/.*)?$";

    public const string Project = "^[a-z][-a-z0-9:.]{4,61}[a-z0-9]$";

    public const string Region = "^[a-z]+-[a-z]+[0-9]+$";

    public const string Zone = "^[a-z]+-[a-z]+[0-9]+-[a-z]$";

    public const string MachineType = "^[a-z][-a-z0-9]{0,62}$";

    public const string Email = @"^[^@\s]+@[^@\s]+\.[^@\s]+$";

    public const string Network = "^([a-z]([-a-z0-9]{0,61}[a-z0-9])?|(https://www\\.googleapis\\.com/compute/v1/)?projects/[^/\\s]+/global/networks/[^/\\s]+)$";

    public const string Subnetwork = "^(https://www\\.googleapis\\.com/compute/v1/projects/[^/\\s]+/regions/[^/\\s]+/subnetworks/[^/\\s]+|(projects/[^/\\s]+/)?regions/[^/\\s]+/subnetworks/[^/\\s]+)$";

    public const string KmsKeyName = "^projects/[^/\\s]+/locations/[^/\\s]+/keyRings/[^/\\s]+/cryptoKeys/[^/\\s]+$";

    public const string ContainerImage = "^[a-z0-9][a-z0-9.-]*(:[0-9]+)?/[a-z0-9._/-]+(:[\\w][\\w.-]{0,127})?(@sha256:[0-9a-f]{64})?$";

    /// <summary>Pipeline option names in additionalPipelineOptions, written NAME=VALUE.</summary>
    public const string PipelineOption = "^[A-Za-z][A-Za-z0-9_]*=.*$";

    public const string Experiment = "^[A-Za-z][A-Za-z0-9_]*(=.*)?$";

    public const string ParameterName = "^[A-Za-z_][A-Za-z0-9_.-]{0,127}$";

    public static bool IsJobName(string value) => JobNameRegex().IsMatch(value);

    public static bool IsGcsPath(string value) => GcsPathRegex().IsMatch(value);

    public static bool IsLabelKey(string value) => LabelKeyRegex().IsMatch(value);

    public static bool IsLabelValue(string value) => LabelValueRegex().IsMatch(value);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex> Compiled = new(StringComparer.Ordinal);

    // Regex's own cache holds 15 patterns and the manifest checks use more, so keep them here.
    public static bool Matches(string value, string pattern) =>
        Compiled.GetOrAdd(pattern, static text => new Regex(text, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1))).IsMatch(value);

    /// <summary>Turns free text (a pipeline and version, a dag id) into a valid job name fragment: lowercase, dashes for anything else.</summary>
    public static string ToJobNameFragment(string text)
    {
        var lower = NotJobNameChars().Replace(text.ToLowerInvariant(), "-");
        return RepeatedDashes().Replace(lower, "-").Trim('-');
    }

    [GeneratedRegex(JobName)]
    private static partial Regex JobNameRegex();

    [GeneratedRegex(GcsPath)]
    private static partial Regex GcsPathRegex();

    [GeneratedRegex(LabelKey)]
    private static partial Regex LabelKeyRegex();

    [GeneratedRegex(LabelValue)]
    private static partial Regex LabelValueRegex();

    [GeneratedRegex("[^a-z0-9-]")]
    private static partial Regex NotJobNameChars();

    [GeneratedRegex("-{2,}")]
    private static partial Regex RepeatedDashes();
}
