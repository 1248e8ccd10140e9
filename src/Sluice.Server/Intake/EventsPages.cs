using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Controller.Intake;
using Sluice.Server.Modules;
using Sluice.Server.Ui;

namespace Sluice.Server.Intake;

/// <summary>The Events page: every bucket event with its state, what it started, and why a rejected one was rejected.</summary>
internal static class EventsPages
{
    private const int PageSize = 100;

    public static void Map(SluiceEndpoints endpoints)
    {
        endpoints.Navigation.Add("Events", "/ui/events", order: 50);
        endpoints.Ui.MapGet("/events", PageAsync);
        endpoints.Ui.MapGet("/events/list", async (EventLedger ledger, string? state, CancellationToken ct) =>
            UiLayout.Fragment(await TableAsync(ledger, state, ct)));
        endpoints.Overview.Add("events", "Events", (context, ct) => OverviewAsync(context, ct), order: 50);
    }

    private static async Task<IResult> PageAsync(EventLedger ledger, IntakeBuckets buckets, string? state, CancellationToken cancellationToken)
    {
        var filter = new StringBuilder("<p class=\"filters\">Show: ");
        foreach (var (value, label) in new[] { ("", "all"), ("rejected", "rejected"), ("received", "received"), ("dispatched", "dispatched"), ("ignored", "ignored") })
        {
            var current = (state ?? "") == value;
            var href = value.Length == 0 ? "/ui/events" : $"/ui/events?state={value}";
            filter.Append(current ? $"<strong>{Html.Encode(label)}</strong> " : $"<a href=\"{Html.Encode(href)}\">{Html.Encode(label)}</a> ");
        }

        filter.Append("</p>");
        var watched = string.Join(", ", buckets.Channels.Select(c => $"<code>{Html.Encode(c.Uri.ToString())}</code> ({Html.Encode(c.Name)})"));
        var intro = $"<p>Every object version Sluice takes in from the watched buckets {watched}, once, with what became of it.</p>";
        var listUrl = "/ui/events/list" + (string.IsNullOrEmpty(state) ? "" : "?state=" + Uri.EscapeDataString(state));
        return UiLayout.Page("Events", intro + filter + Html.Live(listUrl, await TableAsync(ledger, state, cancellationToken), "events"));
    }

    private static async Task<string> TableAsync(EventLedger ledger, string? state, CancellationToken cancellationToken)
    {
        var parsed = IntakeEventState.Received;
        if (!string.IsNullOrEmpty(state) && !IntakeNames.TryParseState(state, out parsed))
        {
            return $"<p class=\"error\">'{Html.Encode(state)}' is not an event state; choose received, dispatched, rejected or ignored.</p>";
        }

        var page = await ledger.ListAsync(
            new IntakeEventQuery { States = string.IsNullOrEmpty(state) ? null : [parsed], Limit = PageSize },
            cancellationToken);
        var rows = page.Events.Select(e => (IReadOnlyList<string>)
        [
            Html.Time(e.ReceivedAt),
            $"<code>{Html.Encode(e.Bucket)}/{Html.Encode(e.ObjectName)}</code><br><small>generation {e.Generation.ToString(CultureInfo.InvariantCulture)}{(e.Change == ObjectChange.Deleted ? " · deleted" : "")}</small>",
            Html.Encode(e.Source),
            StateBadge(e.State),
            Actions(e),
            Reason(e),
        ]);
        var more = page.NextBeforeId is null ? "" : $"<p class=\"empty\">Showing the newest {PageSize}; use <code>sluice get events</code> or <code>GET /v1/events</code> for older ones.</p>";
        return Html.Table(["received", "object", "source", "state", "led to", "reason"], rows,
            string.IsNullOrEmpty(state) ? "No events yet: put a manifest into a watched bucket, or run sluice apply -f FILE." : $"No {state} events.",
            id: "events-table") + more;
    }

    private static string StateBadge(IntakeEventState state)
    {
        var name = state.ToStored();
        var css = state switch
        {
            IntakeEventState.Dispatched => "ok",
            IntakeEventState.Rejected => "bad",
            IntakeEventState.Received => "busy",
            _ => "idle",
        };
        return $"<span class=\"state state-{css}\" data-state=\"{name}\">{name}</span>";
    }

    private static string Actions(IntakeEvent e) =>
        string.Join("<br>", e.Dispatches.Select(d =>
        {
            var run = d.RunId is { } id ? $" · run {id.ToString(CultureInfo.InvariantCulture)}" : "";
            var what = d.Action switch
            {
                IntakeActions.RolloutStarted => $"rollout of {Html.Encode(d.Target)}",
                IntakeActions.ScheduleRegistered => $"schedule {Html.Encode(d.Target)} registered",
                IntakeActions.Unscheduled => $"schedule {Html.Encode(d.Target)} removed",
                _ => $"{Html.Encode(d.Action)} {Html.Encode(d.Target)}",
            };
            return d.Name.Length > 0 ? $"{what} <small>({Html.Encode(d.Kind)} {Html.Encode(d.Name)}){run}</small>" : $"{what}{run}";
        }));

    private static string Reason(IntakeEvent e)
    {
        if (e.Problems.Count == 0)
        {
            return e.Reason is null ? "" : $"<span class=\"reason\">{Html.Encode(e.Reason)}</span>";
        }

        var problems = string.Concat(e.Problems.Select(p => $"<li><code>{Html.Encode(p.ToString())}</code></li>"));
        return $"<details class=\"reason\"><summary>{Html.Encode(e.Reason)}</summary><ul>{problems}</ul></details>";
    }

    private static async Task<string> OverviewAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var ledger = context.RequestServices.GetRequiredService<EventLedger>();
        var counts = await ledger.CountByStateAsync(cancellationToken);
        var latestRejected = (await ledger.ListAsync(new IntakeEventQuery { States = [IntakeEventState.Rejected], Limit = 1 }, cancellationToken)).Events;
        var facts = Html.Facts(Enum.GetValues<IntakeEventState>().Select(s => (s.ToStored(), counts[s].ToString(CultureInfo.InvariantCulture))));
        var rejected = latestRejected.Count == 0
            ? ""
            : $"<p>Last rejected: <code>{Html.Encode(latestRejected[0].Location)}</code> — {Html.Encode(latestRejected[0].Reason)} <a href=\"/ui/events?state=rejected\">all rejected</a></p>";
        return facts + rejected;
    }
}
