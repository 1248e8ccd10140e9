using System.Text.Json;
using System.Text.Json.Nodes;
using Sluice.Manifests.Scheduling;
using Sluice.Manifests.Templating;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Rendering;

/// <summary>
/// The effective form of a manifest: every default filled in and, for a Schedule, the slot of a logical date
/// with its rendered job. This is what <c>sluice render</c> prints.
/// </summary>
public static class ManifestRenderer
{
    /// <summary>Renders a manifest. For a Schedule, <paramref name="logicalDate"/> (default: the first slot) picks the slot.</summary>
    /// <exception cref="ArgumentException">The logical date is not a slot of the schedule (the message says which slots are near).</exception>
    public static JsonObject Render(Manifest manifest, DateTimeOffset? logicalDate = null)
    {
        var serialized = JsonSerializer.SerializeToNode(manifest, ManifestJson.Options)!.AsObject();
        var document = new JsonObject
        {
            ["apiVersion"] = manifest.ApiVersion,
            ["kind"] = manifest.Kind.ToString(),
            ["metadata"] = serialized["metadata"]?.DeepClone(),
            ["spec"] = serialized["spec"]?.DeepClone(),
        };
        if (document["spec"] is JsonObject spec && manifest is RolloutManifest rollout)
        {
            ToManifestForm(spec, rollout.Spec);
        }

        if (manifest is ScheduleManifest schedule)
        {
            var slot = PickSlot(schedule.Spec, logicalDate);
            if (slot is not null)
            {
                var job = schedule.Spec.Job.Render(SlotContext.For(schedule.Spec, slot));
                document["slot"] = JsonSerializer.SerializeToNode(new
                {
                    logicalDate = DateValues.Format(slot.LogicalDate),
                    dataIntervalStart = DateValues.Format(slot.DataIntervalStart),
                    dataIntervalEnd = DateValues.Format(slot.DataIntervalEnd),
                    dueAt = DateValues.Format(slot.DueAt),
                }, ManifestJson.Options);
                document["job"] = JsonSerializer.SerializeToNode(job, ManifestJson.Options);
            }
        }

        return document;
    }

    /// <summary>The stored JSON form differs from what people write in a few places; render what they write.</summary>
    private static void ToManifestForm(JsonObject spec, RolloutSpec rollout)
    {
        if (rollout.Strategy != RolloutStrategy.Update)
        {
            spec.Remove("onUpdateRefused");
        }

        foreach (var version in new[] { spec["from"], spec["to"] }.OfType<JsonObject>())
        {
            if (version["transformNameMapping"] is JsonObject { Count: 0 })
            {
                version.Remove("transformNameMapping");
            }
        }

        // Checks are stored as {"type": "messages", …} and written as "- messages: { … }".
        if (spec["validation"]?["checks"] is JsonArray checks)
        {
            for (var i = 0; i < checks.Count; i++)
            {
                if (checks[i] is not JsonObject check || check["type"]?.GetValue<string>() is not { } type)
                {
                    continue;
                }

                check.Remove("type");
                checks[i] = type == "state"
                    ? new JsonObject { ["state"] = check["state"]?.DeepClone() }
                    : new JsonObject { [type] = check.DeepClone() };
            }
        }
    }

    /// <summary>Reads a logical date given on the command line in the schedule's time zone.</summary>
    public static bool TryParseLogicalDate(ScheduleSpec spec, string text, out DateTimeOffset logicalDate, out string? error) =>
        DateValues.TryParse(text, spec.GetTimeZone(), out logicalDate, out error);

    private static Slot? PickSlot(ScheduleSpec spec, DateTimeOffset? logicalDate)
    {
        var expression = spec.GetExpression();
        if (logicalDate is null)
        {
            return expression.GetFirstSlot() ?? expression.GetManualSlot(expression.StartDate);
        }

        if (expression.Kind == ScheduleKind.None)
        {
            return expression.GetManualSlot(logicalDate.Value);
        }

        var slot = expression.GetSlot(logicalDate.Value);
        if (slot is not null)
        {
            return slot;
        }

        var later = expression.GetSlots(logicalDate.Value, DateTimeOffset.MaxValue.AddYears(-1), limit: 1);
        var after = later.Count > 0 ? later[0] : null;
        var near = after is null ? "no later slot" : $"the next slot starts at {DateValues.Format(after.LogicalDate)}";
        throw new ArgumentException($"{DateValues.Format(TimeZones.InZone(logicalDate.Value, expression.TimeZone))} is not a slot of the schedule '{spec.Schedule}' ({spec.TimeZone}); {near}");
    }
}
