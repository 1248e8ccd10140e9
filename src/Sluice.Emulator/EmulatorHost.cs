using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sluice.Emulator;

/// <summary>The emulator as a standalone HTTP server on loopback (<c>sluice emulator</c>, tests).</summary>
public sealed class EmulatorHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmulatorHost(WebApplication app, Uri baseUri, EmulatorOptions options)
    {
        _app = app;
        BaseUri = baseUri;
        Options = options;
    }

    /// <summary>Base URI of the REST API, e.g. <c>http://127.0.0.1:8086/</c>; give it to <c>DataflowClientOptions.ForEmulator</c>.</summary>
    public Uri BaseUri { get; }

    public EmulatorOptions Options { get; }

    internal DataflowEmulator Emulator => _app.Services.GetRequiredService<DataflowEmulator>();

    public static async Task<EmulatorHost> StartAsync(EmulatorOptions options, CancellationToken cancellationToken = default)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid emulator options: " + string.Join(" ", problems), nameof(options));
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, options.Port));
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
        builder.Logging.SetMinimumLevel(options.LogLevel);
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        if (!options.HandleSigterm)
        {
            builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();
        }

        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownGracePeriod + TimeSpan.FromSeconds(10));
        builder.Services.AddDataflowEmulator(options);
        var app = builder.Build();
        app.MapDataflowEmulator();
        await app.StartAsync(cancellationToken);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The emulator's HTTP server reported no address.");
        return new EmulatorHost(app, new Uri(address.TrimEnd('/') + "/"), options);
    }

    /// <summary>Completes when the host stops (SIGTERM/Ctrl+C when <see cref="EmulatorOptions.HandleSigterm"/>, or <see cref="StopAsync"/>).</summary>
    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken = default) => _app.StopAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>A lifetime that leaves process signals to the embedding program.</summary>
    private sealed class EmbeddedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
