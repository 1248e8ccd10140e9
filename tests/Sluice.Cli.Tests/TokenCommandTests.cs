using System.Text.Json;

namespace Sluice.Cli.Tests;

public sealed class TokenCommandTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Create_list_and_revoke_a_token()
    {
        var created = await _server.RunAsync("token", "create", "--role", "viewer", "--name", "dashboards");
        Assert.True(created.ExitCode == 0, created.ToString());
        var secret = created.Output.Trim();
        Assert.StartsWith("sluice_", secret, StringComparison.Ordinal);
        Assert.Contains("shown only this once", created.Error, StringComparison.Ordinal);

        var info = await _server.RunAsAsync(secret, "token", "list");
        Assert.Equal(ExitCodes.Unavailable, info.ExitCode);
        Assert.Contains("role (viewer) may not do this", info.Error, StringComparison.Ordinal);

        var list = await _server.RunAsync("token", "list", "-o", "json");
        Assert.True(list.ExitCode == 0, list.ToString());
        var tokens = JsonDocument.Parse(list.Output).RootElement.EnumerateArray().ToList();
        var token = Assert.Single(tokens, t => t.GetProperty("name").GetString() == "dashboards");
        Assert.Equal("viewer", token.GetProperty("role").GetString());
        Assert.False(list.Output.Contains(secret, StringComparison.Ordinal));

        var table = await _server.RunAsync("token", "list");
        Assert.Matches(@"(?m)^ID\s+NAME\s+ROLE\s+PREFIX\s+CREATED\s+REVOKED$", table.Output);

        var revoked = await _server.RunAsync("token", "revoke", token.GetProperty("id").GetString()!);
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        var after = await _server.RunAsAsync(secret, "token", "list");
        Assert.Equal(ExitCodes.Unavailable, after.ExitCode);
        Assert.Contains("unknown or revoked", after.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_output_of_create_holds_the_secret_for_scripts()
    {
        var created = await _server.RunAsync("token", "create", "--role", "operator", "-o", "json");

        Assert.True(created.ExitCode == 0, created.ToString());
        var json = JsonDocument.Parse(created.Output).RootElement;
        Assert.Equal("operator", json.GetProperty("role").GetString());
        Assert.StartsWith("sluice_", json.GetProperty("token").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Revoking_an_unknown_token_fails_with_exit_1()
    {
        var result = await _server.RunAsync("token", "revoke", "tok_missing");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Equal("error: There is no token 'tok_missing'; list them with 'sluice token list'.", result.Error.Trim());
    }
}
