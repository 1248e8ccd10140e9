using System.Globalization;
using Sluice.Dataflow;

namespace Sluice.Emulator;

/// <summary>
/// What a job's output lines mean (docs/emulator.md). <c>@@metric counter NAME DELTA [key=value…]</c> adds to a counter,
/// <c>@@metric gauge NAME VALUE [key=value…]</c> sets a gauge (<c>origin=…</c> overrides the default origin <c>user</c>),
/// <c>@@workers N</c> asks for N workers (an autoscaling event). Any other line is a job message; a leading
/// <c>ERROR:</c>, <c>WARNING:</c>, <c>INFO:</c>, <c>DETAILED:</c> or <c>DEBUG:</c> sets its importance, otherwise stdout
/// lines are BASIC and stderr lines ERROR.
/// </summary>
internal static class LineProtocol
{
    public const string MetricPrefix = "@@metric ";
    public const string WorkersPrefix = "@@workers ";

    public static LineKind Parse(string line, bool fromStderr)
    {
        if (line.StartsWith(MetricPrefix, StringComparison.Ordinal))
        {
            return ParseMetric(line) is { } metric ? metric : new MessageLine(JobMessageImportance.Warning, $"Ignored malformed metric line: {line}");
        }

        if (line.StartsWith(WorkersPrefix, StringComparison.Ordinal))
        {
            return int.TryParse(line.AsSpan(WorkersPrefix.Length).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var workers) && workers >= 0
                ? new WorkersLine(workers)
                : new MessageLine(JobMessageImportance.Warning, $"Ignored malformed workers line: {line}");
        }

        foreach (var (prefix, importance) in Prefixes)
        {
            if (line.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return new MessageLine(importance, line[prefix.Length..].TrimStart());
            }
        }

        return new MessageLine(fromStderr ? JobMessageImportance.Error : JobMessageImportance.Basic, line);
    }

    private static readonly (string Prefix, JobMessageImportance Importance)[] Prefixes =
    [
        ("ERROR:", JobMessageImportance.Error),
        ("WARNING:", JobMessageImportance.Warning),
        ("WARN:", JobMessageImportance.Warning),
        ("INFO:", JobMessageImportance.Basic),
        ("BASIC:", JobMessageImportance.Basic),
        ("DETAILED:", JobMessageImportance.Detailed),
        ("DEBUG:", JobMessageImportance.Debug),
    ];

    private static MetricLine? ParseMetric(string line)
    {
        var parts = line[MetricPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length < 3 || parts[0] is not ("counter" or "gauge")
            || !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            return null;
        }

        var origin = "user";
        Dictionary<string, string>? context = null;
        foreach (var pair in parts.Skip(3))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                return null;
            }

            var key = pair[..equals];
            var text = pair[(equals + 1)..];
            if (key == "origin")
            {
                origin = text;
            }
            else
            {
                (context ??= new Dictionary<string, string>(StringComparer.Ordinal))[key] = text;
            }
        }

        return new MetricLine(parts[0] == "counter", parts[1], value, origin, context);
    }
}

internal abstract record LineKind;

internal sealed record MessageLine(JobMessageImportance Importance, string Text) : LineKind;

internal sealed record MetricLine(bool IsCounter, string Name, double Value, string Origin, Dictionary<string, string>? Context) : LineKind;

internal sealed record WorkersLine(int Workers) : LineKind;
