using System.Globalization;
using System.Text;
using System.Text.Json;
using Sluice.Server.Api;

namespace Sluice.Cli.Output;

/// <summary>Output for people (aligned columns, like kubectl) and for scripts (JSON).</summary>
public static class CliOutput
{
    /// <summary>Writes aligned columns with an upper-case header row; empty cells show as "-".</summary>
    public static void WriteTable(TextWriter output, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var all = rows.Select(r => r.Select(c => string.IsNullOrEmpty(c) ? "-" : c.ReplaceLineEndings(" ")).ToArray()).ToList();
        var widths = headers.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        var line = new StringBuilder();
        void Write(IReadOnlyList<string> cells)
        {
            line.Clear();
            for (var i = 0; i < headers.Count; i++)
            {
                var cell = i < cells.Count ? cells[i] : "";
                line.Append(i == headers.Count - 1 ? cell : cell.PadRight(widths[i] + 3));
            }

            output.WriteLine(line.ToString().TrimEnd());
        }

        Write(headers.Select(h => h.ToUpperInvariant()).ToArray());
        foreach (var row in all)
        {
            Write(row);
        }
    }

    /// <summary>Writes label: value lines for one object (describe).</summary>
    public static void WriteFacts(TextWriter output, IEnumerable<(string Label, string? Value)> facts)
    {
        var list = facts.Where(f => !string.IsNullOrEmpty(f.Value)).ToList();
        var width = list.Count == 0 ? 0 : list.Max(f => f.Label.Length) + 1;
        foreach (var (label, value) in list)
        {
            output.WriteLine($"{(label + ":").PadRight(width)} {value}");
        }
    }

    private static readonly JsonSerializerOptions Indented = new(SluiceJson.Options) { WriteIndented = true };

    public static void WriteJson<T>(TextWriter output, T value) => output.WriteLine(JsonSerializer.Serialize(value, Indented));

    /// <summary>A time as UTC, to the second.</summary>
    public static string? Time(DateTimeOffset? time) =>
        time?.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>A short age like kubectl's: 12s, 5m, 3h, 2d.</summary>
    public static string? Age(DateTimeOffset? time, DateTimeOffset now)
    {
        if (time is not { } t)
        {
            return null;
        }

        var age = now - t;
        return age.TotalSeconds < 60 ? $"{Math.Max(0, (int)age.TotalSeconds)}s"
            : age.TotalMinutes < 60 ? $"{(int)age.TotalMinutes}m"
            : age.TotalHours < 48 ? $"{(int)age.TotalHours}h"
            : $"{(int)age.TotalDays}d";
    }

    /// <summary>A duration as people read it: 850ms, 42s, 3m10s, 2h5m.</summary>
    public static string? Duration(TimeSpan? duration) => duration switch
    {
        null => null,
        { TotalSeconds: < 1 } d => $"{(int)d.TotalMilliseconds}ms",
        { TotalMinutes: < 1 } d => $"{(int)d.TotalSeconds}s",
        { TotalHours: < 1 } d => $"{(int)d.TotalMinutes}m{d.Seconds}s",
        var d => $"{(int)d.Value.TotalHours}h{d.Value.Minutes}m",
    };
}
