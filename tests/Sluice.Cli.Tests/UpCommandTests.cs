using System.Net;
using System.Runtime.InteropServices;

namespace Sluice.Cli.Tests;

public sealed class UpCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sluice-up-" + Guid.NewGuid().ToString("N")[..12]);

    public UpCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task Up_serves_writes_the_admin_token_and_the_cli_finds_both_then_stops_cleanly_on_sigterm()
    {
        await using var up = new SluiceChild(_dir, null, "up", "--port", "0");
        var urlFile = Path.Combine(_dir, ".sluice", "server.url");
        var url = await Eventually.GetAsync(
            async () => File.Exists(urlFile) ? (await File.ReadAllTextAsync(urlFile)).Trim() : null,
            TimeSpan.FromSeconds(60),
            $"sluice up to write {urlFile}; output: {up.Output} {up.Error}");

        using var http = new HttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(url + "/healthz"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(new Uri(url + "/v1/info"))).StatusCode);
        var tokenFile = Path.Combine(_dir, ".sluice", "admin.token");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        Assert.Contains("Sluice is up at", up.Output, StringComparison.Ordinal);
        Assert.Contains("\"LogLevel\":\"Information\"", up.Output, StringComparison.Ordinal);

        // No --server and no --token: the CLI uses ./.sluice/server.url and ./.sluice/admin.token.
        var list = await SluiceProcess.RunAsync(_dir, "token", "list");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("bootstrap-admin", list.Output, StringComparison.Ordinal);

        up.Signal(PosixSignal.SIGTERM);
        Assert.Equal(0, await up.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        Assert.False(File.Exists(urlFile));
    }

    [Fact]
    public async Task Up_lists_every_configuration_problem_and_exits_2()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "sluice.yaml"), "runner: dataflow\nlogFormat: xml\n");

        var result = await SluiceProcess.RunAsync(_dir, null, TimeSpan.FromSeconds(60), "up", "--port", "70000", "--store", "mysql://x");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("the configuration has 5 problems", result.Error, StringComparison.Ordinal);
        Assert.Contains("--port: port: '70000' is not a TCP port", result.Error, StringComparison.Ordinal);
        Assert.Contains("project:", result.Error, StringComparison.Ordinal);
        Assert.Contains("region:", result.Error, StringComparison.Ordinal);
        Assert.Contains("sluice.yaml:2:12: logFormat:", result.Error, StringComparison.Ordinal);
        Assert.Contains("--store: store:", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_on_a_busy_port_says_so()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var result = await SluiceProcess.RunAsync(_dir, null, TimeSpan.FromSeconds(60), "up", "--port", port, "--log-format", "text");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains($"127.0.0.1:{port} is already in use", result.Error, StringComparison.Ordinal);
    }
}
