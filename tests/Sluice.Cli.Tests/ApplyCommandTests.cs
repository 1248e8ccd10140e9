using System.Text.Json;

namespace Sluice.Cli.Tests;

public sealed class ApplyCommandTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static string Example(string name) =>
        Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "examples", "manifests", name);

    [Fact]
    public async Task An_invalid_manifest_is_refused_with_every_problem_and_nothing_is_written()
    {
        var file = Path.Combine(_server.Directory, "bad.yaml");
        await File.WriteAllTextAsync(file, "apiVersion: sluice/v1\nkind: Rollout\nmetadata:\n  name: bad\nspec:\n  pipeline: x\n  strategy: sideways\n");

        var result = await _server.RunAsync("apply", "-f", file);

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains($"{file}:7:13: error: spec.strategy:", result.Error, StringComparison.Ordinal);
        Assert.Contains($"{file}:5:1: error: spec.to:", result.Error, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_server.Server.Config.BucketsDirectory), "bad*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Dry_run_plans_and_apply_writes_into_the_watched_bucket()
    {
        var manifest = Path.GetFullPath(Example("clickstream-v1.yaml"));

        var dryRun = await _server.RunAsync("apply", "-f", manifest, "--dry-run");
        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Contains("rollout/clickstream-v1 would be written to manifests/clickstream-v1.yaml: first deploy of clickstream v1", dryRun.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_server.Server.Config.BucketsDirectory, "manifests", "clickstream-v1.yaml")));

        var applied = await _server.RunAsync("apply", "-f", manifest, "-o", "json");
        Assert.True(applied.ExitCode == 0, applied.ToString());
        var written = JsonDocument.Parse(applied.Output).RootElement.GetProperty("manifests")[0];
        Assert.Equal("written", written.GetProperty("action").GetString());
        Assert.True(File.Exists(Path.Combine(_server.Server.Config.BucketsDirectory, "manifests", "clickstream-v1.yaml")));

        var generation = written.GetProperty("generation").GetInt64().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var events = await Eventually.GetAsync(
            async () =>
            {
                var result = await _server.RunAsync("get", "events");
                return result.Output.Contains(generation, StringComparison.Ordinal) ? result : null;
            },
            TimeSpan.FromSeconds(60),
            "the bucket event of the applied manifest");
        Assert.Matches($@"(?m)^\d+\s+\w+\s+manifests\s+clickstream-v1.yaml\s+{generation}\s", events.Output);
    }

    [Fact]
    public async Task Missing_files_are_all_reported()
    {
        var result = await _server.RunAsync("apply", "-f", "nope-1.yaml", "-f", "nope-2.yaml");

        Assert.Equal(ExitCodes.Failed, result.ExitCode);
        Assert.Contains("error: nope-1.yaml: no such file or directory.", result.Error, StringComparison.Ordinal);
        Assert.Contains("error: nope-2.yaml: no such file or directory.", result.Error, StringComparison.Ordinal);
    }
}
