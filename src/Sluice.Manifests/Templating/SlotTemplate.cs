using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Sluice.Manifests.Templating;

/// <summary>
/// A string with slot macros: <c>{{ ds }}</c>, <c>{{ ds_nodash }}</c>, <c>{{ ts }}</c>, <c>{{ ts_nodash }}</c>,
/// <c>{{ logical_date }}</c>, <c>{{ data_interval_start }}</c>, <c>{{ data_interval_end }}</c>, <c>{{ dag_id }}</c>,
/// <c>{{ run_id }}</c>. Date macros take filters: <c>| utc</c>, <c>| format('yyyyMMdd')</c> (.NET custom format),
/// <c>| strftime('%Y%m%d')</c> (Python style, as in Airflow's <c>logical_date.strftime(…)</c>, also accepted).
/// Dates are rendered in the schedule's time zone unless <c>| utc</c> comes first.
/// </summary>
public sealed partial class SlotTemplate
{
    /// <summary>Macro names and what they render to.</summary>
    public static readonly IReadOnlyDictionary<string, string> Macros = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ds"] = "the logical date as yyyy-MM-dd",
        ["ds_nodash"] = "the logical date as yyyyMMdd",
        ["ts"] = "the logical date-time as ISO-8601 with offset, 2026-11-01T00:00:00+01:00",
        ["ts_nodash"] = "the logical date-time as yyyyMMddTHHmmss",
        ["logical_date"] = "the logical date-time (the start of the data interval)",
        ["data_interval_start"] = "the start of the data interval",
        ["data_interval_end"] = "the end of the data interval",
        ["dag_id"] = "the schedule's dagId",
        ["run_id"] = "the run's id",
    };

    public static readonly IReadOnlyList<string> Filters = ["utc", "format", "strftime"];

    private readonly IReadOnlyList<Segment> _segments;

    private SlotTemplate(string text, IReadOnlyList<Segment> segments)
    {
        Text = text;
        _segments = segments;
    }

    public string Text { get; }

    public bool HasMacros => _segments.Any(segment => segment.Macro is not null);

    public static bool ContainsMacro(string text) => text.Contains("{{", StringComparison.Ordinal) || text.Contains("}}", StringComparison.Ordinal);

    public static SlotTemplate Parse(string text) =>
        TryParse(text, out var template, out var error, out _) ? template! : throw new FormatException(error);

    public static bool TryParse(string text, out SlotTemplate? template, out string? error, out string? hint)
    {
        template = null;
        error = null;
        hint = null;
        var segments = new List<Segment>();
        var position = 0;
        while (position < text.Length)
        {
            var open = text.IndexOf("{{", position, StringComparison.Ordinal);
            var strayClose = text.IndexOf("}}", position, StringComparison.Ordinal);
            if (strayClose >= 0 && (open < 0 || strayClose < open))
            {
                error = $"'}}}}' at character {strayClose + 1} closes no macro";
                hint = "write macros as {{ ds }}";
                return false;
            }

            if (open < 0)
            {
                segments.Add(new Segment(text[position..], null, []));
                break;
            }

            if (open > position)
            {
                segments.Add(new Segment(text[position..open], null, []));
            }

            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"the macro starting at character {open + 1} is not closed";
                hint = "end it with }}, e.g. {{ ds }}";
                return false;
            }

            if (!TryParseMacro(text[(open + 2)..close], out var segment, out error, out hint))
            {
                return false;
            }

            segments.Add(segment!);
            position = close + 2;
        }

        template = new SlotTemplate(text, segments);
        return true;
    }

    public string Render(SlotContext context)
    {
        var text = new StringBuilder();
        foreach (var segment in _segments)
        {
            text.Append(segment.Macro is null ? segment.Literal : RenderMacro(segment, context));
        }

        return text.ToString();
    }

    private static string RenderMacro(Segment segment, SlotContext context)
    {
        switch (segment.Macro)
        {
            case "dag_id":
                return context.DagId;
            case "run_id":
                return context.RunId;
        }

        var value = segment.Macro switch
        {
            "data_interval_start" => context.Slot.DataIntervalStart,
            "data_interval_end" => context.Slot.DataIntervalEnd,
            _ => context.Slot.LogicalDate,
        };
        string? format = null;
        foreach (var filter in segment.Filters)
        {
            switch (filter.Name)
            {
                case "utc":
                    value = value.ToUniversalTime();
                    break;
                case "format":
                    format = filter.Argument;
                    break;
                case "strftime":
                    return Strftime.Format(value, filter.Argument!);
            }
        }

        format ??= segment.Macro switch
        {
            "ds" => "yyyy-MM-dd",
            "ds_nodash" => "yyyyMMdd",
            "ts_nodash" => "yyyyMMdd'T'HHmmss",
            _ => "yyyy-MM-dd'T'HH:mm:sszzz",
        };
        return value.ToString(format, CultureInfo.InvariantCulture);
    }

    private static bool TryParseMacro(string body, out Segment? segment, out string? error, out string? hint)
    {
        segment = null;
        error = null;
        hint = null;
        var match = MacroPattern().Match(body);
        if (!match.Success)
        {
            error = $"'{{{{{body}}}}}' is not a macro";
            hint = "write a macro as {{ name }} or {{ name | format('yyyyMMdd') }}, e.g. {{ ds }}";
            return false;
        }

        var name = match.Groups["name"].Value;
        if (!Macros.ContainsKey(name))
        {
            error = $"unknown macro '{name}'";
            hint = Suggestions(name) ?? "the macros are " + string.Join(", ", Macros.Keys);
            return false;
        }

        var filters = new List<Filter>();
        if (match.Groups["method"].Success)
        {
            filters.Add(new Filter("strftime", Unquote(match.Groups["methodArg"].Value)));
        }

        foreach (Capture capture in match.Groups["filter"].Captures)
        {
            var filterMatch = FilterPattern().Match(capture.Value);
            var filterName = filterMatch.Groups["fname"].Value;
            var argument = filterMatch.Groups["arg"].Success ? Unquote(filterMatch.Groups["arg"].Value) : null;
            if (!Filters.Contains(filterName))
            {
                error = $"unknown filter '{filterName}' on the macro '{name}'";
                hint = Values.Suggestions.DidYouMean(filterName, Filters) ?? "the filters are utc, format('…') and strftime('…')";
                return false;
            }

            if (filterName == "utc" && argument is not null)
            {
                error = "the filter 'utc' takes no argument";
                hint = "write {{ " + name + " | utc }}";
                return false;
            }

            if (filterName != "utc" && string.IsNullOrEmpty(argument))
            {
                error = $"the filter '{filterName}' needs a quoted format";
                hint = filterName == "format" ? "write e.g. | format('yyyyMMdd')" : "write e.g. | strftime('%Y%m%d')";
                return false;
            }

            filters.Add(new Filter(filterName, argument));
        }

        if (filters.Count > 0 && name is "dag_id" or "run_id")
        {
            error = $"the macro '{name}' is not a date and takes no filter";
            return false;
        }

        if (filters.Count(filter => filter.Name is "format" or "strftime") > 1
            || filters.FindIndex(filter => filter.Name == "utc") > filters.FindIndex(filter => filter.Name is "format" or "strftime") && filters.Exists(filter => filter.Name is "format" or "strftime"))
        {
            error = $"the macro '{name}' takes at most one format, after '| utc'";
            hint = "write e.g. {{ " + name + " | utc | format('yyyyMMddHH') }}";
            return false;
        }

        foreach (var filter in filters)
        {
            if (filter.Name == "format" && !CheckFormat(filter.Argument!, out error))
            {
                return false;
            }

            if (filter.Name == "strftime" && !Strftime.TryCheck(filter.Argument!, out error))
            {
                return false;
            }
        }

        segment = new Segment(null, name, filters);
        return true;
    }

    private static string? Suggestions(string name) => Values.Suggestions.DidYouMean(name, Macros.Keys);

    private static bool CheckFormat(string format, out string? error)
    {
        error = null;
        try
        {
            _ = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero).ToString(format, CultureInfo.InvariantCulture);
            return true;
        }
        catch (FormatException)
        {
            error = $"'{format}' is not a valid date format; use letters such as yyyy MM dd HH mm ss";
            return false;
        }
    }

    private static string Unquote(string quoted) => quoted.Length >= 2 ? quoted[1..^1] : quoted;

    // name, optional .strftime('…'), then | filters; quotes may be ' or ".
    [GeneratedRegex(@"^\s*(?<name>[A-Za-z_][A-Za-z0-9_]*)(?<method>\.strftime\(\s*(?<methodArg>'[^']*'|""[^""]*"")\s*\))?\s*(\|\s*(?<filter>[A-Za-z_][A-Za-z0-9_]*\s*(\(\s*('[^']*'|""[^""]*"")\s*\))?)\s*)*$")]
    private static partial Regex MacroPattern();

    [GeneratedRegex(@"^(?<fname>[A-Za-z_][A-Za-z0-9_]*)\s*(\(\s*(?<arg>'[^']*'|""[^""]*"")\s*\))?$")]
    private static partial Regex FilterPattern();

    private sealed record Segment(string? Literal, string? Macro, IReadOnlyList<Filter> Filters);

    private sealed record Filter(string Name, string? Argument);
}
