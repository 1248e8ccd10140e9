using System.CommandLine;
using Sluice.Cli.Client;
using Sluice.Cli.Output;
using Sluice.Server.Api;

namespace Sluice.Cli.Commands;

/// <summary>
/// <c>sluice apply -f PATH… [--dry-run] [--wait]</c>: sends manifests to the server, which validates them and writes
/// them into the watched bucket; <c>--wait</c> follows what they start until it is done.
/// </summary>
internal static class ApplyCommand
{
    private static readonly string[] ManifestExtensions = [".yaml", ".yml", ".json"];

    public static Command Create()
    {
        var command = new Command("apply", "Apply Rollout, Schedule and Unschedule manifests (uploads them to the watched bucket)");
        var files = new Option<string[]>("--filename", "-f")
        {
            Description = "Manifest file or directory (its *.yaml, *.yml, *.json); repeat for several; - reads stdin",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Validate and show what would happen; write nothing" };
        var wait = new Option<bool>("--wait") { Description = "Follow the rollouts and schedules until they are done (exit 1 if a rollout fails)" };
        var timeout = TimeoutOption();
        command.Options.Add(files);
        command.Options.Add(dryRun);
        command.Options.Add(wait);
        command.Options.Add(timeout);

        command.SetApiAction(async (context, ct) =>
        {
            var request = new ApplyRequest
            {
                Files = await ReadFilesAsync(context.ParseResult.GetValue(files) ?? [], ct),
                DryRun = context.ParseResult.GetValue(dryRun),
            };
            var response = await context.Client.ApplyAsync(request, ct);
            if (!context.Json || !context.ParseResult.GetValue(wait))
            {
                PrintApplied(context, response);
            }

            if (!context.ParseResult.GetValue(wait) || response.DryRun)
            {
                return ExitCodes.Ok;
            }

            var progress = new Progress(context);
            var failed = false;
            var results = new List<object>();
            foreach (var manifest in response.Manifests)
            {
                var outcome = await Progress.WithTimeoutAsync(
                    context.ParseResult.GetValue(timeout),
                    $"{manifest.Kind.ToLowerInvariant()}/{manifest.Name}",
                    token => FollowAsync(progress, context, manifest, token),
                    ct);
                failed |= !outcome.Succeeded;
                results.Add(outcome.Resource);
            }

            if (context.Json)
            {
                CliOutput.WriteJson(context.Out, results);
            }

            return failed ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return command;
    }

    internal static Option<TimeSpan> TimeoutOption() => new("--timeout")
    {
        Description = "How long --wait waits, e.g. 30m (default 30m)",
        DefaultValueFactory = _ => TimeSpan.FromMinutes(30),
        CustomParser = result =>
        {
            var text = result.Tokens.Single().Value;
            if (Sluice.Server.Configuration.ConfigDuration.TryParse(text, out var value) && value > TimeSpan.Zero)
            {
                return value;
            }

            result.AddError($"'{text}' is not a duration; use e.g. 90s, 30m or 2h.");
            return default;
        },
    };

    private static async Task<(bool Succeeded, object Resource)> FollowAsync(Progress progress, CliContext context, AppliedManifestResource manifest, CancellationToken cancellationToken)
    {
        long? generation = manifest.Generation;
        if (manifest.Action == "written")
        {
            var recorded = await progress.WaitForEventAsync(manifest, cancellationToken);
            if (recorded.State is "rejected" or "ignored")
            {
                await progress.WriteAsync($"{manifest.Kind.ToLowerInvariant()}/{manifest.Name} was {recorded.State}: {recorded.Reason}");
                foreach (var problem in recorded.Problems ?? [])
                {
                    await context.Error.WriteLineAsync(problem.ToString());
                }

                return (false, recorded);
            }
        }
        else
        {
            // Unchanged: nothing new was written, so whatever already exists is the answer.
            generation = null;
        }

        switch (manifest.Kind)
        {
            case "Rollout":
                var rollout = await progress.FollowRolloutAsync(manifest.Name, generation, cancellationToken);
                return (rollout.State == "succeeded", rollout);
            case "Schedule":
                return (true, await progress.WaitForScheduleAsync(manifest.DagId ?? manifest.Name, generation, unscheduled: false, cancellationToken));
            case "Unschedule":
                return (true, await progress.WaitForScheduleAsync(manifest.DagId ?? manifest.Name, generation, unscheduled: true, cancellationToken));
            default:
                await progress.WriteAsync($"nothing to follow for {manifest.Kind}/{manifest.Name}.");
                return (true, manifest);
        }
    }

    private static void PrintApplied(CliContext context, ApplyResponse response)
    {
        if (context.Json)
        {
            CliOutput.WriteJson(context.Out, response);
            return;
        }

        foreach (var m in response.Manifests)
        {
            var target = $"{m.Bucket}/{m.Object}";
            var line = m.Action switch
            {
                "written" => $"{m.Kind.ToLowerInvariant()}/{m.Name} written to {target} (generation {m.Generation})",
                "unchanged" => $"{m.Kind.ToLowerInvariant()}/{m.Name} unchanged ({target} already holds it)",
                _ => $"{m.Kind.ToLowerInvariant()}/{m.Name} would be written to {target}",
            };
            context.Out.WriteLine(m.Plan is null ? line : $"{line}: {m.Plan}");
        }
    }

    /// <summary>Reads the files (directories expand to their manifests); every unreadable path is reported at once.</summary>
    internal static async Task<IReadOnlyList<ManifestFileRequest>> ReadFilesAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        var result = new List<ManifestFileRequest>();
        var problems = new List<string>();
        foreach (var path in paths)
        {
            if (path == "-")
            {
                result.Add(new ManifestFileRequest("stdin", await Console.In.ReadToEndAsync(cancellationToken)));
                continue;
            }

            IEnumerable<string> files;
            if (Directory.Exists(path))
            {
                files = Directory.EnumerateFiles(path)
                    .Where(f => ManifestExtensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (!files.Any())
                {
                    problems.Add($"{path}: the directory holds no .yaml, .yml or .json files.");
                }
            }
            else if (File.Exists(path))
            {
                files = [path];
            }
            else
            {
                problems.Add($"{path}: no such file or directory.");
                continue;
            }

            foreach (var file in files)
            {
                try
                {
                    result.Add(new ManifestFileRequest(file, await File.ReadAllTextAsync(file, cancellationToken)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    problems.Add($"{file}: cannot be read ({e.Message}).");
                }
            }
        }

        if (problems.Count > 0)
        {
            throw new ManifestFilesException(problems);
        }

        return result;
    }
}

/// <summary>Manifest files that could not be read (exit code 1, one line per path).</summary>
public sealed class ManifestFilesException : Exception
{
    public ManifestFilesException(IReadOnlyList<string> problems)
        : base(string.Join(Environment.NewLine, problems))
    {
        Problems = problems;
    }

    public ManifestFilesException()
        : this([])
    {
    }

    public ManifestFilesException(string message)
        : this([message])
    {
    }

    public ManifestFilesException(string message, Exception innerException)
        : base(message, innerException)
    {
        Problems = [message];
    }

    public IReadOnlyList<string> Problems { get; } = [];
}
