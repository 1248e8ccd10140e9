using System.Text;
using Sluice.Manifests.Binding;
using Sluice.Manifests.Parsing;

namespace Sluice.Manifests;

/// <summary>
/// Reads manifest files (YAML or JSON, several documents per file) into the model, strictly: every problem in a
/// file is reported at once with its position, and bad input never throws.
/// </summary>
public static class ManifestReader
{
    public static readonly IReadOnlyList<string> Extensions = [".yaml", ".yml", ".json"];

    /// <summary>Reads manifest text; <paramref name="path"/> names it in problems and picks JSON for <c>.json</c>.</summary>
    public static ManifestReadResult Read(string text, string path)
    {
        var context = new BindContext(path);
        var parsed = Parse(text, path);
        foreach (var problem in parsed.Problems)
        {
            context.Error(problem.Mark, string.Empty, problem.Message, problem.Hint);
        }

        var manifests = new List<Manifest>();
        foreach (var document in parsed.Documents)
        {
            try
            {
                if (ManifestBinder.Bind(context, document) is { } manifest)
                {
                    manifests.Add(manifest);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A bug in a check must not hide the file's other problems or crash the caller.
                context.Error(document.Start, string.Empty, $"internal error while checking this document ({ex.GetType().Name}: {ex.Message}); please report it");
            }
        }

        if (parsed.Documents.Count == 0 && parsed.Problems.Count == 0)
        {
            context.Error(Mark.Start, string.Empty, "the file holds no manifest", "add a document with apiVersion, kind, metadata and spec");
        }

        manifests = CrossChecks.Check(context, manifests);
        return new ManifestReadResult
        {
            Manifests = manifests,
            Problems = [.. context.Problems.OrderBy(problem => problem.Line).ThenBy(problem => problem.Column)],
            DocumentCount = parsed.Documents.Count,
            FileCount = 1,
        };
    }

    /// <summary>Reads one file; a missing or unreadable file is a problem, not an exception.</summary>
    public static ManifestReadResult ReadFile(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                return FileProblem(path, "no such file", "check the path");
            }

            if (info.Length > ReaderLimits.MaxFileBytes)
            {
                return FileProblem(path, $"the file is {info.Length} bytes; manifests may be at most {ReaderLimits.MaxFileBytes} bytes", "split it into several files");
            }

            var text = File.ReadAllText(path, Encoding.UTF8);
            return Read(text, path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return FileProblem(path, "cannot be read: " + ex.Message, null);
        }
    }

    internal static ParsedFile Parse(string text, string path)
    {
        if (Encoding.UTF8.GetByteCount(text) > ReaderLimits.MaxFileBytes)
        {
            return new ParsedFile([], [new SyntaxProblem(Mark.Start, $"the text is larger than {ReaderLimits.MaxFileBytes} bytes; manifests may be at most that big", "split it into several files")]);
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        return IsJson(text, path) ? JsonNodeReader.Read(text) : YamlNodeReader.Read(text);
    }

    private static bool IsJson(string text, string path)
    {
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var first = text.TrimStart();
        return first.StartsWith('{') || first.StartsWith('[');
    }

    internal static ManifestReadResult FileProblem(string path, string message, string? hint) => new()
    {
        Problems = [new ManifestProblem { Path = path, Line = 1, Column = 1, Field = string.Empty, Message = message, Hint = hint }],
        FileCount = 1,
    };
}
