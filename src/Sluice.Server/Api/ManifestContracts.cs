namespace Sluice.Server.Api;

/// <summary>One problem of a manifest: <c>PATH:LINE:COL: error: FIELD.PATH: message</c>.</summary>
public sealed record ManifestProblemResource(string Path, int Line, int Column, string Field, string Message, string? Hint = null)
{
    public override string ToString() =>
        $"{Path}:{Line}:{Column}: error: {Field}: {Message}" + (Hint is null ? "" : $" ({Hint})");
}
