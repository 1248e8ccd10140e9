using Microsoft.AspNetCore.Http;
using Sluice.Dataflow;
using Sluice.Emulator;

namespace Sluice.Dataflow.Tests;

[Collection(EmulatorTestGroup.Name)]
public sealed class IdempotentLaunchTests(EmulatorFixture fixture)
{
    /// <summary>
    /// A proxy in front of the emulator that lets the first launch through to the emulator (the job starts) and then
    /// loses its answer: the client sees a 503 or a reset connection, as after a network failure.
    /// </summary>
    private Task<(LoopbackServer Proxy, Func<int> LaunchesForwarded)> StartLossyProxyAsync(bool resetConnection) =>
        StartLossyProxyAsync(resetConnection, path => path.EndsWith(":launch", StringComparison.Ordinal), () => Task.CompletedTask);

    private async Task<(LoopbackServer Proxy, Func<int> LaunchesForwarded)> StartLossyProxyAsync(bool resetConnection,
        Func<string, bool> isLossy, Func<Task> beforeLosing)
    {
        var forwarded = 0;
        var lost = 0;
        var upstream = new HttpClient { BaseAddress = fixture.Host.BaseUri };
        var proxy = await LoopbackServer.StartAsync(async http =>
        {
            using var request = new HttpRequestMessage(new HttpMethod(http.Request.Method), http.Request.Path.Value!.TrimStart('/') + http.Request.QueryString);
            if (http.Request.ContentLength > 0 || http.Request.Method is "POST" or "PUT")
            {
                using var reader = new StreamReader(http.Request.Body);
                request.Content = new StringContent(await reader.ReadToEndAsync(), System.Text.Encoding.UTF8, "application/json");
            }

            var isLaunch = http.Request.Method != "GET" && isLossy(http.Request.Path.Value!);
            if (isLaunch)
            {
                Interlocked.Increment(ref forwarded);
            }

            using var response = await upstream.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (isLaunch && Interlocked.Increment(ref lost) == 1)
            {
                await beforeLosing();
                if (resetConnection)
                {
                    http.Abort();
                }
                else
                {
                    http.Response.StatusCode = 503;
                    await http.Response.WriteAsync("""{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}""");
                }

                return;
            }

            http.Response.StatusCode = (int)response.StatusCode;
            http.Response.ContentType = "application/json";
            await http.Response.WriteAsync(body);
        });
        return (proxy, () => forwarded);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_retry_after_a_lost_launch_answer_returns_the_job_already_started_and_starts_no_second(bool resetConnection)
    {
        var (proxy, launchesForwarded) = await StartLossyProxyAsync(resetConnection);
        await using var _ = proxy;
        using var client = new DataflowClient(new DataflowClientOptions
        {
            Endpoint = proxy.BaseUri,
            ProjectId = fixture.Client.ProjectId,
            Location = fixture.Client.Location,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        });
        var name = EmulatorFixture.UniqueName("lost");
        var identity = new LaunchIdentity("Clickstream.Pipeline", 42, "launch-new");

        var job = (await client.LaunchTemplateAsync(ExampleTemplates.StreamingCounter, new LaunchTemplateParameters
        {
            JobName = name,
            Parameters = new() { ["output"] = $"gs://out/{name}" },
            Environment = new RuntimeEnvironment { AdditionalUserLabels = new() { ["team"] = "data" } },
        }, identity)).Job!;

        Assert.Equal(1, launchesForwarded());
        var jobs = await fixture.Client.ListAllJobsAsync(JobListFilter.All, name).ToListAsync();
        Assert.Equal(job.Id, Assert.Single(jobs).Id);
        var described = await fixture.Client.GetJobAsync(job.Id!, JobView.Description);
        Assert.Equal("clickstream-pipeline", described.Labels![LaunchIdentity.PipelineLabel]);
        Assert.Equal("42", described.Labels[LaunchIdentity.RunLabel]);
        Assert.Equal("launch-new", described.Labels[LaunchIdentity.StepLabel]);
        Assert.Equal("data", described.Labels["team"]);

        await fixture.Client.CancelJobAsync(job.Id!);
        await fixture.WaitForStateAsync(job.Id!, JobState.Cancelled);
    }

    [Fact]
    public async Task A_relaunch_by_the_same_identity_returns_its_own_job_instead_of_failing_on_409()
    {
        var name = EmulatorFixture.UniqueName("again");
        var parameter = new LaunchFlexTemplateParameter
        {
            JobName = name,
            ContainerSpecGcsPath = ExampleTemplates.StreamingCounterFlex,
            Parameters = new() { ["output"] = $"gs://out/{name}" },
        };
        var identity = new LaunchIdentity("pipe", 7, "launch");

        var first = (await fixture.Client.LaunchFlexTemplateAsync(parameter, identity)).Job!;
        var second = (await fixture.Client.LaunchFlexTemplateAsync(parameter, identity)).Job!;
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(first.Id, (await fixture.Client.FindLaunchedJobAsync(identity, name))!.Id);
        Assert.Null(await fixture.Client.FindLaunchedJobAsync(identity with { RunId = 8 }, name));

        // Another run that wants the same name while the job is active still gets Dataflow's 409.
        var other = await Assert.ThrowsAsync<DataflowApiException>(() => fixture.Client.LaunchFlexTemplateAsync(parameter, identity with { RunId = 8 }));
        Assert.Equal(409, other.StatusCode);

        await fixture.Client.CancelJobAsync(first.Id!);
        await fixture.WaitForStateAsync(first.Id!, JobState.Cancelled);
    }

    [Fact]
    public async Task A_retried_cancel_whose_first_answer_was_lost_succeeds_although_the_job_has_terminated_meanwhile()
    {
        var template = "gs://tests/templates/sleeper-cancel";
        var file = BucketPaths.ToLocalPath(fixture.BucketsDirectory, template);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        await File.WriteAllTextAsync(file, """{"sluiceLocal": {"command": ["sleep", "60"]}}""");
        var job = (await fixture.Client.LaunchTemplateAsync(template, new LaunchTemplateParameters { JobName = EmulatorFixture.UniqueName("stop") })).Job!;
        await fixture.WaitForStateAsync(job.Id!, JobState.Running);

        // The proxy lets the cancel through, waits until the job is CANCELLED, then loses the answer; the retry then
        // meets "Job has terminated", which for a retried stop means the first attempt already did the work.
        var (proxy, forwarded) = await StartLossyProxyAsync(resetConnection: false, path => path.Contains("/jobs/", StringComparison.Ordinal),
            () => fixture.WaitForStateAsync(job.Id!, JobState.Cancelled));
        await using var _ = proxy;
        using var client = new DataflowClient(new DataflowClientOptions
        {
            Endpoint = proxy.BaseUri,
            ProjectId = fixture.Client.ProjectId,
            Location = fixture.Client.Location,
            RetryBaseDelay = TimeSpan.FromMilliseconds(10),
        });

        var cancelled = await client.CancelJobAsync(job.Id!);

        Assert.Equal(JobState.Cancelled, cancelled.State);
        Assert.Equal(2, forwarded());
    }
}
