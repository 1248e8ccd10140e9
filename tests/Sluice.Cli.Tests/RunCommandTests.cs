using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;

namespace Sluice.Cli.Tests;

public sealed class RunCommandTests : IAsyncLifetime
{
    private CliServer _server = null!;

    public async Task InitializeAsync() => _server = await CliServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<long> RunToEndAsync(string name)
    {
        var engine = _server.Server.Services.GetRequiredService<WorkflowEngine>();
        var start = await engine.StartRunAsync(
            new RunRequest("test", name, [new StepRequest("first", "test-chatty"), new StepRequest("second", "test-chatty")], Labels: new Dictionary<string, string> { ["dagId"] = "cli_dag" }),
            CancellationToken.None);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await engine.WaitForRunAsync(start.RunId, timeout.Token);
        return start.RunId;
    }

    [Fact]
    public async Task Get_describe_and_logs_of_runs()
    {
        var id = await RunToEndAsync("cli-run");

        var table = await _server.RunAsync("get", "runs");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Matches($@"(?m)^{id}\s+test\s+cli-run\s+succeeded\s", table.Output);

        var json = await _server.RunAsync("get", "runs", "--dag", "cli_dag", "-o", "json");
        var run = Assert.Single(JsonDocument.Parse(json.Output).RootElement.EnumerateArray());
        Assert.Equal(id, run.GetProperty("id").GetInt64());
        Assert.Equal("succeeded", run.GetProperty("state").GetString());

        var described = await _server.RunAsync("describe", "run", id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(described.ExitCode == 0, described.ToString());
        Assert.Contains("State:", described.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^first\s+test-chatty\s+succeeded\s+1\s", described.Output);
        Assert.Contains("{\"lines\":3}", described.Output, StringComparison.Ordinal);

        var logs = await _server.RunAsync("logs", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "second");
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Equal(3, logs.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("second  line 2 of second", logs.Output, StringComparison.Ordinal);

        var followed = await _server.RunAsync("logs", id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--follow");
        Assert.True(followed.ExitCode == 0, followed.ToString());
        Assert.Equal(6, followed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Contains("succeeded", followed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Describing_something_missing_exits_1_with_one_sentence()
    {
        var missing = await _server.RunAsync("describe", "run", "424242");
        Assert.Equal(ExitCodes.Failed, missing.ExitCode);
        Assert.Equal("error: There is no run '424242'; list them with 'sluice get runs'.", missing.Error.Trim());

        var notANumber = await _server.RunAsync("describe", "run", "abc");
        Assert.Equal(ExitCodes.Usage, notANumber.ExitCode);

        var badKind = await _server.RunAsync("describe", "planet", "x");
        Assert.Equal(ExitCodes.Usage, badKind.ExitCode);
        Assert.Contains("is not something to describe", badKind.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_and_describe_jobs()
    {
        var dataflow = _server.Server.Services.GetRequiredService<IDataflowClient>();
        var day = new DateOnly(2026, 11, 28);
        await ExampleTemplates.WriteWordsAsync(_server.Server.Config.BucketsDirectory, day);
        var launched = await dataflow.LaunchTemplateAsync(
            ExampleTemplates.WordCount,
            new LaunchTemplateParameters
            {
                JobName = "cli-wordcount",
                Parameters = new Dictionary<string, string> { ["inputFile"] = ExampleTemplates.WordsInput(day), ["output"] = "gs://out/cli-counts.txt" },
            },
            new LaunchIdentity("cli-words", 1, "launch"));
        var id = launched.Job!.Id!;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90)))
        {
            while ((await dataflow.GetJobAsync(id, cancellationToken: timeout.Token)).State != JobState.Done)
            {
                await Task.Delay(200, timeout.Token);
            }
        }

        var list = await _server.RunAsync("get", "jobs", "--pipeline", "cli-words");
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches($@"(?m)^{id}\s+cli-wordcount\s+batch\s+done\s", list.Output);

        var described = await _server.RunAsync("describe", "job", id);
        Assert.True(described.ExitCode == 0, described.ToString());
        Assert.Contains("Pipeline:", described.Output, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^Words\s+160\s", described.Output);
        Assert.Contains("counted 160 words", described.Output, StringComparison.Ordinal);
    }
}
