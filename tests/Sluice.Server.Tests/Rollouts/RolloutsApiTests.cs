using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sluice.Server.Tests.Intake;

namespace Sluice.Server.Tests.Rollouts;

/// <summary>/v1/pipelines and /v1/rollouts over real HTTP, with rollouts of real jobs on the embedded emulator.</summary>
public sealed class RolloutsApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await RolloutsTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Applied_rollouts_show_in_pipelines_and_rollouts_and_an_operator_rolls_back()
    {
        using var admin = _server.AdminClient();
        // v1 arrives the way users send it: apply writes it into the watched bucket, intake starts the rollout.
        var (status, _, _) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/manifests", new
        {
            files = new[] { new { path = "api-v1.yaml", content = RolloutsTestServer.Rollout("api", "api-v1", null, "v1") } },
        });
        Assert.Equal(200, status);
        var v1 = await admin.WaitForRolloutAsync("api-v1");
        Assert.Equal("succeeded", v1.GetProperty("state").GetString());
        Assert.Equal("rollout", v1.GetProperty("kind").GetString());
        Assert.Equal("restart", v1.GetProperty("strategy").GetString());
        Assert.Equal("v1", v1.GetProperty("toVersion").GetString());
        Assert.False(v1.TryGetProperty("fromVersion", out _));
        Assert.Equal("api-v1", v1.GetProperty("jobName").GetString());
        Assert.True(v1.GetProperty("generation").GetInt64() > 0);
        Assert.Equal(
            ["check-current", "stop-old", "wait-terminal", "launch-new", "validate", "record"],
            v1.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("skipped", v1.GetProperty("steps")[1].GetProperty("state").GetString());
        Assert.Equal(v1.GetProperty("jobId").GetString(), v1.GetProperty("steps")[3].GetProperty("output").GetProperty("jobId").GetString());

        await _server.RollOutAsync(RolloutsTestServer.Rollout("api", "api-v2", "v1", "v2"));
        var pipelines = await admin.GetJsonAsync("/v1/pipelines");
        var pipeline = Assert.Single(pipelines.GetProperty("items").EnumerateArray(), p => p.GetProperty("name").GetString() == "api");
        Assert.Equal("stable", pipeline.GetProperty("state").GetString());
        Assert.Equal("v2", pipeline.GetProperty("version").GetString());
        Assert.Equal(2, pipeline.GetProperty("revision").GetInt32());
        Assert.Equal("JOB_STATE_RUNNING", pipeline.GetProperty("jobState").GetString());
        Assert.Equal("api-v2", pipeline.GetProperty("lastRollout").GetString());
        Assert.Equal("succeeded", pipeline.GetProperty("lastRolloutState").GetString());

        var v2 = await admin.GetJsonAsync("/v1/rollouts/api-v2");
        Assert.Equal(v1.GetProperty("jobId").GetString(), v2.GetProperty("previousJobId").GetString());

        // A viewer may look but not roll back; an operator may.
        using var viewer = _server.Client(await AuthTests.CreateTokenAsync(admin, "viewer"));
        using var @operator = _server.Client(await AuthTests.CreateTokenAsync(admin, "operator"));
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync(new Uri("/v1/pipelines/api", UriKind.Relative))).StatusCode);
        var forbidden = await viewer.PostAsJsonAsync(new Uri("/v1/pipelines/api/rollback", UriKind.Relative), new { });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        var accepted = await @operator.PostAsJsonAsync(new Uri("/v1/pipelines/api/rollback", UriKind.Relative), new { });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var rollback = await accepted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("rollback", rollback.GetProperty("kind").GetString());
        Assert.Equal("v2", rollback.GetProperty("fromVersion").GetString());
        Assert.Equal("v1", rollback.GetProperty("toVersion").GetString());
        var name = rollback.GetProperty("name").GetString()!;
        Assert.Equal($"/v1/rollouts/{name}", accepted.Headers.Location?.ToString());
        Assert.Equal("succeeded", (await admin.WaitForRolloutAsync(name)).GetProperty("state").GetString());

        var detail = await admin.GetJsonAsync("/v1/pipelines/api");
        Assert.Equal("v1", detail.GetProperty("version").GetString());
        Assert.Equal(
            ["3 v1 stable", "2 v2 superseded", "1 v1 superseded"],
            detail.GetProperty("revisions").EnumerateArray().Select(r =>
                $"{r.GetProperty("revision").GetInt32()} {r.GetProperty("version").GetString()} {r.GetProperty("state").GetString()}"));
        Assert.Equal(3, detail.GetProperty("rollouts").GetArrayLength());

        var succeeded = await admin.GetJsonAsync("/v1/rollouts?pipeline=api&state=succeeded&limit=2");
        Assert.Equal(2, succeeded.GetProperty("items").GetArrayLength());
        var next = succeeded.GetProperty("nextCursor").GetString();
        var rest = await admin.GetJsonAsync($"/v1/rollouts?pipeline=api&state=succeeded&limit=2&cursor={next}");
        Assert.Equal("api-v1", Assert.Single(rest.GetProperty("items").EnumerateArray()).GetProperty("name").GetString());
    }

    [Fact]
    public async Task Unknown_pipelines_rollouts_and_revisions_answer_with_one_sentence()
    {
        using var admin = _server.AdminClient();
        var (status, body, type) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/pipelines/nope/rollback", new { });
        Assert.Equal(404, status);
        Assert.Equal("application/problem+json", type);
        Assert.Equal("There is no pipeline named nope; sluice get pipelines lists them.", body.GetProperty("detail").GetString());

        (status, body, _) = await admin.SendJsonAsync(HttpMethod.Get, "/v1/rollouts/nope", null);
        Assert.Equal(404, status);
        Assert.Contains("sluice get rollouts", body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        await _server.RollOutAsync(RolloutsTestServer.Rollout("solo", "solo-v1", null, "v1"));
        (status, body, _) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/pipelines/solo/rollback", new { toRevision = 7 });
        Assert.Equal(404, status);
        Assert.Contains("has no revision 7", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        (status, body, _) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/pipelines/solo/rollback", new { });
        Assert.Equal(409, status);
        Assert.Contains("no stable revision of another version", body.GetProperty("detail").GetString(), StringComparison.Ordinal);

        (status, body, _) = await admin.SendJsonAsync(HttpMethod.Get, "/v1/rollouts?state=exploded", null);
        Assert.Equal(400, status);
        Assert.Contains("not a rollout state", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
