using System.CommandLine;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Sluice.Emulator;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice emulator [--port N] [--buckets DIR]</c>: only the local Dataflow-compatible REST emulator.</summary>
internal static class EmulatorCommand
{
    public const int DefaultPort = 8086;

    public static Command Create()
    {
        var port = new Option<int>("--port")
        {
            Description = $"Loopback port of the emulator's REST API (default {DefaultPort}; 0 picks a free port)",
            DefaultValueFactory = _ => DefaultPort,
        };
        var buckets = new Option<string?>("--buckets")
        {
            Description = "Directory of the local buckets: gs://BUCKET/PATH is DIR/BUCKET/PATH (default ~/.local/share/sluice/buckets)",
        };
        var noExamples = new Option<bool>("--no-examples")
        {
            Description = "Do not write the example templates into gs://sluice-examples/",
        };
        var verbose = new Option<bool>("--verbose")
        {
            Description = "Log every job state change",
        };

        var command = new Command("emulator", "Run only the local Dataflow-compatible REST emulator (jobs run as local processes)");
        command.Options.Add(port);
        command.Options.Add(buckets);
        command.Options.Add(noExamples);
        command.Options.Add(verbose);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var bucketsDirectory = Path.GetFullPath(parseResult.GetValue(buckets) ?? DefaultBucketsDirectory());
            var options = new EmulatorOptions
            {
                BucketsDirectory = bucketsDirectory,
                Port = parseResult.GetValue(port),
                // The CLI's Ctrl+C/SIGTERM handling cancels this action, which then stops the emulator gracefully.
                HandleSigterm = false,
                LogLevel = parseResult.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning,
            };
            var problems = options.Validate();
            if (problems.Count > 0)
            {
                foreach (var problem in problems)
                {
                    await error.WriteLineAsync($"error: {problem}");
                }

                return ExitCodes.Usage;
            }

            EmulatorHost host;
            try
            {
                if (!parseResult.GetValue(noExamples))
                {
                    await ExampleTemplates.SeedAsync(bucketsDirectory, cancellationToken: cancellationToken);
                }

                host = await EmulatorHost.StartAsync(options, cancellationToken);
            }
            catch (IOException ex) when (ex.InnerException is SocketException || ex.Message.Contains("address", StringComparison.OrdinalIgnoreCase))
            {
                await error.WriteLineAsync($"error: cannot listen on 127.0.0.1:{options.Port} ({ex.Message}); pick another port with --port.");
                return ExitCodes.Failed;
            }
            catch (UnauthorizedAccessException ex)
            {
                await error.WriteLineAsync($"error: cannot use the buckets directory {bucketsDirectory} ({ex.Message}); pick another with --buckets.");
                return ExitCodes.Failed;
            }

            await using (host)
            {
                await output.WriteLineAsync($"Dataflow emulator listening on {host.BaseUri}");
                await output.WriteLineAsync($"  buckets: {bucketsDirectory}  (gs://BUCKET/PATH = {bucketsDirectory}/BUCKET/PATH)");
                await output.WriteLineAsync($"  state:   {Path.Combine(Path.GetDirectoryName(bucketsDirectory)!, "dataflow-emulator")}");
                if (!parseResult.GetValue(noExamples))
                {
                    await output.WriteLineAsync($"  example templates: {ExampleTemplates.StreamingCounter}, {ExampleTemplates.WordCount}, {ExampleTemplates.StreamingCounterFlex}");
                }

                await output.WriteLineAsync("  try: curl -s -X POST -H 'Content-Type: application/json' "
                    + $"'{host.BaseUri}v1b3/projects/demo/locations/us-central1/templates:launch?gcsPath={ExampleTemplates.StreamingCounter}' "
                    + "-d '{\"jobName\":\"counter\",\"parameters\":{\"output\":\"gs://demo-out/counter\"}}'");
                await output.WriteLineAsync("Press Ctrl+C to stop.");
                try
                {
                    await host.WaitForShutdownAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C: stop below.
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static string DefaultBucketsDirectory() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "sluice", "buckets");
}
