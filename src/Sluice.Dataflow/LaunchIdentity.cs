using System.Security.Cryptography;
using System.Text;

namespace Sluice.Dataflow;

/// <summary>
/// Who launched a job: the pipeline (or schedule), the Sluice run and the step. It travels as job labels
/// (<c>sluice-pipeline</c>, <c>sluice-run</c>, <c>sluice-step</c>) so that a retry after a launch whose answer was lost
/// finds the job it already started instead of starting a second one. templates.launch and flexTemplates.launch have
/// no <c>clientRequestId</c> field (only jobs.create has), so labels are the identity that survives the round trip.
/// </summary>
public sealed record LaunchIdentity(string Pipeline, long RunId, string Step)
{
    public const string PipelineLabel = "sluice-pipeline";
    public const string RunLabel = "sluice-run";
    public const string StepLabel = "sluice-step";

    /// <summary>The labels, with values made valid for Dataflow (lowercase letters, digits, <c>_</c>, <c>-</c>; ≤ 63 characters).</summary>
    public IReadOnlyDictionary<string, string> Labels => new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [PipelineLabel] = ToLabelValue(Pipeline),
        [RunLabel] = RunId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        [StepLabel] = ToLabelValue(Step),
    };

    /// <summary>True when <paramref name="labels"/> carry this identity.</summary>
    public bool Matches(IReadOnlyDictionary<string, string>? labels)
    {
        if (labels is null)
        {
            return false;
        }

        foreach (var (key, value) in Labels)
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Makes any text a valid label value; long values keep a hash suffix so that they stay distinct.</summary>
    public static string ToLabelValue(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
        {
            builder.Append(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-' ? c : '-');
        }

        var value = builder.ToString();
        if (value.Length <= 63)
        {
            return value;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];
        return value[..54] + "-" + hash;
    }
}
