using System.Text;
using Sluice.Manifests;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sluice.Controller.Intake;

/// <summary>One manifest document of an apply, and the bucket object it went (or would go) to.</summary>
/// <param name="Generation">The generation written; null for a dry run.</param>
public sealed record AppliedManifest(
    string Kind,
    string Name,
    string Channel,
    string Bucket,
    string ObjectName,
    long? Generation,
    ManifestPlan? Plan = null);

/// <summary>The answer to an apply: the objects written (or, for a dry run, planned), or the problems found.</summary>
public sealed record ApplyResult(bool DryRun, IReadOnlyList<AppliedManifest> Manifests, IReadOnlyList<ManifestProblem> Problems)
{
    public bool IsValid => Problems.Count == 0;
}

/// <summary>
/// <c>sluice apply</c>: writes manifests into the watched buckets (Rollouts into the rollouts bucket, Schedules and
/// Unschedules into the schedules bucket) with the atomic writer, so that the bucket stays the source of truth and
/// the watcher takes each write in exactly like an upload. Each document becomes its own object,
/// <c>PREFIX/NAME.yaml</c>, holding the document's own text; writing it again is a new generation and a new run.
/// </summary>
public sealed class ManifestApplier
{
    private readonly IntakeBuckets _buckets;
    private readonly ITemplateChecker _templates;
    private readonly IReadOnlyList<IManifestPlanner> _planners;

    public ManifestApplier(IntakeBuckets buckets, ITemplateChecker templates, IEnumerable<IManifestPlanner> planners)
    {
        _buckets = buckets;
        _templates = templates;
        _planners = planners.ToArray();
    }

    /// <param name="text">The file's text: YAML (several documents allowed) or JSON.</param>
    /// <param name="path">The file name, for messages.</param>
    /// <param name="dryRun">Validate and plan only; write nothing.</param>
    public async Task<ApplyResult> ApplyAsync(string text, string path, bool dryRun, CancellationToken cancellationToken)
    {
        var read = ManifestReader.Read(text, path);
        if (!read.IsValid)
        {
            return new ApplyResult(dryRun, [], read.Problems);
        }

        if (read.Manifests.Count == 0)
        {
            return new ApplyResult(dryRun, [], [Problem(path, 1, "", "the file holds no manifest; write a document with apiVersion: sluice/v1 and kind: Rollout or Schedule")]);
        }

        var problems = new List<ManifestProblem>();
        foreach (var manifest in read.Manifests)
        {
            var (template, field) = manifest switch
            {
                RolloutManifest rollout => (rollout.Spec.To.Template, "spec.to.template.gcsPath"),
                ScheduleManifest schedule => (schedule.Spec.Job.Template, "spec.job.template.gcsPath"),
                _ => ((TemplateRef?)null, ""),
            };
            if (template is not null && await _templates.CheckAsync(template, cancellationToken) is { } missing)
            {
                problems.Add(Problem(path, manifest.Source?.Line ?? 1, field, missing));
            }
        }

        var names = read.Manifests.GroupBy(m => (m.Kind, m.Metadata.Name)).Where(g => g.Count() > 1).Select(g => g.Key).ToArray();
        foreach (var (kind, name) in names)
        {
            problems.Add(Problem(path, 1, "metadata.name", $"two {kind} documents are named '{name}'; give each its own name"));
        }

        if (problems.Count > 0)
        {
            return new ApplyResult(dryRun, [], problems);
        }

        var texts = SplitDocuments(text, read);
        for (var i = 0; i < texts.Count; i++)
        {
            // Each object must read back as exactly the document it came from.
            var piece = texts[i] is { } documentText ? ManifestReader.Read(documentText, path) : null;
            if (piece is not { IsValid: true, Manifests.Count: 1 })
            {
                var manifest = read.Manifests[i];
                problems.Add(Problem(path, manifest.Source?.Line ?? 1, "", $"the document of {manifest.Kind} '{manifest.Metadata.Name}' cannot be cut out of this file on its own; put each manifest into its own file"));
            }
        }

        if (problems.Count > 0)
        {
            return new ApplyResult(dryRun, [], problems);
        }

        var json = LooksLikeJson(text);
        var applied = new List<AppliedManifest>();
        for (var i = 0; i < read.Manifests.Count; i++)
        {
            var manifest = read.Manifests[i];
            var channel = _buckets.ChannelFor(manifest.Kind);
            var objectName = ObjectNameFor(channel, manifest, json);
            if (dryRun)
            {
                var planner = _planners.FirstOrDefault(p => p.CanPlan(manifest));
                var plan = planner is null ? null : await planner.PlanAsync(manifest, cancellationToken);
                if (plan is { Problems.Count: > 0 })
                {
                    problems.AddRange(plan.Problems.Select(p => Problem(path, manifest.Source?.Line ?? 1, "", p)));
                }

                applied.Add(new AppliedManifest(manifest.Kind.ToString(), manifest.Metadata.Name, channel.Name, channel.Uri.Bucket, objectName, null, plan));
                continue;
            }

            var generation = await _buckets.Get(channel.Name).WriteAsync(objectName, Encoding.UTF8.GetBytes(texts[i]!), cancellationToken);
            applied.Add(new AppliedManifest(manifest.Kind.ToString(), manifest.Metadata.Name, channel.Name, channel.Uri.Bucket, objectName, generation));
        }

        return new ApplyResult(dryRun, applied, problems);
    }

    /// <summary><c>PREFIX/NAME.yaml</c> (or <c>.json</c>) in the channel's bucket.</summary>
    public static string ObjectNameFor(IntakeChannel channel, Manifest manifest, bool json)
    {
        var prefix = channel.Uri.Prefix;
        if (prefix.Length > 0 && !prefix.EndsWith('/'))
        {
            prefix += "/";
        }

        var name = new StringBuilder(manifest.Metadata.Name.Length);
        foreach (var c in manifest.Metadata.Name)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-');
        }

        return prefix + name.ToString().Trim('.') + (json ? ".json" : ".yaml");
    }

    /// <summary>
    /// The text of each valid document, as written by the user (comments included); null for a document that cannot
    /// be cut out of the file exactly.
    /// </summary>
    internal static IReadOnlyList<string?> SplitDocuments(string text, ManifestReadResult read)
    {
        if (read.DocumentCount == 1 && read.Manifests.Count == 1)
        {
            return [text];
        }

        var spans = new List<(int Start, int End)>();
        try
        {
            var parser = new Parser(new StringReader(text));
            var start = -1;
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case DocumentStart documentStart:
                        start = (int)documentStart.Start.Index;
                        break;
                    case DocumentEnd documentEnd when start >= 0:
                        spans.Add((start, (int)documentEnd.End.Index));
                        start = -1;
                        break;
                }
            }
        }
        catch (YamlException)
        {
            spans.Clear();
        }

        var texts = new List<string?>(read.Manifests.Count);
        foreach (var manifest in read.Manifests)
        {
            var index = manifest.Source?.DocumentIndex ?? -1;
            if (spans.Count == read.DocumentCount && index >= 0 && index < spans.Count)
            {
                var (start, end) = spans[index];
                var piece = text[start..Math.Min(end, text.Length)].Trim();
                if (piece.StartsWith("---", StringComparison.Ordinal))
                {
                    piece = piece[3..].TrimStart();
                }

                if (piece.EndsWith("...", StringComparison.Ordinal))
                {
                    piece = piece[..^3].TrimEnd();
                }

                texts.Add(piece + "\n");
            }
            else
            {
                texts.Add(null);
            }
        }

        return texts;
    }

    private static bool LooksLikeJson(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        return trimmed.Length > 0 && trimmed[0] is '{' or '[';
    }

    private static ManifestProblem Problem(string path, int line, string field, string message) =>
        new() { Path = path, Line = line, Column = 1, Field = field, Message = message };
}
