using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sluice.Manifests;

namespace Sluice.Cli.Commands;

/// <summary>The <c>-f PATH…</c> option of the manifest commands and its usage checks.</summary>
internal static class ManifestPathOption
{
    public static Option<string[]> Create(string description) => new("--file", "-f")
    {
        Description = description,
        AllowMultipleArgumentsPerToken = true,
        Arity = ArgumentArity.ZeroOrMore,
    };

    /// <summary>Returns the usage exit code (after printing why) when the paths cannot be checked at all.</summary>
    public static int? CheckPaths(IReadOnlyList<string> paths, TextWriter error)
    {
        if (paths.Count == 0)
        {
            error.WriteLine("error: no manifests given; name files or directories with -f PATH, e.g. sluice validate -f examples/manifests/");
            return ExitCodes.Usage;
        }

        var (files, missing) = ManifestFiles.Expand(paths);
        foreach (var path in missing)
        {
            error.WriteLine($"error: {path}: no such file or directory; check the path");
        }

        if (missing.Count > 0)
        {
            return ExitCodes.Usage;
        }

        if (files.Count == 0)
        {
            error.WriteLine($"error: no *.yaml, *.yml or *.json files in {string.Join(", ", paths)}; name manifest files or a directory that holds them");
            return ExitCodes.Usage;
        }

        return null;
    }
}

/// <summary>JSON output of the CLI: camelCase, nulls omitted, readable.</summary>
internal static class CliJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
