using System.Text;
using Sluice.Manifests;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sluice.Controller.Intake;

/// <summary>One manifest file sent for applying: its path (for messages) and its text (YAML or JSON).</summary>
public sealed record ManifestFile(string Path, string Text);

/// <summary>What an apply did with one document.</summary>
public enum ApplyAction
{
    /// <summary>Written as a new object version; the watcher takes it in like any upload.</summary>
    Written,

    /// <summary>The object already holds exactly this text; nothing was written (no new run).</summary>
    Unchanged,

    /// <summary>Dry run: it would be written.</summary>
    Planned,
}

/// <summary>One manifest document of an apply, and the bucket object it went (or would go) to.</summary>
/// <param name="Generation">The object's generation (written or unchanged); null for a dry run.</param>
public sealed record AppliedManifest(
    Manifest Manifest,
    string Channel,
    string Bucket,
    string ObjectName,
    long? Generation,
    ApplyAction Action,
    ManifestPlan? Plan = null);

/// <summary>The answer to an apply: the documents and their objects, or every problem found (then nothing was written).</summary>
public sealed record ApplyResult(bool DryRun, int DocumentCount, IReadOnlyList<AppliedManifest> Manifests, IReadOnlyList<ManifestProblem> Problems)
{
    public bool IsValid => Problems.Count == 0;
}

/// <summary>
/// <c>sluice apply</c>: writes manifests into the watched buckets (Rollouts into the rollouts bucket, Schedules and
/// Unschedules into the schedules bucket) with the atomic writer, so that the bucket stays the source of truth and
/// the watcher takes each write in exactly like an upload. Every document of every file is checked first; only when
/// all are valid is anything written. Each document becomes its own object, <c>PREFIX/NAME.yaml</c>, holding the
/// document's own text.
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

    /// <summary>Checks the files as an apply would (syntax, fields, templates, names), writing nothing.</summary>
    public async Task<ApplyResult> ValidateAsync(IReadOnlyList<ManifestFile> files, CancellationToken cancellationToken)
    {
        var (_, count, problems) = await CheckAsync(files, cancellationToken);
        return new ApplyResult(true, count, [], problems);
    }

    /// <param name="dryRun">Validate and plan only; write nothing.</param>
    public async Task<ApplyResult> ApplyAsync(IReadOnlyList<ManifestFile> files, bool dryRun, CancellationToken cancellationToken)
    {
        var (documents, count, problems) = await CheckAsync(files, cancellationToken);
        if (problems.Count > 0)
        {
            return new ApplyResult(dryRun, count, [], problems);
        }

        var applied = new List<AppliedManifest>();
        foreach (var document in documents)
        {
            var manifest = document.Manifest;
            var channel = _buckets.ChannelFor(manifest.Kind);
            var objectName = ObjectNameFor(channel, manifest, document.Json);
            var bucket = _buckets.Get(channel.Name);
            if (dryRun)
            {
                var planner = _planners.FirstOrDefault(p => p.CanPlan(manifest));
                var plan = planner is null ? null : await planner.PlanAsync(manifest, cancellationToken);
                problems.AddRange((plan?.Problems ?? []).Select(p => Problem(document.Path, manifest.Source?.Line ?? 1, "", p)));
                applied.Add(new AppliedManifest(manifest, channel.Name, channel.Uri.Bucket, objectName, null, ApplyAction.Planned, plan));
                continue;
            }

            var bytes = Encoding.UTF8.GetBytes(document.Text);
            var current = await bucket.ReadAsync(objectName, null, cancellationToken);
            if (current is not null && current.Content.Span.SequenceEqual(bytes))
            {
                applied.Add(new AppliedManifest(manifest, channel.Name, channel.Uri.Bucket, objectName, current.Object.Generation, ApplyAction.Unchanged));
                continue;
            }

            var generation = await bucket.WriteAsync(objectName, bytes, cancellationToken);
            applied.Add(new AppliedManifest(manifest, channel.Name, channel.Uri.Bucket, objectName, generation, ApplyAction.Written));
        }

        return new ApplyResult(dryRun, count, applied, problems);
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

    private async Task<(List<Document> Documents, int Count, List<ManifestProblem> Problems)> CheckAsync(
        IReadOnlyList<ManifestFile> files, CancellationToken cancellationToken)
    {
        var documents = new List<Document>();
        var problems = new List<ManifestProblem>();
        var count = 0;
        if (files.Count == 0)
        {
            problems.Add(Problem("(request)", 1, "", "no manifest files were sent; give at least one file with -f"));
            return (documents, count, problems);
        }

        foreach (var file in files)
        {
            var read = ManifestReader.Read(file.Text, file.Path);
            count += read.DocumentCount;
            problems.AddRange(read.Problems);
            if (!read.IsValid)
            {
                continue;
            }

            if (read.DocumentCount == 0)
            {
                problems.Add(Problem(file.Path, 1, "", "the file holds no manifest; write a document with apiVersion: sluice/v1 and kind: Rollout or Schedule"));
                continue;
            }

            var texts = SplitDocuments(file.Text, read);
            var json = LooksLikeJson(file.Text);
            for (var i = 0; i < read.Manifests.Count; i++)
            {
                var manifest = read.Manifests[i];
                var line = manifest.Source?.Line ?? 1;

                // Each object must read back as exactly the document it came from.
                if (texts[i] is not { } text || ManifestReader.Read(text, file.Path) is not { IsValid: true, Manifests.Count: 1 })
                {
                    problems.Add(Problem(file.Path, line, "", $"the {manifest.Kind} '{manifest.Metadata.Name}' cannot be cut out of this file on its own; put each manifest into its own file"));
                    continue;
                }

                var (template, field) = manifest switch
                {
                    RolloutManifest rollout => (rollout.Spec.To.Template, "spec.to.template.gcsPath"),
                    ScheduleManifest schedule => (schedule.Spec.Job.Template, "spec.job.template.gcsPath"),
                    _ => ((TemplateRef?)null, ""),
                };
                if (template is not null && await _templates.CheckAsync(template, cancellationToken) is { } missing)
                {
                    problems.Add(Problem(file.Path, line, field, missing));
                }

                documents.Add(new Document(file.Path, manifest, text, json));
            }
        }

        foreach (var same in documents.GroupBy(d => ObjectNameFor(_buckets.ChannelFor(d.Manifest.Kind), d.Manifest, d.Json)).Where(g => g.Count() > 1))
        {
            var second = same.Skip(1).First();
            problems.Add(Problem(
                second.Path, second.Manifest.Source?.Line ?? 1, "metadata.name",
                $"'{second.Manifest.Metadata.Name}' is applied twice in one request; give each manifest its own metadata.name"));
        }

        return (documents, count, problems);
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
                // From the end of the previous document, so that comments above a document stay with it.
                var start = index == 0 ? 0 : spans[index - 1].End;
                var end = Math.Min(spans[index].End, text.Length);
                texts.Add(CleanDocument(text[Math.Min(start, end)..end]));
            }
            else
            {
                texts.Add(null);
            }
        }

        return texts;
    }

    /// <summary>Drops the document markers (<c>---</c>, <c>...</c>) and surrounding blank lines of one document's text.</summary>
    private static string CleanDocument(string piece)
    {
        var lines = piece.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
        var marker = lines.FindIndex(l => l == "---" || l.StartsWith("--- ", StringComparison.Ordinal));
        if (marker >= 0 && lines.Take(marker).All(l => l.Trim().Length == 0 || l.TrimStart().StartsWith('#')))
        {
            if (lines[marker] == "---")
            {
                lines.RemoveAt(marker);
            }
            else
            {
                lines[marker] = lines[marker][4..];
            }
        }

        lines.RemoveAll(l => l == "...");
        var text = string.Join('\n', lines).Trim('\n', ' ', '\t');
        return text + "\n";
    }

    private static bool LooksLikeJson(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        return trimmed.Length > 0 && trimmed[0] is '{' or '[';
    }

    private static ManifestProblem Problem(string path, int line, string field, string message) =>
        new() { Path = path, Line = line, Column = 1, Field = field, Message = message };

    private sealed record Document(string Path, Manifest Manifest, string Text, bool Json);
}
