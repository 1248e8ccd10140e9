using Microsoft.Playwright;
using Sluice.Engine;

namespace Sluice.Server.Tests;

/// <summary>One headless Chromium (Debian's, driven by Playwright) and one server shared by the UI tests of a class.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("SLUICE_TEST_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException(
                $"The UI tests need Chromium at '{chromium}'. Install Debian's chromium package (scripts/prereqs.sh does) or set SLUICE_TEST_CHROMIUM to its path.");
        }

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // Root in CI containers cannot use Chromium's sandbox; /dev/shm is small there.
            Args = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
        });
        Server = await TestServer.StartAsync(build: b => b.ConfigureServices(s =>
        {
            s.AddStepHandler<ChattyStep>();
            s.AddStepHandler<GateStep>();
        }));
    }

    /// <summary>A fresh browser context (own cookies) signed in with <paramref name="token"/>.</summary>
    public async Task<IPage> SignedInPageAsync(string token)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = Server.BaseUri.ToString() });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/login");
        await page.FillAsync("#token", token);
        await page.ClickAsync("button[type=submit]");
        // Wait for the overview's heading rather than the page's load event: the load event is what timed out, twice,
        // on a 2-core machine under full load, with the page already there.
        await page.WaitForURLAsync(url => url.EndsWith("/ui", StringComparison.Ordinal), new PageWaitForURLOptions { WaitUntil = WaitUntilState.Commit });
        await page.Locator("h1").First.WaitForAsync();
        return page;
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}
