using Sluice.Manifests.Parsing;

namespace Sluice.Manifests.Binding;

/// <summary>Collects the problems of one file while its documents are bound to the model.</summary>
internal sealed class BindContext(string path)
{
    public string Path { get; } = path;

    public List<ManifestProblem> Problems { get; } = [];

    public void Error(Mark mark, string field, string message, string? hint = null) =>
        Problems.Add(new ManifestProblem
        {
            Path = Path,
            Line = mark.Line,
            Column = mark.Column,
            Field = field,
            Message = message,
            Hint = hint,
        });

    public static string Join(string path, string name) => path.Length == 0 ? name : path + "." + name;

    public static string Index(string path, int index) => $"{path}[{index}]";

    /// <summary>Map keys that are not simple names are quoted in field paths: <c>parameters["a.b"]</c>.</summary>
    public static string Key(string path, string key) =>
        key.Length > 0 && key.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? Join(path, key)
            : $"{path}[\"{key.Replace("\"", "\\\"", StringComparison.Ordinal)}\"]";
}
