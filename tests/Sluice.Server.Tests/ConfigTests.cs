using Sluice.Server.Configuration;

namespace Sluice.Server.Tests;

public sealed class ConfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private static readonly IReadOnlyDictionary<string, string> None = new Dictionary<string, string>();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Without_any_source_the_embedded_defaults_apply()
    {
        var result = SluiceConfigLoader.Load(null, None, None, _dir.Path);

        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        var config = result.Config!;
        Assert.Equal(Path.Combine(_dir.Path, ".sluice"), config.DataDirectory);
        Assert.Equal("sqlite://" + Path.Combine(_dir.Path, ".sluice", "sluice.db"), config.Store);
        Assert.Equal(Path.Combine(_dir.Path, ".sluice", "buckets"), config.BucketsDirectory);
        Assert.Equal("127.0.0.1", config.Host);
        Assert.Equal(8080, config.Port);
        Assert.Equal(RunnerKind.Emulator, config.Runner);
        Assert.True(config.EmbeddedEmulator);
        Assert.Equal("manifests", config.ManifestsBucket);
        Assert.Equal("schedules", config.SchedulesBucket);
        Assert.Equal(LogFormat.Json, config.LogFormat);
    }

    [Fact]
    public void Flags_override_environment_which_overrides_the_yaml_file()
    {
        File.WriteAllText(Path.Combine(_dir.Path, "sluice.yaml"), """
            port: 9000
            host: 0.0.0.0
            region: europe-west1
            logFormat: text
            shutdownTimeout: 2m
            settings:
              scheduler.tick: 5s
            """);
        var env = new Dictionary<string, string> { ["SLUICE_PORT"] = "9100", ["SLUICE_PROJECT"] = "acme", ["SLUICE_SETTINGS__intake.poll"] = "10s" };
        var flags = new Dictionary<string, string> { ["port"] = "0" };

        var result = SluiceConfigLoader.Load(null, env, flags, _dir.Path);

        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        var config = result.Config!;
        Assert.Equal(0, config.Port);
        Assert.Equal("0.0.0.0", config.Host);
        Assert.Equal("acme", config.Project);
        Assert.Equal("europe-west1", config.Region);
        Assert.Equal(LogFormat.Text, config.LogFormat);
        Assert.Equal(TimeSpan.FromMinutes(2), config.ShutdownTimeout);
        Assert.Equal("5s", config.GetSetting("scheduler.tick"));
        Assert.Equal("10s", config.GetSetting("intake.poll"));
    }

    [Fact]
    public void Every_problem_is_listed_with_its_source()
    {
        File.WriteAllText(Path.Combine(_dir.Path, "sluice.yaml"), """
            prot: 9000
            runner: dataflow
            logFormat: xml
            """);
        var env = new Dictionary<string, string> { ["SLUICE_STORE"] = "mysql://db" };
        var flags = new Dictionary<string, string> { ["port"] = "99999", ["shutdownTimeout"] = "soon" };

        var result = SluiceConfigLoader.Load(null, env, flags, _dir.Path);

        Assert.False(result.IsValid);
        var text = result.Problems.Select(p => p.ToString()).ToArray();
        Assert.Contains(text, p => p.Contains("sluice.yaml:1:1: prot: unknown key", StringComparison.Ordinal) && p.Contains("port", StringComparison.Ordinal));
        Assert.Contains(text, p => p.StartsWith("--port: port: '99999' is not a TCP port", StringComparison.Ordinal));
        Assert.Contains(text, p => p.StartsWith("default: project:", StringComparison.Ordinal) && p.Contains("--project", StringComparison.Ordinal));
        Assert.Contains(text, p => p.Contains("region:", StringComparison.Ordinal));
        Assert.Contains(text, p => p.Contains("logFormat: 'xml' is not a log format", StringComparison.Ordinal));
        Assert.Contains(text, p => p.StartsWith("SLUICE_STORE: store:", StringComparison.Ordinal));
        Assert.Contains(text, p => p.StartsWith("--shutdown-timeout: shutdownTimeout:", StringComparison.Ordinal));
        Assert.Equal(7, result.Problems.Count);
    }

    [Fact]
    public void A_yaml_syntax_error_names_line_and_column()
    {
        var file = Path.Combine(_dir.Path, "custom.yaml");
        File.WriteAllText(file, "port: 8080\nhost: [unclosed\n");

        var result = SluiceConfigLoader.Load(file, None, None, _dir.Path);

        var problem = Assert.Single(result.Problems);
        Assert.StartsWith(file + ":", problem.Source, StringComparison.Ordinal);
        Assert.Equal("yaml", problem.Key);
    }

    [Fact]
    public void A_missing_explicit_config_file_is_a_problem()
    {
        var result = SluiceConfigLoader.Load("nope.yaml", None, None, _dir.Path);

        var problem = Assert.Single(result.Problems);
        Assert.Contains("does not exist", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Postgres_store_and_dataflow_runner_make_the_production_setup()
    {
        var flags = new Dictionary<string, string>
        {
            ["store"] = "postgres://sluice:secret@db:5432/sluice",
            ["runner"] = "dataflow",
            ["project"] = "acme",
            ["region"] = "us-central1",
            ["manifestsBucket"] = "gs://acme-rollouts",
            ["schedulesBucket"] = "gs://acme-schedules/prod",
        };

        var result = SluiceConfigLoader.Load(null, None, flags, _dir.Path);

        Assert.True(result.IsValid, string.Join("\n", result.Problems));
        Assert.False(result.Config!.EmbeddedEmulator);
        Assert.False(result.Config.StoreIsSqlite);
        Assert.Equal("postgres://sluice:***@db:5432/sluice", SluiceConfigLoader.Redact(result.Config.Store));
    }

    [Fact]
    public void Emulator_runner_without_the_embedded_emulator_needs_an_endpoint()
    {
        var flags = new Dictionary<string, string> { ["emulator"] = "false" };

        var result = SluiceConfigLoader.Load(null, None, flags, _dir.Path);

        var problem = Assert.Single(result.Problems);
        Assert.Equal("emulator", problem.Key);

        var withEndpoint = SluiceConfigLoader.Load(null, None, new Dictionary<string, string>(flags) { ["dataflowEndpoint"] = "http://127.0.0.1:9090/" }, _dir.Path);
        Assert.True(withEndpoint.IsValid, string.Join("\n", withEndpoint.Problems));
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("2m", 120)]
    [InlineData("1.5h", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("00:00:10", 10)]
    public void Durations_are_human(string text, double seconds)
    {
        Assert.True(ConfigDuration.TryParse(text, out var duration));
        Assert.Equal(seconds, duration.TotalSeconds, 3);
    }
}
