using System.Text.Json;

namespace Sluice.Cli.Tests;

/// <summary>`sluice validate` and `sluice render`, run as the real executable.</summary>
public sealed class ValidateCommandTests : IDisposable
{
    private const string FiveMistakes = """
        apiVersion: sluice/v1
        kind: Rollout
        metadata:
          name: clickstream-v2
        spec:
          pipeline: clickstream
          strategy: restrat
          stop: { mode: drain, timeout: 15 }
          to:
            version: v2
            template: { kind: classic, gcsPath: gs://acme/v2 }
            environment:
              maxWorker: 5
              flexrsGoal: FLEXRS_COST_OPTIMIZED
        ---
        apiVersion: sluice/v1
        kind: Schedule
        metadata: { name: daily }
        spec:
          dagId: daily
          schedule: "@daily"
          startDate: 2026-11-01
          job:
            template: { gcsPath: gs://acme/t }
            parameters: { day: "{{ dss }}" }
        """;

    private readonly ManifestTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private Task<SluiceProcess.Result> Run(params string[] args) => SluiceProcess.RunAsync(_files.Directory, args);

    [Fact]
    public async Task The_examples_are_valid()
    {
        var result = await Run("validate", "-f", ManifestTestFiles.Examples);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(7, result.Output.Split('\n').Count(line => line.StartsWith("ok ", StringComparison.Ordinal)));
        Assert.Contains("7 files, 7 documents: all valid", result.Output, StringComparison.Ordinal);
        Assert.Equal(string.Empty, result.Error);
    }

    [Fact]
    public async Task Five_mistakes_give_five_precise_lines_and_exit_code_1()
    {
        var path = _files.Write("broken.yaml", FiveMistakes);

        var result = await Run("validate", "-f", path);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(
            [
                $"{path}:7:13: error: spec.strategy: 'restrat' is not one of restart, rolling, update; did you mean 'restart'?",
                $"{path}:8:33: error: spec.stop.timeout: '15' has no unit; write 15s, 15m or 15h",
                $"{path}:13:7: error: spec.to.environment.maxWorker: unknown field 'maxWorker' in a runtime environment; did you mean 'maxWorkers'?",
                $"{path}:14:7: error: spec.to.environment.flexrsGoal: applies to flex templates only, and this version uses a classic template; remove the field, or use template kind: flex",
                $"{path}:25:24: error: spec.job.parameters.day: unknown macro 'dss'; did you mean 'ds'?",
                "1 file, 2 documents: 5 problems",
            ],
            result.Error.TrimEnd().Split('\n'));
        Assert.Equal(string.Empty, result.Output);
    }

    [Fact]
    public async Task Json_output_lists_problems_as_objects()
    {
        var path = _files.Write("broken.yaml", FiveMistakes);
        _files.Write("good.json", """{"apiVersion": "sluice/v1", "kind": "Unschedule", "metadata": {"name": "u"}, "spec": {"dagId": "daily"}}""");

        var result = await Run("validate", "-f", _files.Directory, "-o", "json");

        Assert.Equal(1, result.ExitCode);
        using var json = JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        Assert.False(root.GetProperty("valid").GetBoolean());
        Assert.Equal(2, root.GetProperty("files").GetInt32());
        Assert.Equal(3, root.GetProperty("documents").GetInt32());
        Assert.Equal("Unschedule", root.GetProperty("manifests")[0].GetProperty("kind").GetString());
        var problems = root.GetProperty("problems");
        Assert.Equal(5, problems.GetArrayLength());
        var first = problems[0];
        Assert.Equal(path, first.GetProperty("path").GetString());
        Assert.Equal(7, first.GetProperty("line").GetInt32());
        Assert.Equal(13, first.GetProperty("column").GetInt32());
        Assert.Equal("spec.strategy", first.GetProperty("field").GetString());
        Assert.Equal("'restrat' is not one of restart, rolling, update", first.GetProperty("message").GetString());
        Assert.Equal("did you mean 'restart'?", first.GetProperty("hint").GetString());
    }

    [Theory]
    [InlineData(new[] { "validate" }, "no manifests given")]
    [InlineData(new[] { "validate", "-f", "no/such/file.yaml" }, "no/such/file.yaml: no such file or directory")]
    [InlineData(new[] { "validate", "-f", "." }, "no *.yaml, *.yml or *.json files in .")]
    [InlineData(new[] { "validate", "--frobnicate" }, "--frobnicate")]
    [InlineData(new[] { "render" }, "no manifests given")]
    public async Task Usage_errors_exit_with_2(string[] args, string message)
    {
        var result = await Run(args);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Garbage_is_a_problem_not_a_stack_trace()
    {
        var path = Path.Combine(_files.Directory, "garbage.yaml");
        await File.WriteAllBytesAsync(path, [.. Enumerable.Range(0, 4096).Select(i => (byte)((i * 7919) % 256))]);

        var result = await Run("validate", "-f", path);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith(path + ":", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_shows_the_job_of_a_slot()
    {
        var result = await Run("render", "-f", Path.Combine(ManifestTestFiles.Examples, "daily-wordcount.yaml"), "--logical-date", "2026-01-02");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("  jobName: daily-wordcount-20260102\n", result.Output, StringComparison.Ordinal);
        Assert.Contains("    inputFile: gs://sluice-examples/data/words-20260102.txt\n", result.Output, StringComparison.Ordinal);
        Assert.Contains("  dueAt: 2026-01-03T00:00:00+00:00\n", result.Output, StringComparison.Ordinal);
        Assert.Contains("    jobName: \"daily-wordcount-{{ ds_nodash }}\"\n", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_json_fills_in_defaults()
    {
        var result = await Run("render", "-f", Path.Combine(ManifestTestFiles.Examples, "clickstream-v1.yaml"), "-o", "json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Output);
        var spec = json.RootElement.GetProperty("spec");
        Assert.Equal("clickstream-v1", spec.GetProperty("to").GetProperty("jobName").GetString());
        Assert.Equal("drain", spec.GetProperty("stop").GetProperty("mode").GetString());
        Assert.Equal("15m", spec.GetProperty("stop").GetProperty("timeout").GetString());
        Assert.Equal("manual", spec.GetProperty("rollback").GetString());
    }

    [Theory]
    [InlineData("2026-01-02T05:00", 1, "2026-01-02T05:00:00+00:00 is not a slot of the schedule '@daily' (UTC); the next slot starts at 2026-01-03T00:00:00+00:00")]
    [InlineData("next tuesday", 2, "--logical-date: 'next tuesday' is not a date")]
    public async Task Render_refuses_dates_that_are_not_slots(string date, int exitCode, string message)
    {
        var result = await Run("render", "-f", Path.Combine(ManifestTestFiles.Examples, "daily-wordcount.yaml"), "--logical-date", date);

        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Render_of_an_invalid_file_lists_its_problems()
    {
        var path = _files.Write("broken.yaml", FiveMistakes);

        var result = await Run("render", "-f", path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{path}:7:13: error: spec.strategy:", result.Error, StringComparison.Ordinal);
        Assert.Contains("cannot render: 5 problems", result.Error, StringComparison.Ordinal);
    }
}
