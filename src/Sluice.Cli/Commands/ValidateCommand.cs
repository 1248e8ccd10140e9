using System.CommandLine;
using System.Text.Json;
using Sluice.Manifests;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice validate -f PATH…</c>: offline check of manifest files and directories.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var files = ManifestPathOption.Create("Manifest files or directories to check (YAML or JSON; directories are searched for *.yaml, *.yml, *.json)");
        var command = new Command("validate", "Check manifests offline: every problem of every file, with file, line, column and field")
        {
            files,
        };
        command.SetAction(parseResult => CommandErrors.Guard(parseResult.InvocationConfiguration.Error, () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var paths = parseResult.GetValue(files) ?? [];
            var format = parseResult.GetValue(GlobalOptions.Output);
            var usage = ManifestPathOption.CheckPaths(paths, error);
            if (usage is not null)
            {
                return usage.Value;
            }

            var result = ManifestFiles.ReadAll(paths);
            if (format == OutputFormat.Json)
            {
                output.WriteLine(JsonSerializer.Serialize(ValidationReport.From(result), CliJson.Options));
            }
            else
            {
                foreach (var manifest in result.Manifests)
                {
                    output.WriteLine($"ok    {manifest.Source?.Path}:{manifest.Source?.Line}  {manifest.Kind} {manifest.Metadata.Name}");
                }

                foreach (var problem in result.Problems)
                {
                    error.WriteLine(problem.ToString());
                }

                var summary = $"{result.FileCount} file{Plural(result.FileCount)}, {result.DocumentCount} document{Plural(result.DocumentCount)}";
                if (result.IsValid)
                {
                    output.WriteLine($"{summary}: all valid");
                }
                else
                {
                    error.WriteLine($"{summary}: {result.Problems.Count} problem{Plural(result.Problems.Count)}");
                }
            }

            return result.IsValid ? ExitCodes.Ok : ExitCodes.Failed;
        }));
        return command;
    }

    private static string Plural(int count) => count == 1 ? string.Empty : "s";

    /// <summary>The <c>-o json</c> form: counts, the valid manifests and the problems as objects.</summary>
    internal sealed record ValidationReport(
        bool Valid,
        int Files,
        int Documents,
        IReadOnlyList<ValidManifest> Manifests,
        IReadOnlyList<ManifestProblem> Problems)
    {
        public static ValidationReport From(ManifestReadResult result) => new(
            result.IsValid,
            result.FileCount,
            result.DocumentCount,
            [.. result.Manifests.Select(manifest => new ValidManifest(manifest.Source?.Path, manifest.Source?.Line, manifest.Kind.ToString(), manifest.Metadata.Name))],
            result.Problems);
    }

    internal sealed record ValidManifest(string? Path, int? Line, string Kind, string Name);
}
