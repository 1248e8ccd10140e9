using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace Sluice.Buckets;

/// <summary>Where a bucket lives.</summary>
public enum BucketUriKind
{
    /// <summary><c>file:///abs/dir</c>: a local directory anywhere.</summary>
    Directory,

    /// <summary>A bare name: a directory under the data dir's buckets directory, as the emulator maps <c>gs://NAME</c>.</summary>
    DataDirBucket,

    /// <summary><c>gs://bucket/prefix</c>: Google Cloud Storage.</summary>
    Gcs,
}

/// <summary>
/// A configured bucket: <c>file:///abs/dir</c>, a bare bucket name (optionally <c>name/prefix</c>) under the data
/// dir's buckets directory, or <c>gs://bucket/prefix</c>. Object names are always relative to the bucket root, as in
/// Cloud Storage; the prefix only selects which objects belong to this source.
/// </summary>
public sealed partial record BucketUri
{
    private BucketUri(BucketUriKind kind, string bucket, string prefix, string? directory)
    {
        Kind = kind;
        Bucket = bucket;
        Prefix = prefix;
        Directory = directory;
    }

    public BucketUriKind Kind { get; }

    /// <summary>The bucket name (for <c>file://</c>, the directory's own name).</summary>
    public string Bucket { get; }

    /// <summary>Object-name prefix this source covers; empty for the whole bucket.</summary>
    public string Prefix { get; }

    /// <summary>The absolute root directory for <see cref="BucketUriKind.Directory"/>; null otherwise (see <see cref="ResolveDirectory"/>).</summary>
    public string? Directory { get; }

    public bool IsLocal => Kind != BucketUriKind.Gcs;

    public static BucketUri Parse(string text)
    {
        if (!TryParse(text, out var uri, out var error))
        {
            throw new FormatException(error);
        }
        return uri;
    }

    public static bool TryParse(string? text, [NotNullWhen(true)] out BucketUri? uri, [NotNullWhen(false)] out string? error)
    {
        uri = null;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "The bucket is empty; give file:///ABSOLUTE/DIR, a bucket name, or gs://BUCKET/PREFIX.";
            return false;
        }

        if (text.StartsWith("gs://", StringComparison.OrdinalIgnoreCase))
        {
            var rest = text["gs://".Length..];
            var slash = rest.IndexOf('/', StringComparison.Ordinal);
            var bucket = slash < 0 ? rest : rest[..slash];
            var prefix = slash < 0 ? "" : rest[(slash + 1)..];
            if (!IsValidBucketName(bucket, out error))
            {
                error = $"'{text}' is not a valid Cloud Storage location: {error}";
                return false;
            }
            if (prefix.Length > 0 && !ObjectNames.IsValidPrefix(prefix, out error))
            {
                error = $"'{text}' is not a valid Cloud Storage location: {error}";
                return false;
            }
            uri = new BucketUri(BucketUriKind.Gcs, bucket, prefix, null);
            return true;
        }

        if (text.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var fileUri) || !fileUri.IsFile || !string.IsNullOrEmpty(fileUri.Host))
            {
                error = $"'{text}' is not a valid local bucket; write it as file:///ABSOLUTE/DIR (three slashes).";
                return false;
            }
            var directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(fileUri.LocalPath));
            var name = Path.GetFileName(directory);
            uri = new BucketUri(BucketUriKind.Directory, name.Length == 0 ? "root" : name, "", directory);
            error = null;
            return true;
        }

        if (text.Contains("://", StringComparison.Ordinal))
        {
            error = $"'{text}' uses an unknown scheme; give file:///ABSOLUTE/DIR, a bucket name, or gs://BUCKET/PREFIX.";
            return false;
        }

        var separator = text.IndexOf('/', StringComparison.Ordinal);
        var bareBucket = separator < 0 ? text : text[..separator];
        var barePrefix = separator < 0 ? "" : text[(separator + 1)..];
        if (!IsValidBucketName(bareBucket, out error))
        {
            error = $"'{text}' is not a bucket name ({error}); for a directory write file:///ABSOLUTE/DIR.";
            return false;
        }
        if (barePrefix.Length > 0 && !ObjectNames.IsValidPrefix(barePrefix, out error))
        {
            error = $"'{text}' is not a valid bucket location: {error}";
            return false;
        }
        uri = new BucketUri(BucketUriKind.DataDirBucket, bareBucket, barePrefix, null);
        return true;
    }

    /// <summary>The local root directory of the bucket; <paramref name="bucketsDirectory"/> is needed for bare names.</summary>
    public string ResolveDirectory(string? bucketsDirectory)
    {
        return Kind switch
        {
            BucketUriKind.Directory => Directory!,
            BucketUriKind.DataDirBucket when !string.IsNullOrWhiteSpace(bucketsDirectory) =>
                Path.Combine(Path.GetFullPath(bucketsDirectory), Bucket),
            BucketUriKind.DataDirBucket => throw new InvalidOperationException(
                $"Bucket '{this}' is a bare name, so it needs the buckets directory of the data dir; set BucketOptions.BucketsDirectory or use file:///ABSOLUTE/DIR."),
            _ => throw new InvalidOperationException($"Bucket '{this}' is in Cloud Storage and has no local directory."),
        };
    }

    /// <summary>Whether an object of some bucket belongs to this source (same bucket, name under the prefix).</summary>
    public bool Covers(string bucket, string objectName) =>
        string.Equals(bucket, Bucket, StringComparison.Ordinal) && objectName.StartsWith(Prefix, StringComparison.Ordinal);

    public override string ToString() => Kind switch
    {
        BucketUriKind.Gcs => Prefix.Length == 0 ? $"gs://{Bucket}" : $"gs://{Bucket}/{Prefix}",
        BucketUriKind.Directory => new Uri(Directory!).AbsoluteUri,
        _ => Prefix.Length == 0 ? Bucket : $"{Bucket}/{Prefix}",
    };

    // Cloud Storage's naming rules (3–63 characters per dot-separated part up to 222, lowercase letters, digits, -, _, .),
    // so that a data-dir bucket can later move to gs:// unchanged.
    private static bool IsValidBucketName(string name, [NotNullWhen(false)] out string? error)
    {
        if (name.Length is < 3 or > 222)
        {
            error = "a bucket name has 3 to 63 characters (222 with dots)";
            return false;
        }
        if (!BucketNamePattern().IsMatch(name))
        {
            error = "a bucket name uses only lowercase letters, digits, '-', '_' and '.', and starts and ends with a letter or digit";
            return false;
        }
        if (name.Split('.').Any(part => part.Length > 63))
        {
            error = "each dot-separated part of a bucket name has at most 63 characters";
            return false;
        }
        error = null;
        return true;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex BucketNamePattern();
}
