using System.Globalization;
using System.Text.Json;

namespace Sluice.Dataflow;

/// <summary>Answer of jobs.getMetrics (schema <c>JobMetrics</c>).</summary>
public sealed class JobMetrics
{
    public DateTimeOffset? MetricTime { get; set; }
    public List<MetricUpdate>? Metrics { get; set; }
}

/// <summary>Schema <c>MetricUpdate</c>. The value fields are typed <c>any</c> in the discovery document.</summary>
public sealed class MetricUpdate
{
    public MetricStructuredName? Name { get; set; }
    public string? Kind { get; set; }
    public bool? Cumulative { get; set; }
    public JsonElement? Scalar { get; set; }
    public JsonElement? MeanSum { get; set; }
    public JsonElement? MeanCount { get; set; }
    public JsonElement? Set { get; set; }
    public JsonElement? Distribution { get; set; }
    public JsonElement? Gauge { get; set; }
    public JsonElement? Internal { get; set; }
    public DateTimeOffset? UpdateTime { get; set; }

    /// <summary>The scalar value as a number, when it is one (numbers may also travel as strings).</summary>
    public double? ScalarValue()
    {
        if (Scalar is not { } scalar)
        {
            return null;
        }

        return scalar.ValueKind switch
        {
            JsonValueKind.Number => scalar.GetDouble(),
            JsonValueKind.String when double.TryParse(scalar.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            JsonValueKind.True => 1,
            JsonValueKind.False => 0,
            _ => null,
        };
    }
}

/// <summary>Schema <c>MetricStructuredName</c>.</summary>
public sealed class MetricStructuredName
{
    public string? Origin { get; set; }
    public string? Name { get; set; }
    public Dictionary<string, string>? Context { get; set; }
}
