using System.Text.Json.Serialization;
using Sluice.Dataflow;

namespace Sluice.Emulator;

/// <summary>Why the emulator is stopping a job's process; decides the terminal state when it exits.</summary>
internal enum StopReason
{
    None,
    Drain,
    Cancel,
    Update,
    EmulatorShutdown,
}

/// <summary>One job of the emulator: the wire <see cref="Dataflow.Job"/> plus what it needs to run it locally.</summary>
internal sealed class EmulatedJob
{
    public required Job Job { get; set; }

    public required List<string> Command { get; set; }

    public Dictionary<string, string> EnvironmentVariables { get; set; } = new(StringComparer.Ordinal);

    public required string WorkingDirectory { get; set; }

    public List<string> Transforms { get; set; } = [];

    public int? ProcessId { get; set; }

    public DateTimeOffset? ProcessStartTime { get; set; }

    public StopReason StopReason { get; set; }

    /// <summary>On the new job of an in-place update: the job it replaces, until that one has stopped.</summary>
    public string? PendingReplaceJobId { get; set; }

    /// <summary>On a running job being updated: the job that will replace it.</summary>
    public string? PendingReplacedByJobId { get; set; }

    public int CurrentWorkers { get; set; }

    public int MaxWorkers { get; set; }

    public Dictionary<string, EmulatedMetric> Metrics { get; set; } = new(StringComparer.Ordinal);

    public long NextMessageId { get; set; } = 1;

    [JsonIgnore]
    public List<JobMessage> Messages { get; } = [];

    [JsonIgnore]
    public List<AutoscalingEvent> AutoscalingEvents { get; } = [];

    [JsonIgnore]
    public string Id => Job.Id!;

    [JsonIgnore]
    public JobState State => Job.State;

    [JsonIgnore]
    public bool IsStreaming => Job.Type == JobType.Streaming;
}

/// <summary>A metric as the job reported it through the line protocol.</summary>
internal sealed class EmulatedMetric
{
    public required string Name { get; set; }

    public string Origin { get; set; } = "user";

    /// <summary><c>Sum</c> for counters, <c>Latest</c> for gauges.</summary>
    public required string Kind { get; set; }

    public double Value { get; set; }

    public Dictionary<string, string>? Context { get; set; }

    public DateTimeOffset UpdateTime { get; set; }
}
