using Sluice.Engine;
using Sluice.Manifests;
using Sluice.Manifests.Values;

namespace Sluice.Controller.Schedules;

/// <summary>What applying a Schedule or Unschedule manifest would do (<c>sluice apply --dry-run</c>), without changing anything.</summary>
public sealed class ScheduleManifestPlanner(IDatabase database, TimeProvider time) : IManifestPlanner
{
    private readonly ScheduleStore store = new(database);

    public bool CanPlan(Manifest manifest) => manifest is ScheduleManifest or UnscheduleManifest;

    public async Task<ManifestPlan> PlanAsync(Manifest manifest, CancellationToken cancellationToken)
    {
        if (manifest is UnscheduleManifest unschedule)
        {
            var current = await store.GetScheduleAsync(unschedule.DagId, cancellationToken);
            return current is null || current.Deleted
                ? new ManifestPlan($"No schedule '{unschedule.DagId}' is registered; nothing to unschedule.", [], [])
                : ManifestPlan.Of(
                    $"Unschedule '{unschedule.DagId}'.",
                    new PlannedStep("unschedule", unschedule.CancelRunning
                        ? "remove the schedule and cancel its runs in flight with their jobs"
                        : "remove the schedule; runs in flight finish"));
        }

        var spec = ((ScheduleManifest)manifest).Spec;
        Manifests.Scheduling.ScheduleExpression expression;
        try
        {
            expression = spec.GetExpression();
        }
        catch (Exception ex) when (ex is FormatException or TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return new ManifestPlan($"Schedule '{spec.DagId}' cannot be registered.", [], [ex.Message]);
        }

        var row = await store.GetScheduleAsync(spec.DagId, cancellationToken);
        var verb = row is null || row.Deleted ? "Register" : row.SpecJson == ManifestJson.Serialize(spec) ? "Keep (unchanged)" : "Update";
        var cursor = row is { Deleted: false } ? row.CursorAt : row?.CursorAt;
        var due = expression.GetDueSlots(cursor is { } c ? DbTime.FromUnixMs(c) : null, time.GetUtcNow(), spec.Catchup, 10_001);
        var next = SlotScheduler.NextSlot(expression, cursor);
        var steps = new List<PlannedStep>
        {
            new("register", $"{verb} schedule '{spec.DagId}' ({spec.Schedule} in {spec.TimeZone}){(spec.Paused && row is null ? ", paused" : "")}"),
        };
        if (!spec.Paused && due.Count > 0)
        {
            steps.Add(new PlannedStep(
                "start due slots",
                $"{(due.Count > 10_000 ? "more than 10000" : due.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))} slot(s) are due now " +
                $"({DateValues.Format(due[0].LogicalDate)} … {DateValues.Format(due[^1].LogicalDate)}), at most {spec.MaxActiveRuns} at a time"));
        }

        if (next is not null)
        {
            steps.Add(new PlannedStep("next slot", $"{DateValues.Format(next.LogicalDate)}, due {DateValues.Format(next.DueAt)}"));
        }

        return new ManifestPlan($"{verb} schedule '{spec.DagId}'.", steps, []);
    }
}
