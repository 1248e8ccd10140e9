using Sluice.Buckets;
using Sluice.Manifests;

namespace Sluice.Controller.Intake;

/// <summary>A watched bucket and the manifest kinds that belong in it.</summary>
/// <param name="Name">The channel name stored with every event: <c>rollouts</c> or <c>schedules</c>.</param>
public sealed record IntakeChannel(string Name, BucketUri Uri, IReadOnlySet<ManifestKind> Kinds)
{
    public const string Rollouts = "rollouts";
    public const string Schedules = "schedules";

    public bool Accepts(ManifestKind kind) => Kinds.Contains(kind);

    public override string ToString() => $"{Name} ({Uri})";
}

/// <summary>How event intake watches buckets and hands manifests to the flows. Defaults suit <c>sluice up</c>.</summary>
public sealed class IntakeOptions
{
    /// <summary>Bucket of Rollout manifests: <c>file:///dir</c>, a bucket name under the data dir, or <c>gs://bucket/prefix</c>.</summary>
    public string RolloutsBucket { get; set; } = "manifests";

    /// <summary>Bucket of Schedule and Unschedule manifests. When it is the same as <see cref="RolloutsBucket"/>, one watcher takes every kind.</summary>
    public string SchedulesBucket { get; set; } = "schedules";

    /// <summary>How buckets are opened (buckets directory, scan and poll intervals, Cloud Storage endpoint).</summary>
    public BucketOptions Buckets { get; set; } = new();

    /// <summary>
    /// Where <c>gs://BUCKET/PATH</c> template paths are checked on disk (the emulator's buckets directory), or null
    /// to check them in Google Cloud.
    /// </summary>
    public string? LocalTemplatesDirectory { get; set; }

    /// <summary>Events handled at once; events of the same object are always handled in order.</summary>
    public int Workers { get; set; } = 4;

    /// <summary>Attempts to handle an event when reading or dispatching fails for a passing reason; then it is rejected.</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The wait before the second attempt; it doubles for each further one.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long an event may stay received and unhandled before this process takes it over (its process died, on another
    /// replica or before a restart of this one). Also how often this process looks for such events.
    /// </summary>
    public TimeSpan TakeOverAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether to watch the buckets (false for servers that only take pushed events, and for some tests).</summary>
    public bool Watch { get; set; } = true;

    /// <summary>
    /// Shared secret of the push endpoints (<c>/v1/push/pubsub?token=…</c>, <c>/v1/push/eventarc?token=…</c>), for
    /// Pub/Sub push subscriptions and Eventarc triggers that cannot send a Sluice token. Null: a Sluice operator
    /// token is required.
    /// </summary>
    public string? PushToken { get; set; }

    /// <summary>Every problem with these options, as sentences; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!BucketUri.TryParse(RolloutsBucket, out _, out var error))
        {
            problems.Add($"The rollouts bucket is not usable: {error}");
        }

        if (!BucketUri.TryParse(SchedulesBucket, out _, out error))
        {
            problems.Add($"The schedules bucket is not usable: {error}");
        }

        if (Workers is < 1 or > 64)
        {
            problems.Add($"The intake workers must be between 1 and 64 (got {Workers}).");
        }

        if (MaxAttempts < 1)
        {
            problems.Add($"The intake attempts must be at least 1 (got {MaxAttempts}).");
        }

        if (TakeOverAfter <= TimeSpan.Zero)
        {
            problems.Add($"The intake take-over time must be positive (got {TakeOverAfter}).");
        }

        if (RetryDelay < TimeSpan.Zero)
        {
            problems.Add("The intake retry delay must not be negative.");
        }

        if (PushToken is { Length: > 0 and < 16 })
        {
            problems.Add("The push token is shorter than 16 characters; use a long random secret (e.g. openssl rand -hex 24).");
        }

        problems.AddRange(Buckets.Validate());
        return problems;
    }

    /// <summary>The watched buckets: two channels, or one that takes every kind when both settings name the same bucket.</summary>
    public IReadOnlyList<IntakeChannel> GetChannels()
    {
        var rollouts = BucketUri.Parse(RolloutsBucket);
        var schedules = BucketUri.Parse(SchedulesBucket);
        if (rollouts == schedules)
        {
            return [new IntakeChannel(IntakeChannel.Rollouts, rollouts, new HashSet<ManifestKind>(Enum.GetValues<ManifestKind>()))];
        }

        if (Overlaps(rollouts, schedules))
        {
            throw new ArgumentException(
                $"The rollouts bucket '{rollouts}' and the schedules bucket '{schedules}' overlap; give them different buckets or prefixes that do not contain each other.");
        }

        return
        [
            new IntakeChannel(IntakeChannel.Rollouts, rollouts, new HashSet<ManifestKind> { ManifestKind.Rollout }),
            new IntakeChannel(IntakeChannel.Schedules, schedules, new HashSet<ManifestKind> { ManifestKind.Schedule, ManifestKind.Unschedule }),
        ];
    }

    private static bool Overlaps(BucketUri a, BucketUri b) =>
        a.Kind == b.Kind
        && a.Bucket == b.Bucket
        && a.Directory == b.Directory
        && (a.Prefix.StartsWith(b.Prefix, StringComparison.Ordinal) || b.Prefix.StartsWith(a.Prefix, StringComparison.Ordinal));
}
