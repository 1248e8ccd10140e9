using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Sluice.Dataflow;

namespace Sluice.Dataflow.Tests;

public sealed class RetryTests
{
    private static readonly string JobJson = JsonSerializer.Serialize(
        new Job { Id = "2026-01-01_00_00_00-1", Name = "j", CurrentState = JobState.Running }, DataflowJson.Options);

    private static DataflowClient ClientFor(LoopbackServer server, int maxRetries = 6) => new(new DataflowClientOptions
    {
        Endpoint = server.BaseUri,
        ProjectId = "p",
        Location = "us-central1",
        MaxRetryAttempts = maxRetries,
        RetryBaseDelay = TimeSpan.FromMilliseconds(5),
        RetryMaxDelay = TimeSpan.FromMilliseconds(50),
    });

    [Fact]
    public async Task Transient_503s_are_retried_until_the_answer_succeeds()
    {
        var requests = 0;
        await using var server = await LoopbackServer.StartAsync(async http =>
        {
            if (Interlocked.Increment(ref requests) <= 2)
            {
                http.Response.StatusCode = 503;
                await http.Response.WriteAsync("""{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}""");
                return;
            }

            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(JobJson);
        });
        using var client = ClientFor(server);

        var job = await client.GetJobAsync("2026-01-01_00_00_00-1");

        Assert.Equal(JobState.Running, job.State);
        Assert.Equal(3, requests);
    }

    [Theory]
    [InlineData(429)]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(504)]
    public async Task Every_transient_status_is_retried(int status)
    {
        var requests = 0;
        await using var server = await LoopbackServer.StartAsync(async http =>
        {
            if (Interlocked.Increment(ref requests) == 1)
            {
                http.Response.StatusCode = status;
                http.Response.Headers.RetryAfter = "0";
                return;
            }

            await http.Response.WriteAsync(JobJson);
        });
        using var client = ClientFor(server);

        await client.GetJobAsync("x");

        Assert.Equal(2, requests);
    }

    [Fact]
    public async Task A_reset_connection_is_retried()
    {
        var requests = 0;
        await using var server = await LoopbackServer.StartAsync(async http =>
        {
            if (Interlocked.Increment(ref requests) == 1)
            {
                http.Abort();
                return;
            }

            await http.Response.WriteAsync(JobJson);
        });
        using var client = ClientFor(server);

        var job = await client.GetJobAsync("x");

        Assert.Equal("j", job.Name);
        Assert.Equal(2, requests);
    }

    [Fact]
    public async Task Retries_are_bounded_and_the_last_transient_error_surfaces_typed()
    {
        var requests = 0;
        await using var server = await LoopbackServer.StartAsync(async http =>
        {
            Interlocked.Increment(ref requests);
            http.Response.StatusCode = 503;
            await http.Response.WriteAsync("""{"error":{"code":503,"message":"Backend unavailable.","status":"UNAVAILABLE"}}""");
        });
        using var client = ClientFor(server, maxRetries: 2);

        var error = await Assert.ThrowsAsync<DataflowApiException>(() => client.GetJobAsync("x"));

        Assert.Equal(3, requests);
        Assert.Equal(503, error.StatusCode);
        Assert.Equal("UNAVAILABLE", error.Status);
        Assert.True(error.IsTransient);
    }

    [Theory]
    [InlineData(400, "INVALID_ARGUMENT")]
    [InlineData(403, "PERMISSION_DENIED")]
    [InlineData(404, "NOT_FOUND")]
    [InlineData(409, "ALREADY_EXISTS")]
    public async Task Permanent_errors_surface_at_once(int status, string statusName)
    {
        var requests = 0;
        await using var server = await LoopbackServer.StartAsync(async http =>
        {
            Interlocked.Increment(ref requests);
            http.Response.StatusCode = status;
            await http.Response.WriteAsync($$$"""{"error":{"code":{{{status}}},"message":"(0123456789abcdef): no.","status":"{{{statusName}}}"}}""");
        });
        using var client = ClientFor(server);

        var error = await Assert.ThrowsAsync<DataflowApiException>(() => client.GetJobAsync("x"));

        Assert.Equal(1, requests);
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(statusName, error.Status);
        Assert.False(error.IsTransient);
    }
}
