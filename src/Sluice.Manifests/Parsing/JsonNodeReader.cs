using System.Text;
using System.Text.Json;

namespace Sluice.Manifests.Parsing;

/// <summary>
/// Reads JSON into <see cref="Node"/> trees with line and column of every value. Several documents per file:
/// either a top-level array of objects, or several top-level values one after another (JSON Lines).
/// Comments are skipped; duplicate keys are an error.
/// </summary>
internal static class JsonNodeReader
{
    public static ParsedFile Read(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var lines = new LineIndex(bytes);
        var documents = new List<ParsedDocument>();
        var problems = new List<SyntaxProblem>();
        var options = new JsonReaderOptions
        {
            AllowMultipleValues = true,
            CommentHandling = JsonCommentHandling.Skip,
            MaxDepth = ReaderLimits.MaxDepth + 2,
        };
        var reader = new Utf8JsonReader(bytes, options);
        var roots = new List<Node>();
        try
        {
            while (reader.Read())
            {
                roots.Add(ReadValue(ref reader, lines, depth: 0));
            }
        }
        catch (JsonException ex)
        {
            var mark = new Mark((int)(ex.LineNumber ?? 0) + 1, lines.ColumnOf((int)(ex.LineNumber ?? 0), (int)(ex.BytePositionInLine ?? 0)));
            problems.Add(new SyntaxProblem(mark, "invalid JSON: " + CleanMessage(ex.Message), "check for a missing comma, quote or bracket just before this position"));
        }
        catch (ReaderLimitException ex)
        {
            problems.Add(new SyntaxProblem(ex.Mark, ex.Message));
        }

        // A single top-level array holds several documents.
        IEnumerable<Node> docs = roots.Count == 1 && roots[0] is SequenceNode list ? list.Items : roots;
        foreach (var root in docs)
        {
            if (documents.Count >= ReaderLimits.MaxDocuments)
            {
                problems.Add(new SyntaxProblem(root.Start, $"a file may hold at most {ReaderLimits.MaxDocuments} documents; split it into several files"));
                break;
            }

            documents.Add(new ParsedDocument(documents.Count, root.Start, root));
        }

        return new ParsedFile(documents, problems);
    }

    private static Node ReadValue(ref Utf8JsonReader reader, LineIndex lines, int depth)
    {
        var mark = lines.MarkOf((int)reader.TokenStartIndex);
        if (depth > ReaderLimits.MaxDepth)
        {
            throw new ReaderLimitException(mark, $"values are nested more than {ReaderLimits.MaxDepth} levels deep; flatten the document");
        }

        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                {
                    var mapping = new MappingNode(mark);
                    var seen = new Dictionary<string, Mark>(StringComparer.Ordinal);
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                    {
                        var keyMark = lines.MarkOf((int)reader.TokenStartIndex);
                        var name = reader.GetString() ?? string.Empty;
                        if (!seen.TryAdd(name, keyMark))
                        {
                            throw new ReaderLimitException(keyMark, $"the field '{name}' appears twice in this object (first on line {seen[name].Line}); keep one");
                        }

                        reader.Read();
                        var value = ReadValue(ref reader, lines, depth + 1);
                        value.KeyMark = keyMark;
                        mapping.Add(new ScalarNode(keyMark, name, ScalarKind.String), value);
                        if (mapping.Weight > ReaderLimits.MaxNodesPerDocument)
                        {
                            throw new ReaderLimitException(mark, $"the document holds more than {ReaderLimits.MaxNodesPerDocument} values; split it");
                        }
                    }

                    return mapping;
                }

            case JsonTokenType.StartArray:
                {
                    var sequence = new SequenceNode(mark);
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    {
                        sequence.Add(ReadValue(ref reader, lines, depth + 1));
                        if (sequence.Weight > ReaderLimits.MaxNodesPerDocument)
                        {
                            throw new ReaderLimitException(mark, $"the document holds more than {ReaderLimits.MaxNodesPerDocument} values; split it");
                        }
                    }

                    return sequence;
                }

            case JsonTokenType.String:
                return new ScalarNode(mark, reader.GetString() ?? string.Empty, ScalarKind.String);
            case JsonTokenType.Number:
                return new ScalarNode(mark, Encoding.UTF8.GetString(reader.ValueSpan), ScalarKind.Number);
            case JsonTokenType.True:
                return new ScalarNode(mark, "true", ScalarKind.Boolean);
            case JsonTokenType.False:
                return new ScalarNode(mark, "false", ScalarKind.Boolean);
            case JsonTokenType.Null:
                return new ScalarNode(mark, string.Empty, ScalarKind.Null);
            default:
                throw new ReaderLimitException(mark, $"unexpected JSON token {reader.TokenType}");
        }
    }

    private static string CleanMessage(string message)
    {
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        var text = (cut >= 0 ? message[..cut] : message).Trim().TrimEnd('.');
        return text.Length == 0 ? "syntax error" : char.ToLowerInvariant(text[0]) + text[1..];
    }

    /// <summary>Maps UTF-8 byte offsets to 1-based line and character columns.</summary>
    private sealed class LineIndex
    {
        private readonly byte[] _bytes;
        private readonly List<int> _lineStarts = [0];

        public LineIndex(byte[] bytes)
        {
            _bytes = bytes;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == (byte)'\n')
                {
                    _lineStarts.Add(i + 1);
                }
            }
        }

        public Mark MarkOf(int offset)
        {
            var line = _lineStarts.BinarySearch(offset);
            if (line < 0)
            {
                line = ~line - 1;
            }

            return new Mark(line + 1, ColumnOf(line, offset - _lineStarts[line]));
        }

        public int ColumnOf(int zeroBasedLine, int bytesIntoLine)
        {
            if (zeroBasedLine < 0 || zeroBasedLine >= _lineStarts.Count)
            {
                return 1;
            }

            var start = _lineStarts[zeroBasedLine];
            var length = Math.Clamp(bytesIntoLine, 0, _bytes.Length - start);
            return Encoding.UTF8.GetCharCount(_bytes, start, length) + 1;
        }
    }
}
