namespace Sluice.Manifests.Tests;

/// <summary>
/// Test input with the expected problem position marked by '⟨' right before the character a problem must point
/// at. <see cref="Text"/> is the input without the marker; <see cref="Line"/> and <see cref="Column"/> are 1-based.
/// </summary>
internal sealed record MarkedText(string Text, int Line, int Column)
{
    public const char Marker = '⟨';

    public static MarkedText Parse(string marked)
    {
        var index = marked.IndexOf(Marker, StringComparison.Ordinal);
        if (index < 0)
        {
            throw new ArgumentException("the test input has no ⟨ marker", nameof(marked));
        }

        var before = marked[..index];
        var line = before.Count(c => c == '\n') + 1;
        var column = index - (before.LastIndexOf('\n') + 1) + 1;
        return new MarkedText(marked.Remove(index, 1), line, column);
    }
}
