using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Sluice.Manifests.Parsing;

/// <summary>
/// Reads YAML (1.2 core schema for plain scalars, so `no` stays a string) into <see cref="Node"/> trees with
/// positions, one per document. Anchors and aliases are shared, not copied, and their expanded size is bounded;
/// merge keys (`&lt;&lt;: *defaults`) are honoured. A syntax error ends reading: documents before it are kept.
/// </summary>
internal static partial class YamlNodeReader
{
    public static ParsedFile Read(string text)
    {
        var documents = new List<ParsedDocument>();
        var problems = new List<SyntaxProblem>();
        var parser = new Parser(new StringReader(text));
        var builder = new Builder(parser);
        try
        {
            parser.Consume<StreamStart>();
            while (!parser.TryConsume<StreamEnd>(out _))
            {
                var start = parser.Consume<DocumentStart>();
                var mark = ToMark(start.Start);
                if (documents.Count >= ReaderLimits.MaxDocuments)
                {
                    problems.Add(new SyntaxProblem(mark, $"a file may hold at most {ReaderLimits.MaxDocuments} documents; split it into several files"));
                    return new ParsedFile(documents, problems);
                }

                builder.ResetAnchors();
                var root = builder.ReadNode(depth: 0);
                parser.Consume<DocumentEnd>();
                if (root.Weight > ReaderLimits.MaxNodesPerDocument)
                {
                    problems.Add(new SyntaxProblem(mark, $"the document expands to more than {ReaderLimits.MaxNodesPerDocument} values through aliases; remove the repeated aliases"));
                    continue;
                }

                // An empty document (a stray `---`, or a file of comments) holds nothing to check.
                if (root is ScalarNode { IsNull: true, Text: "" })
                {
                    continue;
                }

                documents.Add(new ParsedDocument(documents.Count, root.Start, root));
            }
        }
        catch (YamlException ex)
        {
            var mark = Clamp(ToMark(ex.Start), text);
            var tab = FirstTabIndentation(text, ex.Message.Contains("tab", StringComparison.OrdinalIgnoreCase) ? int.MaxValue - 1 : mark.Line);
            problems.Add(tab is not null
                ? new SyntaxProblem(tab.Value, "invalid YAML: a tab character indents this line", "indent with spaces, not tabs")
                : new SyntaxProblem(mark, "invalid YAML: " + CleanMessage(ex.Message), SyntaxHint(ex.Message)));
        }
        catch (ReaderLimitException ex)
        {
            problems.Add(new SyntaxProblem(ex.Mark, ex.Message));
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or IndexOutOfRangeException or FormatException or OverflowException)
        {
            // YamlDotNet itself fails on some malformed input instead of reporting a syntax error.
            problems.Add(new SyntaxProblem(Clamp(builder.LastMark, text), "invalid YAML: the text cannot be read from about here on", "check the indentation and that every quote and bracket is closed"));
        }

        return new ParsedFile(documents, problems);
    }

    /// <summary>YAML forbids tabs in indentation and YamlDotNet reports them far away; find the line ourselves.</summary>
    private static Mark? FirstTabIndentation(string text, int untilLine)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length && i < Math.Max(untilLine + 1, 2); i++)
        {
            var indentation = lines[i].Length - lines[i].TrimStart(' ', '\t').Length;
            var tab = lines[i].IndexOf('\t', StringComparison.Ordinal);
            if (tab >= 0 && tab < indentation && lines[i].Trim().Length > 0)
            {
                return new Mark(i + 1, tab + 1);
            }
        }

        return null;
    }

    /// <summary>Errors at the end of the input are reported past the last line; point at the end of the text instead.</summary>
    private static Mark Clamp(Mark mark, string text)
    {
        var lines = text.Split('\n');
        if (mark.Line <= lines.Length)
        {
            return mark;
        }

        var last = lines.Length;
        while (last > 1 && lines[last - 1].TrimEnd('\r').Length == 0)
        {
            last--;
        }

        return new Mark(last, lines[last - 1].TrimEnd('\r').Length + 1);
    }

    internal static Mark ToMark(YamlDotNet.Core.Mark mark) =>
        new(Math.Max(1, (int)Math.Min(mark.Line, int.MaxValue)), Math.Max(1, (int)Math.Min(mark.Column, int.MaxValue)));

    private static string CleanMessage(string message)
    {
        var text = message.Trim();
        if (text.StartsWith('(') && text.Contains("): ", StringComparison.Ordinal))
        {
            // YamlDotNet prefixes "(Line: 3, Col: 5, Idx: 20) - (…): "; the position is already in front of the message.
            text = text[(text.LastIndexOf("): ", StringComparison.Ordinal) + 3)..];
        }

        text = text.TrimEnd('.');
        return text.Length == 0 ? "syntax error" : char.ToLowerInvariant(text[0]) + text[1..];
    }

    private static string? SyntaxHint(string message)
    {
        if (message.Contains("tab", StringComparison.OrdinalIgnoreCase))
        {
            return "indent with spaces, not tabs";
        }

        if (message.Contains("mapping values are not allowed", StringComparison.OrdinalIgnoreCase)
            || message.Contains("unexpected ':'", StringComparison.OrdinalIgnoreCase))
        {
            return "quote values that contain ': ' and check the indentation of this line";
        }

        if (message.Contains("did not find expected", StringComparison.OrdinalIgnoreCase))
        {
            return "check the indentation and that every quote and bracket is closed";
        }

        return null;
    }

    internal static ScalarKind PlainKind(string text)
    {
        if (text.Length == 0 || text is "~" or "null" or "Null" or "NULL")
        {
            return ScalarKind.Null;
        }

        if (text is "true" or "True" or "TRUE" or "false" or "False" or "FALSE")
        {
            return ScalarKind.Boolean;
        }

        return NumberPattern().IsMatch(text) ? ScalarKind.Number : ScalarKind.String;
    }

    [GeneratedRegex(@"^([-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")]
    private static partial Regex NumberPattern();

    private sealed class Builder(Parser parser)
    {
        private readonly Dictionary<string, Node> _anchors = new(StringComparer.Ordinal);

        public Mark LastMark { get; private set; } = Mark.Start;

        public void ResetAnchors() => _anchors.Clear();

        public Node ReadNode(int depth)
        {
            var current = parser.Current ?? throw new ReaderLimitException(LastMark, "unexpected end of the YAML input");
            var mark = ToMark(current.Start);
            LastMark = ToMark(current.End);
            if (depth > ReaderLimits.MaxDepth)
            {
                throw new ReaderLimitException(mark, $"values are nested more than {ReaderLimits.MaxDepth} levels deep; flatten the document");
            }

            switch (current)
            {
                case AnchorAlias alias:
                    parser.MoveNext();
                    if (!_anchors.TryGetValue(alias.Value.Value, out var target))
                    {
                        throw new ReaderLimitException(mark, $"the alias *{alias.Value.Value} refers to no anchor defined before it");
                    }

                    return target;

                case Scalar scalar:
                    parser.MoveNext();
                    var node = new ScalarNode(mark, scalar.Value, ScalarKindOf(scalar, mark));
                    Remember(scalar.Anchor, node);
                    return node;

                case SequenceStart sequenceStart:
                    {
                        CheckTag(sequenceStart.Tag, mark, "!!seq");
                        parser.MoveNext();
                        var sequence = new SequenceNode(mark);
                        Remember(sequenceStart.Anchor, sequence);
                        while (!parser.TryConsume<SequenceEnd>(out _))
                        {
                            sequence.Add(ReadNode(depth + 1));
                            CheckWeight(sequence, mark);
                        }

                        return sequence;
                    }

                case MappingStart mappingStart:
                    {
                        CheckTag(mappingStart.Tag, mark, "!!map");
                        parser.MoveNext();
                        var mapping = new MappingNode(mark);
                        Remember(mappingStart.Anchor, mapping);
                        var merges = new List<(Mark, Node)>();
                        var seen = new Dictionary<string, Mark>(StringComparer.Ordinal);
                        while (!parser.TryConsume<MappingEnd>(out _))
                        {
                            var keyMark = ToMark(parser.Current!.Start);
                            var key = ReadNode(depth + 1);
                            var value = ReadNode(depth + 1);
                            if (key is not ScalarNode scalarKey || scalarKey.IsNull)
                            {
                                throw new ReaderLimitException(keyMark, "keys must be plain names; a list, an object or an empty key cannot be a key");
                            }

                            if (scalarKey.Text == "<<" && scalarKey.Kind == ScalarKind.String)
                            {
                                merges.Add((keyMark, value));
                                continue;
                            }

                            if (seen.TryGetValue(scalarKey.Text, out var first))
                            {
                                throw new ReaderLimitException(keyMark, $"the field '{scalarKey.Text}' appears twice in this object (first on line {first.Line}); keep one");
                            }

                            seen[scalarKey.Text] = keyMark;
                            value = WithKeyMark(value, keyMark);
                            mapping.Add(scalarKey, value);
                            CheckWeight(mapping, mark);
                        }

                        // Merged entries never override the object's own fields (YAML merge key semantics).
                        foreach (var (mergeMark, source) in merges)
                        {
                            var sources = source is SequenceNode list ? list.Items : [source];
                            foreach (var item in sources)
                            {
                                if (item is not MappingNode sourceMapping)
                                {
                                    throw new ReaderLimitException(mergeMark, "a merge key '<<' must refer to an object or a list of objects");
                                }

                                foreach (var entry in sourceMapping.Entries)
                                {
                                    if (seen.TryAdd(entry.Key.Text, mergeMark))
                                    {
                                        mapping.Add(entry.Key, entry.Value);
                                        CheckWeight(mapping, mark);
                                    }
                                }
                            }
                        }

                        return mapping;
                    }

                default:
                    throw new ReaderLimitException(mark, "unexpected YAML event " + current.GetType().Name);
            }
        }

        // A shared (aliased) node keeps the position of its definition; only fresh nodes learn their key.
        private static Node WithKeyMark(Node value, Mark keyMark)
        {
            value.KeyMark ??= keyMark;
            return value;
        }

        private static void CheckWeight(Node node, Mark mark)
        {
            if (node.Weight > ReaderLimits.MaxNodesPerDocument)
            {
                throw new ReaderLimitException(mark, $"the document expands to more than {ReaderLimits.MaxNodesPerDocument} values through aliases; remove the repeated aliases");
            }
        }

        private void Remember(AnchorName anchor, Node node)
        {
            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = node;
            }
        }

        private static void CheckTag(TagName tag, Mark mark, string expected)
        {
            if (!tag.IsEmpty && !tag.IsNonSpecific && tag.Value != "tag:yaml.org,2002:" + expected[2..])
            {
                throw new ReaderLimitException(mark, $"the tag {tag.Value} is not supported; remove it");
            }
        }

        private static ScalarKind ScalarKindOf(Scalar scalar, Mark mark)
        {
            if (!scalar.Tag.IsEmpty && !scalar.Tag.IsNonSpecific)
            {
                return scalar.Tag.Value switch
                {
                    "tag:yaml.org,2002:str" => ScalarKind.String,
                    "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float" => ScalarKind.Number,
                    "tag:yaml.org,2002:bool" => ScalarKind.Boolean,
                    "tag:yaml.org,2002:null" => ScalarKind.Null,
                    _ => throw new ReaderLimitException(mark, $"the tag {scalar.Tag.Value} is not supported; remove it"),
                };
            }

            return scalar.Style == ScalarStyle.Plain ? PlainKind(scalar.Value) : ScalarKind.String;
        }
    }
}

/// <summary>Input the readers refuse (too deep, too big, malformed structure), reported as a problem at a position.</summary>
internal sealed class ReaderLimitException(Mark mark, string message) : Exception(message)
{
    public Mark Mark { get; } = mark;
}
