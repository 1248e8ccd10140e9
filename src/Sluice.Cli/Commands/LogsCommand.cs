using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Sluice.Cli.Output;
using Sluice.Server.Api;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice logs RUN_ID [STEP] [-f]</c>: the log lines of a run's steps.</summary>
internal static class LogsCommand
{
    public static Command Create()
    {
        var command = new Command("logs", "Show the logs of a run's steps");
        var runId = new Argument<long>("RUN_ID") { Description = "The run id (see 'sluice get runs')" };
        var step = new Argument<string?>("STEP") { Description = "Only this step", Arity = ArgumentArity.ZeroOrOne };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new lines until the run ends" };
        command.Arguments.Add(runId);
        command.Arguments.Add(step);
        command.Options.Add(follow);
        command.SetApiAction(async (context, ct) =>
        {
            var id = context.ParseResult.GetValue(runId);
            var stepName = context.ParseResult.GetValue(step);
            if (!context.ParseResult.GetValue(follow))
            {
                var logs = await context.Client.GetRunLogsAsync(id, stepName, ct);
                foreach (var line in logs.Items)
                {
                    await WriteAsync(context, line);
                }

                return ExitCodes.Ok;
            }

            await foreach (var message in context.Client.FollowRunLogsAsync(id, stepName, ct))
            {
                switch (message.Event)
                {
                    case "log":
                        await WriteAsync(context, JsonSerializer.Deserialize<StepLogResource>(message.Data, SluiceJson.Options)!);
                        break;
                    case "end":
                        var run = JsonSerializer.Deserialize<RunResource>(message.Data, SluiceJson.Options)!;
                        if (!context.Json)
                        {
                            await context.Error.WriteLineAsync($"run {run.Id} {run.State}" + (run.Reason is null ? "" : $": {run.Reason}"));
                        }

                        return run.State == "succeeded" ? ExitCodes.Ok : ExitCodes.Failed;
                }
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static async Task WriteAsync(CliContext context, StepLogResource line)
    {
        if (context.Json)
        {
            await context.Out.WriteLineAsync(JsonSerializer.Serialize(line, SluiceJson.Options));
            return;
        }

        var attempt = line.Attempt > 1 ? $"#{line.Attempt.ToString(CultureInfo.InvariantCulture)}" : "";
        await context.Out.WriteLineAsync($"{CliOutput.Time(line.At)}  {line.Step}{attempt}  {line.Message}");
    }
}
