using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Sluice.Controller.Rollouts;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Modules;

namespace Sluice.Server.Rollouts;

/// <summary><c>/v1/pipelines</c> and <c>/v1/rollouts</c>: the pipeline registry, rollouts with their steps, and rollback.</summary>
internal static class RolloutsApi
{
    public static void Map(SluiceEndpoints endpoints)
    {
        var pipelines = endpoints.Api.MapGroup("/pipelines").WithTags("Pipelines");
        pipelines.MapGet("", ListPipelinesAsync).WithName("ListPipelines").WithSummary("Pipelines with their current version, job and state");
        pipelines.MapGet("/{name}", GetPipelineAsync).WithName("GetPipeline").WithSummary("A pipeline with its revisions and newest rollouts");
        pipelines.MapPost("/{name}/rollback", RollbackAsync).RequireAuthorization(SluicePolicies.Operator)
            .WithName("RollbackPipeline").WithSummary("Roll back to the stable revision before the current one, or to toRevision");

        var rollouts = endpoints.Api.MapGroup("/rollouts").WithTags("Rollouts");
        rollouts.MapGet("", ListRolloutsAsync).WithName("ListRollouts").WithSummary("Rollouts and rollbacks, newest first");
        rollouts.MapGet("/{name}", GetRolloutAsync).WithName("GetRollout").WithSummary("A rollout (by name or run id) with its steps");
    }

    private static async Task<Ok<ListResponse<PipelineResource>>> ListPipelinesAsync(RolloutService rollouts, int? limit, CancellationToken cancellationToken)
    {
        var pipelines = await rollouts.ListPipelinesAsync(cancellationToken);
        var items = new List<PipelineResource>();
        foreach (var pipeline in pipelines.Take(Math.Clamp(limit ?? 50, 1, 500)))
        {
            items.Add(pipeline.ToResource(await NewestAsync(rollouts, pipeline.Name, cancellationToken)));
        }

        return TypedResults.Ok(new ListResponse<PipelineResource>(items));
    }

    private static async Task<Results<Ok<PipelineResource>, ProblemHttpResult>> GetPipelineAsync(
        string name, RolloutService rollouts, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await rollouts.GetPipelineAsync(name, cancellationToken) is not { } pipeline)
        {
            return SluiceProblems.NotFound("pipeline", name, "list them with 'sluice get pipelines'");
        }

        var revisions = await rollouts.ListRolloutsAsync(new RevisionQuery { Pipeline = name, Limit = 1000 }, cancellationToken);
        var names = revisions.ToDictionary(r => r.RunId, r => r.Name);
        var now = time.GetUtcNow();
        return TypedResults.Ok(pipeline.ToResource(revisions.Count > 0 ? revisions[0] : null) with
        {
            Revisions = revisions.OrderByDescending(r => r.Revision).Select(r => r.ToRevisionResource(pipeline)).ToArray(),
            Rollouts = revisions.Take(20).Select(r => r.ToResource(id => names.GetValueOrDefault(id), null, now)).ToArray(),
        });
    }

    private static async Task<IResult> RollbackAsync(
        string name, RollbackRequest? body, RolloutService rollouts, TimeProvider time, CancellationToken cancellationToken)
    {
        long runId;
        try
        {
            runId = await rollouts.RollbackAsync(name, body?.ToRevision, cancellationToken);
        }
        catch (RolloutException e)
        {
            return Refused(e);
        }

        var rollout = await rollouts.GetRolloutAsync(runId.ToString(CultureInfo.InvariantCulture), cancellationToken);
        var resource = await ToResourceAsync(rollouts, rollout!, time.GetUtcNow(), cancellationToken);
        return TypedResults.Accepted($"/v1/rollouts/{Uri.EscapeDataString(resource.Name)}", resource);
    }

    private static async Task<Results<Ok<ListResponse<RolloutResource>>, ProblemHttpResult>> ListRolloutsAsync(
        RolloutService rollouts, TimeProvider time, string? pipeline, string? state, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        string[] states = ["queued", "running", "succeeded", "failed", "cancelled"];
        if (state is { Length: > 0 } && !states.Contains(state))
        {
            return SluiceProblems.BadRequest($"'{state}' is not a rollout state; use {string.Join(", ", states)}.");
        }

        long? before = null;
        if (cursor is { Length: > 0 })
        {
            if (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed))
            {
                return SluiceProblems.BadRequest($"'{cursor}' is not a cursor of this list; pass back the nextCursor of the previous page.");
            }

            before = parsed;
        }

        var size = Math.Clamp(limit ?? 50, 1, 500);
        var selected = new List<PipelineRevision>();
        string? next = null;
        // A state filter is applied after reading, so keep reading pages until this one is full.
        while (selected.Count < size)
        {
            var page = await rollouts.ListRolloutsAsync(new RevisionQuery { Pipeline = pipeline, BeforeRunId = before, Limit = size }, cancellationToken);
            foreach (var revision in page)
            {
                before = revision.RunId;
                if (state is { Length: > 0 } && RolloutResources.RunState(revision.Status) != state)
                {
                    continue;
                }

                selected.Add(revision);
                if (selected.Count == size)
                {
                    next = revision.RunId.ToString(CultureInfo.InvariantCulture);
                    break;
                }
            }

            if (page.Count < size)
            {
                break;
            }
        }

        var names = await LinkedNamesAsync(rollouts, selected, cancellationToken);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new ListResponse<RolloutResource>(
            selected.Select(r => r.ToResource(id => names.GetValueOrDefault(id), null, now)).ToArray(), next));
    }

    private static async Task<Results<Ok<RolloutResource>, ProblemHttpResult>> GetRolloutAsync(
        string name, RolloutService rollouts, TimeProvider time, CancellationToken cancellationToken) =>
        await rollouts.GetRolloutAsync(name, cancellationToken) is { } rollout
            ? TypedResults.Ok(await ToResourceAsync(rollouts, rollout, time.GetUtcNow(), cancellationToken))
            : SluiceProblems.NotFound("rollout", name, "list them with 'sluice get rollouts'");

    internal static async Task<RolloutResource> ToResourceAsync(RolloutService rollouts, RolloutDetail rollout, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var names = await LinkedNamesAsync(rollouts, [rollout.Revision], cancellationToken);
        return rollout.Revision.ToResource(id => names.GetValueOrDefault(id), rollout.Run, now);
    }

    /// <summary>The names of the rollouts that <paramref name="revisions"/> link to (rollback of, rolled back by), by run id.</summary>
    internal static async Task<Dictionary<long, string>> LinkedNamesAsync(
        RolloutService rollouts, IReadOnlyList<PipelineRevision> revisions, CancellationToken cancellationToken)
    {
        var names = revisions.ToDictionary(r => r.RunId, r => r.Name);
        foreach (var id in revisions.SelectMany(r => new[] { r.RollbackOfRunId, r.RollbackRunId }).OfType<long>().Distinct())
        {
            if (!names.ContainsKey(id) && await rollouts.Registry.GetRevisionByRunAsync(id, cancellationToken) is { } linked)
            {
                names[id] = linked.Name;
            }
        }

        return names;
    }

    internal static async Task<PipelineRevision?> NewestAsync(RolloutService rollouts, string pipeline, CancellationToken cancellationToken)
    {
        var newest = await rollouts.ListRolloutsAsync(new RevisionQuery { Pipeline = pipeline, Limit = 1 }, cancellationToken);
        return newest.Count > 0 ? newest[0] : null;
    }

    /// <summary>One sentence from the flow, as a 404 (unknown pipeline or revision) or 409 (nothing to roll back to).</summary>
    internal static ProblemHttpResult Refused(RolloutException e) => e.Kind == RolloutErrorKind.NotFound
        ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: e.Message)
        : SluiceProblems.Conflict(e.Message);
}
