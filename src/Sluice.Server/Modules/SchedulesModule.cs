using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sluice.Controller;
using Sluice.Controller.Schedules;
using Sluice.Dataflow;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Configuration;
using Sluice.Server.Metrics;
using Sluice.Server.Ui;
using ApiBackfillRequest = Sluice.Server.Api.BackfillRequest;

namespace Sluice.Server.Modules;

/// <summary>
/// The schedule flow in the server: <c>/v1/schedules</c> (list, detail with the slot grid, pause, unpause, unschedule,
/// backfill, trigger) and the UI pages <c>/ui/schedules</c> and <c>/ui/schedules/{dagId}</c>.
/// </summary>
public sealed class SchedulesModule : ISluiceModule
{
    public void ConfigureServices(IServiceCollection services, SluiceConfig config)
    {
        services.AddSluiceSchedules();
        services.AddSingleton<ISchedulerLagRecorder>(sp => new MetricsLagRecorder(sp.GetRequiredService<SluiceMetrics>()));
    }

    public void MapEndpoints(SluiceEndpoints endpoints)
    {
        ScheduleApi.Map(endpoints);
        SchedulePages.Map(endpoints);
        endpoints.Navigation.Add("Schedules", "/ui/schedules", order: 30);
        endpoints.Overview.Add("schedules", "Schedules", SchedulePages.OverviewAsync, order: 30);
    }

    private sealed class MetricsLagRecorder(SluiceMetrics metrics) : ISchedulerLagRecorder
    {
        public void RecordSchedulerLag(TimeSpan lag) => metrics.RecordSchedulerLag(lag);
    }
}

/// <summary>The <c>/v1/schedules</c> endpoints (docs/api.md, "Schedules").</summary>
internal static class ScheduleApi
{
    public static void Map(SluiceEndpoints endpoints)
    {
        var group = endpoints.Api.MapGroup("/schedules").WithTags("Schedules");
        group.MapGet("", ListAsync).WithName("ListSchedules").WithSummary("Registered schedules with their next slot and run counts");
        group.MapGet("/{dagId}", GetAsync).WithName("GetSchedule").WithSummary("A schedule with its newest slots (the grid) and spec");
        group.MapPost("/{dagId}/pause", (string dagId, ScheduleService s, CancellationToken ct) => SetPausedAsync(dagId, true, s, ct))
            .RequireAuthorization(SluicePolicies.Operator).WithName("PauseSchedule").WithSummary("No new slot runs start; running ones finish");
        group.MapPost("/{dagId}/unpause", (string dagId, ScheduleService s, CancellationToken ct) => SetPausedAsync(dagId, false, s, ct))
            .RequireAuthorization(SluicePolicies.Operator).WithName("UnpauseSchedule").WithSummary("Slots start again; with catchup the missed ones run");
        group.MapDelete("/{dagId}", UnscheduleAsync)
            .RequireAuthorization(SluicePolicies.Operator).WithName("Unschedule").WithSummary("Remove the schedule; ?cancelRunning=true also cancels its runs in flight");
        group.MapGet("/{dagId}/slots", SlotsAsync).WithName("ListSlots").WithSummary("Slots with their runs, newest first");
        group.MapPost("/{dagId}/backfills", BackfillAsync)
            .RequireAuthorization(SluicePolicies.Operator).WithName("Backfill").WithSummary("Run past slots again within [from, to]");
        group.MapPost("/{dagId}/runs", TriggerAsync)
            .RequireAuthorization(SluicePolicies.Operator).WithName("TriggerSlot").WithSummary("Start one run now for the slot at logicalDate (default now)");
    }

    private static async Task<Ok<ListResponse<ScheduleResource>>> ListAsync(ScheduleService schedules, int? limit, CancellationToken ct)
    {
        var all = await schedules.ListAsync(ct);
        return TypedResults.Ok(new ListResponse<ScheduleResource>(all.Take(Math.Clamp(limit ?? 1000, 1, 10_000)).Select(s => ToResource(s, null)).ToList()));
    }

    private static async Task<Results<Ok<ScheduleResource>, ProblemHttpResult>> GetAsync(
        string dagId, ScheduleService schedules, int? slots, CancellationToken ct)
    {
        var schedule = await schedules.GetAsync(dagId, ct, includeUnscheduled: true);
        if (schedule is null)
        {
            return NotFound(dagId);
        }

        var slotList = await schedules.ListSlotsAsync(dagId, Math.Clamp(slots ?? 30, 1, 1000), null, ct);
        return TypedResults.Ok(ToResource(schedule, slotList));
    }

    private static async Task<Results<Ok<ScheduleResource>, ProblemHttpResult>> SetPausedAsync(
        string dagId, bool paused, ScheduleService schedules, CancellationToken ct)
    {
        var before = await schedules.GetAsync(dagId, ct, includeUnscheduled: true);
        if (before is null)
        {
            return NotFound(dagId);
        }

        if (before.Unscheduled)
        {
            return SluiceProblems.Conflict($"The schedule '{dagId}' was unscheduled; apply its Schedule manifest again to bring it back.");
        }

        await (paused ? schedules.PauseAsync(dagId, ct) : schedules.UnpauseAsync(dagId, ct));
        return TypedResults.Ok(ToResource((await schedules.GetAsync(dagId, ct, includeUnscheduled: true))!, null));
    }

    private static async Task<Results<Ok<ListResponse<SlotResource>>, ProblemHttpResult>> SlotsAsync(
        string dagId, string? from, string? to, int? limit, ScheduleService schedules, CancellationToken ct)
    {
        if (await schedules.GetAsync(dagId, ct, includeUnscheduled: true) is null)
        {
            return NotFound(dagId);
        }

        try
        {
            DateTimeOffset? fromDate = from is { Length: > 0 } ? await schedules.ParseDateAsync(dagId, from, ct) : null;
            DateTimeOffset? toDate = to is { Length: > 0 } ? await schedules.ParseDateAsync(dagId, to, ct) : null;
            var slots = await schedules.ListSlotsAsync(dagId, Math.Clamp(limit ?? 1000, 1, 1000), toDate?.AddMilliseconds(1), ct);
            return TypedResults.Ok(new ListResponse<SlotResource>(
                slots.Where(s => fromDate is null || s.LogicalDate >= fromDate).Select(ToResource).ToList()));
        }
        catch (ScheduleException e)
        {
            return SluiceProblems.BadRequest(e.Message);
        }
    }

    private static async Task<Results<Accepted<SlotResource>, Ok<SlotResource>, ProblemHttpResult>> TriggerAsync(
        string dagId, TriggerRunRequest? request, ScheduleService schedules, CancellationToken ct)
    {
        try
        {
            var result = await schedules.TriggerAsync(dagId, request?.LogicalDate, null, ct);
            var slot = await schedules.GetSlotAsync(dagId, result.LogicalDate, ct);
            var resource = slot is null
                ? new SlotResource { LogicalDate = result.LogicalDate, DataIntervalStart = result.LogicalDate, DataIntervalEnd = result.LogicalDate, State = result.State.ToStored(), RunId = result.RunId }
                : ToResource(slot);
            return result.Created ? TypedResults.Accepted($"/v1/runs/{result.RunId}", resource) : TypedResults.Ok(resource);
        }
        catch (ScheduleNotFoundException)
        {
            return NotFound(dagId);
        }
        catch (ScheduleException e)
        {
            return SluiceProblems.BadRequest(e.Message);
        }
    }

    private static async Task<Results<Ok<ScheduleResource>, ProblemHttpResult>> UnscheduleAsync(
        string dagId, bool? cancelRunning, ScheduleService schedules, CancellationToken ct)
    {
        var before = await schedules.GetAsync(dagId, ct, includeUnscheduled: true);
        if (before is null)
        {
            return NotFound(dagId);
        }

        await schedules.UnscheduleAsync(dagId, cancelRunning ?? false, ct);
        return TypedResults.Ok(ToResource((await schedules.GetAsync(dagId, ct, includeUnscheduled: true))!, null));
    }

    private static async Task<Results<Ok<BackfillResponse>, Accepted<BackfillResponse>, ProblemHttpResult>> BackfillAsync(
        string dagId, ApiBackfillRequest request, ScheduleService schedules, CancellationToken ct)
    {
        if (!SlotStates.TryParseReprocess(request.Reprocess, out var reprocess))
        {
            return SluiceProblems.BadRequest($"'{request.Reprocess}' is not a reprocess mode; use none, failed or all.");
        }

        try
        {
            var from = await schedules.ParseDateAsync(dagId, request.From, ct);
            var to = await schedules.ParseDateAsync(dagId, request.To, ct);
            var plan = await schedules.BackfillAsync(
                new Controller.Schedules.BackfillRequest { DagId = dagId, From = from, To = to, Reprocess = reprocess, DryRun = request.DryRun }, ct);
            var response = new BackfillResponse(
                dagId,
                plan.DryRun,
                plan.Slots.Select(s => new BackfillSlotResource(
                    s.LogicalDate,
                    s.Action switch { BackfillAction.Run => "create", BackfillAction.Rerun => "rerun", _ => "skip" },
                    null,
                    s.Action == BackfillAction.Skip
                        ? s.CurrentState is { } state && state.IsActive() ? "running now" : $"already {s.CurrentState?.ToStored()}; use --reprocess to run it again"
                        : null)).ToList());
            return plan.DryRun ? TypedResults.Ok(response) : TypedResults.Accepted($"/v1/runs/{plan.RunId}", response);
        }
        catch (ScheduleNotFoundException)
        {
            return NotFound(dagId);
        }
        catch (ScheduleException e)
        {
            return SluiceProblems.BadRequest(e.Message);
        }
    }

    private static ProblemHttpResult NotFound(string dagId) =>
        SluiceProblems.NotFound("schedule", dagId, "list the schedules with `sluice get schedules`");

    internal static string StateOf(ScheduleInfo s) =>
        s.Unscheduled ? "unscheduled" : s.Paused ? "paused" : s.NextSlot is null && s.Spec.EndDate is not null ? "ended" : "active";

    internal static ScheduleResource ToResource(ScheduleInfo s, IReadOnlyList<SlotRunInfo>? slots)
    {
        var generation = s.Source.LastIndexOf('#') is var hash and >= 0
            && long.TryParse(s.Source.AsSpan(hash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var g) ? g : (long?)null;
        return new ScheduleResource
        {
            DagId = s.DagId,
            Name = s.Name,
            State = StateOf(s),
            Schedule = s.Spec.Schedule,
            Timezone = s.Spec.TimeZone,
            StartDate = Manifests.Values.DateValues.Format(s.Spec.StartDate),
            EndDate = s.Spec.EndDate is { } end ? Manifests.Values.DateValues.Format(end) : null,
            Catchup = s.Spec.Catchup,
            MaxActiveRuns = s.Spec.MaxActiveRuns,
            Paused = s.Paused,
            NextLogicalDate = s.NextSlot?.LogicalDate,
            NextDueAt = s.NextSlot?.DueAt,
            Revision = s.Revision,
            Source = s.Source,
            Generation = generation,
            UpdatedAt = s.UpdatedAt,
            Counts = s.Counts.ToDictionary(c => SlotStateName(c.Key), c => c.Value, StringComparer.Ordinal),
            Slots = slots?.Select(ToResource).ToList(),
            Spec = slots is null ? null : JsonDocument.Parse(s.SpecJson).RootElement.Clone(),
        };
    }

    internal static SlotResource ToResource(SlotRunInfo slot) => new()
    {
        LogicalDate = slot.LogicalDate,
        DataIntervalStart = slot.DataIntervalStart,
        DataIntervalEnd = slot.DataIntervalEnd,
        State = SlotStateName(slot.State),
        RunId = slot.RunId,
        Tries = slot.Attempts,
        JobId = slot.JobId,
        JobName = slot.JobName,
        Reason = slot.Reason,
        StartedAt = slot.StartedAt,
        FinishedAt = slot.FinishedAt,
    };

    /// <summary>The API's slot state names: a backfill slot waiting for a free run is "scheduled".</summary>
    internal static string SlotStateName(SlotState state) => state == SlotState.Pending ? "scheduled" : state.ToStored();
}

/// <summary>The schedule pages: the list, and one schedule's grid of runs per slot with pause/unpause for operators.</summary>
internal static class SchedulePages
{
    public static void Map(SluiceEndpoints endpoints)
    {
        endpoints.Ui.MapGet("/schedules", ListPageAsync);
        endpoints.Ui.MapGet("/schedules/{dagId}", DetailPageAsync);
        endpoints.Ui.MapPost("/schedules/{dagId}/pause", (string dagId, ScheduleService s, CancellationToken ct) => ToggleAsync(dagId, true, s, ct))
            .RequireAuthorization(SluicePolicies.Operator);
        endpoints.Ui.MapPost("/schedules/{dagId}/unpause", (string dagId, ScheduleService s, CancellationToken ct) => ToggleAsync(dagId, false, s, ct))
            .RequireAuthorization(SluicePolicies.Operator);
    }

    public static async Task<string> OverviewAsync(HttpContext context, CancellationToken ct)
    {
        var schedules = await context.RequestServices.GetRequiredService<ScheduleService>().ListAsync(ct);
        if (schedules.Count == 0)
        {
            return "<p class=\"empty\">No schedules yet. Apply a Schedule manifest.</p>";
        }

        var paused = schedules.Count(s => s.Paused);
        var failed = schedules.Count(s => s.LastRun?.State == SlotState.Failed);
        return $"<p>{schedules.Count} schedules, {paused} paused, {failed} with a failed last run. {Html.Link("/ui/schedules", "All schedules")}</p>";
    }

    private static async Task<IResult> ListPageAsync(HttpContext context, ScheduleService schedules, CancellationToken ct)
    {
        var inner = ListHtml(await schedules.ListAsync(ct));
        return IsFragment(context) ? UiLayout.Fragment(inner) : UiLayout.Page("Schedules", Html.Live("/ui/schedules", inner, "schedules"));
    }

    private static string ListHtml(IReadOnlyList<ScheduleInfo> schedules) =>
        Html.Table(
            ["DAG id", "schedule", "next slot", "due at", "last run", "active", "paused"],
            schedules.Select(s => (IReadOnlyList<string>)
            [
                Html.Link("/ui/schedules/" + Uri.EscapeDataString(s.DagId), s.DagId),
                $"<code>{Html.Encode(s.Spec.Schedule)}</code> {Html.Encode(s.Spec.TimeZone)}",
                s.NextSlot is { } next ? Html.Encode(Manifests.Values.DateValues.Format(next.LogicalDate)) : "<span class=\"empty\">none</span>",
                s.NextSlot is { } due ? Html.Time(due.DueAt) : "",
                s.LastRun is { } last ? $"{Html.State(ScheduleApi.SlotStateName(last.State))} {Html.Encode(Manifests.Values.DateValues.Format(last.LogicalDate))}" : "<span class=\"empty\">no run yet</span>",
                s.ActiveRuns.ToString(CultureInfo.InvariantCulture),
                s.Paused ? Html.State("paused") : "no",
            ]),
            empty: "No schedules yet. Apply a Schedule manifest (sluice apply -f schedule.yaml) or upload one to the schedules bucket.",
            id: "schedule-list");

    private static async Task<IResult> DetailPageAsync(string dagId, HttpContext context, ScheduleService schedules, CancellationToken ct)
    {
        var schedule = await schedules.GetAsync(dagId, ct, includeUnscheduled: true);
        if (schedule is null)
        {
            return UiLayout.Page("Schedule not found", $"<p class=\"error\">No schedule with dag id {Html.Encode(dagId)}. {Html.Link("/ui/schedules", "All schedules")}</p>", StatusCodes.Status404NotFound);
        }

        var slots = await schedules.ListSlotsAsync(dagId, 60, null, ct);
        var inner = DetailHtml(schedule, slots, context.User.HasRole(SluiceRole.Operator));
        var url = "/ui/schedules/" + Uri.EscapeDataString(dagId);
        return IsFragment(context) ? UiLayout.Fragment(inner) : UiLayout.Page("Schedule " + dagId, Html.Live(url, inner, "schedule"));
    }

    private static string DetailHtml(ScheduleInfo s, IReadOnlyList<SlotRunInfo> slots, bool canOperate)
    {
        var html = new StringBuilder();
        var url = "/ui/schedules/" + Uri.EscapeDataString(s.DagId);
        html.Append(Html.Facts(
        [
            ("state", Html.State(ScheduleApi.StateOf(s))),
            ("schedule", $"<code>{Html.Encode(s.Spec.Schedule)}</code> in {Html.Encode(s.Spec.TimeZone)}"),
            ("start / end", Html.Encode(Manifests.Values.DateValues.Format(s.Spec.StartDate)) + " – " + (s.Spec.EndDate is { } end ? Html.Encode(Manifests.Values.DateValues.Format(end)) : "no end")),
            ("catch-up, max active runs", $"{(s.Spec.Catchup ? "yes" : "no")}, {s.Spec.MaxActiveRuns}"),
            ("next slot", s.NextSlot is { } next ? $"{Html.Encode(Manifests.Values.DateValues.Format(next.LogicalDate))}, due {Html.Time(next.DueAt)}" : "none"),
            ("job", $"<code>{Html.Encode(s.Spec.Job.JobName)}</code> from <code>{Html.Encode(s.Spec.Job.Template.GcsPath)}</code>"),
            ("source", Html.Encode(s.Source)),
        ]));
        if (canOperate && !s.Unscheduled)
        {
            html.Append("<p>");
            html.Append(s.Paused
                ? Html.PostButton(url + "/unpause", "Unpause", css: "primary")
                : Html.PostButton(url + "/pause", "Pause", css: "danger"));
            html.Append("</p>");
        }

        // The grid: one column per slot, oldest on the left, coloured by the state of its run (Airflow's grid view).
        html.Append("<h2>Runs per slot</h2>");
        if (slots.Count == 0)
        {
            html.Append("<p class=\"empty\">No slot has run yet.</p>");
        }
        else
        {
            html.Append("<div class=\"slot-grid\" id=\"slot-grid\" style=\"display:flex;gap:3px;align-items:flex-end;flex-wrap:wrap\">");
            foreach (var slot in slots.OrderBy(x => x.LogicalDate))
            {
                var state = ScheduleApi.SlotStateName(slot.State);
                var title = $"{Manifests.Values.DateValues.Format(slot.LogicalDate)}: {state}" + (slot.JobName is null ? "" : $", job {slot.JobName}") +
                    (slot.Reason is null ? "" : $" — {slot.Reason}");
                var target = slot.RunId is { } runId ? "/ui/runs/" + runId.ToString(CultureInfo.InvariantCulture) : url;
                html.Append(CultureInfo.InvariantCulture, $"<a class=\"slot state {Html.StateClass(state)}\" data-state=\"{Html.Encode(state)}\" data-logical-date=\"{Html.Encode(Manifests.Values.DateValues.Format(slot.LogicalDate))}\" href=\"{Html.Encode(target)}\" title=\"{Html.Encode(title)}\" style=\"width:1.1rem;height:1.6rem;border-radius:3px;padding:0\"></a>");
            }

            html.Append("</div>");
        }

        html.Append(Html.Table(
            ["logical date", "trigger", "state", "job", "attempts", "started", "finished", "reason"],
            slots.Select(slot => (IReadOnlyList<string>)
            [
                slot.RunId is { } runId ? Html.Link("/ui/runs/" + runId.ToString(CultureInfo.InvariantCulture), Manifests.Values.DateValues.Format(slot.LogicalDate)) : Html.Encode(Manifests.Values.DateValues.Format(slot.LogicalDate)),
                Html.Encode(slot.Trigger.ToStored() + (slot.Generation > 0 ? $" #{slot.Generation}" : "")),
                Html.State(ScheduleApi.SlotStateName(slot.State)),
                slot.JobName is null ? "" : $"<code>{Html.Encode(slot.JobName)}</code> {Html.Encode(slot.JobState)}",
                slot.Attempts.ToString(CultureInfo.InvariantCulture),
                Html.Time(slot.StartedAt),
                Html.Time(slot.FinishedAt),
                Html.Encode(slot.Reason),
            ]),
            empty: "No slot has run yet.",
            id: "slot-table"));
        return html.ToString();
    }

    private static async Task<IResult> ToggleAsync(string dagId, bool paused, ScheduleService schedules, CancellationToken ct)
    {
        var found = await (paused ? schedules.PauseAsync(dagId, ct) : schedules.UnpauseAsync(dagId, ct));
        return found
            ? Results.Redirect("/ui/schedules/" + Uri.EscapeDataString(dagId))
            : UiLayout.Page("Schedule not found", $"<p class=\"error\">No schedule with dag id {Html.Encode(dagId)}.</p>", StatusCodes.Status404NotFound);
    }

    private static bool IsFragment(HttpContext context) => context.Request.Headers.ContainsKey("X-Sluice-Fragment");
}
