using System.Net;
using System.Net.Http.Json;
using Microsoft.Playwright;

namespace Sluice.Server.Tests;

public sealed class UiTests : IClassFixture<BrowserFixture>
{
    private readonly BrowserFixture _fixture;

    public UiTests(BrowserFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Login_with_a_token_leads_to_the_overview()
    {
        var context = await _fixture.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = _fixture.Server.BaseUri.ToString() });
        var page = await context.NewPageAsync();

        await page.GotoAsync("/ui/tokens");
        Assert.Contains("/ui/login", page.Url, StringComparison.Ordinal);

        await page.FillAsync("#token", "sluice_wrong");
        await page.ClickAsync("button[type=submit]");
        Assert.Contains("unknown or revoked", await page.InnerTextAsync("[role=alert]"), StringComparison.Ordinal);

        await page.FillAsync("#token", _fixture.Server.AdminToken);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.EndsWith("/ui/tokens", StringComparison.Ordinal));
        Assert.Equal("Tokens", await page.InnerTextAsync("main h1"));

        await page.ClickAsync("header nav >> text=Overview");
        Assert.Equal("Overview", await page.InnerTextAsync("main h1"));
        var server = await page.InnerTextAsync("#overview-server");
        Assert.Contains("emulator", server, StringComparison.Ordinal);
        Assert.Contains("SQLite", server, StringComparison.Ordinal);
        Assert.Equal("admin", await page.InnerTextAsync("header .who"));
        await context.CloseAsync();
    }

    [Fact]
    public async Task An_admin_creates_and_revokes_a_token_on_the_tokens_page()
    {
        var page = await _fixture.SignedInPageAsync(_fixture.Server.AdminToken);
        await page.ClickAsync("header nav >> text=Tokens");

        await page.FillAsync("#create-token input[name=name]", "ui-created");
        await page.SelectOptionAsync("#create-token select[name=role]", "operator");
        await page.ClickAsync("#create-token button[type=submit]");
        var secret = await page.InnerTextAsync("#new-token");
        Assert.StartsWith("sluice_", secret, StringComparison.Ordinal);

        using (var client = _fixture.Server.Client(secret))
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(new Uri("/v1/info", UriKind.Relative))).StatusCode);
        }

        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();
        var row = page.Locator("#tokens tr", new PageLocatorOptions { HasText = "ui-created" });
        await row.Locator("button", new LocatorLocatorOptions { HasText = "Revoke" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/ui/tokens", StringComparison.Ordinal));
        Assert.Equal(0, await page.Locator("#tokens tr", new PageLocatorOptions { HasText = "ui-created" }).CountAsync());
        using (var client = _fixture.Server.Client(secret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync(new Uri("/v1/info", UriKind.Relative))).StatusCode);
        }

        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_tokens_table_updates_live_without_a_reload()
    {
        var page = await _fixture.SignedInPageAsync(_fixture.Server.AdminToken);
        await page.GotoAsync("/ui/tokens");
        await page.EvaluateAsync("window.__loadedOnce = true");

        using var admin = _fixture.Server.AdminClient();
        var response = await admin.PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { name = "made-elsewhere", role = "viewer" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        await page.Locator("#tokens tr", new PageLocatorOptions { HasText = "made-elsewhere" }).WaitForAsync();
        Assert.True(await page.EvaluateAsync<bool>("window.__loadedOnce === true"), "the page reloaded instead of updating in place");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_no_tokens_page_and_can_sign_out()
    {
        using var admin = _fixture.Server.AdminClient();
        var token = await AuthTests.CreateTokenAsync(admin, "viewer");
        var page = await _fixture.SignedInPageAsync(token);

        Assert.Equal("viewer", await page.InnerTextAsync("header .who"));
        Assert.Equal(0, await page.Locator("header nav >> text=Tokens").CountAsync());
        var forbidden = await page.GotoAsync("/ui/tokens");
        Assert.Equal((int)HttpStatusCode.Forbidden, forbidden!.Status);

        await page.GotoAsync("/ui");
        await page.ClickAsync("header button:has-text('Sign out')");
        await page.WaitForURLAsync(url => url.Contains("/ui/login", StringComparison.Ordinal));
        await page.GotoAsync("/ui");
        Assert.Contains("/ui/login", page.Url, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }
}
