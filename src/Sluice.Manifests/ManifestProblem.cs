using System.Text;

namespace Sluice.Manifests;

/// <summary>
/// One thing wrong with a manifest: where (file, 1-based line and column, field path) and what to do about it.
/// <see cref="ToString"/> gives the compiler-style line <c>PATH:LINE:COL: error: FIELD.PATH: message</c>.
/// </summary>
public sealed record ManifestProblem
{
    public required string Path { get; init; }

    public required int Line { get; init; }

    public required int Column { get; init; }

    /// <summary>Dotted path of the field, e.g. <c>spec.to.environment.maxWorkers</c>; empty for problems of the file itself.</summary>
    public required string Field { get; init; }

    public required string Message { get; init; }

    /// <summary>A suggestion such as "did you mean 'maxWorkers'?", when one helps.</summary>
    public string? Hint { get; init; }

    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(Path).Append(':').Append(Line).Append(':').Append(Column).Append(": error: ");
        if (Field.Length > 0)
        {
            text.Append(Field).Append(": ");
        }

        text.Append(Message);
        if (!string.IsNullOrEmpty(Hint))
        {
            text.Append("; ").Append(Hint);
        }

        return text.ToString();
    }
}
