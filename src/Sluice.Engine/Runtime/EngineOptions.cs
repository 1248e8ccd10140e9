using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sluice.Engine;

/// <summary>Engine settings; <see cref="Validate"/> reports every problem at once.</summary>
public sealed class EngineOptions
{
    /// <summary>
    /// This replica's name in leases. Must be unique among live replicas. A replica that restarts under the same id
    /// takes its old leases back at once instead of waiting for them to expire.
    /// </summary>
    public string ReplicaId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>How often the loop looks for work that other replicas (or the clock) made due. Local work wakes it at once.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a claimed run stays ours without renewal; a dead replica's runs are taken over after this.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs processed at once by this replica. A run in progress holds no thread while it waits on the store or on
    /// Dataflow, so this is high: when a thousand slots fall due together, their launches should not queue behind
    /// each other.
    /// </summary>
    public int MaxConcurrentRuns { get; set; } = 1024;

    public RetryPolicy DefaultRetry { get; set; } = RetryPolicy.Default;

    /// <summary>How soon an observer that threw is called again.</summary>
    public TimeSpan ObserverRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A run queued behind its mutex is woken when the holder finishes; this re-check is only a safety net.
    /// </summary>
    public TimeSpan QueuedRecheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// SQLite stores serve one process, so leases left by a previous (crashed) process are taken back at start-up.
    /// </summary>
    public bool ReclaimSqliteLeasesAtStartup { get; set; } = true;

    /// <summary>Throws one exception listing every invalid setting.</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(ReplicaId))
        {
            problems.Add("replica id must not be empty");
        }

        if (PollInterval <= TimeSpan.Zero)
        {
            problems.Add($"poll interval must be positive (got {PollInterval})");
        }

        if (LeaseDuration < TimeSpan.FromMilliseconds(100))
        {
            problems.Add($"lease duration must be at least 100 ms (got {LeaseDuration})");
        }

        if (MaxConcurrentRuns < 1)
        {
            problems.Add($"max concurrent runs must be at least 1 (got {MaxConcurrentRuns})");
        }

        if (ObserverRetryDelay <= TimeSpan.Zero || QueuedRecheckInterval <= TimeSpan.Zero)
        {
            problems.Add("observer retry delay and queued re-check interval must be positive");
        }

        problems.AddRange(DefaultRetry.Validate("default retry policy"));
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid engine options: " + string.Join("; ", problems) + ".");
        }
    }
}

/// <summary>The JSON settings of everything the engine stores (System.Text.Json, camelCase, nulls omitted).</summary>
public static class EngineJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options);
}
