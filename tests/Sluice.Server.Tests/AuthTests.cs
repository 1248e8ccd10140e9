using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sluice.Server.Tests;

public sealed class AuthTests
{
    [Fact]
    public async Task Roles_decide_what_a_token_may_do()
    {
        await using var server = await TestServer.StartAsync();
        using var admin = server.AdminClient();
        var viewerToken = await CreateTokenAsync(admin, "viewer");
        var operatorToken = await CreateTokenAsync(admin, "operator");
        using var viewer = server.Client(viewerToken);
        using var @operator = server.Client(operatorToken);

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(new Uri("/v1/info", UriKind.Relative))).StatusCode);
        var forbidden = await viewer.PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { role = "admin" });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        var problem = await forbidden.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("viewer", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await @operator.GetAsync(new Uri("/v1/tokens", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task A_revoked_token_is_refused_at_once()
    {
        await using var server = await TestServer.StartAsync();
        using var admin = server.AdminClient();
        var created = await (await admin.PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { name = "temp", role = "viewer" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        using var viewer = server.Client(created.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(new Uri("/v1/info", UriKind.Relative))).StatusCode);

        var revoke = await admin.DeleteAsync(new Uri($"/v1/tokens/{created.GetProperty("id").GetString()}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.True((await revoke.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("revokedAt", out _));

        Assert.Equal(HttpStatusCode.Unauthorized, (await viewer.GetAsync(new Uri("/v1/info", UriKind.Relative))).StatusCode);
        var list = await admin.GetFromJsonAsync<JsonElement>(new Uri("/v1/tokens", UriKind.Relative));
        Assert.DoesNotContain(list.GetProperty("items").EnumerateArray(), t => t.GetProperty("name").GetString() == "temp");
        var all = await admin.GetFromJsonAsync<JsonElement>(new Uri("/v1/tokens?all=true", UriKind.Relative));
        Assert.Contains(all.GetProperty("items").EnumerateArray(), t => t.GetProperty("name").GetString() == "temp");
    }

    [Fact]
    public async Task Bad_requests_get_one_clear_sentence()
    {
        await using var server = await TestServer.StartAsync();
        using var admin = server.AdminClient();

        var badRole = await admin.PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { role = "root" });
        Assert.Equal(HttpStatusCode.BadRequest, badRole.StatusCode);
        Assert.Equal("'root' is not a role; use viewer, operator or admin.", (await badRole.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());

        var missing = await admin.DeleteAsync(new Uri("/v1/tokens/tok_nothing", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        using var wrong = server.Client("sluice_not-a-real-token");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync(new Uri("/v1/info", UriKind.Relative))).StatusCode);
    }

    internal static async Task<string> CreateTokenAsync(HttpClient admin, string role)
    {
        var response = await admin.PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { name = role + "-test", role });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }
}
