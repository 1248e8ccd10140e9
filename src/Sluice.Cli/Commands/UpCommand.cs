using System.CommandLine;
using System.Net.Sockets;
using Sluice.Server.Configuration;
using Sluice.Server.Hosting;

namespace Sluice.Cli.Commands;

/// <summary><c>sluice up</c>: the whole controller in one process, until SIGTERM or Ctrl+C.</summary>
internal static class UpCommand
{
    public static Command Create()
    {
        var command = new Command("up", "Run the Sluice server: API, web UI, engine, flows and (by default) the Dataflow emulator");
        var configFile = new Option<string?>("--config") { Description = "YAML configuration file (default: ./sluice.yaml if it exists, or SLUICE_CONFIG)" };
        command.Options.Add(configFile);
        var flags = SluiceConfigLoader.Keys.Select(key => (key, option: new Option<string?>(key.Flag) { Description = $"{key.Description} [{key.EnvironmentVariable}]" })).ToList();
        foreach (var (_, option) in flags)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var given = flags
                .Select(f => (f.key.Name, Value: parseResult.GetValue(f.option)))
                .Where(f => f.Value is not null)
                .ToDictionary(f => f.Name, f => f.Value!);
            var loaded = SluiceConfigLoader.LoadFromProcess(parseResult.GetValue(configFile), given);
            if (!loaded.IsValid)
            {
                await error.WriteLineAsync($"error: the configuration has {loaded.Problems.Count} problem{(loaded.Problems.Count == 1 ? "" : "s")}:");
                foreach (var problem in loaded.Problems)
                {
                    await error.WriteLineAsync($"  {problem}");
                }

                return ExitCodes.Usage;
            }

            var config = loaded.Config!;
            try
            {
                await using var server = SluiceServerBuilder.Create(config).AddProductModules().Build();
                await server.StartAsync(cancellationToken);
                var tokenNote = server.BootstrapAdminToken is not null
                    ? $"the first admin token was written to {config.AdminTokenFile}"
                    : $"admin token file: {config.AdminTokenFile}";
                await output.WriteLineAsync($"Sluice is up at {server.BaseUri} (UI: {server.BaseUri}ui); {tokenNote}. Stop with Ctrl+C.");
                await output.FlushAsync(cancellationToken);
                await server.RunAsync(cancellationToken);
                return ExitCodes.Ok;
            }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                await error.WriteLineAsync($"error: {config.Host}:{config.Port} is already in use; stop the other process, or choose another port with --port (0 picks a free one).");
                return ExitCodes.Failed;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                await error.WriteLineAsync($"error: the server could not start: {e.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }
}
