using Microsoft.Playwright;

namespace Sluice.Server.Tests.Rollouts;

/// <summary>The Pipelines and Rollouts pages in a real headless Chromium.</summary>
public sealed class RolloutPagesTests : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("SLUICE_TEST_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException(
                $"The UI tests need Chromium at '{chromium}'. Install Debian's chromium package (scripts/prereqs.sh does) or set SLUICE_TEST_CHROMIUM to its path.");
        }

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
        _server = await RolloutsTestServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await _server.DisposeAsync();
    }

    private async Task<IPage> SignedInPageAsync(string token)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { BaseURL = _server.BaseUri.ToString() });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/login");
        await page.FillAsync("#token", token);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.EndsWith("/ui", StringComparison.Ordinal));
        return page;
    }

    [Fact]
    public async Task A_pipeline_shows_its_version_and_job_its_rollouts_are_step_timelines_and_an_operator_rolls_back_by_a_click()
    {
        await _server.RollOutAsync(RolloutsTestServer.Rollout("web", "web-v1", null, "v1"));
        await _server.RollOutAsync(RolloutsTestServer.Rollout("web", "web-v2", "v1", "v2"));
        using var admin = _server.AdminClient();
        var page = await SignedInPageAsync(await AuthTests.CreateTokenAsync(admin, "operator"));

        await page.ClickAsync("header nav >> text=Pipelines");
        var row = page.Locator("#pipelines-table tr", new PageLocatorOptions { HasText = "web" });
        Assert.Contains("v2", await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal("stable", await row.Locator(".state").First.GetAttributeAsync("data-state"));
        Assert.Equal("JOB_STATE_RUNNING", await row.Locator(".state").Nth(1).GetAttributeAsync("data-state"));

        await row.Locator("a:text-is('web')").ClickAsync();
        Assert.Equal(2, await page.Locator("#revisions-table tbody tr").CountAsync());
        await page.ClickAsync("#revisions-table a:text-is('web-v2')");
        await page.Locator("#rollout-facts [data-state=succeeded]").WaitForAsync();
        foreach (var step in new[] { "check-current", "stop-old", "wait-terminal", "launch-new", "validate", "record" })
        {
            Assert.Equal("succeeded", await page.GetAttributeAsync($".step[data-step={step}] .state", "data-state"));
        }

        var logs = await page.InnerTextAsync("pre.logs");
        Assert.Contains("Requested drain of job web-v1", logs, StringComparison.Ordinal);
        Assert.Contains("Launched version v2 as job web-v2", logs, StringComparison.Ordinal);

        // Roll back from the pipeline page; the browser lands on the rollback's timeline, which follows it live.
        await page.ClickAsync("#rollout-facts a:text-is('web')");
        await page.ClickAsync("#rollback-form button");
        await page.WaitForURLAsync(url => url.Contains("/ui/rollouts/", StringComparison.Ordinal));
        await page.Locator("#rollout-facts [data-state=succeeded]").WaitForAsync();
        Assert.Contains("v2 → v1", await page.InnerTextAsync("#rollout-facts"), StringComparison.Ordinal);

        await page.ClickAsync("header nav >> text=Rollouts");
        Assert.Equal(3, await page.Locator("#rollouts-table tbody tr").CountAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_no_rollback_button()
    {
        await _server.RollOutAsync(RolloutsTestServer.Rollout("ro", "ro-v1", null, "v1"));
        using var admin = _server.AdminClient();
        var page = await SignedInPageAsync(await AuthTests.CreateTokenAsync(admin, "viewer"));
        await page.GotoAsync("/ui/pipelines/ro");
        await page.Locator("#revisions-table").WaitForAsync();
        Assert.Equal(0, await page.Locator("#rollback-form").CountAsync());
        await page.Context.CloseAsync();
    }
}
