using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Controller.Rollouts;
using Sluice.Emulator;
using Sluice.Engine;
using Sluice.Manifests;
using Sluice.Server.Modules;

namespace Sluice.Server.Tests.Rollouts;

/// <summary>A real server with the product's modules: rollouts run against the embedded emulator with real job processes.</summary>
internal static class RolloutsTestServer
{
    public static Task<TestServer> StartAsync() =>
        TestServer.StartAsync(
            config => config with
            {
                Settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["rollouts.pollInterval"] = "200ms" },
            },
            builder => builder.AddProductModules());

    /// <summary>A restart rollout of the example streaming counter (classic template).</summary>
    public static string Rollout(string pipeline, string name, string? from, string to, string template = ExampleTemplates.StreamingCounter) =>
        $"""
        apiVersion: sluice/v1
        kind: Rollout
        metadata:
          name: {name}
        spec:
          pipeline: {pipeline}
          strategy: restart
          stop: {"{"} mode: drain, timeout: 30s {"}"}
        {(from is null ? "" : Version("from", pipeline, from))}
        {Version("to", pipeline, to, template)}
          validation:
            timeout: 1m
            checks:
              - state: RUNNING
        """;

    private static string Version(string key, string pipeline, string version, string template = ExampleTemplates.StreamingCounter) => $"""
          {key}:
            version: {version}
            template: {"{"} kind: classic, gcsPath: {template} {"}"}
            parameters: {"{"} output: "gs://sluice-output/{pipeline}/{version}", intervalMs: "100" {"}"}
        """;

    /// <summary>Starts a rollout through the flow (as intake would) and waits until it has finished.</summary>
    public static async Task<RunDetail> RollOutAsync(this TestServer server, string yaml)
    {
        var read = ManifestReader.Read(yaml, "test.yaml");
        Assert.True(read.IsValid, string.Join("\n", read.Problems));
        var rollouts = server.Server.Services.GetRequiredService<RolloutService>();
        var runId = await rollouts.StartAsync((RolloutManifest)read.Manifests[0], "test:" + Guid.NewGuid().ToString("N"), "test", CancellationToken.None);
        return await server.WaitForRunAsync(runId);
    }

    public static async Task<RunDetail> WaitForRunAsync(this TestServer server, long runId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var run = await server.Server.Services.GetRequiredService<WorkflowEngine>().WaitForRunAsync(runId, timeout.Token);
        Assert.True(run.Run.Status == RunStatus.Succeeded, $"Run {runId} ended {run.Run.Status}: {run.Run.Reason}");
        return run;
    }

    /// <summary>Polls a rollout until it has finished (the registry records the outcome just after the run ends).</summary>
    public static async Task<JsonElement> WaitForRolloutAsync(this HttpClient client, string name)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(90);
        while (true)
        {
            using var response = await client.GetAsync(new Uri($"/v1/rollouts/{Uri.EscapeDataString(name)}", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                var rollout = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
                if (rollout.GetProperty("state").GetString() is "succeeded" or "failed" or "cancelled")
                {
                    return rollout;
                }
            }

            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"Rollout {name} did not finish in time.");
            await Task.Delay(100);
        }
    }
}
