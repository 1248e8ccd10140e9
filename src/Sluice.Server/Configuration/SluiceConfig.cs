namespace Sluice.Server.Configuration;

/// <summary>Which Dataflow API the controller talks to.</summary>
public enum RunnerKind
{
    /// <summary>The local Dataflow-compatible emulator embedded in `sluice up`.</summary>
    Emulator,

    /// <summary>Google Cloud Dataflow (REST v1b3, Application Default Credentials).</summary>
    Dataflow,
}

/// <summary>Format of the console log.</summary>
public enum LogFormat
{
    /// <summary>One JSON object per line (for log collectors).</summary>
    Json,

    /// <summary>Plain text for people.</summary>
    Text,
}

/// <summary>
/// The validated configuration of one Sluice server. Built by <see cref="SluiceConfigLoader"/> from
/// sluice.yaml, SLUICE_* environment variables and command-line flags (later sources win).
/// All paths are absolute.
/// </summary>
public sealed record SluiceConfig
{
    /// <summary>Directory for the SQLite database, local buckets, the admin token file and keys.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Address Kestrel binds to.</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port; 0 picks a free one (the chosen address is written to <see cref="ServerUrlFile"/>).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>State store URI: <c>sqlite:///path/sluice.db</c>, <c>postgres://…</c> or an Npgsql connection string.</summary>
    public required string Store { get; init; }

    public RunnerKind Runner { get; init; } = RunnerKind.Emulator;

    /// <summary>Default Google Cloud project for jobs whose manifest names none (required with the dataflow runner).</summary>
    public string? Project { get; init; }

    /// <summary>Default Dataflow region for jobs whose manifest names none (required with the dataflow runner).</summary>
    public string? Region { get; init; }

    /// <summary>Directory of the local buckets: <c>gs://NAME/…</c> maps to <c>BucketsDirectory/NAME/…</c> for the emulator.</summary>
    public required string BucketsDirectory { get; init; }

    /// <summary>Bucket watched for Rollout manifests (<c>file:///dir</c>, <c>gs://bucket/prefix</c> or a local bucket name).</summary>
    public required string ManifestsBucket { get; init; }

    /// <summary>Bucket watched for Schedule manifests.</summary>
    public required string SchedulesBucket { get; init; }

    /// <summary>
    /// Base URL of the Dataflow API when it is not the default: an emulator started with `sluice emulator`, or a
    /// test double of Google's API. Null means the embedded emulator (runner emulator) or Google Cloud (runner dataflow).
    /// </summary>
    public Uri? DataflowEndpoint { get; init; }

    /// <summary>Whether the Dataflow emulator is served by this process (at <c>/</c> of the same address).</summary>
    public bool EmbeddedEmulator { get; init; } = true;

    public LogFormat LogFormat { get; init; } = LogFormat.Json;

    /// <summary>Minimum log level (Trace, Debug, Information, Warning, Error).</summary>
    public Microsoft.Extensions.Logging.LogLevel LogLevel { get; init; } = Microsoft.Extensions.Logging.LogLevel.Information;

    /// <summary>How long a graceful shutdown may take before work in flight is abandoned (it resumes on the next start).</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Free-form settings of product modules (<c>settings:</c> in sluice.yaml, <c>SLUICE_SETTINGS__KEY</c> in the environment).</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    /// <summary>File holding the bootstrap admin token, written (mode 0600) on the first start.</summary>
    public string AdminTokenFile => Path.Combine(DataDirectory, "admin.token");

    /// <summary>File holding the address the server listens on, rewritten at every start (read by the CLI).</summary>
    public string ServerUrlFile => Path.Combine(DataDirectory, "server.url");

    /// <summary>Whether the store is a SQLite file (the embedded default) rather than PostgreSQL.</summary>
    public bool StoreIsSqlite => Store.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads a module setting, or <paramref name="fallback"/> when it is not set.</summary>
    public string? GetSetting(string key, string? fallback = null) =>
        Settings.TryGetValue(key, out var value) ? value : fallback;

    /// <summary>The store URI of a SQLite file at an absolute path.</summary>
    public static string SqliteStoreUri(string absolutePath) => "sqlite://" + absolutePath.Replace('\\', '/');

    /// <summary>The defaults of the embedded mode for a data directory.</summary>
    public static SluiceConfig Embedded(string dataDirectory)
    {
        var dir = Path.GetFullPath(dataDirectory);
        var buckets = Path.Combine(dir, "buckets");
        return new SluiceConfig
        {
            DataDirectory = dir,
            Store = SqliteStoreUri(Path.Combine(dir, "sluice.db")),
            BucketsDirectory = buckets,
            ManifestsBucket = "manifests",
            SchedulesBucket = "schedules",
        };
    }
}
