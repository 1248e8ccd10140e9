using System.Globalization;
using System.Text.Json;
using Sluice.Dataflow;
using Sluice.Engine;

namespace Sluice.Server.Api;

/// <summary>The one mapping from engine and Dataflow models to API resources; the flows reuse it for their steps.</summary>
public static class ResourceMapping
{
    public static RunResource ToResource(this RunSummary run, DateTimeOffset now, IReadOnlyList<StepState>? steps = null) => new()
    {
        Id = run.Id,
        Kind = run.Kind,
        Name = run.Name,
        State = run.Status.ToStored(),
        Reason = run.Reason,
        Labels = run.Labels.Count == 0 ? null : run.Labels,
        ParentRunId = run.ParentRunId,
        CreatedAt = run.CreatedAt,
        StartedAt = run.StartedAt,
        FinishedAt = run.FinishedAt,
        DurationSeconds = Seconds(run.StartedAt, run.FinishedAt, now),
        Steps = steps?.Select(s => s.ToResource(now)).ToArray(),
    };

    public static RunResource ToResource(this RunDetail detail, DateTimeOffset now) => detail.Run.ToResource(now, detail.Steps);

    public static StepResource ToResource(this StepState step, DateTimeOffset now) => new()
    {
        Name = step.Name,
        Kind = step.Kind,
        State = step.Status.ToStored(),
        Attempt = step.Attempt,
        Reason = step.Reason,
        StartedAt = step.StartedAt,
        FinishedAt = step.FinishedAt,
        DurationSeconds = Seconds(step.StartedAt, step.FinishedAt, now),
        DueAt = step.IsFinished ? null : step.DueAt,
        DependsOn = step.DependsOn.Count == 0 ? null : step.DependsOn,
        Output = ParseJson(step.OutputJson),
    };

    public static StepLogResource ToResource(this StepLog log) => new(log.Id, log.StepName, log.Attempt, log.At, log.Message);

    public static JobResource ToResource(this Job job, string defaultProject, string defaultRegion) => new()
    {
        Id = job.Id ?? "",
        Name = job.Name ?? "",
        Type = job.Type is { } type ? WireNames.Of(type) : null,
        State = WireNames.Of(job.State),
        CreateTime = job.CreateTime,
        CurrentStateTime = job.CurrentStateTime,
        Project = job.ProjectId ?? defaultProject,
        Region = job.Location ?? defaultRegion,
        Labels = job.Labels is { Count: > 0 } labels ? labels : null,
        Pipeline = job.Labels?.GetValueOrDefault(LaunchIdentity.PipelineLabel),
        RunId = job.Labels?.GetValueOrDefault(LaunchIdentity.RunLabel) is { } run && long.TryParse(run, NumberStyles.None, CultureInfo.InvariantCulture, out var id) ? id : null,
    };

    public static JobMessageResource ToResource(this JobMessage message) =>
        new(message.Id, message.Time, message.MessageImportance is { } importance ? WireNames.Of(importance) : "JOB_MESSAGE_IMPORTANCE_UNKNOWN", message.MessageText ?? "");

    /// <summary>Scalar metrics only (others have no single value to show).</summary>
    public static IReadOnlyList<JobMetricResource> ToResources(this JobMetrics metrics) =>
        (metrics.Metrics ?? [])
            .Where(m => m.ScalarValue() is not null && m.Name?.Name is not null)
            .Select(m => new JobMetricResource(m.Name!.Name!, m.Name.Origin, m.ScalarValue(), m.UpdateTime, m.Name.Context is { Count: > 0 } c ? c : null))
            .ToArray();

    /// <summary>Seconds from start to finish, or to now while still going; null before the start.</summary>
    public static double? Seconds(DateTimeOffset? start, DateTimeOffset? end, DateTimeOffset now) =>
        start is { } s ? Math.Max(0, ((end ?? now) - s).TotalSeconds) : null;

    private static JsonElement? ParseJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }
}
