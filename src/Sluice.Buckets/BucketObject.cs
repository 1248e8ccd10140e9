using System.Text;

namespace Sluice.Buckets;

/// <summary>
/// One version of an object. <see cref="Generation"/> identifies the version: a re-upload of the same content is a
/// new generation. For Cloud Storage it is the object's generation; for a local directory see docs/buckets.md.
/// </summary>
public sealed record BucketObject(string Bucket, string Name, long Generation, long Size, DateTimeOffset Updated, string? ContentType = null)
{
    public override string ToString() => $"{Bucket}/{Name}#{Generation}";
}

public enum BucketEventKind
{
    /// <summary>A new object version is complete and readable.</summary>
    Finalized,

    /// <summary>The object is gone; <see cref="BucketEvent.Object"/> is the last version known.</summary>
    Deleted,
}

/// <summary>What happened to an object, and which mechanism noticed it (see <see cref="BucketEventSources"/>).</summary>
public sealed record BucketEvent(BucketEventKind Kind, BucketObject Object, string Source)
{
    /// <summary>When Sluice noticed the change (for latency figures); for push events the time stated by the sender if any.</summary>
    public DateTimeOffset ObservedAt { get; init; }

    public override string ToString() => $"{Kind} {Object} ({Source})";
}

/// <summary>The values of <see cref="BucketEvent.Source"/>.</summary>
public static class BucketEventSources
{
    /// <summary>A file-system notification of a local directory.</summary>
    public const string Watch = "watch";

    /// <summary>A full reconciling scan of a local directory (start-up, periodic, or after dropped notifications).</summary>
    public const string Scan = "scan";

    /// <summary>A listing of a Cloud Storage bucket.</summary>
    public const string Poll = "poll";

    /// <summary>A Pub/Sub push notification of Cloud Storage.</summary>
    public const string PubSub = "pubsub";

    /// <summary>An Eventarc CloudEvent of Cloud Storage.</summary>
    public const string Eventarc = "eventarc";
}

/// <summary>The bytes of one object version.</summary>
public sealed record BucketObjectContent(BucketObject Object, ReadOnlyMemory<byte> Content)
{
    /// <summary>The content as UTF-8 text (a byte-order mark is dropped).</summary>
    public string Text => Encoding.UTF8.GetString(Content.Span.StartsWith(Encoding.UTF8.Preamble) ? Content.Span[3..] : Content.Span);
}
