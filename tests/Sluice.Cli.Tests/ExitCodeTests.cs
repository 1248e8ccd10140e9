namespace Sluice.Cli.Tests;

public sealed class ExitCodeTests
{
    [Fact]
    public async Task A_parse_error_exits_2()
    {
        var unknownOption = await SluiceProcess.RunAsync(Path.GetTempPath(), "token", "list", "--no-such-option");
        Assert.Equal(ExitCodes.Usage, unknownOption.ExitCode);
        Assert.Contains("--no-such-option", unknownOption.Error, StringComparison.Ordinal);

        var missingRole = await SluiceProcess.RunAsync(Path.GetTempPath(), "token", "create");
        Assert.Equal(ExitCodes.Usage, missingRole.ExitCode);
        Assert.Contains("--role", missingRole.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_exits_3_with_one_sentence()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var result = await SluiceProcess.RunAsync(Path.GetTempPath(), "token", "list", "--server", $"http://127.0.0.1:{port}", "--token", "sluice_x");

        Assert.Equal(ExitCodes.Unavailable, result.ExitCode);
        Assert.Equal($"error: Cannot reach the Sluice server at http://127.0.0.1:{port}/; start it with 'sluice up' or pass --server (or SLUICE_SERVER).", result.Error.Trim());
    }

    [Fact]
    public async Task A_malformed_server_address_is_a_usage_error()
    {
        var result = await SluiceProcess.RunAsync(Path.GetTempPath(), "token", "list", "--server", "ftp://x");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("is not a server address", result.Error, StringComparison.Ordinal);
    }
}
