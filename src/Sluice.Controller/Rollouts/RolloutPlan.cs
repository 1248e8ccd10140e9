using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Rollouts;

/// <summary>The input of a rollout or rollback run, stored with the run in <see cref="ManifestJson"/> form.</summary>
public sealed record RolloutRunInput
{
    /// <summary><see cref="RolloutRunKinds.Rollout"/> or <see cref="RolloutRunKinds.Rollback"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The manifest's <c>metadata.name</c>, or a generated name for a rollback.</summary>
    public required string Name { get; init; }

    public required RolloutSpec Spec { get; init; }

    /// <summary>Where the request came from (a bucket object and generation, <c>cli</c>, <c>auto-rollback</c>…).</summary>
    public required string Source { get; init; }

    /// <summary>For an automatic rollback: the failed rollout's run.</summary>
    public long? RollbackOfRunId { get; init; }

    /// <summary>For a rollback: the revision whose spec it restores.</summary>
    public int? TargetRevision { get; init; }

    public string ToJson() => ManifestJson.Serialize(this);

    public static RolloutRunInput FromJson(string json) => ManifestJson.Deserialize<RolloutRunInput>(json);
}

/// <summary>The names of the steps of a rollout, and which steps each strategy runs in which order.</summary>
public static class RolloutSteps
{
    public const string CheckCurrent = "check-current";
    public const string StopOld = "stop-old";
    public const string WaitTerminal = "wait-terminal";
    public const string LaunchNew = "launch-new";
    public const string UpdateInPlace = "update-in-place";
    public const string Validate = "validate";
    public const string Record = "record";

    /// <summary>Step kinds are the step names under the flow's prefix, so other flows cannot collide with them.</summary>
    public static string KindOf(string stepName) => "rollout." + stepName;

    /// <summary>
    /// The steps of a run. A rollback always restarts (or keeps a job of the target version that still runs). Strategy
    /// update carries the steps of a restart too: they are skipped unless Dataflow refuses the update and the manifest
    /// says to fall back to a restart, so the fallback is visible in the timeline.
    /// </summary>
    public static IReadOnlyList<string> For(string kind, RolloutStrategy strategy)
    {
        if (kind == RolloutRunKinds.Rollback)
        {
            return [CheckCurrent, StopOld, WaitTerminal, LaunchNew, Validate, Record];
        }

        return strategy switch
        {
            RolloutStrategy.Restart => [CheckCurrent, StopOld, WaitTerminal, LaunchNew, Validate, Record],
            RolloutStrategy.Rolling => [CheckCurrent, LaunchNew, Validate, StopOld, WaitTerminal, Record],
            RolloutStrategy.Update => [CheckCurrent, UpdateInPlace, StopOld, WaitTerminal, LaunchNew, Validate, Record],
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, null),
        };
    }

    /// <summary>What a step will do, in words, for the dry-run plan and the docs.</summary>
    public static string Describe(string step, RolloutRunInput input)
    {
        var spec = input.Spec;
        return step switch
        {
            CheckCurrent when input.Kind == RolloutRunKinds.Rollback =>
                $"find the jobs of pipeline {spec.Pipeline}; keep one that still runs version {spec.To.Version}",
            CheckCurrent => spec.From is null
                ? $"check that nothing runs for pipeline {spec.Pipeline} (first deploy)"
                : $"check that pipeline {spec.Pipeline} runs version {spec.From.Version}" +
                    (spec.OnMismatch == MismatchAction.Proceed ? " (continue on a mismatch)" : " (stop on a mismatch)"),
            StopOld when spec.Strategy == RolloutStrategy.Update && input.Kind == RolloutRunKinds.Rollout =>
                "if Dataflow refuses the update" + (spec.OnUpdateRefused == UpdateRefusedAction.Restart
                    ? $": {StopDescription(spec.Stop)} the old job"
                    : ": nothing (the rollout fails; onUpdateRefused: fail)"),
            StopOld => $"{StopDescription(spec.Stop)} the old job (a batch job is cancelled)",
            WaitTerminal => spec.Stop.Mode == StopMode.Drain
                ? $"wait until the old job is terminal; cancel it if the drain takes longer than {Sluice.Manifests.Values.Durations.Format(spec.Stop.Timeout)}"
                : "wait until the old job is terminal",
            LaunchNew when spec.Strategy == RolloutStrategy.Update && input.Kind == RolloutRunKinds.Rollout =>
                spec.OnUpdateRefused == UpdateRefusedAction.Restart
                    ? $"if Dataflow refuses the update: launch {spec.To.Version} as a new job"
                    : "nothing unless the update is refused",
            LaunchNew => $"launch version {spec.To.Version} as job {spec.To.JobName} from the {spec.To.Template.Kind.ToString().ToLowerInvariant()} template {spec.To.Template.GcsPath}",
            UpdateInPlace => $"update the running job in place to version {spec.To.Version} (update: true, same job name); wait for the old job UPDATED and the new RUNNING",
            Validate => $"validate the new job within {Sluice.Manifests.Values.Durations.Format(spec.Validation.Timeout)}: " +
                string.Join(", ", spec.Validation.Checks.Select(DescribeCheck)),
            Record => $"record version {spec.To.Version} as the pipeline's stable revision",
            _ => step,
        };
    }

    internal static string DescribeCheck(ValidationCheck check) => check switch
    {
        StateCheck s => $"state {(s.State == ExpectedJobState.Done ? "DONE" : "RUNNING")}",
        AutoscalingCheck a => "autoscaling workers" + (a.MinWorkers is { } min ? $" ≥ {min}" : "") + (a.MaxWorkers is { } max ? $" ≤ {max}" : ""),
        MessagesCheck m => $"at most {m.MaxErrors} error message(s)" + (m.MaxWarnings is { } w ? $" and {w} warning(s)" : "") +
            $" for {Sluice.Manifests.Values.Durations.Format(m.For)}",
        MetricCheck m => $"metric {m.Name}" + (m.Min is { } min ? $" ≥ {min}" : "") + (m.Max is { } max ? $" ≤ {max}" : ""),
        _ => check.GetType().Name,
    };

    private static string StopDescription(StopSpec stop) => stop.Mode == StopMode.Drain ? "drain" : "cancel";

    /// <summary>The engine request of a run.</summary>
    public static RunRequest ToRunRequest(RolloutRunInput input, string? idempotencyKey, long? parentRunId, RolloutOptions options)
    {
        var steps = For(input.Kind, input.Spec.Strategy)
            .Select(name => new StepRequest(name, KindOf(name), Retry: options.StepRetry))
            .ToList();
        var labels = new Dictionary<string, string>
        {
            ["pipeline"] = input.Spec.Pipeline,
            ["rollout"] = input.Name,
            ["strategy"] = input.Spec.Strategy.ToString().ToLowerInvariant(),
            ["version"] = input.Spec.To.Version,
        };
        if (input.Spec.From is { } from)
        {
            labels["fromVersion"] = from.Version;
        }

        return new RunRequest(
            input.Kind, input.Name, steps, input.ToJson(), RolloutRunKinds.MutexKey(input.Spec.Pipeline), idempotencyKey, parentRunId, labels);
    }
}
