namespace Sluice.Manifests.Parsing;

/// <summary>A 1-based position in a source file.</summary>
internal readonly record struct Mark(int Line, int Column)
{
    public static readonly Mark Start = new(1, 1);
}

internal enum ScalarKind
{
    String,
    Number,
    Boolean,
    Null,
}

/// <summary>
/// A parsed YAML or JSON value with its position. Both syntaxes produce this tree, so that binding and error
/// positions work the same for both. <see cref="KeyMark"/> is where the key that introduced the node stands,
/// which is where "missing field" problems of an object point.
/// </summary>
internal abstract class Node
{
    protected Node(Mark start) => Start = start;

    public Mark Start { get; }

    public Mark? KeyMark { get; set; }

    /// <summary>Number of nodes this node stands for once aliases are expanded (bounded to stop alias bombs).</summary>
    public long Weight { get; protected set; } = 1;

    public abstract string Describe();
}

internal sealed class ScalarNode : Node
{
    public ScalarNode(Mark start, string text, ScalarKind kind)
        : base(start)
    {
        Text = text;
        Kind = kind;
    }

    public string Text { get; }

    public ScalarKind Kind { get; }

    public bool IsNull => Kind == ScalarKind.Null;

    public override string Describe() => Kind switch
    {
        ScalarKind.Null => "null",
        ScalarKind.Boolean => $"the boolean {Text}",
        ScalarKind.Number => $"the number {Text}",
        _ => "a string",
    };
}

internal sealed class MappingNode : Node
{
    private readonly List<KeyValuePair<ScalarNode, Node>> _entries = [];

    public MappingNode(Mark start)
        : base(start)
    {
    }

    public IReadOnlyList<KeyValuePair<ScalarNode, Node>> Entries => _entries;

    public void Add(ScalarNode key, Node value)
    {
        _entries.Add(new(key, value));
        Weight = NodeWeights.Add(Weight, value.Weight + 1);
    }

    public Node? Find(string key)
    {
        foreach (var entry in _entries)
        {
            if (entry.Key.Text == key)
            {
                return entry.Value;
            }
        }

        return null;
    }

    public override string Describe() => "an object";
}

internal sealed class SequenceNode : Node
{
    private readonly List<Node> _items = [];

    public SequenceNode(Mark start)
        : base(start)
    {
    }

    public IReadOnlyList<Node> Items => _items;

    public void Add(Node item)
    {
        _items.Add(item);
        Weight = NodeWeights.Add(Weight, item.Weight);
    }

    public override string Describe() => "a list";
}

internal static class NodeWeights
{
    public static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
}

/// <summary>One document of a file: its root node, or the reason it could not be read.</summary>
internal sealed record ParsedDocument(int Index, Mark Start, Node? Root);

/// <summary>The documents of a file plus the syntax problems found while reading it.</summary>
internal sealed record ParsedFile(IReadOnlyList<ParsedDocument> Documents, IReadOnlyList<SyntaxProblem> Problems);

internal sealed record SyntaxProblem(Mark Mark, string Message, string? Hint = null);

/// <summary>Bounds on what the readers accept, so hostile input cannot exhaust memory, stack or time.</summary>
internal static class ReaderLimits
{
    public const int MaxFileBytes = 1024 * 1024;
    public const int MaxDepth = 64;
    public const long MaxNodesPerDocument = 100_000;
    public const int MaxDocuments = 1000;
}
