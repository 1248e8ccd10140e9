using System.Globalization;
using Sluice.Manifests.Parsing;
using Sluice.Manifests.Values;

namespace Sluice.Manifests.Binding;

/// <summary>
/// Reads the fields of one object. Each accessor checks type and rules and reports problems with the field's
/// path and position; <see cref="Finish"/> reports the fields nobody asked for, with a "did you mean" hint.
/// Explicit nulls count as absent.
/// </summary>
internal sealed class ObjectReader
{
    private readonly BindContext _context;
    private readonly MappingNode _node;
    private readonly FieldSet _fields;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);

    private ObjectReader(BindContext context, MappingNode node, string path, FieldSet fields)
    {
        _context = context;
        _node = node;
        Path = path;
        _fields = fields;
    }

    public string Path { get; }

    public MappingNode Node => _node;

    /// <summary>Where problems about a missing field of this object point: the key that holds the object.</summary>
    public Mark MissingMark => _node.KeyMark ?? _node.Start;

    public static ObjectReader? Open(BindContext context, Node? node, string path, FieldSet fields)
    {
        if (node is null || node is ScalarNode { IsNull: true })
        {
            return null;
        }

        if (node is not MappingNode mapping)
        {
            context.Error(node.Start, path, $"must be {fields.Description} (an object with fields), not {node.Describe()}");
            return null;
        }

        return new ObjectReader(context, mapping, path, fields);
    }

    public string FieldPath(string name) => BindContext.Join(Path, name);

    public bool Has(string name) => Peek(name) is not null;

    /// <summary>The value node of a field, or null when absent or null.</summary>
    public Node? Take(string name)
    {
        System.Diagnostics.Debug.Assert(_fields.Contains(name), $"{name} is not declared in {_fields.SchemaDefinition}");
        _taken.Add(name);
        return Peek(name);
    }

    public Node? Peek(string name)
    {
        var value = _node.Find(name);
        return value is ScalarNode { IsNull: true } ? null : value;
    }

    public Mark MarkOf(string name) => _node.Find(name) is { } value ? value.KeyMark ?? value.Start : MissingMark;

    public void Missing(string name, string example) =>
        _context.Error(MissingMark, FieldPath(name), "is required but missing", $"add it, e.g. {name}: {example}");

    public string? String(string name, bool required = false, string? example = null) =>
        Take(name) is { } node ? ReadString(node, FieldPath(name)) : MissingIf(required, name, example);

    /// <summary>A string that must match <paramref name="pattern"/>; <paramref name="rule"/> says in words what is allowed.</summary>
    public string? Pattern(string name, string pattern, string rule, bool required = false, string? example = null)
    {
        var value = String(name, required, example);
        if (value is not null && !Patterns.Matches(value, pattern))
        {
            _context.Error(Take(name)!.Start, FieldPath(name), $"'{Shorten(value)}' is not valid: {rule}", example is null ? null : $"for example {example}");
            return null;
        }

        return value;
    }

    /// <summary>Strings of lenient fields (versions, parameter values) may be written as numbers or booleans.</summary>
    public string? LenientString(string name, bool required = false, string? example = null) =>
        Take(name) is { } node ? ReadScalarText(node, FieldPath(name)) : MissingIf(required, name, example);

    public int? Int(string name, int min, int max)
    {
        if (Take(name) is not { } node)
        {
            return null;
        }

        return ReadInt(node, FieldPath(name), min, max);
    }

    public double? Number(string name)
    {
        if (Take(name) is not { } node)
        {
            return null;
        }

        if (node is ScalarNode { Kind: ScalarKind.Number } scalar
            && double.TryParse(scalar.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value))
        {
            return value;
        }

        _context.Error(node.Start, FieldPath(name), $"must be a number, not {node.Describe()}");
        return null;
    }

    public bool? Bool(string name)
    {
        if (Take(name) is not { } node)
        {
            return null;
        }

        if (node is ScalarNode { Kind: ScalarKind.Boolean } scalar)
        {
            return scalar.Text.Equals("true", StringComparison.OrdinalIgnoreCase);
        }

        var hint = node is ScalarNode text && text.Text.ToLowerInvariant() is "yes" or "no" or "on" or "off" or "true" or "false"
            ? "write true or false without quotes"
            : null;
        _context.Error(node.Start, FieldPath(name), $"must be true or false, not {node.Describe()}", hint);
        return null;
    }

    /// <summary>An enum written as one of <paramref name="values"/> (exact spelling; a case-insensitive match gives a hint).</summary>
    public T? Enum<T>(string name, IReadOnlyDictionary<string, T> values)
        where T : struct
    {
        if (Take(name) is not { } node)
        {
            return null;
        }

        return ReadEnum(node, FieldPath(name), values);
    }

    public T? ReadEnum<T>(Node node, string path, IReadOnlyDictionary<string, T> values)
        where T : struct
    {
        var text = ReadString(node, path);
        if (text is null)
        {
            return null;
        }

        if (values.TryGetValue(text, out var value))
        {
            return value;
        }

        _context.Error(node.Start, path, $"'{Shorten(text)}' is not one of {string.Join(", ", values.Keys)}", Suggestions.DidYouMean(text, values.Keys));
        return null;
    }

    public TimeSpan? Duration(string name, TimeSpan? min = null, TimeSpan? max = null)
    {
        if (Take(name) is not { } node)
        {
            return null;
        }

        var path = FieldPath(name);
        if (node is ScalarNode { Kind: ScalarKind.Number } number)
        {
            _context.Error(node.Start, path, $"'{number.Text}' has no unit", $"write {number.Text}s, {number.Text}m or {number.Text}h");
            return null;
        }

        var text = ReadString(node, path);
        if (text is null)
        {
            return null;
        }

        if (!Durations.TryParse(text, out var duration, out var error))
        {
            _context.Error(node.Start, path, error!, "write e.g. 90s, 15m, 1h30m or PT15M");
            return null;
        }

        var lower = min ?? TimeSpan.FromSeconds(1);
        if (duration < lower || (max is not null && duration > max.Value))
        {
            var range = max is null ? $"at least {Durations.Format(lower)}" : $"between {Durations.Format(lower)} and {Durations.Format(max.Value)}";
            _context.Error(node.Start, path, $"must be {range}, got {text}");
            return null;
        }

        return duration;
    }

    /// <summary>A list of strings, each matching <paramref name="itemPattern"/> when given.</summary>
    public List<string>? StringList(string name, string? itemPattern = null, string? itemRule = null)
    {
        if (Take(name) is not { } node)
        {
            return null;
        }

        var path = FieldPath(name);
        if (node is not SequenceNode sequence)
        {
            _context.Error(node.Start, path, $"must be a list of strings, not {node.Describe()}", "write one item per line, each starting with '- '");
            return null;
        }

        var items = new List<string>();
        var ok = true;
        for (var i = 0; i < sequence.Items.Count; i++)
        {
            var itemPath = BindContext.Index(path, i);
            var item = ReadString(sequence.Items[i], itemPath);
            if (item is null)
            {
                ok = false;
                continue;
            }

            if (itemPattern is not null && !Patterns.Matches(item, itemPattern))
            {
                _context.Error(sequence.Items[i].Start, itemPath, $"'{Shorten(item)}' is not valid: {itemRule}");
                ok = false;
                continue;
            }

            items.Add(item);
        }

        return ok ? items : null;
    }

    /// <summary>
    /// A string-to-string map. Keys are checked by <paramref name="checkKey"/>, values by <paramref name="checkValue"/>
    /// (both return an error message or null). Values may be written as numbers or booleans when <paramref name="lenientValues"/>.
    /// </summary>
    public Dictionary<string, string>? StringMap(
        string name,
        Func<string, string?>? checkKey = null,
        Func<string, string?>? checkValue = null,
        bool lenientValues = true,
        int maxEntries = 1000)
    {
        if (Take(name) is not { } node)
        {
            return null;
        }

        var path = FieldPath(name);
        if (node is not MappingNode mapping)
        {
            _context.Error(node.Start, path, $"must be a map of names to values, not {node.Describe()}", "write one 'name: value' per line");
            return null;
        }

        if (mapping.Entries.Count > maxEntries)
        {
            _context.Error(node.Start, path, $"has {mapping.Entries.Count} entries; at most {maxEntries} are allowed");
            return null;
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        var ok = true;
        foreach (var (key, valueNode) in mapping.Entries)
        {
            var entryPath = BindContext.Key(path, key.Text);
            if (checkKey?.Invoke(key.Text) is { } keyError)
            {
                _context.Error(key.Start, entryPath, keyError);
                ok = false;
                continue;
            }

            var value = lenientValues ? ReadScalarText(valueNode, entryPath) : ReadString(valueNode, entryPath);
            if (value is null)
            {
                ok = false;
                continue;
            }

            if (checkValue?.Invoke(value) is { } valueError)
            {
                _context.Error(valueNode.Start, entryPath, valueError);
                ok = false;
                continue;
            }

            map[key.Text] = value;
        }

        return ok ? map : null;
    }

    /// <summary>Reports every field of the object that no accessor asked for.</summary>
    public void Finish()
    {
        foreach (var (key, _) in _node.Entries)
        {
            if (_taken.Contains(key.Text))
            {
                continue;
            }

            var hint = ManifestFields.KnownAliases.TryGetValue(key.Text, out var alias) && _fields.Contains(alias)
                ? $"did you mean '{alias}'?"
                : Suggestions.DidYouMean(key.Text, _fields.Names);
            if (_fields.Contains(key.Text))
            {
                // Declared but not read here: the field does not apply in this context (reported by the binder).
                continue;
            }

            _context.Error(key.Start, FieldPath(key.Text), $"unknown field '{Shorten(key.Text)}' in {_fields.Description}",
                hint ?? "the fields are " + string.Join(", ", _fields.Names));
        }
    }

    /// <summary>A problem of a field: at its value when that is a scalar, at its key when it is an object or a list.</summary>
    public void Error(string name, string message, string? hint = null) =>
        _context.Error(Peek(name) is ScalarNode scalar ? scalar.Start : MarkOf(name), FieldPath(name), message, hint);

    /// <summary>A problem of a field as a whole (it does not apply here): at its key.</summary>
    public void ErrorAtKey(string name, string message, string? hint = null) =>
        _context.Error(MarkOf(name), FieldPath(name), message, hint);

    public string? ReadString(Node node, string path)
    {
        switch (node)
        {
            case ScalarNode { Kind: ScalarKind.String } scalar:
                return scalar.Text;
            case ScalarNode { Kind: ScalarKind.Null }:
                _context.Error(node.Start, path, "must not be empty");
                return null;
            case ScalarNode scalar:
                _context.Error(node.Start, path, $"must be a string, not {node.Describe()}", $"quote it: \"{scalar.Text}\"");
                return null;
            default:
                _context.Error(node.Start, path, $"must be a string, not {node.Describe()}");
                return null;
        }
    }

    public string? ReadScalarText(Node node, string path)
    {
        if (node is ScalarNode { Kind: not ScalarKind.Null } scalar)
        {
            return scalar.Text;
        }

        _context.Error(node.Start, path, $"must be a text, number or boolean, not {node.Describe()}");
        return null;
    }

    public int? ReadInt(Node node, string path, int min, int max)
    {
        if (node is ScalarNode { Kind: ScalarKind.Number } scalar)
        {
            if (long.TryParse(scalar.Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                if (value < min || value > max)
                {
                    _context.Error(node.Start, path, $"must be from {min} to {max}, got {scalar.Text}");
                    return null;
                }

                return (int)value;
            }

            _context.Error(node.Start, path, $"must be a whole number from {min} to {max}, got {scalar.Text}");
            return null;
        }

        var hint = node is ScalarNode { Kind: ScalarKind.String } text && long.TryParse(text.Text, CultureInfo.InvariantCulture, out _)
            ? $"remove the quotes: {text.Text}"
            : null;
        _context.Error(node.Start, path, $"must be a whole number from {min} to {max}, not {node.Describe()}", hint);
        return null;
    }

    private string? MissingIf(bool required, string name, string? example)
    {
        if (required)
        {
            Missing(name, example ?? "…");
        }

        return null;
    }

    internal static string Shorten(string text) => text.Length <= 80 ? text : text[..77] + "…";
}
