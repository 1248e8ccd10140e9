using System.Globalization;
using System.Text.Json;
using Sluice.Controller.Rollouts;
using Sluice.Controller.Rollouts.Steps;
using Sluice.Engine;
using Sluice.Manifests;
using Sluice.Server.Api;
using ApiPipelineState = Sluice.Server.Api.PipelineState;

namespace Sluice.Server.Rollouts;

/// <summary>The one mapping from the pipeline registry to the API's pipeline and rollout resources.</summary>
internal static class RolloutResources
{
    public static PipelineResource ToResource(this Pipeline pipeline, PipelineRevision? newest) => new()
    {
        Name = pipeline.Name,
        State = ToApi(pipeline.State),
        Version = pipeline.Version,
        Revision = pipeline.Revision,
        JobId = pipeline.JobId,
        JobName = pipeline.JobName,
        JobState = pipeline.JobState,
        Project = pipeline.Project,
        Region = pipeline.Region,
        LastRollout = newest?.Name,
        LastRolloutState = newest is null ? null : RunState(newest.Status),
        UpdatedAt = pipeline.UpdatedAt,
    };

    /// <summary>The registry's states and the API's are the same five; one mapping by name.</summary>
    public static ApiPipelineState ToApi(Controller.Rollouts.PipelineState state) => state switch
    {
        Controller.Rollouts.PipelineState.Deploying => ApiPipelineState.Deploying,
        Controller.Rollouts.PipelineState.Stable => ApiPipelineState.Stable,
        Controller.Rollouts.PipelineState.RollingOut => ApiPipelineState.RollingOut,
        Controller.Rollouts.PipelineState.Failed => ApiPipelineState.Failed,
        Controller.Rollouts.PipelineState.RolledBack => ApiPipelineState.RolledBack,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, null),
    };

    /// <summary>A revision's outcome as the state of its run (queued, running, succeeded, failed, cancelled).</summary>
    public static string RunState(RevisionStatus status) => status switch
    {
        RevisionStatus.Queued => RunStatus.Queued.ToStored(),
        RevisionStatus.InProgress => RunStatus.Running.ToStored(),
        RevisionStatus.Stable => RunStatus.Succeeded.ToStored(),
        RevisionStatus.Failed => RunStatus.Failed.ToStored(),
        RevisionStatus.Cancelled => RunStatus.Cancelled.ToStored(),
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, null),
    };

    /// <summary>A revision in a pipeline's history: stable ones other than the pipeline's stable revision are superseded.</summary>
    public static PipelineRevisionResource ToRevisionResource(this PipelineRevision revision, Pipeline pipeline) => new()
    {
        Revision = revision.Revision,
        Version = revision.Version,
        State = revision.Status == RevisionStatus.Stable && revision.Revision != pipeline.StableRevision ? "superseded" : revision.Status.ToStored(),
        Rollout = revision.Name,
        JobId = revision.JobId,
        JobName = revision.JobName,
        DeployedAt = revision.Status == RevisionStatus.Stable ? revision.FinishedAt : null,
        Spec = JsonSerializer.SerializeToElement(RolloutRunInput.FromJson(revision.SpecJson).Spec.To, ManifestJson.Options),
    };

    /// <summary>
    /// A rollout. <paramref name="names"/> gives the names of the runs it links to (rollback of / rolled back by);
    /// <paramref name="run"/> adds the steps and the previous job.
    /// </summary>
    public static RolloutResource ToResource(this PipelineRevision revision, Func<long, string?> names, RunDetail? run, DateTimeOffset now) => new()
    {
        Name = revision.Name,
        Pipeline = revision.Pipeline,
        Kind = revision.Kind,
        Strategy = revision.Strategy,
        FromVersion = revision.FromVersion,
        ToVersion = revision.Version,
        State = RunState(revision.Status),
        Reason = revision.Reason,
        RunId = revision.RunId,
        JobId = revision.JobId,
        JobName = revision.JobName,
        PreviousJobId = run is null ? null : PreviousJobId(run),
        RollbackOf = revision.RollbackOfRunId is { } of ? names(of) : null,
        RolledBackBy = revision.RollbackRunId is { } by ? names(by) : null,
        Source = revision.Source,
        Generation = GenerationOf(revision.Source),
        CreatedAt = revision.CreatedAt,
        StartedAt = revision.StartedAt,
        FinishedAt = revision.FinishedAt,
        Steps = run?.Steps.Select(s => s.ToResource(now)).ToArray(),
    };

    /// <summary>The job that ran before: the one the rollout updated, or the first one it stopped.</summary>
    private static string? PreviousJobId(RunDetail run)
    {
        if (run.GetStep(RolloutSteps.CheckCurrent)?.OutputJson is not { } json)
        {
            return null;
        }

        var current = EngineJson.Deserialize<CurrentJobs>(json);
        return current?.UpdateJobId ?? current?.ToStop.FirstOrDefault()?.JobId;
    }

    /// <summary>The generation of a source written as <c>…#GENERATION</c> (a bucket object version).</summary>
    public static long? GenerationOf(string source)
    {
        var hash = source.LastIndexOf('#');
        return hash >= 0 && long.TryParse(source.AsSpan(hash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var generation)
            ? generation
            : null;
    }
}
