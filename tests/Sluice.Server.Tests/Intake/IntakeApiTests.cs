using System.Net;
using System.Text;
using System.Text.Json;

namespace Sluice.Server.Tests.Intake;

/// <summary>/v1/manifests, /v1/events and the push endpoints over real HTTP.</summary>
public sealed class IntakeApiTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await IntakeTestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Apply_writes_into_the_watched_bucket_and_the_event_leads_to_the_run()
    {
        using var client = _server.AdminClient();
        var (status, body, _) = await client.SendJsonAsync(HttpMethod.Post, "/v1/manifests", new
        {
            files = new[] { new { path = "v1.yaml", content = IntakeTestServer.Rollout("clickstream-v1") } },
        });

        Assert.Equal(200, status);
        var applied = Assert.Single(body.GetProperty("manifests").EnumerateArray());
        Assert.Equal("written", applied.GetProperty("action").GetString());
        Assert.Equal("manifests", applied.GetProperty("bucket").GetString());
        Assert.Equal("clickstream-v1.yaml", applied.GetProperty("object").GetString());
        Assert.Equal("clickstream", applied.GetProperty("pipeline").GetString());
        Assert.Equal("/v1/rollouts/clickstream-v1", applied.GetProperty("follow").GetString());
        var generation = applied.GetProperty("generation").GetInt64();
        Assert.True(File.Exists(Path.Combine(_server.RolloutsDirectory(), "clickstream-v1.yaml")));

        // What `sluice apply --wait` does: find the event of that object version, then its run.
        var events = await IntakeTestServer.EventuallyAsync(
            () => client.GetJsonAsync($"/v1/events?bucket=manifests&object=clickstream-v1.yaml&generation={generation}"),
            e => e.GetProperty("items").GetArrayLength() == 1 && e.GetProperty("items")[0].GetProperty("state").GetString() != "received",
            "the applied object's event is handled");
        var intakeEvent = events.GetProperty("items")[0];
        Assert.Equal("dispatched", intakeEvent.GetProperty("state").GetString());
        Assert.Equal("finalized", intakeEvent.GetProperty("kind").GetString());
        Assert.Equal("rollouts", intakeEvent.GetProperty("channel").GetString());
        var runId = Assert.Single(intakeEvent.GetProperty("runIds").EnumerateArray()).GetInt64();
        Assert.Equal("rollout-started", intakeEvent.GetProperty("actions")[0].GetProperty("action").GetString());

        var byId = await client.GetJsonAsync($"/v1/events/{intakeEvent.GetProperty("id").GetInt64()}");
        Assert.Equal(runId, byId.GetProperty("runIds")[0].GetInt64());

        // Applying the same text again writes nothing.
        var (_, again, _) = await client.SendJsonAsync(HttpMethod.Post, "/v1/manifests", new
        {
            files = new[] { new { path = "v1.yaml", content = IntakeTestServer.Rollout("clickstream-v1") } },
        });
        Assert.Equal("unchanged", again.GetProperty("manifests")[0].GetProperty("action").GetString());
        Assert.Equal(generation, again.GetProperty("manifests")[0].GetProperty("generation").GetInt64());
    }

    [Fact]
    public async Task An_invalid_apply_answers_422_with_every_problem_and_writes_nothing()
    {
        using var client = _server.AdminClient();
        var (status, body, contentType) = await client.SendJsonAsync(HttpMethod.Post, "/v1/manifests", new
        {
            files = new[]
            {
                new { path = "ok.yaml", content = IntakeTestServer.Rollout("ok") },
                new { path = "typo.yaml", content = IntakeTestServer.Rollout("typo", template: "gs://sluice-templates/templates/countr.json") },
            },
        });

        Assert.Equal(422, status);
        Assert.Equal("application/problem+json", contentType);
        var problem = Assert.Single(body.GetProperty("problems").EnumerateArray());
        Assert.Equal("typo.yaml", problem.GetProperty("path").GetString());
        Assert.Equal("spec.to.template.gcsPath", problem.GetProperty("field").GetString());
        Assert.Contains("does not exist", problem.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_server.RolloutsDirectory()));

        var (validateStatus, validation, _) = await client.SendJsonAsync(HttpMethod.Post, "/v1/manifests/validate", new
        {
            files = new[] { new { path = "typo.yaml", content = IntakeTestServer.Rollout("typo", template: "gs://sluice-templates/nope") } },
        });
        Assert.Equal(200, validateStatus);
        Assert.False(validation.GetProperty("valid").GetBoolean());
        Assert.Equal(1, validation.GetProperty("documents").GetInt32());
    }

    [Fact]
    public async Task A_dry_run_plans_without_writing()
    {
        using var client = _server.AdminClient();
        var (status, body, _) = await client.SendJsonAsync(HttpMethod.Post, "/v1/manifests", new
        {
            files = new[] { new { path = "v1.yaml", content = IntakeTestServer.Rollout("clickstream-v1") } },
            dryRun = true,
        });

        Assert.Equal(200, status);
        Assert.True(body.GetProperty("dryRun").GetBoolean());
        var planned = body.GetProperty("manifests")[0];
        Assert.Equal("planned", planned.GetProperty("action").GetString());
        Assert.False(planned.TryGetProperty("generation", out _));
        Assert.Contains("clickstream", planned.GetProperty("plan").GetString(), StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(_server.RolloutsDirectory()));
    }

    [Fact]
    public async Task Rejected_events_are_listed_with_their_reasons_and_a_bad_filter_is_refused()
    {
        await File.WriteAllTextAsync(Path.Combine(_server.RolloutsDirectory(), "broken.yaml"), "kind: [unclosed\n");
        using var client = _server.AdminClient();

        var rejected = await IntakeTestServer.EventuallyAsync(
            () => client.GetJsonAsync("/v1/events?state=rejected"),
            e => e.GetProperty("items").GetArrayLength() == 1,
            "the broken object is rejected");

        var intakeEvent = rejected.GetProperty("items")[0];
        Assert.Equal("broken.yaml", intakeEvent.GetProperty("object").GetString());
        Assert.StartsWith("The manifest is not valid", intakeEvent.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(intakeEvent.GetProperty("problems").GetArrayLength() >= 1);
        Assert.Equal(0, (await client.GetJsonAsync("/v1/events?state=dispatched")).GetProperty("items").GetArrayLength());

        var (status, problem, _) = await client.SendJsonAsync(HttpMethod.Get, "/v1/events?state=lost", null);
        Assert.Equal(400, status);
        Assert.Contains("received, dispatched, rejected or ignored", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The Events page shows the reason too.
        using var page = new HttpRequestMessage(HttpMethod.Get, "/ui/events?state=rejected");
        page.Headers.Accept.ParseAdd("text/html");
        using var response = await client.SendAsync(page);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("broken.yaml", html, StringComparison.Ordinal);
        Assert.Contains("The manifest is not valid", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_viewer_may_read_events_but_not_apply()
    {
        using var admin = _server.AdminClient();
        var (_, created, _) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/tokens", new { name = "reader", role = "viewer" });
        using var viewer = _server.Client(created.GetProperty("token").GetString());

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/v1/events")).StatusCode);
        var (status, _, _) = await viewer.SendJsonAsync(HttpMethod.Post, "/v1/manifests", new { files = new[] { new { path = "a.yaml", content = IntakeTestServer.Rollout("a") } } });
        Assert.Equal(403, status);
    }

    [Fact]
    public async Task A_pubsub_push_with_the_push_token_takes_the_object_in_once()
    {
        var path = Path.Combine(_server.RolloutsDirectory(), "pushed.yaml");
        await File.WriteAllTextAsync(path, IntakeTestServer.Rollout("pushed"));
        using var admin = _server.AdminClient();
        var watched = await IntakeTestServer.EventuallyAsync(
            () => admin.GetJsonAsync("/v1/events?object=pushed.yaml"),
            e => e.GetProperty("items").GetArrayLength() == 1,
            "the watcher takes the file in");
        var generation = watched.GetProperty("items")[0].GetProperty("generation").GetInt64();

        using var anonymous = _server.Client();
        var message = PubSubMessage("OBJECT_FINALIZE", "manifests", "pushed.yaml", generation);
        var (noToken, _, _) = await anonymous.SendJsonAsync(HttpMethod.Post, "/v1/push/pubsub", message);
        var (wrongToken, _, _) = await anonymous.SendJsonAsync(HttpMethod.Post, "/v1/push/pubsub?token=nope-nope-nope-nope", message);
        var (status, body, _) = await anonymous.SendJsonAsync(HttpMethod.Post, $"/v1/push/pubsub?token={IntakeTestServer.PushToken}", message);

        Assert.Equal(401, noToken);
        Assert.Equal(401, wrongToken);
        Assert.Equal(200, status);
        Assert.Equal("accepted", body.GetProperty("outcome").GetString());
        var pushed = Assert.Single(body.GetProperty("events").EnumerateArray());
        Assert.True(pushed.GetProperty("duplicate").GetBoolean(), "the watcher had already taken this version in");
        Assert.Equal(watched.GetProperty("items")[0].GetProperty("id").GetInt64(), pushed.GetProperty("eventId").GetInt64());
        Assert.Equal(1, (await admin.GetJsonAsync("/v1/events?object=pushed.yaml")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task Pushes_that_are_not_storage_notifications_are_acknowledged_as_rejected_and_other_buckets_ignored()
    {
        using var admin = _server.AdminClient();
        var (status, body, _) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/push/pubsub", """{"message": {"attributes": {}}}""");
        Assert.Equal(200, status);
        Assert.Equal("rejected", body.GetProperty("outcome").GetString());
        Assert.Contains("eventType", body.GetProperty("reason").GetString(), StringComparison.Ordinal);

        var (otherStatus, other, _) = await admin.SendJsonAsync(HttpMethod.Post, "/v1/push/pubsub", PubSubMessage("OBJECT_FINALIZE", "someone-elses", "x.yaml", 5));
        Assert.Equal(200, otherStatus);
        Assert.Equal("ignored", other.GetProperty("outcome").GetString());
        Assert.Equal(0, (await admin.GetJsonAsync("/v1/events")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task An_eventarc_deletion_of_a_schedule_object_is_taken_in()
    {
        using var client = _server.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/push/eventarc?token={IntakeTestServer.PushToken}");
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-type", "google.cloud.storage.object.v1.deleted");
        request.Headers.Add("ce-source", "//storage.googleapis.com/projects/_/buckets/schedules");
        request.Headers.Add("ce-subject", "objects/daily.yaml");
        request.Headers.Add("ce-id", "1234");
        request.Headers.Add("ce-time", "2026-12-01T10:00:00Z");
        request.Content = new StringContent(
            """{"bucket": "schedules", "name": "daily.yaml", "generation": "1764583200000000", "size": "120", "updated": "2026-12-01T10:00:00Z"}""",
            Encoding.UTF8, "application/json");

        using var response = await client.SendAsync(request);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("accepted", body.GetProperty("outcome").GetString());
        using var admin = _server.AdminClient();
        var events = await IntakeTestServer.EventuallyAsync(
            () => admin.GetJsonAsync("/v1/events?object=daily.yaml"),
            e => e.GetProperty("items").GetArrayLength() == 1 && e.GetProperty("items")[0].GetProperty("state").GetString() != "received",
            "the deletion is handled");
        var deletion = events.GetProperty("items")[0];
        Assert.Equal("deleted", deletion.GetProperty("kind").GetString());
        Assert.Equal("eventarc", deletion.GetProperty("source").GetString());
        Assert.Equal("ignored", deletion.GetProperty("state").GetString());
    }

    private static string PubSubMessage(string eventType, string bucket, string name, long generation)
    {
        var resource = JsonSerializer.Serialize(new
        {
            kind = "storage#object",
            bucket,
            name,
            generation = generation.ToString(System.Globalization.CultureInfo.InvariantCulture),
            size = "100",
            updated = "2026-12-01T10:00:00.000Z",
        });
        return JsonSerializer.Serialize(new
        {
            message = new
            {
                attributes = new Dictionary<string, string>
                {
                    ["eventType"] = eventType,
                    ["bucketId"] = bucket,
                    ["objectId"] = name,
                    ["objectGeneration"] = generation.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["payloadFormat"] = "JSON_API_V1",
                },
                data = Convert.ToBase64String(Encoding.UTF8.GetBytes(resource)),
                messageId = "m-" + generation.ToString(System.Globalization.CultureInfo.InvariantCulture),
                publishTime = "2026-12-01T10:00:00.000Z",
            },
            subscription = "projects/acme/subscriptions/sluice",
        });
    }
}
