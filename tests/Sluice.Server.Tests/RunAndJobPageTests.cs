using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;

namespace Sluice.Server.Tests;

public sealed class RunAndJobPageTests : IClassFixture<BrowserFixture>, IDisposable
{
    private readonly BrowserFixture _fixture;
    private readonly TempDirectory _gates = new();

    public RunAndJobPageTests(BrowserFixture fixture) => _fixture = fixture;

    public void Dispose() => _gates.Dispose();

    private async Task<long> StartGatedRunAsync(string name, string gate)
    {
        var engine = _fixture.Server.Server.Services.GetRequiredService<WorkflowEngine>();
        var start = await engine.StartRunAsync(
            new RunRequest("test", name, [new StepRequest("hello", "test-chatty"), new StepRequest("gate", "test-gate", JsonSerializer.Serialize(gate))]),
            CancellationToken.None);
        return start.RunId;
    }

    [Fact]
    public async Task A_run_page_shows_the_step_timeline_and_logs_and_follows_the_run_live()
    {
        var gate = Path.Combine(_gates.Path, "gate-live");
        var id = await StartGatedRunAsync("ui-live-run", gate);
        var page = await _fixture.SignedInPageAsync(_fixture.Server.AdminToken);

        await page.ClickAsync("header nav >> text=Runs");
        await page.ClickAsync($"#runs a:text-is('{id}')");
        await page.Locator(".step[data-step=gate] [data-state=waiting]").WaitForAsync();
        Assert.Contains("line 1 of hello", await page.InnerTextAsync("pre.logs"), StringComparison.Ordinal);
        Assert.Contains("{\"lines\":3}", await page.InnerTextAsync(".step[data-step=hello]"), StringComparison.Ordinal);
        await page.EvaluateAsync("window.__notReloaded = true");

        await File.WriteAllTextAsync(gate, "open");
        await page.Locator("#run-facts [data-state=succeeded]").WaitForAsync();
        Assert.Equal("succeeded", await page.GetAttributeAsync(".step[data-step=gate] .state", "data-state"));
        Assert.True(await page.EvaluateAsync<bool>("window.__notReloaded === true"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_operator_cancels_a_run_from_its_page()
    {
        var id = await StartGatedRunAsync("ui-cancel-run", Path.Combine(_gates.Path, "never"));
        using var admin = _fixture.Server.AdminClient();
        var page = await _fixture.SignedInPageAsync(await AuthTests.CreateTokenAsync(admin, "operator"));
        page.Dialog += (_, dialog) => _ = dialog.AcceptAsync();

        await page.GotoAsync($"/ui/runs/{id}");
        await page.ClickAsync("button:has-text('Cancel run')");
        await page.Locator("#run-facts [data-state=cancelled]").WaitForAsync();
        Assert.Equal(0, await page.Locator("button:has-text('Cancel run')").CountAsync());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task The_jobs_pages_show_a_job_with_its_messages_and_metrics()
    {
        var dataflow = _fixture.Server.Server.Services.GetRequiredService<IDataflowClient>();
        var day = new DateOnly(2026, 11, 29);
        await ExampleTemplates.WriteWordsAsync(_fixture.Server.Server.Config.BucketsDirectory, day);
        var launched = await dataflow.LaunchTemplateAsync(
            ExampleTemplates.WordCount,
            new LaunchTemplateParameters
            {
                JobName = "ui-wordcount",
                Parameters = new Dictionary<string, string> { ["inputFile"] = ExampleTemplates.WordsInput(day), ["output"] = "gs://out/ui-counts.txt" },
            });
        var page = await _fixture.SignedInPageAsync(_fixture.Server.AdminToken);

        await page.ClickAsync("header nav >> text=Jobs");
        await page.ClickAsync($"#jobs a:text-is('{launched.Job!.Id}')");
        await page.Locator("#job-facts [data-state=done]").WaitForAsync(new LocatorWaitForOptions { Timeout = 90_000 });
        await page.Locator("#job-metrics td:text-is('Words')").WaitForAsync();
        Assert.Contains("counted", await page.InnerTextAsync("#job-messages"), StringComparison.Ordinal);
        Assert.Contains("ui-wordcount", await page.InnerTextAsync("#job-facts"), StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }
}
