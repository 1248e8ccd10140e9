using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Server.Tests;

public sealed class JobsApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task The_embedded_emulator_answers_only_with_a_token()
    {
        using var anonymous = _server.Client();
        var response = await anonymous.GetAsync(new Uri("/v1b3/projects/sluice-local/locations/us-central1/jobs", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        using var admin = _server.AdminClient();
        var listed = await admin.GetAsync(new Uri("/v1b3/projects/sluice-local/locations/us-central1/jobs", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.True(File.Exists(Path.Combine(_server.Server.Config.BucketsDirectory, ExampleTemplates.Bucket, "templates", "wordcount")));
    }

    [Fact]
    public async Task A_job_launched_through_the_embedded_emulator_is_listed_with_messages_and_metrics()
    {
        var dataflow = _server.Server.Services.GetRequiredService<IDataflowClient>();
        var day = new DateOnly(2026, 11, 30);
        await ExampleTemplates.WriteWordsAsync(_server.Server.Config.BucketsDirectory, day);
        var launched = await dataflow.LaunchTemplateAsync(
            ExampleTemplates.WordCount,
            new LaunchTemplateParameters
            {
                JobName = "wordcount-test",
                Parameters = new Dictionary<string, string> { ["inputFile"] = ExampleTemplates.WordsInput(day), ["output"] = "gs://out/counts.txt" },
            },
            new LaunchIdentity("words", 7, "launch"));
        var jobId = launched.Job!.Id!;

        using var client = _server.AdminClient();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        JsonElement job;
        do
        {
            var response = await client.GetAsync(new Uri($"/v1/jobs/{jobId}", UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            job = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), $"the job did not finish: {job}");
            await Task.Delay(200);
        }
        while (job.GetProperty("state").GetString() != "JOB_STATE_DONE");

        Assert.True(job.TryGetProperty("pipeline", out _), job.ToString());
        Assert.Equal("wordcount-test", job.GetProperty("name").GetString());
        Assert.Equal("words", job.GetProperty("pipeline").GetString());
        Assert.Equal(7, job.GetProperty("runId").GetInt64());
        Assert.NotEmpty(job.GetProperty("messages").EnumerateArray());

        var list = await client.GetFromJsonAsync<JsonElement>(new Uri("/v1/jobs?state=terminated&pipeline=words", UriKind.Relative));
        Assert.Contains(list.GetProperty("items").EnumerateArray(), j => j.GetProperty("id").GetString() == jobId);
        var active = await client.GetFromJsonAsync<JsonElement>(new Uri("/v1/jobs?state=active", UriKind.Relative));
        Assert.DoesNotContain(active.GetProperty("items").EnumerateArray(), j => j.GetProperty("id").GetString() == jobId);

        var missing = await client.GetAsync(new Uri("/v1/jobs/no-such-job", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync(new Uri("/v1/jobs?state=sleepy", UriKind.Relative))).StatusCode);
    }
}
