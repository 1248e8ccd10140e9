using System.CommandLine;
using Sluice.Cli;
using Sluice.Cli.Commands;

var root = new RootCommand("Sluice: a manifest-driven controller for Dataflow jobs (rollouts and schedules).");
GlobalOptions.AddTo(root);

// One line per command; each command lives in Commands/<Name>Command.cs and exposes Create().
root.Subcommands.Add(VersionCommand.Create());
root.Subcommands.Add(EmulatorCommand.Create());

return await root.Parse(args).InvokeAsync();
