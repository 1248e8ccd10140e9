using System.Globalization;
using Sluice.Manifests.Scheduling;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Templating;

/// <summary>The values slot macros are rendered from.</summary>
public sealed record SlotContext(string DagId, Slot Slot, string RunId)
{
    /// <param name="runId">The run's id; defaults to Airflow's form <c>scheduled__2026-11-01T00:00:00+00:00</c>.</param>
    public static SlotContext For(ScheduleSpec spec, Slot slot, string? runId = null) =>
        new(spec.DagId, slot, runId ?? DefaultRunId(slot));

    public static SlotContext For(ScheduleSpec spec, Slot slot, long runId) =>
        new(spec.DagId, slot, runId.ToString(CultureInfo.InvariantCulture));

    public static string DefaultRunId(Slot slot) => "scheduled__" + DateValues.Format(slot.LogicalDate);
}
