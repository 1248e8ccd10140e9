using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Hosting;
using Sluice.Server.Modules;

namespace Sluice.Server.Ui;

/// <summary>UI pages of the engine's runs (with a step timeline and logs) and of Dataflow jobs (messages, metrics).</summary>
internal static class RunAndJobPages
{
    public static void Map(SluiceEndpoints endpoints)
    {
        endpoints.Navigation.Add("Runs", "/ui/runs", order: 80);
        endpoints.Navigation.Add("Jobs", "/ui/jobs", order: 90);
        endpoints.Overview.Add("runs", "Recent runs", RecentRunsAsync, order: 80);

        var ui = endpoints.Ui;
        ui.MapGet("/runs", async (WorkflowEngine engine, TimeProvider time, CancellationToken ct) =>
            UiLayout.Page("Runs", Html.Live("/ui/runs/list", await RunsTableAsync(engine, time, 100, ct))));
        ui.MapGet("/runs/list", async (WorkflowEngine engine, TimeProvider time, CancellationToken ct) =>
            UiLayout.Fragment(await RunsTableAsync(engine, time, 100, ct)));
        ui.MapGet("/runs/{id:long}", async (long id, HttpContext context, WorkflowEngine engine, TimeProvider time, CancellationToken ct) =>
            await RunBodyAsync(id, context, engine, time, ct) is { } body
                ? UiLayout.Page($"Run {id}", Html.Live($"/ui/runs/{id}/body", body))
                : UiLayout.Page("Not found", $"<p class=\"error\">There is no run {id}.</p>", StatusCodes.Status404NotFound));
        ui.MapGet("/runs/{id:long}/body", async (long id, HttpContext context, WorkflowEngine engine, TimeProvider time, CancellationToken ct) =>
            await RunBodyAsync(id, context, engine, time, ct) is { } body ? UiLayout.Fragment(body) : Results.NotFound());
        ui.MapPost("/runs/{id:long}/cancel", async (long id, HttpContext context, WorkflowEngine engine, CancellationToken ct) =>
        {
            try
            {
                await engine.CancelRunAsync(id, $"cancelled in the UI by {context.User.Identity?.Name}", ct);
            }
            catch (RunNotFoundException)
            {
                return Results.NotFound();
            }

            return Results.Redirect($"/ui/runs/{id}");
        }).RequireAuthorization(SluicePolicies.Operator);

        ui.MapGet("/jobs", async (ServerDataflowClients clients, CancellationToken ct) =>
            UiLayout.Page("Jobs", Html.Live("/ui/jobs/list", await JobsTableAsync(clients, ct))));
        ui.MapGet("/jobs/list", async (ServerDataflowClients clients, CancellationToken ct) => UiLayout.Fragment(await JobsTableAsync(clients, ct)));
        ui.MapGet("/jobs/{id}", async (string id, ServerDataflowClients clients, CancellationToken ct) =>
            UiLayout.Page($"Job {id}", Html.Live($"/ui/jobs/{Uri.EscapeDataString(id)}/body", await JobBodyAsync(id, clients, ct))));
        ui.MapGet("/jobs/{id}/body", async (string id, ServerDataflowClients clients, CancellationToken ct) => UiLayout.Fragment(await JobBodyAsync(id, clients, ct)));
    }

    private static async Task<string> RecentRunsAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var engine = context.RequestServices.GetRequiredService<WorkflowEngine>();
        var time = context.RequestServices.GetRequiredService<TimeProvider>();
        return await RunsTableAsync(engine, time, 8, cancellationToken);
    }

    private static async Task<string> RunsTableAsync(WorkflowEngine engine, TimeProvider time, int limit, CancellationToken cancellationToken)
    {
        var page = await engine.ListRunsAsync(new RunQuery { Limit = limit }, cancellationToken);
        var now = time.GetUtcNow();
        return Html.Table(
            ["Run", "Kind", "Name", "State", "Started", "Duration", "Reason"],
            page.Runs.Select(r => r.ToResource(now)).Select(r => (IReadOnlyList<string>)
            [
                Html.Link($"/ui/runs/{r.Id}", r.Id.ToString(CultureInfo.InvariantCulture)),
                Html.Encode(r.Kind),
                Html.Encode(r.Name),
                Html.State(r.State),
                Html.Time(r.StartedAt),
                Html.Duration(r.DurationSeconds is { } s ? TimeSpan.FromSeconds(s) : null),
                Html.Encode(Truncate(r.Reason, 120)),
            ]),
            empty: "No runs yet. Apply a manifest (sluice apply -f …) to start one.",
            id: "runs");
    }

    private static async Task<string?> RunBodyAsync(long id, HttpContext context, WorkflowEngine engine, TimeProvider time, CancellationToken cancellationToken)
    {
        var detail = await engine.GetRunAsync(id, cancellationToken);
        if (detail is null)
        {
            return null;
        }

        var run = detail.ToResource(time.GetUtcNow());
        var logs = await engine.GetStepLogsAsync(id, null, 0, 2000, cancellationToken);
        var cancel = !detail.Run.IsFinished && context.User.HasRole(SluiceRole.Operator)
            ? Html.PostButton($"/ui/runs/{id}/cancel", "Cancel run", confirm: $"Cancel run {id}?", css: "danger")
            : "";
        var facts = Html.Facts(
        [
            ("Kind", Html.Encode(run.Kind)),
            ("Name", Html.Encode(run.Name)),
            ("State", Html.State(run.State)),
            ("Reason", Html.Encode(run.Reason)),
            ("Labels", Html.Encode(run.Labels is null ? "" : string.Join(", ", run.Labels.Select(l => $"{l.Key}={l.Value}")))),
            ("Created", Html.Time(run.CreatedAt)),
            ("Started", Html.Time(run.StartedAt)),
            ("Finished", Html.Time(run.FinishedAt)),
            ("Duration", Html.Duration(run.DurationSeconds is { } s ? TimeSpan.FromSeconds(s) : null)),
        ]);
        return $"<div class=\"card\" id=\"run-facts\">{facts}<p>{cancel}</p></div><h2>Steps</h2>{UiComponents.StepTimeline(run.Steps ?? [])}<h2>Logs</h2>{UiComponents.Logs(logs.Select(l => l.ToResource()))}";
    }

    private static async Task<string> JobsTableAsync(ServerDataflowClients clients, CancellationToken cancellationToken)
    {
        var client = clients.Default;
        try
        {
            var page = await client.ListJobsAsync(new ListJobsRequest { Filter = JobListFilter.All, PageSize = 100 }, cancellationToken);
            return Html.Table(
                ["Job", "Name", "Type", "State", "Created", "State since"],
                (page.Jobs ?? []).Select(j => j.ToResource(client.ProjectId, client.Location)).Select(j => (IReadOnlyList<string>)
                [
                    Html.Link($"/ui/jobs/{Uri.EscapeDataString(j.Id)}", j.Id),
                    Html.Encode(j.Name),
                    Html.Encode(Short(j.Type)),
                    Html.State(Short(j.State)),
                    Html.Time(j.CreateTime),
                    Html.Time(j.CurrentStateTime),
                ]),
                empty: $"No jobs in {client.ProjectId} / {client.Location}.",
                id: "jobs");
        }
        catch (Exception e) when (e is DataflowApiException or HttpRequestException)
        {
            return $"<p class=\"error\">The Dataflow API did not answer: {Html.Encode(e.Message)}</p>";
        }
    }

    private static async Task<string> JobBodyAsync(string id, ServerDataflowClients clients, CancellationToken cancellationToken)
    {
        var client = clients.Default;
        try
        {
            var job = (await client.GetJobAsync(id, JobView.Description, cancellationToken)).ToResource(client.ProjectId, client.Location);
            var messages = await client.ListAllJobMessagesAsync(id, new ListJobMessagesRequest { MinimumImportance = JobMessageImportance.Basic }, cancellationToken);
            var metrics = (await client.GetJobMetricsAsync(id, null, cancellationToken)).ToResources();
            var facts = Html.Facts(
            [
                ("Name", Html.Encode(job.Name)),
                ("Type", Html.Encode(Short(job.Type))),
                ("State", Html.State(Short(job.State))),
                ("Created", Html.Time(job.CreateTime)),
                ("State since", Html.Time(job.CurrentStateTime)),
                ("Project / region", Html.Encode($"{job.Project} / {job.Region}")),
                ("Pipeline", Html.Encode(job.Pipeline)),
                ("Run", job.RunId is { } run ? Html.Link($"/ui/runs/{run}", run.ToString(CultureInfo.InvariantCulture)) : ""),
            ]);
            var metricTable = Html.Table(
                ["Metric", "Value", "Context", "Updated"],
                metrics.Select(m => (IReadOnlyList<string>)
                [
                    Html.Encode(m.Name),
                    Html.Encode(m.Scalar?.ToString(CultureInfo.InvariantCulture)),
                    Html.Encode(m.Context is null ? "" : string.Join(", ", m.Context.Select(c => $"{c.Key}={c.Value}"))),
                    Html.Time(m.UpdateTime),
                ]),
                empty: "No metrics yet.",
                id: "job-metrics");
            var messageTable = Html.Table(
                ["Time", "Importance", "Message"],
                (messages.JobMessages ?? []).OrderByDescending(m => m.Time).Take(JobsApi.MessagesInDetail).Select(m => m.ToResource()).Select(m => (IReadOnlyList<string>)
                [
                    Html.Time(m.Time),
                    Html.State(Short(m.Importance)),
                    Html.Encode(m.Text),
                ]),
                empty: "No messages.",
                id: "job-messages");
            return $"<div class=\"card\" id=\"job-facts\">{facts}</div><h2>Metrics</h2>{metricTable}<h2>Messages (newest first)</h2>{messageTable}";
        }
        catch (DataflowApiException e) when (e.StatusCode == StatusCodes.Status404NotFound)
        {
            return $"<p class=\"error\">There is no job {Html.Encode(id)} in {Html.Encode(client.ProjectId)} / {Html.Encode(client.Location)}.</p>";
        }
        catch (Exception e) when (e is DataflowApiException or HttpRequestException)
        {
            return $"<p class=\"error\">The Dataflow API did not answer: {Html.Encode(e.Message)}</p>";
        }
    }

    private static string? Short(string? wire) =>
        wire?.Replace("JOB_STATE_", "", StringComparison.Ordinal).Replace("JOB_TYPE_", "", StringComparison.Ordinal)
            .Replace("JOB_MESSAGE_", "", StringComparison.Ordinal).ToLowerInvariant();

    private static string? Truncate(string? text, int max) => text is null || text.Length <= max ? text : text[..(max - 1)] + "…";
}
