using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sluice.Emulator;
using Sluice.Engine;
using Sluice.Server.Auth;
using Sluice.Server.Configuration;

namespace Sluice.Server.Hosting;

/// <summary>A built Sluice server. Start it, then read <see cref="BaseUri"/>; dispose to stop.</summary>
public sealed class SluiceServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private bool _started;

    internal SluiceServer(WebApplication app, SluiceConfig config)
    {
        _app = app;
        Config = config;
    }

    /// <summary>The configuration in effect (with the port chosen when 0 was asked).</summary>
    public SluiceConfig Config { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>The address the server listens on (known after <see cref="StartAsync"/>; the real port when 0 was asked).</summary>
    public Uri BaseUri { get; private set; } = new("http://127.0.0.1/");

    /// <summary>The admin token written on the first start, or null when the store already held tokens.</summary>
    public string? BootstrapAdminToken { get; private set; }

    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>Prepares the data directory and the store, then starts listening.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var logger = _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Sluice.Server");
        Directory.CreateDirectory(Config.DataDirectory);
        Directory.CreateDirectory(Config.BucketsDirectory);

        // Migrations (the engine's and every module's, "auth" included) before anything reads the store.
        await _app.Services.GetRequiredService<WorkflowEngine>().EnsureStoreReadyAsync(cancellationToken);
        if (Config.EmbeddedEmulator)
        {
            await ExampleTemplates.SeedAsync(Config.BucketsDirectory, _app.Services.GetRequiredService<TimeProvider>(), cancellationToken);
        }

        var tokens = _app.Services.GetRequiredService<TokenStore>();
        BootstrapAdminToken = await tokens.CreateBootstrapAdminAsync(cancellationToken);
        if (BootstrapAdminToken is not null)
        {
            await WritePrivateFileAsync(Config.AdminTokenFile, BootstrapAdminToken + "\n", cancellationToken);
            logger.LogInformation("Created the first admin token and wrote it to {AdminTokenFile}", Config.AdminTokenFile);
        }

        StartedAt = _app.Services.GetRequiredService<TimeProvider>().GetUtcNow();
        _app.Services.GetRequiredService<SluiceServerStartTime>().Value = StartedAt;
        await _app.StartAsync(cancellationToken);
        _started = true;

        BaseUri = _app.Services.GetRequiredService<ServerAddress>().BaseUri;
        await WritePrivateFileAsync(Config.ServerUrlFile, BaseUri.ToString().TrimEnd('/') + "\n", cancellationToken);
        logger.LogInformation(
            "Sluice is listening on {BaseUri} (UI {UiUri}); runner {Runner}, store {Store}, data in {DataDirectory}",
            BaseUri, new Uri(BaseUri, "ui"), Config.Runner.ToString().ToLowerInvariant(), SluiceConfigLoader.Redact(Config.Store), Config.DataDirectory);
    }

    /// <summary>Runs until the host is told to stop (SIGTERM, Ctrl+C, or <paramref name="cancellationToken"/>), then shuts down gracefully.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            await StartAsync(cancellationToken);
        }

        var lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStopping.Register(() => stopped.TrySetResult()))
        using (cancellationToken.Register(() => stopped.TrySetResult()))
        {
            await stopped.Task;
        }

        await StopAsync(CancellationToken.None);
    }

    /// <summary>Stops accepting requests and lets hosted work finish within the configured shutdown timeout.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_started)
        {
            _started = false;
            await _app.StopAsync(cancellationToken);
            TryDelete(Config.ServerUrlFile);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    /// <summary>Writes a file readable only by its owner (0600), atomically, so a reader never sees half a token.</summary>
    internal static async Task WritePrivateFileAsync(string path, string content, CancellationToken cancellationToken)
    {
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        await using (var stream = new FileStream(temp, options))
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(content), cancellationToken);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode only applies to new files; a leftover temp file keeps its old mode otherwise.
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Only a hint for the CLI; a stale file is rewritten at the next start.
        }
    }
}
