using Sluice.Buckets;
using Sluice.Manifests;

namespace Sluice.Controller.Intake;

/// <summary>The watched buckets, opened once: read and watched by intake, written by <c>sluice apply</c>.</summary>
public sealed class IntakeBuckets : IDisposable
{
    private readonly Dictionary<string, IBucket> _buckets = new(StringComparer.Ordinal);

    public IntakeBuckets(IntakeOptions options)
    {
        Channels = options.GetChannels();
        foreach (var channel in Channels)
        {
            if (channel.Uri.IsLocal)
            {
                // A fresh data dir has no bucket directories yet; an empty bucket is the natural start.
                Directory.CreateDirectory(channel.Uri.ResolveDirectory(options.Buckets.BucketsDirectory));
            }

            _buckets[channel.Name] = BucketFactory.Open(channel.Uri, options.Buckets);
        }
    }

    /// <summary>Builds the set from already-opened buckets (tests, benchmarks).</summary>
    public IntakeBuckets(IReadOnlyList<(IntakeChannel Channel, IBucket Bucket)> buckets)
    {
        Channels = buckets.Select(b => b.Channel).ToArray();
        foreach (var (channel, bucket) in buckets)
        {
            _buckets[channel.Name] = bucket;
        }
    }

    public IReadOnlyList<IntakeChannel> Channels { get; }

    public IBucket Get(string channel) =>
        _buckets.TryGetValue(channel, out var bucket)
            ? bucket
            : throw new InvalidOperationException($"There is no watched bucket for the channel '{channel}'.");

    public IntakeChannel GetChannel(string name) =>
        Channels.FirstOrDefault(c => c.Name == name)
        ?? throw new InvalidOperationException($"There is no watched bucket for the channel '{name}'.");

    /// <summary>The channel whose bucket and prefix cover an object, or null when no watched bucket does.</summary>
    public IntakeChannel? FindChannel(string bucket, string objectName) =>
        Channels.FirstOrDefault(c => c.Uri.Covers(bucket, objectName));

    /// <summary>The channel that takes manifests of <paramref name="kind"/>.</summary>
    public IntakeChannel ChannelFor(ManifestKind kind) =>
        Channels.First(c => c.Accepts(kind));

    public void Dispose()
    {
        foreach (var bucket in _buckets.Values)
        {
            bucket.Dispose();
        }
    }
}
