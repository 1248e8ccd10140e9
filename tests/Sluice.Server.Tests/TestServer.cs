using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Sluice.Server.Configuration;
using Sluice.Server.Hosting;
using Sluice.Server.Modules;

namespace Sluice.Server.Tests;

/// <summary>A real Sluice server on a free loopback port with its own temporary data directory.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly bool _ownsDirectory;

    private TestServer(SluiceServer server, TempDirectory directory, bool ownsDirectory)
    {
        Server = server;
        Directory = directory;
        _ownsDirectory = ownsDirectory;
    }

    public SluiceServer Server { get; }

    public TempDirectory Directory { get; }

    public Uri BaseUri => Server.BaseUri;

    public string AdminToken => File.ReadAllText(Server.Config.AdminTokenFile).Trim();

    public static async Task<TestServer> StartAsync(
        Func<SluiceConfig, SluiceConfig>? configure = null,
        Action<SluiceServerBuilder>? build = null,
        TempDirectory? directory = null)
    {
        var ownsDirectory = directory is null;
        directory ??= new TempDirectory();
        var config = SluiceConfig.Embedded(Path.Combine(directory.Path, ".sluice")) with
        {
            Port = 0,
            LogFormat = LogFormat.Text,
            LogLevel = LogLevel.Warning,
        };
        config = configure?.Invoke(config) ?? config;
        var builder = SluiceServerBuilder.Create(config);
        builder.HandleSignals = false;
        build?.Invoke(builder);
        var server = builder.Build();
        await server.StartAsync(CancellationToken.None);
        return new TestServer(server, directory, ownsDirectory);
    }

    public HttpClient Client(string? token = null)
    {
        var client = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public HttpClient AdminClient() => Client(AdminToken);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        if (_ownsDirectory)
        {
            Directory.Dispose();
        }
    }
}

/// <summary>A temporary directory deleted at the end of a test.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sluice-test-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
