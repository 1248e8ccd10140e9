using Sluice.Manifests.Parsing;
using Sluice.Manifests.Scheduling;
using Sluice.Manifests.Templating;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Binding;

internal static class ScheduleBinder
{
    /// <summary>The default job name: the dag id and the slot's start in UTC, so it differs for every slot, even across DST.</summary>
    public const string DefaultJobNameSuffix = "-{{ logical_date | utc | format('yyyyMMdd-HHmmss') }}";

    public static ScheduleManifest? Bind(BindContext context, Node specNode, ManifestMetadata? metadata, ManifestSource source)
    {
        var reader = ObjectReader.Open(context, specNode, "spec", ManifestFields.ScheduleSpec);
        if (reader is null)
        {
            return null;
        }

        var before = context.Problems.Count;
        var dagId = reader.Pattern("dagId", Patterns.DagId, "dag ids are 1 to 250 letters, digits, '_', '.' or '-'", required: true, example: "daily_sales");

        var scheduleText = reader.String("schedule", required: true, example: "\"@daily\"");
        if (scheduleText is not null && !ScheduleExpression.TryValidate(scheduleText, out _, out var scheduleError, out var scheduleHint))
        {
            reader.Error("schedule", scheduleError!, scheduleHint);
            scheduleText = null;
        }

        var zoneId = reader.String("timeZone") ?? "UTC";
        TimeZoneInfo? zone = null;
        if (TimeZones.TryFind(zoneId, out var found, out var zoneError, out var zoneHint))
        {
            zone = found;
        }
        else
        {
            reader.Error("timeZone", zoneError!, zoneHint);
        }

        var startDate = ReadDate(reader, "startDate", zone ?? TimeZoneInfo.Utc, required: true);
        var endDate = ReadDate(reader, "endDate", zone ?? TimeZoneInfo.Utc, required: false);
        if (startDate is not null && endDate is not null && endDate < startDate)
        {
            reader.Error("endDate", $"{DateValues.Format(endDate.Value)} is before startDate {DateValues.Format(startDate.Value)}", "move endDate after startDate, or remove it");
        }

        var catchup = reader.Bool("catchup");
        var maxActiveRuns = reader.Int("maxActiveRuns", 1, 100);
        var paused = reader.Bool("paused");
        var project = ManifestBinder.ReadProject(reader);
        var region = ManifestBinder.ReadRegion(reader);
        var job = ReadJob(context, reader, dagId);
        var retries = ReadRetries(context, reader);
        reader.Finish();

        if (context.Problems.Count != before || metadata is null || dagId is null || scheduleText is null || zone is null
            || startDate is null || job is null || retries is null)
        {
            return null;
        }

        var spec = new ScheduleSpec
        {
            DagId = dagId,
            Schedule = scheduleText.Trim(),
            TimeZone = zone.Id,
            StartDate = startDate.Value,
            EndDate = endDate,
            Catchup = catchup ?? false,
            MaxActiveRuns = maxActiveRuns ?? 1,
            Paused = paused ?? false,
            Project = project,
            Region = region,
            Job = job,
            Retries = retries,
        };

        CheckSlots(reader, spec);
        return context.Problems.Count != before
            ? null
            : new ScheduleManifest { Metadata = metadata, Source = source, Spec = spec };
    }

    private static DateTimeOffset? ReadDate(ObjectReader reader, string name, TimeZoneInfo zone, bool required)
    {
        var node = reader.Take(name);
        if (node is null)
        {
            if (required)
            {
                reader.Missing(name, "2026-11-01");
            }

            return null;
        }

        var text = reader.ReadString(node, reader.FieldPath(name));
        if (text is null)
        {
            return null;
        }

        if (!DateValues.TryParse(text, zone, out var value, out var error))
        {
            reader.Error(name, error!);
            return null;
        }

        return value;
    }

    private static ScheduledJob? ReadJob(BindContext context, ObjectReader spec, string? dagId)
    {
        var node = spec.Take("job");
        if (node is null)
        {
            spec.Missing("job", "{ template: { kind: classic, gcsPath: gs://… }, parameters: { … } }");
            return null;
        }

        var reader = ObjectReader.Open(context, node, spec.FieldPath("job"), ManifestFields.ScheduledJob);
        if (reader is null)
        {
            return null;
        }

        var before = context.Problems.Count;
        var template = ManifestBinder.ReadTemplate(context, reader);
        var jobName = reader.String("jobName");
        if (jobName is not null && CheckTemplate(jobName) is { } nameError)
        {
            reader.Error("jobName", nameError.Message, nameError.Hint);
            jobName = null;
        }

        var environment = EnvironmentBinder.Read(context, reader, template?.Kind);
        var parameters = ManifestBinder.ReadParameters(reader, value =>
            CheckTemplate(value) is { } problem ? problem.Message + (problem.Hint is null ? string.Empty : "; " + problem.Hint) : null);
        var timeout = reader.Duration("timeout", min: TimeSpan.FromMinutes(1), max: TimeSpan.FromDays(30));
        reader.Finish();

        if (context.Problems.Count != before || template is null || environment is null || dagId is null)
        {
            return null;
        }

        return new ScheduledJob
        {
            Template = template,
            JobName = jobName ?? DefaultJobName(dagId),
            Environment = environment,
            Parameters = parameters ?? new Dictionary<string, string>(),
            Timeout = timeout,
        };
    }

    public static string DefaultJobName(string dagId)
    {
        var fragment = Patterns.ToJobNameFragment(dagId);
        if (fragment.Length == 0 || !char.IsAsciiLetterLower(fragment[0]))
        {
            fragment = "dag-" + fragment;
        }

        return fragment.TrimEnd('-') + DefaultJobNameSuffix;
    }

    private sealed record TemplateProblem(string Message, string? Hint);

    private static TemplateProblem? CheckTemplate(string text) =>
        SlotTemplate.TryParse(text, out _, out var error, out var hint) ? null : new TemplateProblem(error!, hint);

    private static RetryPolicy? ReadRetries(BindContext context, ObjectReader spec)
    {
        var reader = ObjectReader.Open(context, spec.Take("retries"), spec.FieldPath("retries"), ManifestFields.Retries);
        if (reader is null)
        {
            return spec.Has("retries") ? null : new RetryPolicy();
        }

        var before = context.Problems.Count;
        var count = reader.Int("count", 0, 100);
        var delay = reader.Duration("delay", max: TimeSpan.FromDays(1));
        var exponential = reader.Bool("exponentialBackoff");
        var maxDelay = reader.Duration("maxDelay", max: TimeSpan.FromDays(7));
        reader.Finish();
        var defaults = new RetryPolicy();
        if (delay is not null && maxDelay is not null && maxDelay < delay)
        {
            reader.Error("maxDelay", $"is {Durations.Format(maxDelay.Value)}, shorter than delay ({Durations.Format(delay.Value)})", "raise maxDelay or lower delay");
        }

        return context.Problems.Count != before
            ? null
            : new RetryPolicy
            {
                Count = count ?? defaults.Count,
                Delay = delay ?? defaults.Delay,
                ExponentialBackoff = exponential ?? defaults.ExponentialBackoff,
                MaxDelay = maxDelay ?? defaults.MaxDelay,
            };
    }

    /// <summary>
    /// Checks what only the slots can tell: the schedule has a slot at all, and the job name renders to a valid,
    /// distinct Dataflow job name for every slot (sampled: the first slots and the days around DST changes).
    /// </summary>
    private static void CheckSlots(ObjectReader reader, ScheduleSpec spec)
    {
        var expression = spec.GetExpression();
        var first = expression.GetFirstSlot();
        if (first is null && expression.Kind != ScheduleKind.None)
        {
            var message = spec.EndDate is null
                ? $"'{spec.Schedule}' never fires after startDate"
                : $"'{spec.Schedule}' has no slot between startDate and endDate";
            reader.Error("schedule", message, "check the day and month fields, or move the dates");
            return;
        }

        foreach (var (slot, rendered) in SampleJobNames(spec, expression))
        {
            if (!Patterns.IsJobName(rendered.Name))
            {
                reader.Error("job", $"jobName renders to '{ObjectReader.Shorten(rendered.Name)}' for the slot {DateValues.Format(slot.LogicalDate)}, which is not a valid Dataflow job name (lowercase letters, digits and '-', starting with a letter)",
                    "use lowercase text and date macros such as {{ ds_nodash }} or {{ logical_date | format('yyyyMMdd-HHmm') }}");
                return;
            }

            if (rendered.Duplicate is { } other)
            {
                reader.Error("job", $"jobName renders to the same name '{rendered.Name}' for the slots {DateValues.Format(other.LogicalDate)} and {DateValues.Format(slot.LogicalDate)}; each slot needs its own job name",
                    "add a macro that differs per slot, e.g. {{ logical_date | utc | format('yyyyMMdd-HHmmss') }}");
                return;
            }
        }
    }

    private sealed record RenderedName(string Name, Slot? Duplicate);

    private static IEnumerable<(Slot Slot, RenderedName Rendered)> SampleJobNames(ScheduleSpec spec, ScheduleExpression expression)
    {
        var template = SlotTemplate.Parse(spec.Job.JobName);
        var samples = SampleSlots(expression);
        var seen = new Dictionary<string, Slot>(StringComparer.Ordinal);
        foreach (var slot in samples)
        {
            var name = template.Render(SlotContext.For(spec, slot));
            var duplicate = seen.TryGetValue(name, out var other) && other.LogicalDate != slot.LogicalDate ? other : null;
            seen.TryAdd(name, slot);
            yield return (slot, new RenderedName(name, duplicate));
        }
    }

    private static List<Slot> SampleSlots(ScheduleExpression expression)
    {
        const int firstSlots = 100;
        var slots = new List<Slot>();
        if (expression.Kind == ScheduleKind.None)
        {
            slots.Add(expression.GetManualSlot(expression.StartDate));
            return slots;
        }

        var slot = expression.GetFirstSlot();
        while (slot is not null && slots.Count < firstSlots)
        {
            slots.Add(slot);
            slot = expression.GetSlotAfter(slot);
        }

        // Slots around the next daylight-saving changes, where wall-clock names collide or skip.
        var zone = expression.TimeZone;
        var day = expression.StartDate;
        for (var i = 0; i < 800 && (expression.EndDate is null || day <= expression.EndDate); i++, day = day.AddDays(1))
        {
            if (zone.GetUtcOffset(day) != zone.GetUtcOffset(day.AddDays(1)))
            {
                slots.AddRange(expression.GetSlots(day.AddDays(-1), day.AddDays(2), limit: 200));
            }
        }

        return slots;
    }
}
