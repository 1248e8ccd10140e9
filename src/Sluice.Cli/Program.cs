using System.CommandLine;
using System.CommandLine.Invocation;
using Sluice.Cli;
using Sluice.Cli.Commands;

var root = new RootCommand("Sluice: a manifest-driven controller for Dataflow jobs (rollouts and schedules).");
GlobalOptions.AddTo(root);

// One line per command; each command lives in Commands/<Name>Command.cs and exposes Create().
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(EmulatorCommand.Create());
root.Subcommands.Add(UpCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(TokenCommand.Create());
root.Subcommands.Add(ValidateCommand.Create());
root.Subcommands.Add(RenderCommand.Create());
root.Subcommands.Add(GetCommand.Create());
root.Subcommands.Add(DescribeCommand.Create());
root.Subcommands.Add(LogsCommand.Create());
root.Subcommands.Add(ApplyCommand.Create());
root.Subcommands.Add(RollbackCommand.Create());
root.Subcommands.Add(PauseCommand.Create());
root.Subcommands.Add(UnpauseCommand.Create());
root.Subcommands.Add(UnscheduleCommand.Create());
root.Subcommands.Add(BackfillCommand.Create());

var parseResult = root.Parse(args);
if (parseResult.Action is ParseErrorAction parseError)
{
    // The error and a pointer to --help are clearer than a full help page above the error.
    parseError.ShowHelp = false;
}

// `sluice up` handles SIGTERM/Ctrl+C itself for a graceful shutdown; other commands just end.
var exitCode = await parseResult.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
return parseResult.Action is ParseErrorAction ? ExitCodes.Usage : exitCode;
