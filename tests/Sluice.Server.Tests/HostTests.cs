using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace Sluice.Server.Tests;

public sealed class HostTests
{
    [Fact]
    public async Task Health_answers_without_a_token_and_everything_else_needs_one()
    {
        await using var server = await TestServer.StartAsync();
        using var anonymous = server.Client();

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/healthz", UriKind.Relative))).StatusCode);
        var ready = await anonymous.GetAsync(new Uri("/readyz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"store\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        foreach (var path in new[] { "/v1/info", "/v1/tokens", "/metrics", "/openapi/v1.json", "/v1/nothing-here" })
        {
            var response = await anonymous.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{path} answered {response.StatusCode} without a token");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
    }

    [Fact]
    public async Task The_first_start_writes_an_admin_token_file_readable_only_by_its_owner()
    {
        await using var server = await TestServer.StartAsync();
        var file = server.Server.Config.AdminTokenFile;

        Assert.True(File.Exists(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.StartsWith("sluice_", server.AdminToken, StringComparison.Ordinal);

        using var admin = server.AdminClient();
        var info = await admin.GetFromJsonAsync<JsonElement>(new Uri("/v1/info", UriKind.Relative));
        Assert.Equal("admin", info.GetProperty("role").GetString());
        Assert.Equal("emulator", info.GetProperty("runner").GetString());
        Assert.Equal("sqlite", info.GetProperty("store").GetString());
    }

    [Fact]
    public async Task A_restart_keeps_the_admin_token_and_does_not_rewrite_the_file()
    {
        using var directory = new TempDirectory();
        string token;
        string file;
        await using (var first = await TestServer.StartAsync(directory: directory))
        {
            token = first.AdminToken;
            file = first.Server.Config.AdminTokenFile;
        }

        File.WriteAllText(file, "marker");
        await using var second = await TestServer.StartAsync(directory: directory);

        Assert.Null(second.Server.BootstrapAdminToken);
        Assert.Equal("marker", File.ReadAllText(file));
        using var client = second.Client(token);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/v1/info", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task Metrics_and_the_openapi_document_are_served_to_a_viewer()
    {
        await using var server = await TestServer.StartAsync();
        using var admin = server.AdminClient();
        var created = await (await admin.PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { name = "prometheus", role = "viewer" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        using var viewer = server.Client(created.GetProperty("token").GetString());

        server.Server.Services.GetMetrics().RecordRollout("succeeded");
        server.Server.Services.GetMetrics().RecordStep("launch", "succeeded", TimeSpan.FromSeconds(3));
        server.Server.Services.GetMetrics().RecordSchedulerLag(TimeSpan.FromMilliseconds(40));
        server.Server.Services.GetMetrics().RecordEvent("local", "accepted", TimeSpan.FromMilliseconds(15));
        server.Server.Services.GetMetrics().RecordRunnerError("launch", "503");

        var metrics = await viewer.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Contains("sluice_rollouts_total{outcome=\"succeeded\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_step_duration_seconds_count{kind=\"launch\",outcome=\"succeeded\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_scheduler_lag_seconds_count 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_event_intake_lag_seconds_count{source=\"local\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("sluice_runner_api_errors_total{operation=\"launch\",status=\"503\"} 1", metrics, StringComparison.Ordinal);

        var openApi = await viewer.GetFromJsonAsync<JsonElement>(new Uri("/openapi/v1.json", UriKind.Relative));
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/v1/info", out _));
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/v1/tokens", out _));
    }

    [Fact]
    public async Task Tokens_are_stored_hashed()
    {
        await using var server = await TestServer.StartAsync();
        using var admin = server.AdminClient();
        var created = await (await admin.PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { name = "ci", role = "operator" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var secret = created.GetProperty("token").GetString()!;

        var dbPath = server.Server.Config.Store["sqlite://".Length..];
        await using var connection = new SqliteConnection($"Data Source={dbPath}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT token_hash FROM sluice_tokens";
        var hashes = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                hashes.Add(reader.GetString(0));
            }
        }

        Assert.Equal(2, hashes.Count);
        Assert.DoesNotContain(hashes, h => h.Contains(secret, StringComparison.Ordinal) || h.Contains(server.AdminToken, StringComparison.Ordinal));
        Assert.Contains(Auth.TokenStore.Hash(secret), hashes);
        var bytes = await File.ReadAllBytesAsync(dbPath);
        Assert.DoesNotContain(secret, System.Text.Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }
}
