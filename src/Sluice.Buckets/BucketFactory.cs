using Sluice.Buckets.Gcs;
using Sluice.Buckets.Local;

namespace Sluice.Buckets;

public static class BucketFactory
{
    /// <summary>Opens a bucket for watching, reading and writing.</summary>
    /// <exception cref="ArgumentException">The options are not usable; the message lists every problem.</exception>
    public static IBucket Open(BucketUri uri, BucketOptions options)
    {
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(options));
        }
        return uri.IsLocal
            ? new LocalBucket(uri, uri.ResolveDirectory(options.BucketsDirectory), options)
            : new GcsBucket(uri, options);
    }

    /// <summary>Parses and opens: <c>file:///abs/dir</c>, a bucket name, or <c>gs://bucket/prefix</c>.</summary>
    public static IBucket Open(string uri, BucketOptions options) => Open(BucketUri.Parse(uri), options);
}
