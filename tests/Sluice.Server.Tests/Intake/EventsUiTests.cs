using Microsoft.Playwright;

namespace Sluice.Server.Tests.Intake;

/// <summary>The Events page in headless Chromium: rejected events appear live with their reasons.</summary>
public sealed class EventsUiTests : IAsyncLifetime
{
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private TestServer? _server;

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
        _server = await IntakeTestServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_rejected_object_appears_live_on_the_events_page_with_its_reason()
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { BaseURL = _server!.BaseUri.ToString() });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/login");
        await page.FillAsync("#token", _server.AdminToken);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.EndsWith("/ui", StringComparison.Ordinal));

        await page.ClickAsync("header nav >> text=Events");
        Assert.Equal("Events", await page.InnerTextAsync("main h1"));
        Assert.Contains("No events yet", await page.InnerTextAsync("#events"), StringComparison.Ordinal);

        // Dropped while the page is open: the table updates without a reload.
        IntakeHarnessFiles.WriteAtomically(_server.RolloutsDirectory(), "typo.yaml",
            IntakeTestServer.Rollout("typo", template: "gs://sluice-templates/templates/countr.json"));
        IntakeHarnessFiles.WriteAtomically(_server.RolloutsDirectory(), "good.yaml", IntakeTestServer.Rollout("good"));
        var rejectedRow = page.Locator("#events-table tr", new PageLocatorOptions { HasText = "typo.yaml" });
        await rejectedRow.Locator("[data-state=rejected]").WaitForAsync();
        Assert.Contains("countr.json does not exist", await rejectedRow.InnerTextAsync(), StringComparison.Ordinal);
        await page.Locator("#events-table tr", new PageLocatorOptions { HasText = "good.yaml" }).Locator("[data-state=dispatched]").WaitForAsync();

        await page.ClickAsync("main .filters >> text=rejected");
        await page.WaitForURLAsync(url => url.EndsWith("/ui/events?state=rejected", StringComparison.Ordinal));
        Assert.Equal(1, await page.Locator("#events-table tbody tr").CountAsync());
        Assert.Contains("typo.yaml", await page.InnerTextAsync("#events-table"), StringComparison.Ordinal);

        await page.ClickAsync("header nav >> text=Overview");
        Assert.Contains("Last rejected", await page.InnerTextAsync("#overview-events"), StringComparison.Ordinal);
        await context.CloseAsync();
    }
}

internal static class IntakeHarnessFiles
{
    /// <summary>Writes a file as <c>sluice apply</c> does: a hidden temp file renamed over the name.</summary>
    public static void WriteAtomically(string directory, string name, string text)
    {
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{name}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temp, text);
        File.Move(temp, Path.Combine(directory, name), overwrite: true);
    }
}
