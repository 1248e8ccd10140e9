using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Controller.Rollouts;
using Sluice.Engine;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Modules;
using Sluice.Server.Ui;

namespace Sluice.Server.Rollouts;

/// <summary>
/// The Pipelines page (current version, job and state of each pipeline), a pipeline's history with a rollback button,
/// the Rollouts page, and a rollout as a timeline of steps with durations, reasons and logs. All live-updating.
/// </summary>
internal static class RolloutsPages
{
    public static void Map(SluiceEndpoints endpoints)
    {
        endpoints.Navigation.Add("Pipelines", "/ui/pipelines", order: 10);
        endpoints.Navigation.Add("Rollouts", "/ui/rollouts", order: 20);
        endpoints.Overview.Add("pipelines", "Pipelines", (context, ct) => PipelinesTableAsync(Service(context), ct), order: 10);

        var ui = endpoints.Ui;
        ui.MapGet("/pipelines", async (RolloutService rollouts, CancellationToken ct) =>
            UiLayout.Page("Pipelines", Html.Live("/ui/pipelines/list", await PipelinesTableAsync(rollouts, ct), "pipelines")));
        ui.MapGet("/pipelines/list", async (RolloutService rollouts, CancellationToken ct) => UiLayout.Fragment(await PipelinesTableAsync(rollouts, ct)));
        ui.MapGet("/pipelines/{name}", async (string name, HttpContext context, RolloutService rollouts, CancellationToken ct) =>
            await PipelineBodyAsync(name, context, rollouts, ct) is { } body
                ? UiLayout.Page($"Pipeline {name}", Html.Live($"/ui/pipelines/{Uri.EscapeDataString(name)}/body", body, "pipeline"))
                : UiLayout.Page("Not found", $"<p class=\"error\">There is no pipeline '{Html.Encode(name)}'.</p>", StatusCodes.Status404NotFound));
        ui.MapGet("/pipelines/{name}/body", async (string name, HttpContext context, RolloutService rollouts, CancellationToken ct) =>
            await PipelineBodyAsync(name, context, rollouts, ct) is { } body ? UiLayout.Fragment(body) : Results.NotFound());
        ui.MapPost("/pipelines/{name}/rollback", RollbackAsync).RequireAuthorization(SluicePolicies.Operator);

        ui.MapGet("/rollouts", async (RolloutService rollouts, CancellationToken ct) =>
            UiLayout.Page("Rollouts", Html.Live("/ui/rollouts/list", await RolloutsTableAsync(rollouts, null, 100, ct), "rollouts")));
        ui.MapGet("/rollouts/list", async (RolloutService rollouts, CancellationToken ct) =>
            UiLayout.Fragment(await RolloutsTableAsync(rollouts, null, 100, ct)));
        ui.MapGet("/rollouts/{name}", async (string name, RolloutService rollouts, WorkflowEngine engine, TimeProvider time, CancellationToken ct) =>
            await RolloutBodyAsync(name, rollouts, engine, time, ct) is { } body
                ? UiLayout.Page($"Rollout {name}", Html.Live($"/ui/rollouts/{Uri.EscapeDataString(name)}/body", body, "rollout"))
                : UiLayout.Page("Not found", $"<p class=\"error\">There is no rollout '{Html.Encode(name)}'.</p>", StatusCodes.Status404NotFound));
        ui.MapGet("/rollouts/{name}/body", async (string name, RolloutService rollouts, WorkflowEngine engine, TimeProvider time, CancellationToken ct) =>
            await RolloutBodyAsync(name, rollouts, engine, time, ct) is { } body ? UiLayout.Fragment(body) : Results.NotFound());
    }

    private static RolloutService Service(HttpContext context) => context.RequestServices.GetRequiredService<RolloutService>();

    private static async Task<string> PipelinesTableAsync(RolloutService rollouts, CancellationToken cancellationToken)
    {
        var rows = new List<IReadOnlyList<string>>();
        foreach (var pipeline in await rollouts.ListPipelinesAsync(cancellationToken))
        {
            var newest = await RolloutsApi.NewestAsync(rollouts, pipeline.Name, cancellationToken);
            rows.Add(
            [
                Html.Link($"/ui/pipelines/{Uri.EscapeDataString(pipeline.Name)}", pipeline.Name),
                Html.Encode(pipeline.Version),
                Html.Encode(pipeline.Revision?.ToString(CultureInfo.InvariantCulture)),
                Html.State(pipeline.State.ToStored()),
                JobLink(pipeline.JobId, pipeline.JobName),
                Html.State(pipeline.JobState),
                newest is null ? "" : Html.Link(RolloutPath(newest.Name), newest.Name) + " " + Html.State(RolloutResources.RunState(newest.Status)),
                Html.Time(pipeline.UpdatedAt),
            ]);
        }

        return Html.Table(
            ["pipeline", "version", "rev", "state", "job", "job state", "last rollout", "updated"], rows,
            "No pipeline yet: apply a Rollout manifest (sluice apply -f rollout.yaml).", "pipelines-table");
    }

    private static async Task<string?> PipelineBodyAsync(string name, HttpContext context, RolloutService rollouts, CancellationToken cancellationToken)
    {
        if (await rollouts.GetPipelineAsync(name, cancellationToken) is not { } pipeline)
        {
            return null;
        }

        var revisions = await rollouts.ListRolloutsAsync(new RevisionQuery { Pipeline = name, Limit = 1000 }, cancellationToken);
        var facts = Html.Facts(
        [
            ("State", Html.State(pipeline.State.ToStored())),
            ("Version", Html.Encode(pipeline.Version)),
            ("Revision", Html.Encode(pipeline.Revision?.ToString(CultureInfo.InvariantCulture))),
            ("Stable revision", Html.Encode(pipeline.StableRevision?.ToString(CultureInfo.InvariantCulture))),
            ("Job", JobLink(pipeline.JobId, pipeline.JobName)),
            ("Job state", Html.State(pipeline.JobState)),
            ("Active run", pipeline.ActiveRunId is { } run ? Html.Link($"/ui/runs/{run}", run.ToString(CultureInfo.InvariantCulture)) : ""),
            ("Updated", Html.Time(pipeline.UpdatedAt)),
        ]);
        var rollback = "";
        if (context.User.HasRole(SluiceRole.Operator))
        {
            var stable = revisions.Where(r => r.Status == RevisionStatus.Stable).Select(r => r.Revision).Order().ToList();
            var options = string.Concat(stable.Select(r => $"<option value=\"{r}\">revision {r}</option>"));
            rollback =
                $"<form method=\"post\" action=\"/ui/pipelines/{Html.Url(name)}/rollback\" class=\"inline\" id=\"rollback-form\">" +
                "<label>Roll back to <select name=\"toRevision\"><option value=\"\">the previous stable revision</option>" + options + "</select></label> " +
                "<button type=\"submit\" class=\"danger\">Roll back</button></form>";
        }

        var history = Html.Table(
            ["rev", "kind", "rollout", "from", "to", "strategy", "state", "job", "created", "reason"],
            revisions.Select(r => (IReadOnlyList<string>)
            [
                Html.Encode(r.Revision.ToString(CultureInfo.InvariantCulture)),
                Html.Encode(r.Kind),
                Html.Link(RolloutPath(r.RunId.ToString(CultureInfo.InvariantCulture)), r.Name),
                Html.Encode(r.FromVersion),
                Html.Encode(r.Version),
                Html.Encode(r.Strategy),
                Html.State(r.Status == RevisionStatus.Stable && r.Revision != pipeline.StableRevision ? "superseded" : r.Status.ToStored()),
                JobLink(r.JobId, r.JobName),
                Html.Time(r.CreatedAt),
                Html.Encode(r.Reason),
            ]),
            "No revision yet.", "revisions-table");
        return $"<div class=\"card\">{facts}<p>{rollback}</p></div><h2>Revisions</h2>{history}";
    }

    private static async Task<IResult> RollbackAsync(string name, HttpContext context, RolloutService rollouts, CancellationToken cancellationToken)
    {
        var form = await context.Request.ReadFormAsync(cancellationToken);
        int? toRevision = int.TryParse(form["toRevision"], NumberStyles.None, CultureInfo.InvariantCulture, out var revision) ? revision : null;
        try
        {
            var runId = await rollouts.RollbackAsync(name, toRevision, cancellationToken);
            return Results.Redirect(RolloutPath(runId.ToString(CultureInfo.InvariantCulture)));
        }
        catch (RolloutException e)
        {
            return UiLayout.Page(
                $"Pipeline {name}",
                $"<p class=\"error\" id=\"rollback-error\">{Html.Encode(e.Message)}</p><p>{Html.Link($"/ui/pipelines/{Uri.EscapeDataString(name)}", "Back to the pipeline")}</p>",
                e.Kind == RolloutErrorKind.NotFound ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict);
        }
    }

    private static async Task<string> RolloutsTableAsync(RolloutService rollouts, string? pipeline, int limit, CancellationToken cancellationToken)
    {
        var revisions = await rollouts.ListRolloutsAsync(new RevisionQuery { Pipeline = pipeline, Limit = limit }, cancellationToken);
        return Html.Table(
            ["rollout", "pipeline", "kind", "strategy", "from", "to", "state", "run", "created", "reason"],
            revisions.Select(r => (IReadOnlyList<string>)
            [
                Html.Link(RolloutPath(r.RunId.ToString(CultureInfo.InvariantCulture)), r.Name),
                Html.Link($"/ui/pipelines/{Uri.EscapeDataString(r.Pipeline)}", r.Pipeline),
                Html.Encode(r.Kind),
                Html.Encode(r.Strategy),
                Html.Encode(r.FromVersion),
                Html.Encode(r.Version),
                Html.State(RolloutResources.RunState(r.Status)),
                Html.Link($"/ui/runs/{r.RunId}", r.RunId.ToString(CultureInfo.InvariantCulture)),
                Html.Time(r.CreatedAt),
                Html.Encode(r.Reason),
            ]),
            "No rollout yet.", "rollouts-table");
    }

    private static async Task<string?> RolloutBodyAsync(string name, RolloutService rollouts, WorkflowEngine engine, TimeProvider time, CancellationToken cancellationToken)
    {
        if (await rollouts.GetRolloutAsync(name, cancellationToken) is not { } detail)
        {
            return null;
        }

        var now = time.GetUtcNow();
        var rollout = await RolloutsApi.ToResourceAsync(rollouts, detail, now, cancellationToken);
        var logs = await engine.GetStepLogsAsync(rollout.RunId ?? 0, null, 0, 2000, cancellationToken);
        var duration = rollout.StartedAt is { } started ? (rollout.FinishedAt ?? now) - started : (TimeSpan?)null;
        var facts = Html.Facts(
        [
            ("Pipeline", Html.Link($"/ui/pipelines/{Uri.EscapeDataString(rollout.Pipeline)}", rollout.Pipeline)),
            ("Kind", Html.Encode(rollout.Kind)),
            ("Strategy", Html.Encode(rollout.Strategy)),
            ("Versions", Html.Encode(rollout.FromVersion is null ? $"first deploy of {rollout.ToVersion}" : $"{rollout.FromVersion} → {rollout.ToVersion}")),
            ("State", Html.State(rollout.State)),
            ("Reason", Html.Encode(rollout.Reason)),
            ("New job", JobLink(rollout.JobId, rollout.JobName)),
            ("Previous job", JobLink(rollout.PreviousJobId, rollout.PreviousJobId)),
            ("Rollback of", rollout.RollbackOf is { } of ? Html.Link(RolloutPath(of), of) : ""),
            ("Rolled back by", rollout.RolledBackBy is { } by ? Html.Link(RolloutPath(by), by) : ""),
            ("Run", rollout.RunId is { } run ? Html.Link($"/ui/runs/{run}", run.ToString(CultureInfo.InvariantCulture)) : ""),
            ("Source", Html.Encode(rollout.Source)),
            ("Created", Html.Time(rollout.CreatedAt)),
            ("Duration", Html.Duration(duration)),
        ]);
        return $"<div class=\"card\" id=\"rollout-facts\">{facts}</div><h2>Steps</h2>{UiComponents.StepTimeline(rollout.Steps ?? [])}" +
            $"<h2>Logs</h2>{UiComponents.Logs(logs.Select(l => l.ToResource()))}";
    }

    private static string RolloutPath(string nameOrRunId) => $"/ui/rollouts/{Uri.EscapeDataString(nameOrRunId)}";

    private static string JobLink(string? jobId, string? jobName) =>
        jobId is null ? "" : Html.Link($"/ui/jobs/{Uri.EscapeDataString(jobId)}", jobName ?? jobId);
}
