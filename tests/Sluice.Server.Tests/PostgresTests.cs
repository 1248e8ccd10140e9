using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace Sluice.Server.Tests;

/// <summary>Two servers (replicas) on one PostgreSQL store, as in production.</summary>
public sealed class PostgresTests
{
    private static string ConnectionString =>
        Environment.GetEnvironmentVariable("SLUICE_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "SLUICE_TEST_POSTGRES is not set: these tests need a PostgreSQL server. Run scripts/test, or start one with scripts/prereqs.sh (start_throwaway_postgres) and export the variable.");

    /// <summary>A fresh database per test, so tests do not see each other's tokens.</summary>
    private static async Task<string> CreateDatabaseAsync()
    {
        var name = "sluice_server_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;
    }

    [Fact]
    public async Task Two_replicas_share_tokens_and_create_one_bootstrap_admin()
    {
        var store = await CreateDatabaseAsync();
        await using var first = await TestServer.StartAsync(configure: c => c with { Store = store });
        await using var second = await TestServer.StartAsync(configure: c => c with { Store = store });

        Assert.NotNull(first.Server.BootstrapAdminToken);
        Assert.Null(second.Server.BootstrapAdminToken);
        Assert.False(File.Exists(second.Server.Config.AdminTokenFile));

        using var adminOnFirst = first.AdminClient();
        var created = await (await adminOnFirst.PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { name = "shared", role = "viewer" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        using var viewerOnSecond = second.Client(created.GetProperty("token").GetString());
        var info = await viewerOnSecond.GetFromJsonAsync<JsonElement>(new Uri("/v1/info", UriKind.Relative));
        Assert.Equal("postgres", info.GetProperty("store").GetString());

        using var adminOnSecond = second.Client(first.AdminToken);
        Assert.Equal(HttpStatusCode.OK, (await adminOnSecond.DeleteAsync(new Uri($"/v1/tokens/{created.GetProperty("id").GetString()}", UriKind.Relative))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await viewerOnSecond.GetAsync(new Uri("/v1/info", UriKind.Relative))).StatusCode);

        using var anonymous = second.Client();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(new Uri("/readyz", UriKind.Relative))).StatusCode);
    }
}
