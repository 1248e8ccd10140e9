using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Sluice.Controller.Schedules;
using Sluice.Manifests;
using Sluice.Server.Api;

namespace Sluice.Server.Tests.Schedules;

/// <summary>A server with the product modules, for the schedule API and pages.</summary>
public sealed class ScheduleServerFixture : IAsyncLifetime
{
    public TestServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await TestServer.StartAsync(build: b => b.AddProductModules());

    public ScheduleService Schedules => Server.Server.Services.GetRequiredService<ScheduleService>();

    /// <summary>Registers a paused-or-not daily schedule whose slots are far in the future, so nothing launches.</summary>
    public Task<ScheduleRegistration> RegisterAsync(string dagId, bool paused = false, string startDate = "2099-01-01T00:00:00Z") =>
        Schedules.RegisterAsync(
            new ScheduleManifest
            {
                Metadata = new ManifestMetadata(dagId.Replace('_', '-')),
                Spec = new ScheduleSpec
                {
                    DagId = dagId,
                    Schedule = "@daily",
                    StartDate = DateTimeOffset.Parse(startDate, CultureInfo.InvariantCulture),
                    Paused = paused,
                    Job = new ScheduledJob
                    {
                        Template = new TemplateRef(TemplateKind.Classic, "gs://sluice-examples/templates/wordcount"),
                        JobName = "ui-{{ ds_nodash }}",
                    },
                },
            },
            "test",
            CancellationToken.None);

    public async Task DisposeAsync()
    {
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }
    }
}

public sealed class ScheduleApiTests(ScheduleServerFixture fixture) : IClassFixture<ScheduleServerFixture>
{
    [Fact]
    public async Task The_api_lists_a_schedule_pauses_it_for_operators_only_and_unschedules_it()
    {
        await fixture.RegisterAsync("api_daily");
        using var admin = fixture.Server.AdminClient();

        var list = await admin.GetFromJsonAsync<ListResponse<ScheduleResource>>(new Uri("/v1/schedules", UriKind.Relative), SluiceJson.Options);
        var listed = Assert.Single(list!.Items, s => s.DagId == "api_daily");
        Assert.Equal("active", listed.State);
        Assert.Equal("api-daily", listed.Name);
        Assert.Equal(DateTimeOffset.Parse("2099-01-02T00:00:00Z", CultureInfo.InvariantCulture), listed.NextDueAt);

        var viewerToken = await CreateTokenAsync(admin, "viewer");
        using (var viewer = fixture.Server.Client(viewerToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsync(new Uri("/v1/schedules/api_daily/pause", UriKind.Relative), null)).StatusCode);
        }

        var paused = await (await admin.PostAsync(new Uri("/v1/schedules/api_daily/pause", UriKind.Relative), null)).Content.ReadFromJsonAsync<ScheduleResource>(SluiceJson.Options);
        Assert.Equal("paused", paused!.State);
        Assert.True(paused.Paused);

        var detail = await admin.GetFromJsonAsync<ScheduleResource>(new Uri("/v1/schedules/api_daily?slots=5", UriKind.Relative), SluiceJson.Options);
        Assert.NotNull(detail!.Spec);
        Assert.Empty(detail.Slots!);

        var gone = await admin.DeleteAsync(new Uri("/v1/schedules/api_daily", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, gone.StatusCode);
        Assert.Equal("unscheduled", (await gone.Content.ReadFromJsonAsync<ScheduleResource>(SluiceJson.Options))!.State);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync(new Uri("/v1/schedules/api_daily/unpause", UriKind.Relative), null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync(new Uri("/v1/schedules/no_such/pause", UriKind.Relative), null)).StatusCode);
    }

    [Fact]
    public async Task A_backfill_dry_run_lists_the_slots_it_would_run_and_bad_input_gets_one_clear_sentence()
    {
        await fixture.RegisterAsync("api_backfill", paused: true, startDate: "2026-01-01T00:00:00Z");
        using var admin = fixture.Server.AdminClient();
        var response = await admin.PostAsJsonAsync(
            new Uri("/v1/schedules/api_backfill/backfills", UriKind.Relative),
            new Api.BackfillRequest { From = "2026-01-01", To = "2026-01-03", DryRun = true });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var plan = await response.Content.ReadFromJsonAsync<BackfillResponse>(SluiceJson.Options);
        Assert.Equal(["create", "create", "create"], plan!.Slots.Select(s => s.Action));

        var bad = await admin.PostAsJsonAsync(
            new Uri("/v1/schedules/api_backfill/backfills", UriKind.Relative), new Api.BackfillRequest { From = "yesterday", To = "2026-01-03" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("is not a date", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var triggered = await admin.PostAsJsonAsync(
            new Uri("/v1/schedules/api_backfill/runs", UriKind.Relative), new TriggerRunRequest(DateTimeOffset.Parse("2026-01-05T00:00:00Z", CultureInfo.InvariantCulture)));
        Assert.Equal(HttpStatusCode.Accepted, triggered.StatusCode);
        var again = await admin.PostAsJsonAsync(
            new Uri("/v1/schedules/api_backfill/runs", UriKind.Relative), new TriggerRunRequest(DateTimeOffset.Parse("2026-01-05T00:00:00Z", CultureInfo.InvariantCulture)));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var slots = await admin.GetFromJsonAsync<ListResponse<SlotResource>>(new Uri("/v1/schedules/api_backfill/slots", UriKind.Relative), SluiceJson.Options);
        Assert.Single(slots!.Items);
    }

    private static async Task<string> CreateTokenAsync(HttpClient admin, string role)
    {
        var response = await admin.PostAsJsonAsync(new Uri("/v1/tokens", UriKind.Relative), new { name = "schedules-" + role, role });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return body.GetProperty("token").GetString()!;
    }
}

public sealed class ScheduleUiTests(BrowserFixture browser, ScheduleServerFixture fixture) : IClassFixture<BrowserFixture>, IClassFixture<ScheduleServerFixture>
{
    [Fact]
    public async Task An_operator_pauses_and_unpauses_a_schedule_from_its_page_and_the_list_shows_it()
    {
        await fixture.RegisterAsync("ui_daily");
        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.Server.BaseUri.ToString() });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/login");
        await page.FillAsync("#token", fixture.Server.AdminToken);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.EndsWith("/ui", StringComparison.Ordinal));

        await page.ClickAsync("header nav >> text=Schedules");
        Assert.Equal("Schedules", await page.InnerTextAsync("main h1"));
        var row = page.Locator("#schedule-list tr", new PageLocatorOptions { HasText = "ui_daily" });
        Assert.Contains("2099-01-01", await row.InnerTextAsync(), StringComparison.Ordinal);

        await row.Locator("a", new LocatorLocatorOptions { HasText = "ui_daily" }).ClickAsync();
        Assert.Equal("Schedule ui_daily", await page.InnerTextAsync("main h1"));
        await page.ClickAsync("button:has-text('Pause')");
        await page.WaitForSelectorAsync("button:has-text('Unpause')");
        Assert.True((await fixture.Schedules.GetAsync("ui_daily", CancellationToken.None))!.Paused);
        Assert.Contains("paused", await page.InnerTextAsync("dl.facts"), StringComparison.Ordinal);

        await page.ClickAsync("button:has-text('Unpause')");
        await page.WaitForSelectorAsync("button:has-text('Pause')");
        Assert.False((await fixture.Schedules.GetAsync("ui_daily", CancellationToken.None))!.Paused);
        await context.CloseAsync();
    }

    [Fact]
    public async Task The_grid_shows_one_cell_per_slot_coloured_by_its_state()
    {
        await fixture.RegisterAsync("ui_grid", paused: true, startDate: "2026-01-01T00:00:00Z");
        foreach (var day in new[] { "2026-01-01", "2026-01-02" })
        {
            await fixture.Schedules.TriggerAsync("ui_grid", DateTimeOffset.Parse(day + "T00:00:00Z", CultureInfo.InvariantCulture), null, CancellationToken.None);
        }

        var context = await browser.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.Server.BaseUri.ToString() });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/ui/login");
        await page.FillAsync("#token", fixture.Server.AdminToken);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => url.EndsWith("/ui", StringComparison.Ordinal));
        await page.GotoAsync("/ui/schedules/ui_grid");
        var cells = page.Locator("#slot-grid a.slot");
        Assert.Equal(2, await cells.CountAsync());
        Assert.Equal("2026-01-01", (await cells.First.GetAttributeAsync("data-logical-date"))![..10]);
        Assert.NotNull(await cells.First.GetAttributeAsync("data-state"));
        await context.CloseAsync();
    }
}
