using System.Diagnostics;
using System.Text;
using Sluice.Controller.Rollouts;
using Sluice.Dataflow;
using Sluice.Emulator;
using Sluice.Engine;
using static Sluice.Controller.Tests.Rollouts.Manifests;

namespace Sluice.Controller.Tests.Rollouts;

/// <summary>
/// The controller runs as a child process and kills itself with SIGKILL in the middle of each step of a rollout (and
/// between Dataflow's answer to a stop or launch request and the record of it); a new process resumes the run each
/// time. At the end the rollout succeeded with exactly one new job and the old job was drained once.
/// </summary>
[Collection(RolloutEmulatorGroup.Name)]
public sealed class CrashRecoveryTests(EmulatorFixture emulator)
{
    private readonly string dir = Path.Combine(emulator.Root, "crash-" + Guid.NewGuid().ToString("N")[..8]);
    private readonly string pipeline = "c" + Guid.NewGuid().ToString("N")[..8];

    private string Store => Controller.SqliteStore(dir);

    private V Counter(string version, string? template = null, string? jobName = null, string? mapping = null) =>
        new(version, template ?? ExampleTemplates.StreamingCounter,
            new Dictionary<string, string> { ["output"] = emulator.Output($"{pipeline}/{version}").GcsPath, ["intervalMs"] = "50" }, jobName, mapping);

    [Fact]
    public async Task A_restart_killed_in_the_middle_of_every_step_resumes_and_launches_exactly_one_new_job()
    {
        Directory.CreateDirectory(dir);
        await DeployInProcessAsync(Counter("v1"));
        var manifest = Path.Combine(dir, "v2.yaml");
        await File.WriteAllTextAsync(manifest, Yaml($"{pipeline}-v2", pipeline, Counter("v1"), Counter("v2"), checks: "- state: RUNNING\n- messages: { maxErrors: 0, for: 1s }"));

        string[] crashPoints =
        [
            "step:check-current:after",     // checked, outcome not stored
            "dataflow:DrainJob:after",      // Dataflow accepted the drain; nobody recorded it
            "step:wait-terminal:before",    // while waiting for the old job
            "dataflow:LaunchTemplate:after", // Dataflow created the job; nobody recorded it
            "step:validate:before:2",       // in the middle of validation (its first check cannot pass: messages need 1s)
            "step:record:after",            // recorded in the registry, outcome not stored
        ];
        var runId = await CrashThroughAsync(manifest, crashPoints);

        var jobs = await emulator.JobsAsync(pipeline);
        var v2 = Assert.Single(jobs, j => j.Name == $"{pipeline}-v2");
        Assert.Equal(JobState.Running, v2.State);
        Assert.Equal(JobState.Drained, Assert.Single(jobs, j => j.Name == $"{pipeline}-v1").State);
        Assert.Equal(2, jobs.Count);
        await AssertStableAsync(runId, "v2", v2.Id!);
    }

    [Fact]
    public async Task An_update_killed_between_the_launch_and_its_record_updates_the_job_once()
    {
        Directory.CreateDirectory(dir);
        await DeployInProcessAsync(Counter("v1", ExampleTemplates.StreamingCounterFlex, jobName: pipeline));
        var manifest = Path.Combine(dir, "v2.yaml");
        await File.WriteAllTextAsync(manifest, Yaml(
            $"{pipeline}-v2", pipeline, Counter("v1", ExampleTemplates.StreamingCounterFlex, jobName: pipeline),
            Counter("v2", ExampleTemplates.StreamingCounterFlexV2, jobName: pipeline, mapping: "{ WindowCounts: CountPerWindow }"), strategy: "update"));

        var runId = await CrashThroughAsync(manifest, ["dataflow:LaunchFlexTemplate:after", "step:update-in-place:before", "step:validate:before"]);

        var jobs = await emulator.JobsAsync(pipeline);
        Assert.Equal(2, jobs.Count);
        Assert.Single(jobs, j => j.State == JobState.Updated);
        var current = Assert.Single(jobs, j => j.State == JobState.Running);
        await AssertStableAsync(runId, "v2", current.Id!);
    }

    private async Task DeployInProcessAsync(V version)
    {
        await using var controller = await Controller.StartAsync(Store, emulator.Host.BaseUri);
        var run = await controller.WaitAsync(await controller.ApplyAsync(Yaml($"{pipeline}-{version.Version}", pipeline, null, version)));
        Assert.True(run.Run.Status == RunStatus.Succeeded, await controller.LogsAsync(run.Run.Id));
    }

    /// <summary>Starts the rollout in a child that dies at the first point, resumes it in one child per further point, then lets a last child finish it.</summary>
    private async Task<long> CrashThroughAsync(string manifest, IReadOnlyList<string> crashPoints)
    {
        string[] apply = ["--apply", manifest, "--key", $"event:test/{pipeline}/v2.yaml#1"];
        foreach (var point in crashPoints)
        {
            var (exit, output) = await RunHostAsync([.. apply, "--crash-at", point]);
            if (!output.Contains($"crash {point}", StringComparison.Ordinal))
            {
                await using var controller = await Controller.StartAsync(Store, emulator.Host.BaseUri, runLoop: false);
                var runs = await controller.Engine.ListRunsAsync(new RunQuery { Kind = RolloutRunKinds.Rollout }, CancellationToken.None);
                Assert.Fail($"The controller did not reach {point}:\n{output}\n{await controller.LogsAsync(runs.Runs[0].Id)}");
            }

            Assert.Equal(137, exit); // 128 + SIGKILL
        }

        var (finalExit, finalOutput) = await RunHostAsync(apply);
        Assert.True(finalExit == 0 && finalOutput.Contains("finished succeeded", StringComparison.Ordinal), finalOutput);
        var runLine = finalOutput.Split('\n').First(l => l.StartsWith("run ", StringComparison.Ordinal));
        return long.Parse(runLine["run ".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private async Task AssertStableAsync(long runId, string version, string jobId)
    {
        await using var controller = await Controller.StartAsync(Store, emulator.Host.BaseUri, runLoop: false);
        var run = await controller.Engine.GetRunAsync(runId, CancellationToken.None);
        Assert.Equal(RunStatus.Succeeded, run!.Run.Status);
        var pipelineRow = await controller.Registry.GetPipelineAsync(pipeline, CancellationToken.None);
        Assert.Equal((version, jobId, PipelineState.Stable), (pipelineRow!.Version, pipelineRow.JobId, pipelineRow.State));
        Assert.Equal(2, (await controller.Registry.ListRevisionsAsync(new RevisionQuery { Pipeline = pipeline }, CancellationToken.None)).Count);
        var logs = await controller.LogsAsync(runId);
        Assert.Contains("had already happened; not performed again", logs, StringComparison.Ordinal);
    }

    private async Task<(int ExitCode, string Output)> RunHostAsync(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Sluice.Controller.CrashHost.dll"));
        foreach (var argument in (string[])["--store", Store, "--emulator", emulator.Host.BaseUri.ToString(), .. arguments])
        {
            info.ArgumentList.Add(argument);
        }

        using var process = new Process { StartInfo = info };
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"The controller process did not exit within 2 minutes:\n{output}");
        }

        process.WaitForExit(); // drains the output readers
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }

        void Append(string? line)
        {
            if (line is not null)
            {
                lock (output)
                {
                    output.AppendLine(line);
                }
            }
        }
    }
}
