using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Rollouts;

/// <summary>Why a rollout request was refused.</summary>
public enum RolloutErrorKind
{
    /// <summary>The pipeline, revision or rollout does not exist.</summary>
    NotFound,

    /// <summary>The request does not fit the pipeline's history (nothing stable to roll back to, say).</summary>
    Conflict,
}

/// <summary>A refused request, with one sentence that says what is wrong and what to do.</summary>
public sealed class RolloutException : Exception
{
    public RolloutException(RolloutErrorKind kind, string message)
        : base(message)
    {
        Kind = kind;
    }

    public RolloutException()
    {
    }

    public RolloutException(string message)
        : base(message)
    {
    }

    public RolloutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public RolloutErrorKind Kind { get; }
}

/// <summary>A rollout (or rollback) with its run: the revision it applies and the engine's view of its steps.</summary>
public sealed record RolloutDetail(PipelineRevision Revision, RunDetail? Run);

/// <summary>What <c>apply --dry-run</c> shows: the steps that would run and whether Dataflow would accept the launch.</summary>
public sealed record RolloutPlanResult
{
    public required string Name { get; init; }

    public required string Pipeline { get; init; }

    public required string Strategy { get; init; }

    public string? FromVersion { get; init; }

    public required string Version { get; init; }

    /// <summary>What the registry says runs now.</summary>
    public string? CurrentVersion { get; init; }

    public string? CurrentJobId { get; init; }

    public string? CurrentJobName { get; init; }

    public required IReadOnlyList<PlannedStep> Steps { get; init; }

    /// <summary>Things the rollout would run into, such as a <c>from</c> that does not match what runs.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    /// <summary>Whether Dataflow accepted the launch with <c>validateOnly</c>.</summary>
    public required bool LaunchValid { get; init; }

    /// <summary>Dataflow's answer when it refused the launch.</summary>
    public string? LaunchProblem { get; init; }
}

/// <summary>
/// The rollout flow's entry points: start a rollout from a manifest, roll back, plan, and read the pipeline registry.
/// Each rollout is one engine run of kind <c>rollout</c> under the mutex <c>pipeline:{name}</c>, so rollouts of one
/// pipeline run one at a time in arrival order.
/// </summary>
public sealed class RolloutService
{
    private readonly WorkflowEngine engine;
    private readonly PipelineRegistry registry;
    private readonly IDataflowClients clients;
    private readonly RolloutOptions options;
    private readonly ILogger logger;

    public RolloutService(WorkflowEngine engine, PipelineRegistry registry, IDataflowClients clients, RolloutOptions options,
        ILogger<RolloutService>? logger = null)
    {
        this.engine = engine;
        this.registry = registry;
        this.clients = clients;
        this.options = options;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public PipelineRegistry Registry => registry;

    /// <summary>
    /// Starts a rollout and returns its run id. The same <paramref name="idempotencyKey"/> (the bucket event's
    /// bucket/object/generation, say) returns the first run instead of starting another.
    /// </summary>
    /// <param name="source">Where the request came from, shown in the history (e.g. <c>gs://bucket/object#generation</c>).</param>
    public async Task<long> StartAsync(RolloutManifest manifest, string idempotencyKey, string source, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(idempotencyKey);
        var input = new RolloutRunInput { Kind = RolloutRunKinds.Rollout, Name = manifest.Metadata.Name, Spec = manifest.Spec, Source = source };
        var start = await engine.StartRunAsync(RolloutSteps.ToRunRequest(input, idempotencyKey, null, options), cancellationToken);
        // A crash right here leaves the run without its revision; check-current records it then.
        await registry.AddRevisionAsync(ToNewRevision(input, start.RunId), cancellationToken);
        if (start.Created)
        {
            logger.LogInformation(
                "Rollout {Name} of pipeline {Pipeline} to {Version} queued as run {RunId} ({Source})",
                input.Name, manifest.Spec.Pipeline, manifest.Spec.To.Version, start.RunId, source);
        }

        return start.RunId;
    }

    /// <summary>
    /// Rolls a pipeline back to revision <paramref name="toRevision"/>, or to the newest stable revision before the
    /// current one, by a restart. Returns the rollback's run id.
    /// </summary>
    public async Task<long> RollbackAsync(string pipeline, int? toRevision, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var current = await registry.GetPipelineAsync(pipeline, cancellationToken)
            ?? throw new RolloutException(RolloutErrorKind.NotFound, $"There is no pipeline named {pipeline}; sluice get pipelines lists them.");
        var revisions = await registry.ListRevisionsAsync(new RevisionQuery { Pipeline = pipeline, Limit = 1000 }, cancellationToken);
        PipelineRevision target;
        if (toRevision is { } wanted)
        {
            target = revisions.FirstOrDefault(r => r.Revision == wanted)
                ?? throw new RolloutException(
                    RolloutErrorKind.NotFound,
                    $"Pipeline {pipeline} has no revision {wanted}; its revisions are 1 to {revisions.Max(r => r.Revision)} (sluice describe pipeline {pipeline}).");
            if (target.Status != RevisionStatus.Stable)
            {
                throw new RolloutException(
                    RolloutErrorKind.Conflict,
                    $"Revision {wanted} of pipeline {pipeline} is {target.Status.ToStored()}, not stable; roll back to a stable revision ({StableList(revisions)}).");
            }
        }
        else
        {
            var currentRevision = current.Revision ?? int.MaxValue;
            target = revisions
                .Where(r => r.Status == RevisionStatus.Stable && r.Revision < currentRevision && r.Version != current.Version)
                .MaxBy(r => r.Revision)
                ?? throw new RolloutException(
                    RolloutErrorKind.Conflict,
                    $"Pipeline {pipeline} has no stable revision of another version before revision {current.Revision?.ToString(CultureInfo.InvariantCulture) ?? "?"} " +
                    "to roll back to; pass --to-revision N (sluice describe pipeline lists the revisions).");
        }

        var targetSpec = RolloutRunInput.FromJson(target.SpecJson).Spec;
        var currentSpec = current.Revision is { } r && revisions.FirstOrDefault(x => x.Revision == r) is { } cur
            ? RolloutRunInput.FromJson(cur.SpecJson).Spec.To
            : null;
        var input = new RolloutRunInput
        {
            Kind = RolloutRunKinds.Rollback,
            Name = $"{pipeline}-rollback-to-r{target.Revision.ToString(CultureInfo.InvariantCulture)}",
            Spec = AsRollback(targetSpec, currentSpec, targetSpec.To),
            Source = "manual rollback",
            TargetRevision = target.Revision,
        };
        var start = await engine.StartRunAsync(RolloutSteps.ToRunRequest(input, null, null, options), cancellationToken);
        await registry.AddRevisionAsync(ToNewRevision(input, start.RunId), cancellationToken);
        logger.LogInformation("Rollback of pipeline {Pipeline} to revision {Revision} queued as run {RunId}", pipeline, target.Revision, start.RunId);
        return start.RunId;
    }

    /// <summary>Starts the automatic rollback of a failed rollout to its <c>from</c> spec, once per failed run.</summary>
    internal async Task<long> StartAutoRollbackAsync(long failedRunId, RolloutRunInput failed, CancellationToken cancellationToken)
    {
        var from = failed.Spec.From ?? throw new InvalidOperationException("A rollout without from has nothing to roll back to.");
        var revisions = await registry.ListRevisionsAsync(new RevisionQuery { Pipeline = failed.Spec.Pipeline, Limit = 1000 }, cancellationToken);
        var target = revisions.Where(r => r.Status == RevisionStatus.Stable && r.Version == from.Version).MaxBy(r => r.Revision);
        var input = new RolloutRunInput
        {
            Kind = RolloutRunKinds.Rollback,
            Name = $"{failed.Spec.Pipeline}-rollback-{failedRunId.ToString(CultureInfo.InvariantCulture)}",
            Spec = AsRollback(failed.Spec, failed.Spec.To, from),
            Source = $"automatic rollback of run {failedRunId}",
            RollbackOfRunId = failedRunId,
            TargetRevision = target?.Revision,
        };
        var start = await engine.StartRunAsync(
            RolloutSteps.ToRunRequest(input, $"rollback-of:{failedRunId}", failedRunId, options), cancellationToken);
        await registry.AddRevisionAsync(ToNewRevision(input, start.RunId), cancellationToken);
        await registry.SetRollbackRunAsync(failedRunId, start.RunId, cancellationToken);
        if (start.Created)
        {
            logger.LogWarning(
                "Rollout run {FailedRunId} of pipeline {Pipeline} failed; rolling back to {Version} as run {RunId}",
                failedRunId, failed.Spec.Pipeline, from.Version, start.RunId);
        }

        return start.RunId;
    }

    /// <summary>The dry-run plan of a manifest: the steps that would run, and Dataflow's verdict on the launch (validateOnly).</summary>
    public async Task<RolloutPlanResult> PlanAsync(RolloutManifest manifest, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        var spec = manifest.Spec;
        var input = new RolloutRunInput { Kind = RolloutRunKinds.Rollout, Name = manifest.Metadata.Name, Spec = spec, Source = "dry-run" };
        var pipeline = await registry.GetPipelineAsync(spec.Pipeline, cancellationToken);
        var warnings = new List<string>();
        var runningVersion = pipeline?.JobState is { } jobState && IsActiveState(jobState) ? pipeline.Version : null;
        if (spec.From is null && runningVersion is not null)
        {
            warnings.Add($"pipeline {spec.Pipeline} runs version {runningVersion}, but the manifest has no from" +
                (spec.OnMismatch == MismatchAction.Stop ? ": the rollout would stop at check-current" : ""));
        }
        else if (spec.From is { } from && runningVersion is not null && runningVersion != from.Version)
        {
            warnings.Add($"pipeline {spec.Pipeline} runs version {runningVersion}, not {from.Version} as from says" +
                (spec.OnMismatch == MismatchAction.Stop ? ": the rollout would stop at check-current" : ""));
        }

        if (pipeline?.ActiveRunId is { } active)
        {
            warnings.Add($"run {active} is working on pipeline {spec.Pipeline}; this rollout would wait for it");
        }

        var update = spec.Strategy == RolloutStrategy.Update;
        var jobName = update && pipeline?.JobName is { } running ? running : spec.To.JobName;
        string? problem = null;
        try
        {
            await JobLaunches.LaunchAsync(
                clients.For(spec.Project, spec.Region), spec.To, jobName, identity: null, update: update, validateOnly: true, cancellationToken);
        }
        catch (DataflowApiException e) when (!e.IsTransient)
        {
            problem = Steps.DataflowErrors.Describe(e);
        }

        return new RolloutPlanResult
        {
            Name = manifest.Metadata.Name,
            Pipeline = spec.Pipeline,
            Strategy = spec.Strategy.ToString().ToLowerInvariant(),
            FromVersion = spec.From?.Version,
            Version = spec.To.Version,
            CurrentVersion = pipeline?.Version,
            CurrentJobId = pipeline?.JobId,
            CurrentJobName = pipeline?.JobName,
            Steps = RolloutSteps.For(RolloutRunKinds.Rollout, spec.Strategy).Select(s => new PlannedStep(s, RolloutSteps.Describe(s, input))).ToList(),
            Warnings = warnings,
            LaunchValid = problem is null,
            LaunchProblem = problem,
        };
    }

    public async Task<IReadOnlyList<Pipeline>> ListPipelinesAsync(CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        return await registry.ListPipelinesAsync(cancellationToken);
    }

    public async Task<Pipeline?> GetPipelineAsync(string name, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        return await registry.GetPipelineAsync(name, cancellationToken);
    }

    /// <summary>Rollouts and rollbacks, newest first.</summary>
    public async Task<IReadOnlyList<PipelineRevision>> ListRolloutsAsync(RevisionQuery query, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        return await registry.ListRevisionsAsync(query, cancellationToken);
    }

    /// <summary>A rollout by run id, or the newest rollout with that manifest name.</summary>
    public async Task<RolloutDetail?> GetRolloutAsync(string nameOrRunId, CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        PipelineRevision? revision = null;
        if (long.TryParse(nameOrRunId, NumberStyles.None, CultureInfo.InvariantCulture, out var runId))
        {
            revision = await registry.GetRevisionByRunAsync(runId, cancellationToken);
        }

        if (revision is null)
        {
            var named = await registry.ListRevisionsAsync(new RevisionQuery { Name = nameOrRunId, Limit = 1 }, cancellationToken);
            revision = named.Count > 0 ? named[0] : null;
        }

        return revision is null ? null : new RolloutDetail(revision, await engine.GetRunAsync(revision.RunId, cancellationToken));
    }

    internal static NewRevision ToNewRevision(RolloutRunInput input, long runId) =>
        new(input.Spec.Pipeline, runId, input.Kind, input.Name, input.Spec.Strategy.ToString().ToLowerInvariant(), input.Spec.From?.Version,
            input.Spec.To.Version, input.ToJson(), input.Source, input.RollbackOfRunId, input.Spec.Project, input.Spec.Region);

    /// <summary>A rollback restarts to <paramref name="to"/>, whatever runs, and is never itself rolled back.</summary>
    private static RolloutSpec AsRollback(RolloutSpec spec, VersionSpec? from, VersionSpec to) => spec with
    {
        From = from,
        To = to,
        Strategy = RolloutStrategy.Restart,
        Rollback = RollbackMode.Manual,
        OnMismatch = MismatchAction.Proceed,
    };

    private static bool IsActiveState(string state) =>
        Array.Find(Enum.GetValues<JobState>(), s => s.ToWireName() == state).IsActive();

    private static string StableList(IEnumerable<PipelineRevision> revisions)
    {
        var stable = revisions.Where(r => r.Status == RevisionStatus.Stable).Select(r => r.Revision).Order().ToList();
        return stable.Count == 0 ? "there is none yet" : "stable: " + string.Join(", ", stable);
    }
}
