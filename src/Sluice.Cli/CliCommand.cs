using System.CommandLine;
using Sluice.Cli.Client;

namespace Sluice.Cli;

/// <summary>Everything a command that talks to the server needs.</summary>
public sealed class CliContext
{
    internal CliContext(ParseResult parseResult, CliSettings settings, SluiceApiClient client)
    {
        ParseResult = parseResult;
        Settings = settings;
        Client = client;
    }

    public ParseResult ParseResult { get; }

    public CliSettings Settings { get; }

    public SluiceApiClient Client { get; }

    public TextWriter Out => ParseResult.InvocationConfiguration.Output;

    public TextWriter Error => ParseResult.InvocationConfiguration.Error;

    public bool Json => Settings.Output == OutputFormat.Json;

    public static DateTimeOffset Now => TimeProvider.System.GetUtcNow();
}

/// <summary>Runs a command body and turns every failure into one sentence on stderr and an exit code.</summary>
public static class CliCommand
{
    /// <summary>For commands that call the API.</summary>
    public static void SetApiAction(this Command command, Func<CliContext, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var settings = CliSettings.From(parseResult);
                using var client = settings.CreateClient();
                return await action(new CliContext(parseResult, settings, client), cancellationToken);
            }
            catch (Exception e)
            {
                return Report(error, e);
            }
        });

    /// <summary>Writes the error as the CLI's users see it and returns its exit code.</summary>
    public static int Report(TextWriter error, Exception exception)
    {
        switch (exception)
        {
            case SluiceApiException api:
                error.WriteLine($"error: {api.Message}");
                foreach (var problem in api.Problems)
                {
                    error.WriteLine(problem);
                }

                return api.ExitCode;
            case CliUsageException usage:
                error.WriteLine($"error: {usage.Message}");
                return ExitCodes.Usage;
            case Commands.ManifestFilesException files:
                foreach (var problem in files.Problems)
                {
                    error.WriteLine($"error: {problem}");
                }

                return ExitCodes.Failed;
            case OperationCanceledException:
                error.WriteLine("error: interrupted.");
                return ExitCodes.Failed;
            default:
                error.WriteLine($"error: {exception.Message}");
                return ExitCodes.Failed;
        }
    }
}
