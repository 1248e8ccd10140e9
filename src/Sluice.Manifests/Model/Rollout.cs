using System.Text.Json.Serialization;

namespace Sluice.Manifests;

public enum RolloutStrategy
{
    /// <summary>Stop the old job, wait until it is terminal, launch the new one.</summary>
    Restart,

    /// <summary>Launch the new job beside the old one under another name, validate it, then stop the old one.</summary>
    Rolling,

    /// <summary>Dataflow's in-place update of a streaming job (same job name, <c>update: true</c>).</summary>
    Update,
}

public enum StopMode
{
    Drain,
    Cancel,
}

public enum RollbackMode
{
    Manual,
    Auto,
}

/// <summary>What a rollout with strategy update does when Dataflow refuses the in-place update.</summary>
public enum UpdateRefusedAction
{
    Fail,
    Restart,
}

/// <summary>What a rollout does when the running job does not match its <c>from</c> spec.</summary>
public enum MismatchAction
{
    Stop,
    Proceed,
}

public enum TemplateKind
{
    Classic,
    Flex,
}

public sealed record RolloutSpec
{
    /// <summary>The logical pipeline; one rollout at a time per pipeline.</summary>
    public required string Pipeline { get; init; }

    /// <summary>Dataflow project; the server's default when null.</summary>
    public string? Project { get; init; }

    /// <summary>Dataflow region; the server's default when null.</summary>
    public string? Region { get; init; }

    public RolloutStrategy Strategy { get; init; } = RolloutStrategy.Restart;

    /// <summary>The spec expected to run now; null on a first deploy.</summary>
    public VersionSpec? From { get; init; }

    public required VersionSpec To { get; init; }

    public StopSpec Stop { get; init; } = new();

    public ValidationSpec Validation { get; init; } = new();

    public RollbackMode Rollback { get; init; } = RollbackMode.Manual;

    public UpdateRefusedAction OnUpdateRefused { get; init; } = UpdateRefusedAction.Fail;

    public MismatchAction OnMismatch { get; init; } = MismatchAction.Stop;
}

/// <summary>One version of a pipeline: template, runtime environment and parameters.</summary>
public sealed record VersionSpec
{
    public required string Version { get; init; }

    /// <summary>The Dataflow job name (after defaults: <c>PIPELINE-VERSION</c>, or the running job's name for strategy update).</summary>
    public required string JobName { get; init; }

    public required TemplateRef Template { get; init; }

    public RuntimeEnvironment Environment { get; init; } = new();

    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>Old transform name → new transform name, for strategy update.</summary>
    public IReadOnlyDictionary<string, string> TransformNameMapping { get; init; } = new Dictionary<string, string>();
}

/// <summary>A classic template (<c>gs://…/NAME</c>) or a flex template spec file (<c>gs://…/spec.json</c>).</summary>
public sealed record TemplateRef(TemplateKind Kind, string GcsPath);

public sealed record StopSpec
{
    public StopMode Mode { get; init; } = StopMode.Drain;

    /// <summary>How long to wait for the stop; after it a drain falls back to cancel.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(15);
}

public sealed record ValidationSpec
{
    public static readonly IReadOnlyList<ValidationCheck> DefaultChecks = [new StateCheck()];

    /// <summary>All checks must pass within this time after launch.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(10);

    public IReadOnlyList<ValidationCheck> Checks { get; init; } = DefaultChecks;
}

public enum ExpectedJobState
{
    [JsonStringEnumMemberName("RUNNING")]
    Running,

    [JsonStringEnumMemberName("DONE")]
    Done,
}

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(StateCheck), "state")]
[JsonDerivedType(typeof(AutoscalingCheck), "autoscaling")]
[JsonDerivedType(typeof(MessagesCheck), "messages")]
[JsonDerivedType(typeof(MetricCheck), "metric")]
public abstract record ValidationCheck;

/// <summary>The job reaches this state (RUNNING for streaming jobs).</summary>
public sealed record StateCheck : ValidationCheck
{
    public ExpectedJobState State { get; init; } = ExpectedJobState.Running;
}

/// <summary>The job's autoscaling events show the worker count within bounds.</summary>
public sealed record AutoscalingCheck : ValidationCheck
{
    public int? MinWorkers { get; init; }

    public int? MaxWorkers { get; init; }
}

/// <summary>No more than this many error (and warning) messages while the job runs for <see cref="For"/>.</summary>
public sealed record MessagesCheck : ValidationCheck
{
    public int MaxErrors { get; init; }

    public int? MaxWarnings { get; init; }

    public TimeSpan For { get; init; } = TimeSpan.FromMinutes(2);
}

/// <summary>A job metric (e.g. ElementCount) reaches a bound.</summary>
public sealed record MetricCheck : ValidationCheck
{
    public required string Name { get; init; }

    public double? Min { get; init; }

    public double? Max { get; init; }
}
