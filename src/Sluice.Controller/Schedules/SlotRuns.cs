using System.Globalization;
using System.Text.Json;
using Sluice.Engine;
using Sluice.Manifests.Scheduling;

namespace Sluice.Controller.Schedules;

/// <summary>The input of a slot run: which slot of which schedule, and which generation of it.</summary>
public sealed record SlotRunInput
{
    public required string DagId { get; init; }

    public required DateTimeOffset LogicalDate { get; init; }

    public required DateTimeOffset DataIntervalStart { get; init; }

    public required DateTimeOffset DataIntervalEnd { get; init; }

    public required DateTimeOffset DueAt { get; init; }

    public required SlotTrigger Trigger { get; init; }

    public int Generation { get; init; }

    /// <summary>The configuration a manual trigger passed (Airflow's <c>conf</c>), as JSON.</summary>
    public JsonElement? Conf { get; init; }

    public Slot ToSlot() => new(LogicalDate, DataIntervalStart, DataIntervalEnd, DueAt);
}

/// <summary>How slot runs are named, keyed and built.</summary>
public static class SlotRuns
{
    public const string RunKind = "slot";
    public const string BackfillRunKind = "backfill";
    public const string RenderStep = "render";
    public const string LaunchStep = "launch";
    public const string WaitStep = "wait";

    /// <summary>Label on slot runs and backfill runs naming their schedule.</summary>
    public const string DagLabel = "dagId";

    /// <summary>
    /// The idempotency key of a slot's run: <c>slot:{dagId}:{logicalDate:O}</c> with the logical date in UTC, so that the
    /// same instant gives the same key whatever the schedule's zone. A re-run by a backfill appends <c>#{generation}</c>.
    /// </summary>
    public static string IdempotencyKey(string dagId, DateTimeOffset logicalDate, int generation)
    {
        var key = "slot:" + dagId + ":" + logicalDate.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);
        return generation == 0 ? key : key + "#" + generation.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Airflow's run id form: <c>scheduled__2026-11-01T00:00:00+01:00</c>, <c>manual__…</c>, <c>backfill__…</c>.</summary>
    public static string AirflowRunId(SlotTrigger trigger, DateTimeOffset logicalDate) =>
        trigger.ToStored() + "__" + Manifests.Values.DateValues.Format(logicalDate);

    internal static SlotRunInput InputFor(SlotRow slot)
    {
        var zone = Manifests.Values.TimeZones.TryFind(slot.TimeZone, out var found, out _, out _) ? found : TimeZoneInfo.Utc;
        DateTimeOffset At(long ms) => TimeZoneInfo.ConvertTime(DbTime.FromUnixMs(ms), zone);
        return new SlotRunInput
        {
            DagId = slot.DagId,
            LogicalDate = At(slot.LogicalDate),
            DataIntervalStart = At(slot.IntervalStart),
            DataIntervalEnd = At(slot.IntervalEnd),
            DueAt = At(slot.DueAt),
            Trigger = slot.Trigger,
            Generation = slot.Generation,
            Conf = slot.ConfJson is null ? null : JsonDocument.Parse(slot.ConfJson).RootElement.Clone(),
        };
    }

    internal static RunRequest RequestFor(SlotRow slot, long? parentRunId = null)
    {
        var input = InputFor(slot);
        return new RunRequest(
            RunKind,
            slot.DagId + " " + Manifests.Values.DateValues.Format(input.LogicalDate),
            [
                new StepRequest(RenderStep, SlotRenderStep.StepKind, Retry: new RetryPolicy { MaxAttempts = 3 }),
                new StepRequest(LaunchStep, SlotLaunchStep.StepKind, Retry: new RetryPolicy { MaxAttempts = 8, MaxDelay = TimeSpan.FromMinutes(2) }),
                new StepRequest(WaitStep, SlotWaitStep.StepKind, Retry: new RetryPolicy { MaxAttempts = 20, MaxDelay = TimeSpan.FromMinutes(2) }),
            ],
            InputJson: EngineJson.Serialize(input),
            IdempotencyKey: IdempotencyKey(slot.DagId, input.LogicalDate, slot.Generation),
            ParentRunId: parentRunId,
            Labels: new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [DagLabel] = slot.DagId,
                ["trigger"] = slot.Trigger.ToStored(),
            });
    }
}
