using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sluice.Manifests;
using Sluice.Manifests.Rendering;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice render -f PATH [--logical-date D]</c>: the effective manifests after defaults and slot templating.</summary>
internal static class RenderCommand
{
    public static Command Create()
    {
        var files = ManifestPathOption.Create("Manifest files or directories to render");
        var logicalDate = new Option<string?>("--logical-date")
        {
            Description = "For Schedules: the slot to render, e.g. 2026-11-01 or 2026-11-01T06:00 (in the schedule's time zone); default: the first slot",
        };
        var command = new Command("render", "Print manifests with every default filled in and, for Schedules, the job rendered for one slot")
        {
            files,
            logicalDate,
        };
        command.SetAction(parseResult => CommandErrors.Guard(parseResult.InvocationConfiguration.Error, () =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var paths = parseResult.GetValue(files) ?? [];
            var usage = ManifestPathOption.CheckPaths(paths, error);
            if (usage is not null)
            {
                return usage.Value;
            }

            var result = ManifestFiles.ReadAll(paths);
            if (!result.IsValid)
            {
                foreach (var problem in result.Problems)
                {
                    error.WriteLine(problem.ToString());
                }

                error.WriteLine($"cannot render: {result.Problems.Count} problem{(result.Problems.Count == 1 ? string.Empty : "s")}; fix them first (sluice validate shows the same list)");
                return ExitCodes.Failed;
            }

            var dateText = parseResult.GetValue(logicalDate);
            var documents = new List<JsonObject>();
            foreach (var manifest in result.Manifests)
            {
                DateTimeOffset? date = null;
                if (dateText is not null && manifest is ScheduleManifest schedule)
                {
                    if (!ManifestRenderer.TryParseLogicalDate(schedule.Spec, dateText, out var parsed, out var dateError))
                    {
                        error.WriteLine($"error: --logical-date: {dateError}");
                        return ExitCodes.Usage;
                    }

                    date = parsed;
                }

                try
                {
                    documents.Add(ManifestRenderer.Render(manifest, date));
                }
                catch (ArgumentException ex)
                {
                    error.WriteLine($"error: {manifest.Source?.Path}:{manifest.Source?.Line}: {ex.Message}");
                    return ExitCodes.Failed;
                }
            }

            if (parseResult.GetValue(GlobalOptions.Output) == OutputFormat.Json)
            {
                JsonNode json = documents.Count == 1 ? documents[0] : new JsonArray([.. documents]);
                output.WriteLine(json.ToJsonString(CliJson.Options));
            }
            else
            {
                output.Write(YamlWriter.Write(documents));
            }

            return ExitCodes.Ok;
        }));
        return command;
    }
}
