namespace Sluice.Buckets;

public enum BucketPushOutcome
{
    /// <summary>The notification carries an object event: see <see cref="BucketPushResult.Events"/>.</summary>
    Accepted,

    /// <summary>A valid notification that needs no action (metadata update, superseded version); see the reason.</summary>
    Ignored,

    /// <summary>Not a usable notification; the reason says what is wrong. Redelivery cannot fix it.</summary>
    Rejected,
}

/// <summary>What a push notification (Pub/Sub push or Eventarc) amounts to.</summary>
public sealed record BucketPushResult(BucketPushOutcome Outcome, IReadOnlyList<BucketEvent> Events, string? Reason, string? MessageId)
{
    public bool IsRejected => Outcome == BucketPushOutcome.Rejected;

    public static BucketPushResult Accepted(BucketEvent bucketEvent, string? messageId) =>
        new(BucketPushOutcome.Accepted, [bucketEvent], null, messageId);

    public static BucketPushResult Ignored(string reason, string? messageId) =>
        new(BucketPushOutcome.Ignored, [], reason, messageId);

    public static BucketPushResult Rejected(string reason, string? messageId = null) =>
        new(BucketPushOutcome.Rejected, [], reason, messageId);
}
