using Sluice.Controller.Intake;
using Sluice.Manifests;
using Sluice.Server.Api;

namespace Sluice.Server.Intake;

/// <summary>The one mapping from intake's types to the API's resources.</summary>
internal static class IntakeResources
{
    public static EventResource ToResource(this IntakeEvent e) => new()
    {
        Id = e.Id,
        Source = e.Source,
        Channel = e.Channel,
        Bucket = e.Bucket,
        Object = e.ObjectName,
        Generation = e.Generation,
        Kind = e.Change.ToStored(),
        State = e.State.ToStored(),
        Reason = e.Reason,
        Problems = e.Problems.Count > 0 ? e.Problems.Select(ToResource).ToArray() : null,
        Manifests = e.Dispatches.Count > 0
            ? e.Dispatches.Where(d => d.Document >= 0 && d.Name.Length > 0)
                .Select(d => new ManifestRefResource(d.Kind, d.Kind == "Rollout" ? d.Name : d.Target)).ToArray()
            : null,
        RunIds = e.Dispatches.Any(d => d.RunId is not null) ? e.Dispatches.Where(d => d.RunId is not null).Select(d => d.RunId!.Value).ToArray() : null,
        Actions = e.Dispatches.Count > 0
            ? e.Dispatches.Select(d => new EventActionResource(d.Action, d.Kind, d.Target, d.Name.Length > 0 ? d.Name : null, d.RunId)).ToArray()
            : null,
        Attempts = e.Attempts,
        ReceivedAt = e.ReceivedAt,
        FinishedAt = e.FinishedAt,
        ObjectUpdatedAt = e.ObjectUpdatedAt,
    };

    public static ManifestProblemResource ToResource(this ManifestProblem p) => new(p.Path, p.Line, p.Column, p.Field, p.Message, p.Hint);

    public static AppliedManifestResource ToResource(this AppliedManifest applied) => new()
    {
        Kind = applied.Manifest.Kind.ToString(),
        Name = applied.Manifest.Metadata.Name,
        Pipeline = (applied.Manifest as RolloutManifest)?.Spec.Pipeline,
        DagId = applied.Manifest switch
        {
            ScheduleManifest schedule => schedule.Spec.DagId,
            UnscheduleManifest unschedule => unschedule.DagId,
            _ => null,
        },
        Bucket = applied.Bucket,
        Object = applied.ObjectName,
        Generation = applied.Generation,
        Action = applied.Action switch
        {
            ApplyAction.Written => "written",
            ApplyAction.Unchanged => "unchanged",
            _ => "planned",
        },
        Plan = applied.Plan?.Summary ?? DescribePlan(applied.Manifest),
        Follow = applied.Manifest switch
        {
            RolloutManifest rollout => $"/v1/rollouts/{Uri.EscapeDataString(rollout.Metadata.Name)}",
            ScheduleManifest schedule => $"/v1/schedules/{Uri.EscapeDataString(schedule.Spec.DagId)}",
            UnscheduleManifest unschedule => $"/v1/schedules/{Uri.EscapeDataString(unschedule.DagId)}",
            _ => null,
        },
    };

    /// <summary>One sentence saying what applying the manifest leads to, when no flow planner says more.</summary>
    public static string DescribePlan(Manifest manifest) => manifest switch
    {
        RolloutManifest { Spec: var spec } => spec.From is null
            ? $"first deploy of {spec.Pipeline} {spec.To.Version} ({spec.Strategy.ToString().ToLowerInvariant()})"
            : $"{spec.Strategy.ToString().ToLowerInvariant()} rollout of {spec.Pipeline} from {spec.From.Version} to {spec.To.Version}",
        ScheduleManifest { Spec: var spec } => $"register schedule {spec.DagId} ({spec.Schedule}, {spec.TimeZone})",
        UnscheduleManifest unschedule => $"unschedule {unschedule.DagId}" + (unschedule.CancelRunning ? " and cancel its running slots" : ""),
        _ => manifest.Kind.ToString(),
    };
}
