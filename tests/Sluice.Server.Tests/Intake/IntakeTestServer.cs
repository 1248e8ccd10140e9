using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Controller;
using Sluice.Controller.Schedules;
using Sluice.Engine;
using Sluice.Manifests;
using Sluice.Server.Configuration;
using Sluice.Server.Modules;

namespace Sluice.Server.Tests.Intake;

/// <summary>
/// A real server with the intake module (and the schedule flow), whose rollouts start real engine runs of one
/// gated step instead of Dataflow jobs, so that tests decide when a rollout finishes.
/// </summary>
internal static class IntakeTestServer
{
    public const string PushToken = "push-token-0123456789abcdef";

    public static async Task<TestServer> StartAsync(bool withSchedules = false)
    {
        var server = await TestServer.StartAsync(
            config => config with
            {
                Settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["intake.pushToken"] = PushToken },
            },
            builder =>
            {
                builder.AddModule(new IntakeModule());
                builder.ConfigureServices(services =>
                {
                    services.AddSingleton<IStepHandler, GateStep>();
                    services.AddSingleton<IRolloutStarter, EngineRolloutStarter>();
                    if (withSchedules)
                    {
                        services.AddSluiceSchedules();
                    }
                });
            });
        var template = Path.Combine(server.Server.Config.BucketsDirectory, "sluice-templates", "templates", "counter.json");
        Directory.CreateDirectory(Path.GetDirectoryName(template)!);
        await File.WriteAllTextAsync(template, """{"sluiceLocal": {"command": ["true"]}}""");
        return server;
    }

    public static string RolloutsDirectory(this TestServer server) => Path.Combine(server.Server.Config.BucketsDirectory, "manifests");

    public static string SchedulesDirectory(this TestServer server) => Path.Combine(server.Server.Config.BucketsDirectory, "schedules");

    /// <summary>The gate file a rollout's run waits for; create it to let the run succeed.</summary>
    public static string Gate(this TestServer server, string rolloutName) => Path.Combine(server.Directory.Path, $"gate-{rolloutName}");

    public static async Task<JsonElement> GetJsonAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<(int Status, JsonElement Body, string? ContentType)> SendJsonAsync(this HttpClient client, HttpMethod method, string path, object? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is string text)
        {
            request.Content = new StringContent(text, System.Text.Encoding.UTF8, "application/json");
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        using var response = await client.SendAsync(request);
        var answer = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, answer.Length == 0 ? default : JsonDocument.Parse(answer).RootElement.Clone(), response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after the timeout.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what, int seconds = 30)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(seconds))
            {
                Assert.Fail($"Timed out after {seconds}s waiting until {what}; last value: {value}");
            }

            await Task.Delay(50);
        }
    }

    public static string Rollout(string name, string version = "v1", string template = "gs://sluice-templates/templates/counter.json") => $"""
        apiVersion: sluice/v1
        kind: Rollout
        metadata:
          name: {name}
        spec:
          pipeline: clickstream
          to:
            version: {version}
            template:
              kind: classic
              gcsPath: {template}
        """;

    public static string Schedule(string name, string dagId) => $"""
        apiVersion: sluice/v1
        kind: Schedule
        metadata:
          name: {name}
        spec:
          dagId: {dagId}
          schedule: "@daily"
          timeZone: UTC
          startDate: 2026-01-01
          endDate: 2026-01-03
          catchup: false
          paused: true
          job:
            template:
              kind: classic
              gcsPath: gs://sluice-templates/templates/counter.json
            jobName: "{dagId.Replace('_', '-')}-{"{{"} ds_nodash {"}}"}"
        """;
}

/// <summary>Starts each rollout as an engine run with one gated step, under the event's idempotency key.</summary>
internal sealed class EngineRolloutStarter(WorkflowEngine engine, Configuration.SluiceConfig config) : IRolloutStarter
{
    public ConcurrentQueue<string> Keys { get; } = new();

    public async Task<long> StartAsync(RolloutManifest manifest, string idempotencyKey, string source, CancellationToken cancellationToken)
    {
        Keys.Enqueue(idempotencyKey);
        var gate = Path.Combine(Path.GetDirectoryName(config.DataDirectory)!, $"gate-{manifest.Metadata.Name}");
        var start = await engine.StartRunAsync(
            new RunRequest(
                "rollout",
                manifest.Metadata.Name,
                [new StepRequest("deploy", "test-gate", JsonSerializer.Serialize(gate))],
                MutexKey: "pipeline:" + manifest.Spec.Pipeline,
                IdempotencyKey: idempotencyKey),
            cancellationToken);
        return start.RunId;
    }
}
