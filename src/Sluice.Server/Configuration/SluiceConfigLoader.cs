using System.Globalization;
using System.Net;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Sluice.Server.Configuration;

/// <summary>One thing wrong with the configuration: where it came from, which key, and what to do.</summary>
public sealed record ConfigProblem(string Source, string Key, string Message)
{
    public override string ToString() => $"{Source}: {Key}: {Message}";
}

/// <summary>The outcome of loading: a config when there were no problems, otherwise every problem found.</summary>
public sealed record ConfigLoadResult(SluiceConfig? Config, IReadOnlyList<ConfigProblem> Problems)
{
    public bool IsValid => Config is not null && Problems.Count == 0;
}

/// <summary>
/// Builds a <see cref="SluiceConfig"/> from three layers, later ones winning: a YAML file (sluice.yaml), SLUICE_*
/// environment variables, then command-line flags. Every key has one name per layer (see <see cref="Keys"/>).
/// All problems are collected and reported together instead of failing on the first.
/// </summary>
public static class SluiceConfigLoader
{
    /// <summary>The file read when no --config flag or SLUICE_CONFIG names one (only if it exists).</summary>
    public const string DefaultFileName = "sluice.yaml";

    public const string SettingsKey = "settings";
    private const string SettingsEnvironmentPrefix = "SLUICE_SETTINGS__";

    /// <summary>Every configuration key: YAML name, environment variable, flag, and what it means.</summary>
    public static readonly IReadOnlyList<ConfigKey> Keys =
    [
        new("dataDir", "SLUICE_DATA_DIR", "--data-dir", "directory for the database, local buckets and the admin token (default ./.sluice)"),
        new("host", "SLUICE_HOST", "--host", "address to bind (default 127.0.0.1)"),
        new("port", "SLUICE_PORT", "--port", "TCP port, 0 for a free one (default 8080)"),
        new("store", "SLUICE_STORE", "--store", "state store: sqlite:///path/sluice.db or postgres://user:pass@host/db (default SQLite in the data dir)"),
        new("runner", "SLUICE_RUNNER", "--runner", "emulator or dataflow (default emulator)"),
        new("project", "SLUICE_PROJECT", "--project", "default Google Cloud project (required with the dataflow runner)"),
        new("region", "SLUICE_REGION", "--region", "default Dataflow region (required with the dataflow runner)"),
        new("dataflowEndpoint", "SLUICE_DATAFLOW_ENDPOINT", "--dataflow-endpoint", "base URL of a Dataflow API other than the default (an external emulator)"),
        new("emulator", "SLUICE_EMULATOR", "--emulator", "serve the Dataflow emulator in this process: true or false (default: true with the emulator runner)"),
        new("bucketsDir", "SLUICE_BUCKETS_DIR", "--buckets-dir", "directory of the local buckets (default DATA_DIR/buckets)"),
        new("manifestsBucket", "SLUICE_MANIFESTS_BUCKET", "--manifests-bucket", "bucket watched for Rollout manifests (default: local bucket 'manifests')"),
        new("schedulesBucket", "SLUICE_SCHEDULES_BUCKET", "--schedules-bucket", "bucket watched for Schedule manifests (default: local bucket 'schedules')"),
        new("logFormat", "SLUICE_LOG_FORMAT", "--log-format", "json or text (default json)"),
        new("logLevel", "SLUICE_LOG_LEVEL", "--log-level", "Trace, Debug, Information, Warning or Error (default Information)"),
        new("shutdownTimeout", "SLUICE_SHUTDOWN_TIMEOUT", "--shutdown-timeout", "how long a graceful shutdown may take, e.g. 30s or 2m (default 30s)"),
    ];

    /// <summary>Loads and validates the configuration.</summary>
    /// <param name="configFile">The YAML file named by --config (null: SLUICE_CONFIG, else ./sluice.yaml if present).</param>
    /// <param name="environment">Environment variables (pass <see cref="Environment.GetEnvironmentVariables()"/> in production).</param>
    /// <param name="flags">Values given on the command line, keyed by YAML name (e.g. "port").</param>
    /// <param name="workingDirectory">Directory relative paths are resolved against.</param>
    public static ConfigLoadResult Load(
        string? configFile,
        IReadOnlyDictionary<string, string> environment,
        IReadOnlyDictionary<string, string> flags,
        string workingDirectory)
    {
        var problems = new List<ConfigProblem>();
        var values = new Dictionary<string, SourcedValue>(StringComparer.Ordinal);
        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

        var explicitFile = configFile ?? environment.GetValueOrDefault("SLUICE_CONFIG");
        var file = explicitFile ?? Path.Combine(workingDirectory, DefaultFileName);
        file = Path.GetFullPath(file, workingDirectory);
        if (File.Exists(file))
        {
            ReadYaml(file, values, settings, problems);
        }
        else if (explicitFile is not null)
        {
            problems.Add(new ConfigProblem(file, "config", "the configuration file does not exist; check the path given with --config or SLUICE_CONFIG."));
        }

        foreach (var key in Keys)
        {
            if (environment.TryGetValue(key.EnvironmentVariable, out var envValue) && envValue.Length > 0)
            {
                values[key.Name] = new SourcedValue(envValue, key.EnvironmentVariable);
            }
        }

        foreach (var (name, value) in environment)
        {
            if (name.StartsWith(SettingsEnvironmentPrefix, StringComparison.Ordinal) && name.Length > SettingsEnvironmentPrefix.Length)
            {
                settings[name[SettingsEnvironmentPrefix.Length..]] = value;
            }
        }

        foreach (var (name, value) in flags)
        {
            var key = Keys.FirstOrDefault(k => k.Name == name)
                ?? throw new ArgumentException($"Unknown configuration key '{name}'.", nameof(flags));
            values[key.Name] = new SourcedValue(value, key.Flag);
        }

        var config = Build(values, settings, workingDirectory, problems);
        return problems.Count == 0 ? new ConfigLoadResult(config, []) : new ConfigLoadResult(null, problems);
    }

    /// <summary>Loads from the real process environment.</summary>
    public static ConfigLoadResult LoadFromProcess(string? configFile, IReadOnlyDictionary<string, string> flags)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            environment[(string)entry.Key] = entry.Value as string ?? "";
        }

        return Load(configFile, environment, flags, Directory.GetCurrentDirectory());
    }

    private static SluiceConfig? Build(
        Dictionary<string, SourcedValue> values,
        Dictionary<string, string> settings,
        string workingDirectory,
        List<ConfigProblem> problems)
    {
        string? Text(string name) => values.TryGetValue(name, out var v) ? v.Value.Trim() : null;
        string SourceOf(string name) => values.TryGetValue(name, out var v) ? v.Source : "default";
        void Problem(string name, string message) => problems.Add(new ConfigProblem(SourceOf(name), name, message));

        var dataDirectory = Path.GetFullPath(Text("dataDir") is { Length: > 0 } d ? d : ".sluice", workingDirectory);
        var config = SluiceConfig.Embedded(dataDirectory);

        var host = Text("host") ?? config.Host;
        if (host != "localhost" && host != "*" && !IPAddress.TryParse(host, out _))
        {
            Problem("host", $"'{host}' is not an IP address; use 127.0.0.1 (this machine only), 0.0.0.0 (all interfaces) or localhost.");
        }

        var port = config.Port;
        if (Text("port") is { } portText)
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
            {
                Problem("port", $"'{portText}' is not a TCP port; use a number from 1 to 65535, or 0 for a free port.");
            }
        }

        var runner = config.Runner;
        if (Text("runner") is { } runnerText && !TryParseEnum(runnerText, out runner))
        {
            Problem("runner", $"'{runnerText}' is not a runner; use emulator (local jobs) or dataflow (Google Cloud).");
        }

        var project = Text("project") is { Length: > 0 } p ? p : null;
        var region = Text("region") is { Length: > 0 } r ? r : null;
        if (runner == RunnerKind.Dataflow)
        {
            if (project is null)
            {
                Problem("project", "the dataflow runner needs a Google Cloud project; set --project, SLUICE_PROJECT or project: in sluice.yaml.");
            }

            if (region is null)
            {
                Problem("region", "the dataflow runner needs a Dataflow region such as us-central1; set --region, SLUICE_REGION or region: in sluice.yaml.");
            }
        }

        Uri? dataflowEndpoint = null;
        if (Text("dataflowEndpoint") is { Length: > 0 } endpointText)
        {
            if (!Uri.TryCreate(endpointText, UriKind.Absolute, out dataflowEndpoint) || (dataflowEndpoint.Scheme != Uri.UriSchemeHttp && dataflowEndpoint.Scheme != Uri.UriSchemeHttps))
            {
                Problem("dataflowEndpoint", $"'{endpointText}' is not an http(s) URL; give the base URL of the Dataflow API, e.g. http://127.0.0.1:9090/.");
                dataflowEndpoint = null;
            }
        }

        var embeddedEmulator = runner == RunnerKind.Emulator && dataflowEndpoint is null;
        if (Text("emulator") is { } emulatorText)
        {
            if (!bool.TryParse(emulatorText, out embeddedEmulator))
            {
                Problem("emulator", $"'{emulatorText}' is not true or false.");
            }
        }

        if (runner == RunnerKind.Emulator && !embeddedEmulator && dataflowEndpoint is null)
        {
            Problem("emulator", "the emulator runner needs an emulator; keep the embedded one (emulator: true) or give the address of one with dataflowEndpoint.");
        }

        var store = Text("store") is { Length: > 0 } s ? s : config.Store;
        if (store.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = store["sqlite:".Length..].TrimStart('/');
            if (path.Length == 0)
            {
                Problem("store", "the SQLite store needs a file path, e.g. sqlite:///var/lib/sluice/sluice.db.");
            }
            else if (!Path.IsPathRooted(store["sqlite://".Length..]))
            {
                // sqlite://relative/path.db: resolve against the working directory so the engine sees an absolute path.
                store = SluiceConfig.SqliteStoreUri(Path.GetFullPath(store["sqlite://".Length..], workingDirectory));
            }
        }
        else if (!IsPostgres(store))
        {
            Problem("store", $"'{Redact(store)}' is not a store URI; use sqlite:///path/sluice.db or postgres://user:password@host:5432/database.");
        }

        var bucketsDirectory = Path.GetFullPath(Text("bucketsDir") is { Length: > 0 } b ? b : config.BucketsDirectory, workingDirectory);
        var manifestsBucket = Text("manifestsBucket") is { Length: > 0 } mb ? mb : config.ManifestsBucket;
        var schedulesBucket = Text("schedulesBucket") is { Length: > 0 } sb ? sb : config.SchedulesBucket;
        CheckBucket("manifestsBucket", manifestsBucket);
        CheckBucket("schedulesBucket", schedulesBucket);
        if (manifestsBucket == schedulesBucket)
        {
            Problem("schedulesBucket", $"the schedules bucket is the same as the manifests bucket ('{manifestsBucket}'); give each flow its own bucket.");
        }

        var logFormat = config.LogFormat;
        if (Text("logFormat") is { } formatText && !TryParseEnum(formatText, out logFormat))
        {
            Problem("logFormat", $"'{formatText}' is not a log format; use json or text.");
        }

        var logLevel = config.LogLevel;
        if (Text("logLevel") is { } levelText && (!TryParseEnum(levelText, out logLevel) || logLevel == Microsoft.Extensions.Logging.LogLevel.None))
        {
            Problem("logLevel", $"'{levelText}' is not a log level; use Trace, Debug, Information, Warning or Error.");
        }

        var shutdownTimeout = config.ShutdownTimeout;
        if (Text("shutdownTimeout") is { } timeoutText)
        {
            if (!ConfigDuration.TryParse(timeoutText, out shutdownTimeout) || shutdownTimeout <= TimeSpan.Zero)
            {
                Problem("shutdownTimeout", $"'{timeoutText}' is not a positive duration; use e.g. 30s, 2m or 1h.");
            }
        }

        return config with
        {
            Host = host,
            Port = port,
            Runner = runner,
            Project = project,
            Region = region,
            DataflowEndpoint = dataflowEndpoint,
            EmbeddedEmulator = embeddedEmulator,
            Store = store,
            BucketsDirectory = bucketsDirectory,
            ManifestsBucket = manifestsBucket,
            SchedulesBucket = schedulesBucket,
            LogFormat = logFormat,
            LogLevel = logLevel,
            ShutdownTimeout = shutdownTimeout,
            Settings = settings,
        };

        void CheckBucket(string name, string value)
        {
            var ok = value.StartsWith("gs://", StringComparison.Ordinal) && value.Length > "gs://".Length
                || value.StartsWith("file:///", StringComparison.Ordinal)
                || (!value.Contains(':', StringComparison.Ordinal) && !value.Contains('/', StringComparison.Ordinal) && value.Length > 0);
            if (!ok)
            {
                Problem(name, $"'{value}' is not a bucket; use gs://BUCKET[/PREFIX], file:///absolute/dir or the name of a local bucket.");
            }
        }
    }

    private static bool IsPostgres(string store) =>
        store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || store.Contains("Host=", StringComparison.OrdinalIgnoreCase);

    /// <summary>Hides a password in a store URI or connection string before it is shown anywhere.</summary>
    public static string Redact(string store)
    {
        if (Uri.TryCreate(store, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal))
        {
            var user = uri.UserInfo[..uri.UserInfo.IndexOf(':', StringComparison.Ordinal)];
            return store.Replace(uri.UserInfo + "@", user + ":***@", StringComparison.Ordinal);
        }

        return System.Text.RegularExpressions.Regex.Replace(store, "(?i)(password|pwd)=[^;]*", "$1=***");
    }

    private static bool TryParseEnum<T>(string text, out T value)
        where T : struct, Enum =>
        Enum.TryParse(text, ignoreCase: true, out value) && !int.TryParse(text, out _) && Enum.IsDefined(value);

    private static void ReadYaml(string file, Dictionary<string, SourcedValue> values, Dictionary<string, string> settings, List<ConfigProblem> problems)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(file);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            problems.Add(new ConfigProblem($"{file}:{e.Start.Line}:{e.Start.Column}", "yaml", $"{e.Message.TrimEnd('.')}; fix the YAML syntax."));
            return;
        }
        catch (IOException e)
        {
            problems.Add(new ConfigProblem(file, "config", $"cannot read the file ({e.Message})."));
            return;
        }

        if (stream.Documents.Count == 0)
        {
            return;
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            var node = stream.Documents[0].RootNode;
            problems.Add(new ConfigProblem($"{file}:{node.Start.Line}:{node.Start.Column}", "config", "the file must be a mapping of keys to values, e.g. 'port: 8080'."));
            return;
        }

        foreach (var (keyNode, valueNode) in root.Children)
        {
            var at = $"{file}:{keyNode.Start.Line}:{keyNode.Start.Column}";
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            if (name == SettingsKey)
            {
                if (valueNode is YamlMappingNode settingsNode)
                {
                    foreach (var (settingKey, settingValue) in settingsNode.Children)
                    {
                        if (settingKey is YamlScalarNode { Value: { } k } && settingValue is YamlScalarNode { Value: { } v })
                        {
                            settings[k] = v;
                        }
                        else
                        {
                            problems.Add(new ConfigProblem($"{file}:{settingKey.Start.Line}:{settingKey.Start.Column}", SettingsKey, "settings must be plain key: value pairs."));
                        }
                    }
                }
                else if (valueNode is not YamlScalarNode { Value: null or "" })
                {
                    problems.Add(new ConfigProblem(at, SettingsKey, "settings must be a mapping of key: value pairs."));
                }

                continue;
            }

            var key = Keys.FirstOrDefault(k => k.Name == name);
            if (key is null)
            {
                var close = Keys.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase));
                var hint = close is not null ? $"did you mean '{close.Name}'?" : $"known keys are {string.Join(", ", Keys.Select(k => k.Name))}, settings.";
                problems.Add(new ConfigProblem(at, name, $"unknown key; {hint}"));
                continue;
            }

            if (valueNode is not YamlScalarNode scalar)
            {
                problems.Add(new ConfigProblem(at, name, "expected a single value, not a list or mapping."));
                continue;
            }

            if (!string.IsNullOrEmpty(scalar.Value))
            {
                values[name] = new SourcedValue(scalar.Value, $"{file}:{valueNode.Start.Line}:{valueNode.Start.Column}");
            }
        }
    }

    private sealed record SourcedValue(string Value, string Source);
}

/// <summary>A configuration key and its name in each layer.</summary>
public sealed record ConfigKey(string Name, string EnvironmentVariable, string Flag, string Description);

/// <summary>Human durations in configuration: 500ms, 30s, 2m, 1h, 1d, or a .NET TimeSpan (00:00:30).</summary>
public static class ConfigDuration
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        text = text.Trim();
        var units = new (string Suffix, double Seconds)[] { ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400) };
        foreach (var (suffix, seconds) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                && double.IsFinite(number))
            {
                duration = TimeSpan.FromSeconds(number * seconds);
                return true;
            }
        }

        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration);
    }
}
