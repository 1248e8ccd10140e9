namespace Sluice.Buckets;

/// <summary>Where object events come from, and how objects are read.</summary>
public interface IBucketSource
{
    BucketUri Uri { get; }

    /// <summary>
    /// Reports every object under the prefix once (source "scan" or "poll") and then every change, until cancelled.
    /// Delivery is at least once: the consumer de-duplicates by (bucket, name, generation). Cancelling ends it with
    /// <see cref="OperationCanceledException"/>; a <see cref="BucketException"/> means the source cannot go on.
    /// </summary>
    IAsyncEnumerable<BucketEvent> WatchAsync(CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="WatchAsync(CancellationToken)"/>, but objects already known at the same generation are not
    /// reported again, and known objects that are gone are reported as deleted — so deletions while Sluice was down
    /// are noticed too.
    /// </summary>
    IAsyncEnumerable<BucketEvent> WatchAsync(IReadOnlyCollection<BucketObject> known, CancellationToken cancellationToken);

    /// <summary>All current objects under the prefix, ordered by name.</summary>
    Task<IReadOnlyList<BucketObject>> ListAsync(CancellationToken cancellationToken);

    /// <summary>The current version of an object, or null when there is none.</summary>
    Task<BucketObject?> StatAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Reads an object; with <paramref name="generation"/>, that exact version. Null when the object (or that
    /// version) no longer exists — a newer version then has its own event.
    /// </summary>
    Task<BucketObjectContent?> ReadAsync(string name, long? generation, CancellationToken cancellationToken);
}

/// <summary>Writes objects so that readers never see a partial object.</summary>
public interface IBucketWriter
{
    /// <summary>Writes an object atomically (local: temp file + rename) and returns the new generation.</summary>
    Task<long> WriteAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken);

    /// <summary>Deletes an object; false when there was none.</summary>
    Task<bool> DeleteAsync(string name, CancellationToken cancellationToken);
}

/// <summary>A bucket opened by <see cref="BucketFactory.Open"/>: read, watch and write.</summary>
public interface IBucket : IBucketSource, IBucketWriter, IDisposable
{
}
