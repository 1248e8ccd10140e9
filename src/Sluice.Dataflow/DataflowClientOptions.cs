using Google.Apis.Auth.OAuth2;

namespace Sluice.Dataflow;

/// <summary>Where the Dataflow client sends requests and how it authenticates and retries.</summary>
public sealed class DataflowClientOptions
{
    public const string GlobalEndpoint = "https://dataflow.googleapis.com/";
    public const string CloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform";

    /// <summary>Base URI of the API; requests go to <c>{Endpoint}v1b3/projects/{ProjectId}/locations/{Location}/…</c>.</summary>
    public required Uri Endpoint { get; init; }

    public required string ProjectId { get; init; }

    /// <summary>The Dataflow region (regional endpoint), e.g. <c>europe-west1</c>.</summary>
    public required string Location { get; init; }

    /// <summary>How requests are authenticated. The emulator needs none.</summary>
    public DataflowCredentials Credentials { get; init; } = DataflowCredentials.None;

    /// <summary>An explicit credential; when null and <see cref="Credentials"/> asks for it, Application Default Credentials are used.</summary>
    public GoogleCredential? Credential { get; init; }

    /// <summary>Retries after the first attempt for transient answers (429, 500, 502, 503, 504, connection reset, timeout).</summary>
    public int MaxRetryAttempts { get; init; } = 6;

    /// <summary>First backoff delay; later delays grow exponentially with jitter.</summary>
    public TimeSpan RetryBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of a single backoff delay (also caps a server's Retry-After).</summary>
    public TimeSpan RetryMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for one attempt before it counts as a transient failure.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public string UserAgent { get; init; } = "sluice-dataflow-client";

    /// <summary>
    /// HTTP/1.1 connections kept to the endpoint at most; further requests wait for a free one. Without a cap, a burst
    /// of a thousand launches opens a thousand connections, which costs more than the calls. Over HTTPS the client
    /// offers HTTP/2, which multiplexes requests over few connections anyway.
    /// </summary>
    public int MaxConnections { get; init; } = 64;

    /// <summary>The local emulator: no credentials.</summary>
    public static DataflowClientOptions ForEmulator(Uri baseUri, string projectId = "sluice-local", string location = "us-central1") => new()
    {
        Endpoint = EnsureTrailingSlash(baseUri),
        ProjectId = projectId,
        Location = location,
        Credentials = DataflowCredentials.None,
    };

    /// <summary>
    /// Google Cloud with Application Default Credentials. By default requests go to the global endpoint with the region
    /// in the path, which serves every region; <paramref name="regionalEndpoint"/> sends them to
    /// <c>https://dataflow.{region}.rep.googleapis.com/</c> instead, for regions that offer one.
    /// </summary>
    public static DataflowClientOptions ForGoogleCloud(string projectId, string region, bool regionalEndpoint = false) => new()
    {
        Endpoint = regionalEndpoint ? RegionalEndpoint(region) : new Uri(GlobalEndpoint),
        ProjectId = projectId,
        Location = region,
        Credentials = DataflowCredentials.ApplicationDefault,
    };

    public static Uri RegionalEndpoint(string region) => new($"https://dataflow.{region}.rep.googleapis.com/");

    /// <summary>All problems at once, empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (!Endpoint.IsAbsoluteUri || (Endpoint.Scheme != Uri.UriSchemeHttp && Endpoint.Scheme != Uri.UriSchemeHttps))
        {
            problems.Add($"Endpoint '{Endpoint}' must be an absolute http or https URI.");
        }

        if (MaxConnections < 1)
        {
            problems.Add($"MaxConnections must be at least 1 (got {MaxConnections}).");
        }

        if (string.IsNullOrWhiteSpace(ProjectId))
        {
            problems.Add("ProjectId is empty; set the Google Cloud project that runs the jobs.");
        }

        if (string.IsNullOrWhiteSpace(Location))
        {
            problems.Add("Location is empty; set the Dataflow region, e.g. us-central1.");
        }

        if (MaxRetryAttempts < 0)
        {
            problems.Add("MaxRetryAttempts must be 0 or more.");
        }

        if (RetryBaseDelay < TimeSpan.Zero || RetryMaxDelay < RetryBaseDelay)
        {
            problems.Add("RetryBaseDelay must be non-negative and not above RetryMaxDelay.");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            problems.Add("RequestTimeout must be positive.");
        }

        return problems;
    }

    internal static Uri EnsureTrailingSlash(Uri uri) =>
        uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}

public enum DataflowCredentials
{
    /// <summary>No Authorization header (the local emulator).</summary>
    None,

    /// <summary>Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud user credentials, the metadata server.</summary>
    ApplicationDefault,
}
