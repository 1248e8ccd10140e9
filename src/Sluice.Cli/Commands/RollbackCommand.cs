using System.CommandLine;
using Sluice.Cli.Output;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice rollback PIPELINE [--to-revision N] [--wait]</c>.</summary>
internal static class RollbackCommand
{
    public static Command Create()
    {
        var command = new Command("rollback", "Roll a pipeline back to its previous (or a given) stable revision");
        var pipeline = new Argument<string>("PIPELINE") { Description = "The pipeline's name" };
        var toRevision = new Option<int?>("--to-revision") { Description = "Revision to go back to (see 'sluice describe pipeline NAME'); default the stable one before the current" };
        var wait = new Option<bool>("--wait") { Description = "Follow the rollback until it is done (exit 1 if it fails)" };
        var timeout = ApplyCommand.TimeoutOption();
        command.Arguments.Add(pipeline);
        command.Options.Add(toRevision);
        command.Options.Add(wait);
        command.Options.Add(timeout);
        command.SetApiAction(async (context, ct) =>
        {
            var rollout = await context.Client.RollbackAsync(context.ParseResult.GetValue(pipeline)!, context.ParseResult.GetValue(toRevision), ct);
            if (!context.ParseResult.GetValue(wait))
            {
                if (context.Json)
                {
                    CliOutput.WriteJson(context.Out, rollout);
                }
                else
                {
                    await context.Out.WriteLineAsync($"Rollback {rollout.Name} of {rollout.Pipeline} to {rollout.ToVersion} started (run {rollout.RunId}); follow it with 'sluice describe rollout {rollout.Name}'.");
                }

                return ExitCodes.Ok;
            }

            var final = await Progress.WithTimeoutAsync(
                context.ParseResult.GetValue(timeout),
                $"rollback {rollout.Name}",
                token => new Progress(context).FollowRolloutAsync(rollout.Name, null, token),
                ct);
            if (context.Json)
            {
                CliOutput.WriteJson(context.Out, final);
            }

            return final.State == "succeeded" ? ExitCodes.Ok : ExitCodes.Failed;
        });
        return command;
    }
}
