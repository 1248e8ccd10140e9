using System.Text.Json.Serialization;

namespace Sluice.Manifests;

public enum ManifestKind
{
    Rollout,
    Schedule,
    Unschedule,
}

/// <summary>A Kubernetes-style manifest document: <c>apiVersion</c>, <c>kind</c>, <c>metadata</c>, <c>spec</c>.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(RolloutManifest), "Rollout")]
[JsonDerivedType(typeof(ScheduleManifest), "Schedule")]
[JsonDerivedType(typeof(UnscheduleManifest), "Unschedule")]
public abstract record Manifest
{
    public const string CurrentApiVersion = "sluice/v1";

    public string ApiVersion { get; init; } = CurrentApiVersion;

    [JsonIgnore]
    public abstract ManifestKind Kind { get; }

    public required ManifestMetadata Metadata { get; init; }

    /// <summary>Where the document came from (file and line of its first key); not part of the stored form.</summary>
    [JsonIgnore]
    public ManifestSource? Source { get; init; }
}

/// <summary><c>metadata</c>: the manifest's unique name and optional labels.</summary>
public sealed record ManifestMetadata
{
    [JsonConstructor]
    public ManifestMetadata(string name, IReadOnlyDictionary<string, string>? labels = null)
    {
        Name = name;
        Labels = labels ?? new Dictionary<string, string>();
    }

    public string Name { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; }
}

public sealed record ManifestSource(string Path, int Line, int DocumentIndex);

public sealed record RolloutManifest : Manifest
{
    [JsonIgnore]
    public override ManifestKind Kind => ManifestKind.Rollout;

    public required RolloutSpec Spec { get; init; }
}

public sealed record ScheduleManifest : Manifest
{
    [JsonIgnore]
    public override ManifestKind Kind => ManifestKind.Schedule;

    public required ScheduleSpec Spec { get; init; }
}

public sealed record UnscheduleManifest : Manifest
{
    [JsonIgnore]
    public override ManifestKind Kind => ManifestKind.Unschedule;

    public required UnscheduleSpec Spec { get; init; }

    [JsonIgnore]
    public string DagId => Spec.DagId;

    [JsonIgnore]
    public bool CancelRunning => Spec.CancelRunning;
}

/// <summary>Removes the schedule with this dag id (the same as deleting its Schedule manifest from the bucket).</summary>
public sealed record UnscheduleSpec
{
    public required string DagId { get; init; }

    /// <summary>Also cancel slot runs (and their Dataflow jobs) that are running now; otherwise they finish.</summary>
    public bool CancelRunning { get; init; }
}
