using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Sluice.Engine;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Modules;

namespace Sluice.Server.Hosting;

/// <summary><c>/v1/runs</c>: the engine's runs, their steps and logs (live as server-sent events), and cancel.</summary>
internal static class RunsApi
{
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan StreamPollInterval = TimeSpan.FromMilliseconds(250);

    public static void Map(SluiceEndpoints endpoints)
    {
        var runs = endpoints.Api.MapGroup("/runs").WithTags("Runs");
        runs.MapGet("", ListAsync).WithName("ListRuns").WithSummary("Runs, newest first");
        runs.MapGet("/{id:long}", GetAsync).WithName("GetRun").WithSummary("A run with its steps");
        runs.MapPost("/{id:long}/cancel", CancelAsync).RequireAuthorization(SluicePolicies.Operator)
            .WithName("CancelRun").WithSummary("Cancel a run (its running step is stopped; its steps end cancelled)");
        runs.MapGet("/{id:long}/logs", LogsAsync).WithName("GetRunLogs")
            .WithSummary("Step logs; with ?follow=true or Accept: text/event-stream a live stream of server-sent events");
    }

    private static async Task<Results<Ok<ListResponse<RunResource>>, ProblemHttpResult>> ListAsync(
        WorkflowEngine engine, TimeProvider time, string? kind, string? name, string[]? state, string? pipeline, string? dag,
        int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var statuses = new List<RunStatus>();
        foreach (var text in state ?? [])
        {
            try
            {
                statuses.Add(StatusNames.ParseRunStatus(text.Trim().ToLowerInvariant()));
            }
            catch (FormatException)
            {
                return SluiceProblems.BadRequest($"'{text}' is not a run state; use queued, running, succeeded, failed or cancelled.");
            }
        }

        long? beforeId = null;
        if (cursor is { Length: > 0 })
        {
            if (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var before))
            {
                return SluiceProblems.BadRequest($"'{cursor}' is not a cursor of this list; pass back the nextCursor of the previous page.");
            }

            beforeId = before;
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (pipeline is { Length: > 0 })
        {
            labels["pipeline"] = pipeline;
        }

        if (dag is { Length: > 0 })
        {
            labels["dagId"] = dag;
        }

        var page = await engine.ListRunsAsync(
            new RunQuery
            {
                Kind = kind,
                Name = name,
                Statuses = statuses.Count == 0 ? null : statuses,
                Labels = labels.Count == 0 ? null : labels,
                BeforeId = beforeId,
                Limit = Math.Clamp(limit ?? 50, 1, 500),
            },
            cancellationToken);
        var now = time.GetUtcNow();
        return TypedResults.Ok(new ListResponse<RunResource>(
            page.Runs.Select(r => r.ToResource(now)).ToArray(),
            page.NextBeforeId?.ToString(CultureInfo.InvariantCulture)));
    }

    private static async Task<Results<Ok<RunResource>, ProblemHttpResult>> GetAsync(long id, WorkflowEngine engine, TimeProvider time, CancellationToken cancellationToken) =>
        await engine.GetRunAsync(id, cancellationToken) is { } run
            ? TypedResults.Ok(run.ToResource(time.GetUtcNow()))
            : RunNotFound(id);

    private static async Task<IResult> CancelAsync(long id, HttpContext context, WorkflowEngine engine, TimeProvider time, CancellationToken cancellationToken)
    {
        CancelRunRequest? request = null;
        if (context.Request.ContentLength != 0 && context.Request.HasJsonContentType())
        {
            try
            {
                request = await context.Request.ReadFromJsonAsync<CancelRunRequest>(SluiceJson.Options, cancellationToken);
            }
            catch (JsonException)
            {
                return SluiceProblems.BadRequest("The body is not JSON of the form {\"reason\": \"…\"}; send that, or no body.");
            }
        }

        var who = context.User.Identity?.Name ?? "an operator";
        bool changed;
        try
        {
            changed = await engine.CancelRunAsync(id, request?.Reason is { Length: > 0 } reason ? reason : $"cancelled by {who}", cancellationToken);
        }
        catch (RunNotFoundException)
        {
            return RunNotFound(id);
        }

        var run = await engine.GetRunAsync(id, cancellationToken);
        var resource = run!.ToResource(time.GetUtcNow());
        return changed ? TypedResults.Accepted($"/v1/runs/{id}", resource) : TypedResults.Ok(resource);
    }

    private static async Task<IResult> LogsAsync(
        long id, string? step, bool? follow, HttpContext context, WorkflowEngine engine, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await engine.GetRunAsync(id, cancellationToken) is null)
        {
            return RunNotFound(id);
        }

        var wantsStream = follow == true || context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
        if (!wantsStream)
        {
            var logs = await engine.GetStepLogsAsync(id, step, 0, 10_000, cancellationToken);
            return TypedResults.Ok(new ListResponse<StepLogResource>(logs.Select(l => l.ToResource()).ToArray()));
        }

        long.TryParse(context.Request.Headers["Last-Event-ID"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var afterId);
        await StreamAsync(context, engine, time, id, step, afterId, cancellationToken);
        return Results.Empty;
    }

    /// <summary>
    /// Server-sent events: <c>log</c> for each line, <c>step</c> for each step change, <c>end</c> with the finished run.
    /// Reads the store on a short interval, so it works the same whichever replica runs the run.
    /// </summary>
    private static async Task StreamAsync(HttpContext context, WorkflowEngine engine, TimeProvider time, long id, string? step, long afterId, CancellationToken cancellationToken)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        await response.Body.FlushAsync(cancellationToken);

        var stepStates = new Dictionary<string, string>(StringComparer.Ordinal);
        var lastWrite = time.GetUtcNow();
        var finishedSeen = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            var logs = await engine.GetStepLogsAsync(id, step, afterId, 500, cancellationToken);
            foreach (var log in logs)
            {
                afterId = log.Id;
                await WriteEventAsync(response, "log", log.Id.ToString(CultureInfo.InvariantCulture), log.ToResource(), cancellationToken);
                lastWrite = time.GetUtcNow();
            }

            if (logs.Count == 500)
            {
                continue;
            }

            var run = await engine.GetRunAsync(id, cancellationToken);
            if (run is null)
            {
                return;
            }

            var now = time.GetUtcNow();
            foreach (var state in run.Steps.Where(s => step is null || s.Name == step))
            {
                var key = $"{state.Status.ToStored()}#{state.Attempt}";
                if (stepStates.GetValueOrDefault(state.Name) != key)
                {
                    stepStates[state.Name] = key;
                    await WriteEventAsync(response, "step", null, state.ToResource(now), cancellationToken);
                    lastWrite = now;
                }
            }

            if (run.Run.IsFinished)
            {
                // One more pass after seeing the end, so that lines written just before it are not lost.
                if (finishedSeen)
                {
                    await WriteEventAsync(response, "end", null, run.ToResource(now), cancellationToken);
                    return;
                }

                finishedSeen = true;
                continue;
            }

            if (now - lastWrite >= KeepAliveInterval)
            {
                await response.WriteAsync(": keep-alive\n\n", cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
                lastWrite = now;
            }

            await Task.Delay(StreamPollInterval, time, cancellationToken);
        }
    }

    private static async Task WriteEventAsync<T>(HttpResponse response, string name, string? id, T data, CancellationToken cancellationToken)
    {
        var text = (id is null ? "" : $"id: {id}\n") + $"event: {name}\ndata: {JsonSerializer.Serialize(data, SluiceJson.Options)}\n\n";
        await response.WriteAsync(text, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    private static ProblemHttpResult RunNotFound(long id) => SluiceProblems.NotFound("run", id.ToString(CultureInfo.InvariantCulture), "list them with 'sluice get runs'");
}
