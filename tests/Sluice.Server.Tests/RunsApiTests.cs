using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Engine;

namespace Sluice.Server.Tests;

public sealed class RunsApiTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private TempDirectory _gates = null!;

    public async Task InitializeAsync()
    {
        _gates = new TempDirectory();
        _server = await TestServer.StartAsync(build: b => b.ConfigureServices(s =>
        {
            s.AddStepHandler<ChattyStep>();
            s.AddStepHandler<GateStep>();
            s.AddStepHandler<FailingStep>();
        }));
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _gates.Dispose();
    }

    private WorkflowEngine Engine => _server.Server.Services.GetRequiredService<WorkflowEngine>();

    private async Task<long> StartAsync(string name, string? gate = null, bool fail = false, IReadOnlyDictionary<string, string>? labels = null)
    {
        var steps = new List<StepRequest> { new("hello", "test-chatty") };
        if (gate is not null)
        {
            steps.Add(new StepRequest("gate", "test-gate", JsonSerializer.Serialize(gate)));
        }

        if (fail)
        {
            steps.Add(new StepRequest("boom", "test-fail", Retry: RetryPolicy.NoRetry));
        }

        var start = await Engine.StartRunAsync(new RunRequest("test", name, steps, Labels: labels), CancellationToken.None);
        return start.RunId;
    }

    private static async Task<JsonElement> WaitForRunAsync(HttpClient client, long id, string state)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var run = await client.GetFromJsonAsync<JsonElement>(new Uri($"/v1/runs/{id}", UriKind.Relative));
            if (run.GetProperty("state").GetString() == state)
            {
                return run;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"run {id} did not become {state}: {run}");
            await Task.Delay(50);
        }
    }

    private static async Task<bool> Eventually(Func<Task<bool>> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }

    [Fact]
    public async Task Runs_are_listed_filtered_and_shown_with_steps_and_logs()
    {
        using var client = _server.AdminClient();
        var ok = await StartAsync("ok-run", labels: new Dictionary<string, string> { ["dagId"] = "daily" });
        var failed = await StartAsync("failing-run", fail: true, labels: new Dictionary<string, string> { ["pipeline"] = "clicks" });

        var run = await WaitForRunAsync(client, ok, "succeeded");
        var step = run.GetProperty("steps")[0];
        Assert.Equal("hello", step.GetProperty("name").GetString());
        Assert.Equal("succeeded", step.GetProperty("state").GetString());
        Assert.Equal(3, step.GetProperty("output").GetProperty("lines").GetInt32());
        Assert.True(step.GetProperty("durationSeconds").GetDouble() >= 0);

        var bad = await WaitForRunAsync(client, failed, "failed");
        Assert.Contains("on purpose", bad.GetProperty("steps")[1].GetProperty("reason").GetString(), StringComparison.Ordinal);

        var byDag = await client.GetFromJsonAsync<JsonElement>(new Uri("/v1/runs?dag=daily", UriKind.Relative));
        Assert.Equal(ok, Assert.Single(byDag.GetProperty("items").EnumerateArray()).GetProperty("id").GetInt64());
        var byPipeline = await client.GetFromJsonAsync<JsonElement>(new Uri("/v1/runs?pipeline=clicks&state=failed", UriKind.Relative));
        Assert.Equal(failed, Assert.Single(byPipeline.GetProperty("items").EnumerateArray()).GetProperty("id").GetInt64());

        var page = await client.GetFromJsonAsync<JsonElement>(new Uri("/v1/runs?limit=1", UriKind.Relative));
        Assert.Equal(failed, Assert.Single(page.GetProperty("items").EnumerateArray()).GetProperty("id").GetInt64());
        var next = await client.GetFromJsonAsync<JsonElement>(new Uri($"/v1/runs?limit=1&cursor={page.GetProperty("nextCursor").GetString()}", UriKind.Relative));
        Assert.Equal(ok, Assert.Single(next.GetProperty("items").EnumerateArray()).GetProperty("id").GetInt64());

        var logs = await client.GetFromJsonAsync<JsonElement>(new Uri($"/v1/runs/{ok}/logs", UriKind.Relative));
        Assert.Equal(["line 1 of hello", "line 2 of hello", "line 3 of hello"], logs.GetProperty("items").EnumerateArray().Select(l => l.GetProperty("message").GetString()));

        var metrics = await Eventually(async () => (await client.GetStringAsync(new Uri("/metrics", UriKind.Relative))) is var text
            && text.Contains("sluice_step_duration_seconds_count{kind=\"test-chatty\",outcome=\"succeeded\"} 2", StringComparison.Ordinal));
        Assert.True(metrics, "the step durations of finished runs are not in /metrics");

        var badState = await client.GetAsync(new Uri("/v1/runs?state=sleeping", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(new Uri("/v1/runs/999999", UriKind.Relative))).StatusCode);
    }

    [Fact]
    public async Task The_log_stream_sends_lines_step_changes_and_the_end_live()
    {
        using var client = _server.AdminClient();
        var gate = Path.Combine(_gates.Path, "open");
        var id = await StartAsync("streamed", gate);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/runs/{id}/logs");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        var events = new List<(string Event, string Data)>();
        string? name = null;
        var opened = false;
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add((name!, line["data: ".Length..]));
                if (!opened && events.Any(e => e.Data.Contains("waiting for the gate", StringComparison.Ordinal)))
                {
                    // The stream is live: the run is still waiting when its lines arrive; now let it finish.
                    Assert.DoesNotContain(events, e => e.Event == "end");
                    await File.WriteAllTextAsync(gate, "open");
                    opened = true;
                }

                if (name == "end")
                {
                    break;
                }
            }
        }

        Assert.True(opened);
        Assert.Equal(4, events.Count(e => e.Event == "log"));
        Assert.Contains(events, e => e.Event == "step" && e.Data.Contains("\"name\":\"gate\",\"kind\":\"test-gate\",\"state\":\"succeeded\"", StringComparison.Ordinal));
        Assert.Contains("\"state\":\"succeeded\"", events[^1].Data, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_operator_cancels_a_run_and_a_viewer_may_not()
    {
        using var admin = _server.AdminClient();
        using var viewer = _server.Client(await AuthTests.CreateTokenAsync(admin, "viewer"));
        using var @operator = _server.Client(await AuthTests.CreateTokenAsync(admin, "operator"));
        var id = await StartAsync("to-cancel", Path.Combine(_gates.Path, "never"));
        await WaitForRunAsync(admin, id, "running");

        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync(new Uri($"/v1/runs/{id}/cancel", UriKind.Relative), new { })).StatusCode);

        var cancel = await @operator.PostAsJsonAsync(new Uri($"/v1/runs/{id}/cancel", UriKind.Relative), new { reason = "not needed any more" });
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var run = await WaitForRunAsync(admin, id, "cancelled");
        Assert.Equal("not needed any more", run.GetProperty("reason").GetString());

        var again = await @operator.PostAsJsonAsync(new Uri($"/v1/runs/{id}/cancel", UriKind.Relative), new { });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await @operator.PostAsJsonAsync(new Uri("/v1/runs/424242/cancel", UriKind.Relative), new { })).StatusCode);
    }
}
