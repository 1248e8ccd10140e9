using Microsoft.Extensions.Logging;

namespace Sluice.Emulator;

/// <summary>How the local Dataflow emulator runs.</summary>
public sealed class EmulatorOptions
{
    /// <summary>Root of the local buckets: <c>gs://BUCKET/PATH</c> is <c>&lt;BucketsDirectory&gt;/BUCKET/PATH</c>.</summary>
    public required string BucketsDirectory { get; init; }

    /// <summary>Loopback port of the standalone host; 0 picks a free port.</summary>
    public int Port { get; init; }

    /// <summary>Directory of the Sluice binaries, substituted for <c>${SLUICE_HOME}</c> in template commands.</summary>
    public string SluiceHome { get; init; } = AppContext.BaseDirectory;

    /// <summary>
    /// Where the emulator keeps its job table and each job's working directory. Default: a <c>dataflow-emulator</c>
    /// directory next to the buckets directory.
    /// </summary>
    public string? StateDirectory { get; init; }

    /// <summary>
    /// Whether the standalone host stops on SIGTERM/Ctrl+C by itself. False when an embedding process (<c>sluice up</c>)
    /// owns the signals and stops the emulator itself.
    /// </summary>
    public bool HandleSigterm { get; init; } = true;

    /// <summary>Time a job's process gets to exit after SIGTERM when the emulator stops, before it is killed.</summary>
    public TimeSpan ShutdownGracePeriod { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Time an updated job's old process gets to finish its in-flight work before it is killed.</summary>
    public TimeSpan UpdateGracePeriod { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A job turns RUNNING when its process prints its first line, or after this long if it prints nothing; a job that is
    /// still PENDING cannot be drained (as on Dataflow), only cancelled.
    /// </summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Minimum level of the standalone host's console log.</summary>
    public LogLevel LogLevel { get; init; } = LogLevel.Warning;

    internal string ResolvedStateDirectory => StateDirectory
        ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(BucketsDirectory).TrimEnd(Path.DirectorySeparatorChar)) ?? ".", "dataflow-emulator");

    /// <summary>All problems at once, empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(BucketsDirectory))
        {
            problems.Add("BucketsDirectory is empty; give the directory that holds the local buckets.");
        }

        if (Port is < 0 or > 65535)
        {
            problems.Add($"Port {Port} is not a TCP port; use 0 for a free one or 1-65535.");
        }

        if (ShutdownGracePeriod < TimeSpan.Zero || UpdateGracePeriod < TimeSpan.Zero || ReadyTimeout < TimeSpan.Zero)
        {
            problems.Add("ShutdownGracePeriod, UpdateGracePeriod and ReadyTimeout must not be negative.");
        }

        return problems;
    }
}
