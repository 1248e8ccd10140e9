using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sluice.Buckets;

/// <summary>How buckets are opened and watched. Defaults suit <c>sluice up</c>.</summary>
public sealed class BucketOptions
{
    /// <summary>The data dir's buckets directory; bare bucket names are directories in it.</summary>
    public string? BucketsDirectory { get; set; }

    /// <summary>How often a local directory is fully re-scanned besides its notifications.</summary>
    public TimeSpan ScanInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a local file written in place must keep the same size and modification time before it is reported.
    /// Files that arrive by rename are complete at once and are reported without waiting.
    /// </summary>
    public TimeSpan StableInterval { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>
    /// Whether local directories are watched with file-system notifications. Turn it off for file systems that do not
    /// deliver them (network mounts); the periodic scan then finds every change.
    /// </summary>
    public bool UseFileSystemNotifications { get; set; } = true;

    /// <summary>How often a Cloud Storage bucket is listed.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The Cloud Storage JSON API endpoint; set it to an emulator (such as <c>http://127.0.0.1:9199/</c>) to use no
    /// credentials. Null means Google Cloud with Application Default Credentials.
    /// </summary>
    public Uri? GcsEndpoint { get; set; }

    /// <summary>Credentials for Google Cloud; null means Application Default Credentials.</summary>
    public GoogleCredential? Credential { get; set; }

    /// <summary>The HTTP handler under the Cloud Storage client (tests, proxies); null for a default one.</summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Attempts for one Cloud Storage request on transient errors, the first included.</summary>
    public int MaxAttempts { get; set; } = 5;

    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public ILoggerFactory LoggerFactory { get; set; } = NullLoggerFactory.Instance;

    /// <summary>Every problem with these options, as sentences; empty when they are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (ScanInterval <= TimeSpan.Zero)
        {
            problems.Add("The bucket scan interval must be positive, such as 30s.");
        }
        if (StableInterval < TimeSpan.Zero)
        {
            problems.Add("The bucket stable interval must not be negative; 300ms is a good value.");
        }
        if (PollInterval <= TimeSpan.Zero)
        {
            problems.Add("The bucket poll interval must be positive, such as 10s.");
        }
        if (MaxAttempts < 1)
        {
            problems.Add("The Cloud Storage attempts must be at least 1.");
        }
        if (GcsEndpoint is { IsAbsoluteUri: false } || GcsEndpoint is { Scheme: not ("http" or "https") })
        {
            problems.Add($"The Cloud Storage endpoint '{GcsEndpoint}' must be an absolute http(s) URL such as http://127.0.0.1:9199/.");
        }
        return problems;
    }
}
