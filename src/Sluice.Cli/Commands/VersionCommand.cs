using System.CommandLine;
using System.Reflection;

namespace Sluice.Cli.Commands;

internal static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the Sluice version");
        command.SetAction(parseResult =>
        {
            var version = typeof(VersionCommand).Assembly
                .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            parseResult.InvocationConfiguration.Output.WriteLine($"sluice {version}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
