using System.Globalization;
using System.Text;

namespace Sluice.Server.Ui;

/// <summary>Small helpers for server-rendered HTML. Everything that comes from users or the store goes through <see cref="Encode"/>.</summary>
public static class Html
{
    public static string Encode(string? text) => System.Net.WebUtility.HtmlEncode(text ?? "");

    /// <summary>Encodes a value for a URL path segment or query value inside an attribute.</summary>
    public static string Url(string text) => Encode(Uri.EscapeDataString(text));

    /// <summary>A link (the text is encoded).</summary>
    public static string Link(string href, string text) => $"<a href=\"{Encode(href)}\">{Encode(text)}</a>";

    /// <summary>A timestamp as UTC text with the full ISO value in the tooltip; empty for null.</summary>
    public static string Time(DateTimeOffset? time) =>
        time is { } t
            ? $"<time datetime=\"{t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\" title=\"{t.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}\">{t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}</time>"
            : "";

    /// <summary>A duration as people read it: 850ms, 42s, 3m 10s, 2h 5m.</summary>
    public static string Duration(TimeSpan? duration)
    {
        if (duration is not { } d)
        {
            return "";
        }

        if (d < TimeSpan.FromSeconds(1))
        {
            return $"{(int)d.TotalMilliseconds}ms";
        }

        if (d < TimeSpan.FromMinutes(1))
        {
            return $"{d.TotalSeconds:0.#}s".Replace(',', '.');
        }

        return d < TimeSpan.FromHours(1) ? $"{(int)d.TotalMinutes}m {d.Seconds}s" : $"{(int)d.TotalHours}h {d.Minutes}m";
    }

    /// <summary>A coloured badge for a state (run, step, job or schedule state); the CSS class is derived from the state.</summary>
    public static string State(string? state)
    {
        if (string.IsNullOrEmpty(state))
        {
            return "";
        }

        var css = StateClass(state);
        return $"<span class=\"state state-{css}\" data-state=\"{Encode(state)}\">{Encode(state)}</span>";
    }

    /// <summary>The colour group of a state: ok, bad, busy, idle or other.</summary>
    public static string StateClass(string state)
    {
        var s = state.ToLowerInvariant().Replace("job_state_", "", StringComparison.Ordinal);
        return s switch
        {
            "succeeded" or "done" or "stable" or "healthy" or "active" or "accepted" => "ok",
            "failed" or "cancelled" or "canceled" or "rejected" or "rolled-back" or "rolledback" or "error" => "bad",
            "running" or "waiting" or "queued" or "pending" or "draining" or "cancelling" or "starting" or "rolling-out" => "busy",
            "warning" => "busy",
            "paused" or "skipped" or "stopped" or "drained" or "unscheduled" or "updated" or "basic" or "ended" or "superseded" => "idle",
            _ => "other",
        };
    }

    /// <summary>A table; cells are HTML (encode values yourself). Shows <paramref name="empty"/> when there are no rows.</summary>
    public static string Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, string empty = "Nothing yet.", string? id = null)
    {
        var body = new StringBuilder();
        var count = 0;
        foreach (var row in rows)
        {
            count++;
            body.Append("<tr>");
            foreach (var cell in row)
            {
                body.Append("<td>").Append(cell).Append("</td>");
            }

            body.Append("</tr>");
        }

        if (count == 0)
        {
            return $"<p class=\"empty\"{(id is null ? "" : $" id=\"{Encode(id)}\"")}>{Encode(empty)}</p>";
        }

        var head = string.Concat(headers.Select(h => $"<th>{Encode(h)}</th>"));
        return $"<table{(id is null ? "" : $" id=\"{Encode(id)}\"")}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>";
    }

    /// <summary>
    /// A region refreshed in the browser without reloading: every couple of seconds the page fetches
    /// <paramref name="fragmentUrl"/> (which returns the inner HTML) and swaps it in when it changed.
    /// </summary>
    public static string Live(string fragmentUrl, string innerHtml, string? id = null) =>
        $"<div class=\"live\" data-live=\"{Encode(fragmentUrl)}\"{(id is null ? "" : $" id=\"{Encode(id)}\"")}>{innerHtml}</div>";

    /// <summary>A button that POSTs to <paramref name="action"/> (a plain form; the session cookie is SameSite=Strict).</summary>
    public static string PostButton(string action, string label, IReadOnlyDictionary<string, string>? fields = null, string? confirm = null, string css = "")
    {
        var hidden = fields is null ? "" : string.Concat(fields.Select(f => $"<input type=\"hidden\" name=\"{Encode(f.Key)}\" value=\"{Encode(f.Value)}\">"));
        var onSubmit = confirm is null ? "" : $" onsubmit=\"return confirm('{Encode(confirm.Replace("'", "\\'", StringComparison.Ordinal))}')\"";
        return $"<form method=\"post\" action=\"{Encode(action)}\" class=\"inline\"{onSubmit}>{hidden}<button type=\"submit\" class=\"{Encode(css)}\">{Encode(label)}</button></form>";
    }

    /// <summary>A definition list of label → HTML value pairs (values are HTML; encode them yourself).</summary>
    public static string Facts(IEnumerable<(string Label, string ValueHtml)> facts) =>
        "<dl class=\"facts\">" + string.Concat(facts.Select(f => $"<dt>{Encode(f.Label)}</dt><dd>{f.ValueHtml}</dd>")) + "</dl>";
}
