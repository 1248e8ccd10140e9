using System.Globalization;
using System.Text;
using System.Text.Json;
using Sluice.Server.Api;

namespace Sluice.Server.Ui;

/// <summary>Pieces of UI the pages share (the runs page and the flows' rollout pages).</summary>
public static class UiComponents
{
    /// <summary>
    /// A run's steps as a timeline: one row per step with its state, attempt, start, duration, and reason or output.
    /// The rollout pages of the flows use it too.
    /// </summary>
    public static string StepTimeline(IReadOnlyList<StepResource> steps)
    {
        if (steps.Count == 0)
        {
            return "<p class=\"empty\">No steps.</p>";
        }

        var longest = Math.Max(1, steps.Max(s => s.DurationSeconds ?? 0));
        var rows = new StringBuilder("<ol class=\"timeline\">");
        foreach (var step in steps)
        {
            var width = step.DurationSeconds is { } d ? Math.Max(2, (int)Math.Round(100 * d / longest)) : 0;
            var detail = step.Reason is not null
                ? $"<div class=\"reason\">{Html.Encode(step.Reason)}</div>"
                : step.Output is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } output
                    ? $"<div class=\"output\"><code>{Html.Encode(Truncate(output.GetRawText(), 300))}</code></div>"
                    : "";
            var waiting = step.State is "waiting" && step.DueAt is { } due ? $" · next check {Html.Time(due)}" : "";
            rows.Append(CultureInfo.InvariantCulture, $"""
                <li class="step" data-step="{Html.Encode(step.Name)}">
                <div class="step-head"><strong>{Html.Encode(step.Name)}</strong> <span class="muted">{Html.Encode(step.Kind)}</span> {Html.State(step.State)}
                {(step.Attempt > 1 ? $"<span class=\"muted\">attempt {step.Attempt}</span>" : "")}
                <span class="muted">{Html.Time(step.StartedAt)} {Html.Duration(step.DurationSeconds is { } s ? TimeSpan.FromSeconds(s) : null)}{waiting}</span></div>
                <div class="bar"><span class="state-{Html.StateClass(step.State)}" style="width:{width}%"></span></div>
                {detail}
                </li>
                """);
        }

        return rows.Append("</ol>").ToString();
    }

    /// <summary>Log lines as a block (oldest first).</summary>
    public static string Logs(IEnumerable<StepLogResource> logs)
    {
        var text = new StringBuilder();
        foreach (var log in logs)
        {
            text.Append(CultureInfo.InvariantCulture, $"{log.At.UtcDateTime:HH:mm:ss.fff}  {log.Step}{(log.Attempt > 1 ? $"#{log.Attempt}" : "")}  {log.Message}\n");
        }

        return text.Length == 0 ? "<p class=\"empty\">No log lines yet.</p>" : $"<pre class=\"logs\">{Html.Encode(text.ToString())}</pre>";
    }

    private static string Truncate(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";
}
