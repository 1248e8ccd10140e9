using Sluice.Manifests;

namespace Sluice.Controller.Intake;

/// <summary>
/// Checks that a manifest's template exists before its run starts, so that a typo in a path is a rejected event
/// with a reason instead of a failed rollout.
/// </summary>
public interface ITemplateChecker
{
    /// <summary>Null when the template exists (or cannot be checked now); otherwise one sentence saying what is missing.</summary>
    Task<string?> CheckAsync(TemplateRef template, CancellationToken cancellationToken);
}

/// <summary>
/// Checks <c>gs://BUCKET/PATH</c> against a local buckets directory, the way the emulator maps it
/// (<c>&lt;dir&gt;/BUCKET/PATH</c>).
/// </summary>
public sealed class LocalTemplateChecker : ITemplateChecker
{
    private readonly string _bucketsDirectory;

    public LocalTemplateChecker(string bucketsDirectory)
    {
        _bucketsDirectory = Path.GetFullPath(bucketsDirectory);
    }

    public Task<string?> CheckAsync(TemplateRef template, CancellationToken cancellationToken)
    {
        if (!TemplatePaths.TrySplit(template.GcsPath, out var bucket, out var objectName, out var error))
        {
            return Task.FromResult<string?>(error);
        }

        if (TemplatePaths.HasMacros(template.GcsPath))
        {
            return Task.FromResult<string?>(null);
        }

        var path = Path.GetFullPath(Path.Combine(_bucketsDirectory, bucket, objectName));
        if (!path.StartsWith(_bucketsDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return Task.FromResult<string?>($"The template path '{template.GcsPath}' leaves the buckets directory; give gs://BUCKET/PATH without '..'.");
        }

        return Task.FromResult(File.Exists(path) || Directory.Exists(path)
            ? null
            : TemplatePaths.Missing(template, $"no file {path}"));
    }
}

/// <summary>Splitting and describing template paths.</summary>
public static class TemplatePaths
{
    public static bool TrySplit(string gcsPath, out string bucket, out string objectName, out string? error)
    {
        bucket = objectName = "";
        if (!gcsPath.StartsWith("gs://", StringComparison.Ordinal))
        {
            error = $"The template path '{gcsPath}' is not a gs://BUCKET/PATH location; upload the template to the templates bucket and give its gs:// path.";
            return false;
        }

        var rest = gcsPath["gs://".Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == rest.Length - 1)
        {
            error = $"The template path '{gcsPath}' names no object; write it as gs://BUCKET/PATH.";
            return false;
        }

        bucket = rest[..slash];
        objectName = rest[(slash + 1)..];
        error = null;
        return true;
    }

    /// <summary>Paths with slot macros (<c>{{ ds }}</c>) are only known per slot and are not checked up front.</summary>
    public static bool HasMacros(string gcsPath) => gcsPath.Contains("{{", StringComparison.Ordinal);

    public static string Missing(TemplateRef template, string detail) =>
        $"The {template.Kind.ToString().ToLowerInvariant()} template {template.GcsPath} does not exist ({detail}); upload it to the templates bucket first, or fix the path.";
}

/// <summary>
/// Checks <c>gs://BUCKET/PATH</c> in Cloud Storage (classic template files and flex template spec files are both
/// objects). When Cloud Storage cannot answer now, the template counts as present: the run's launch step reports a
/// missing template clearly anyway, and an event must not wait on an outage.
/// </summary>
public sealed class CloudTemplateChecker : ITemplateChecker, IDisposable
{
    private readonly Sluice.Buckets.BucketOptions _options;
    private readonly Dictionary<string, Sluice.Buckets.IBucket> _buckets = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public CloudTemplateChecker(Sluice.Buckets.BucketOptions options)
    {
        _options = options;
    }

    public async Task<string?> CheckAsync(TemplateRef template, CancellationToken cancellationToken)
    {
        if (!TemplatePaths.TrySplit(template.GcsPath, out var bucketName, out var objectName, out var error))
        {
            return error;
        }

        if (TemplatePaths.HasMacros(template.GcsPath))
        {
            return null;
        }

        try
        {
            var found = await GetBucket(bucketName).StatAsync(objectName, cancellationToken);
            return found is null ? TemplatePaths.Missing(template, "no such object") : null;
        }
        catch (Sluice.Buckets.BucketException e) when (e.StatusCode is 403)
        {
            return $"Sluice may not read the template {template.GcsPath} ({e.Message}); grant its service account storage.objects.get on that bucket.";
        }
        catch (Sluice.Buckets.BucketException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        foreach (var bucket in _buckets.Values)
        {
            bucket.Dispose();
        }
    }

    private Sluice.Buckets.IBucket GetBucket(string name)
    {
        lock (_lock)
        {
            if (!_buckets.TryGetValue(name, out var bucket))
            {
                bucket = Sluice.Buckets.BucketFactory.Open("gs://" + name, _options);
                _buckets[name] = bucket;
            }

            return bucket;
        }
    }
}
