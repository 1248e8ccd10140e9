namespace Sluice.Emulator;

/// <summary>Maps <c>gs://BUCKET/PATH</c> to <c>&lt;buckets dir&gt;/BUCKET/PATH</c>.</summary>
public static class BucketPaths
{
    /// <summary>The local file of a gs:// path; throws <see cref="ArgumentException"/> with a clear sentence when it is not one.</summary>
    public static string ToLocalPath(string bucketsDirectory, string gcsPath)
    {
        if (!gcsPath.StartsWith("gs://", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{gcsPath}' is not a Cloud Storage path; it must look like gs://BUCKET/PATH.");
        }

        var rest = gcsPath["gs://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            throw new ArgumentException($"'{gcsPath}' names no object; it must look like gs://BUCKET/PATH.");
        }

        var segments = rest.Split('/');
        if (segments.Any(segment => segment is ".." or "."))
        {
            throw new ArgumentException($"'{gcsPath}' contains '.' or '..' segments, which Cloud Storage paths do not have.");
        }

        var root = Path.GetFullPath(bucketsDirectory);
        var local = Path.GetFullPath(Path.Combine([root, .. segments]));
        if (!local.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{gcsPath}' points outside the buckets directory.");
        }

        return local;
    }
}
