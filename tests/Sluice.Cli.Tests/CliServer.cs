using Microsoft.Extensions.Logging;
using Sluice.Engine;
using Sluice.Server.Configuration;
using Sluice.Server.Hosting;

namespace Sluice.Cli.Tests;

/// <summary>A real Sluice server on loopback (in the test process) for the CLI child processes to talk to.</summary>
/// <summary>Logs three lines and succeeds.</summary>
internal sealed class ChattyStep : IStepHandler
{
    public string Kind => "test-chatty";

    public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
    {
        for (var i = 1; i <= 3; i++)
        {
            await context.LogAsync($"line {i} of {context.Step.Name}", cancellationToken);
        }

        return StepOutcome.SucceededWith(new { lines = 3 });
    }
}

public sealed class CliServer : IAsyncDisposable
{
    private CliServer(SluiceServer server, string directory)
    {
        Server = server;
        Directory = directory;
    }

    public SluiceServer Server { get; }

    /// <summary>A scratch directory to run the CLI in (no .sluice of its own).</summary>
    public string Directory { get; }

    public string Url => Server.BaseUri.ToString().TrimEnd('/');

    public string AdminToken => File.ReadAllText(Server.Config.AdminTokenFile).Trim();

    public static async Task<CliServer> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "sluice-cli-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var config = SluiceConfig.Embedded(Path.Combine(directory, "server-data")) with
        {
            Port = 0,
            LogFormat = LogFormat.Text,
            LogLevel = LogLevel.Warning,
        };
        var builder = SluiceServerBuilder.Create(config).AddProductModules()
            .ConfigureServices(s => s.AddStepHandler<ChattyStep>());
        builder.HandleSignals = false;
        var server = builder.Build();
        await server.StartAsync(CancellationToken.None);
        return new CliServer(server, directory);
    }

    /// <summary>Runs `sluice ARGS --server URL --token TOKEN` (admin token unless one is given).</summary>
    public Task<SluiceProcess.Result> RunAsync(params string[] args) => RunAsAsync(AdminToken, args);

    public Task<SluiceProcess.Result> RunAsAsync(string token, params string[] args) =>
        SluiceProcess.RunAsync(Directory, [.. args, "--server", Url, "--token", token]);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
