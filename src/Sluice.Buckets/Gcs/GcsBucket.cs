using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.Retry;

namespace Sluice.Buckets.Gcs;

/// <summary>
/// A Cloud Storage bucket through the JSON API v1: list by prefix (live versions only), read media by generation,
/// upload with a generation precondition, delete; watched by polling the listing. Transient failures (network,
/// 408, 429, 5xx) are retried with exponential back-off.
/// </summary>
internal sealed class GcsBucket : IBucket
{
    private const string ReadWriteScope = "https://www.googleapis.com/auth/devstorage.read_write";
    private static readonly Uri GoogleEndpoint = new("https://storage.googleapis.com/");

    private readonly BucketOptions options;
    private readonly HttpClient http;
    private readonly Uri endpoint;
    private readonly ResiliencePipeline<HttpResponseMessage> retry;
    private readonly ILogger logger;
    private readonly SemaphoreSlim credentialLock = new(1, 1);
    private ITokenAccess? credential;

    public GcsBucket(BucketUri uri, BucketOptions options)
    {
        Uri = uri;
        this.options = options;
        logger = options.LoggerFactory.CreateLogger<GcsBucket>();
        endpoint = options.GcsEndpoint is { } custom
            ? new Uri(custom.AbsoluteUri.EndsWith('/') ? custom.AbsoluteUri : custom.AbsoluteUri + "/")
            : GoogleEndpoint;
        credential = options.Credential?.CreateScoped(ReadWriteScope);
        http = options.HttpHandler is { } handler ? new HttpClient(handler, disposeHandler: false) : new HttpClient();
        http.Timeout = TimeSpan.FromSeconds(60);
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = options.TimeProvider };
        if (options.MaxAttempts > 1)
        {
            pipeline.AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(10),
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome)),
                OnRetry = args =>
                {
                    logger.LogDebug("Retrying a Cloud Storage request for {Bucket} after {Outcome}.", uri, args.Outcome.Exception?.Message ?? ((int?)args.Outcome.Result?.StatusCode)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    args.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            });
        }
        retry = pipeline.Build();
    }

    public BucketUri Uri { get; }

    /// <summary>Objects per listing page; the API allows up to 1000.</summary>
    internal int PageSize { get; set; } = 1000;

    public async Task<IReadOnlyList<BucketObject>> ListAsync(CancellationToken cancellationToken)
    {
        var objects = new List<BucketObject>();
        string? pageToken = null;
        do
        {
            var query = $"storage/v1/b/{Escape(Uri.Bucket)}/o?versions=false&maxResults={PageSize}"
                + (Uri.Prefix.Length > 0 ? $"&prefix={Escape(Uri.Prefix)}" : "")
                + (pageToken is null ? "" : $"&pageToken={Escape(pageToken)}");
            using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, query)), cancellationToken);
            await EnsureSuccessAsync(response, $"list {Uri}", cancellationToken);
            var page = await ReadJsonAsync(response, GcsJsonContext.Default.GcsObjectListJson, cancellationToken);
            foreach (var item in page.Items ?? [])
            {
                if (item.ToBucketObject(out var problem) is { } parsed)
                {
                    objects.Add(parsed);
                }
                else
                {
                    logger.LogWarning("Skipping a listed object of {Bucket}: {Problem}.", Uri, problem);
                }
            }
            pageToken = string.IsNullOrEmpty(page.NextPageToken) ? null : page.NextPageToken;
        }
        while (pageToken is not null);
        objects.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return objects;
    }

    public Task<BucketObject?> StatAsync(string name, CancellationToken cancellationToken) =>
        StatAsync(name, null, cancellationToken);

    private async Task<BucketObject?> StatAsync(string name, long? generation, CancellationToken cancellationToken)
    {
        ObjectNames.Validate(name);
        var query = ObjectPath(name) + (generation is { } g ? $"?generation={g}" : "");
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, query)), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        await EnsureSuccessAsync(response, $"read the metadata of gs://{Uri.Bucket}/{name}", cancellationToken);
        var item = await ReadJsonAsync(response, GcsJsonContext.Default.GcsObjectJson, cancellationToken);
        return item.ToBucketObject(out var problem) ?? throw new BucketException($"Cloud Storage returned an unusable object for gs://{Uri.Bucket}/{name}: {problem}.");
    }

    public async Task<BucketObjectContent?> ReadAsync(string name, long? generation, CancellationToken cancellationToken)
    {
        // The metadata first, then the media of exactly that generation: the bytes and the generation belong together
        // even when a new version is uploaded in between.
        var item = await StatAsync(name, generation, cancellationToken);
        if (item is null || (generation is { } wanted && item.Generation != wanted))
        {
            return null;
        }
        var query = $"{ObjectPath(name)}?alt=media&generation={item.Generation}";
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, query)), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        await EnsureSuccessAsync(response, $"read gs://{Uri.Bucket}/{name}", cancellationToken);
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return new BucketObjectContent(item, bytes);
    }

    public async Task<long> WriteAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        ObjectNames.Validate(name);
        var md5 = Convert.ToBase64String(ContentHash(content.Span));
        var contentType = Local.LocalBucket.GuessContentType(name) ?? "application/octet-stream";
        for (var round = 0; ; round++)
        {
            // Upload with ifGenerationMatch = the generation seen now (0: no object yet). A retry of an upload whose
            // answer was lost then fails with 412 instead of creating a second generation, and the object's MD5 tells
            // whether that earlier attempt landed.
            var current = await StatAsync(name, cancellationToken);
            var precondition = current?.Generation ?? 0;
            var query = $"upload/storage/v1/b/{Escape(Uri.Bucket)}/o?uploadType=media&name={Escape(name)}&ifGenerationMatch={precondition}";
            using var response = await SendAsync(
                () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Post, new Uri(endpoint, query)) { Content = new ByteArrayContent(content.ToArray()) };
                    request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
                    return request;
                },
                cancellationToken);
            if (response.StatusCode == HttpStatusCode.PreconditionFailed)
            {
                var now = await StatAsync(name, cancellationToken);
                var landed = now is not null && now.Generation != precondition && await HasHashAsync(name, now.Generation, md5, cancellationToken);
                if (landed)
                {
                    return now!.Generation;
                }
                if (round < 3)
                {
                    continue;
                }
            }
            await EnsureSuccessAsync(response, $"write gs://{Uri.Bucket}/{name}", cancellationToken);
            var item = await ReadJsonAsync(response, GcsJsonContext.Default.GcsObjectJson, cancellationToken);
            return item.ToBucketObject(out var problem)?.Generation
                ?? throw new BucketException($"Cloud Storage accepted gs://{Uri.Bucket}/{name} but returned no usable generation: {problem}.");
        }
    }

    public async Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        ObjectNames.Validate(name);
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, new Uri(endpoint, ObjectPath(name))), cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
        await EnsureSuccessAsync(response, $"delete gs://{Uri.Bucket}/{name}", cancellationToken);
        return true;
    }

    public IAsyncEnumerable<BucketEvent> WatchAsync(CancellationToken cancellationToken) => WatchAsync([], cancellationToken);

    /// <summary>
    /// Polls the listing every <see cref="BucketOptions.PollInterval"/>. The cursor is the set of (name, generation)
    /// seen last: a new name or generation is a finalized object, a name no longer listed a deleted one. Transient
    /// errors skip a poll; permanent ones (no such bucket, access denied) end the watch with a
    /// <see cref="BucketException"/>.
    /// </summary>
    public async IAsyncEnumerable<BucketEvent> WatchAsync(IReadOnlyCollection<BucketObject> known, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var seen = new Dictionary<string, BucketObject>(StringComparer.Ordinal);
        foreach (var item in known.Where(k => Uri.Covers(k.Bucket, k.Name)))
        {
            seen[item.Name] = item;
        }
        var time = options.TimeProvider;
        while (true)
        {
            IReadOnlyList<BucketObject>? listing = null;
            try
            {
                listing = await ListAsync(cancellationToken);
            }
            catch (BucketException e) when (e.IsTransient)
            {
                logger.LogWarning("Polling {Bucket} failed for now, trying again in {Interval}: {Message}", Uri, options.PollInterval, e.Message);
            }
            if (listing is not null)
            {
                var now = time.GetUtcNow();
                var listed = new HashSet<string>(StringComparer.Ordinal);
                foreach (var item in listing)
                {
                    listed.Add(item.Name);
                    if (!seen.TryGetValue(item.Name, out var previous) || previous.Generation != item.Generation)
                    {
                        seen[item.Name] = item;
                        yield return new BucketEvent(BucketEventKind.Finalized, item, BucketEventSources.Poll) { ObservedAt = now };
                    }
                }
                foreach (var gone in seen.Values.Where(s => !listed.Contains(s.Name)).ToList())
                {
                    seen.Remove(gone.Name);
                    yield return new BucketEvent(BucketEventKind.Deleted, gone, BucketEventSources.Poll) { ObservedAt = now };
                }
            }
            await Task.Delay(options.PollInterval, time, cancellationToken);
        }
    }

    public void Dispose()
    {
        http.Dispose();
        credentialLock.Dispose();
    }

    // MD5 is what Cloud Storage reports per object (md5Hash); it only tells our own upload apart, it protects nothing.
#pragma warning disable CA5351
    private static byte[] ContentHash(ReadOnlySpan<byte> content) => MD5.HashData(content);
#pragma warning restore CA5351

    private async Task<bool> HasHashAsync(string name, long generation, string md5, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Get, new Uri(endpoint, $"{ObjectPath(name)}?generation={generation}")), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            return false;
        }
        var item = await ReadJsonAsync(response, GcsJsonContext.Default.GcsObjectJson, cancellationToken);
        return string.Equals(item.Md5Hash, md5, StringComparison.Ordinal);
    }

    private string ObjectPath(string name) => $"storage/v1/b/{Escape(Uri.Bucket)}/o/{Escape(name)}";

    private static string Escape(string value) => System.Uri.EscapeDataString(value);

    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> createRequest, CancellationToken cancellationToken)
    {
        var token = await GetAccessTokenAsync(cancellationToken);
        try
        {
            return await retry.ExecuteAsync(
                async ct =>
                {
                    using var request = createRequest();
                    if (token is not null)
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    }
                    return await http.SendAsync(request, ct);
                },
                cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new BucketException($"Cloud Storage at {endpoint} could not be reached for {Uri}: {e.Message}; check the network (or the emulator) and try again.", null, isTransient: true, e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new BucketException($"Cloud Storage at {endpoint} did not answer in time for {Uri}; try again later.", null, isTransient: true, e);
        }
    }

    private async Task<string?> GetAccessTokenAsync(CancellationToken cancellationToken)
    {
        if (options.GcsEndpoint is not null && options.Credential is null)
        {
            return null; // An emulator takes no credentials.
        }
        if (credential is null)
        {
            await credentialLock.WaitAsync(cancellationToken);
            try
            {
                credential ??= (await GoogleCredential.GetApplicationDefaultAsync(cancellationToken)).CreateScoped(ReadWriteScope);
            }
            catch (InvalidOperationException e)
            {
                throw new BucketException($"No Google credentials were found for {Uri}; run `gcloud auth application-default login`, set GOOGLE_APPLICATION_CREDENTIALS, or point the bucket at an emulator.", null, isTransient: false, e);
            }
            finally
            {
                credentialLock.Release();
            }
        }
        return await credential.GetAccessTokenForRequestAsync(null, cancellationToken);
    }

    private static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException } => true,
        { Exception: TaskCanceledException } => false,
        { Result: { } response } => IsTransient(response.StatusCode),
        _ => false,
    };

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string action, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var status = (int)response.StatusCode;
        var detail = await ReadErrorMessageAsync(response, cancellationToken);
        var advice = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "the credentials were refused; renew them (`gcloud auth application-default login`) or check GOOGLE_APPLICATION_CREDENTIALS",
            HttpStatusCode.Forbidden => $"grant the service account roles/storage.objectViewer on gs://{Uri.Bucket} (roles/storage.objectAdmin to write)",
            HttpStatusCode.NotFound => $"check that bucket gs://{Uri.Bucket} exists in the right project",
            HttpStatusCode.PreconditionFailed => "another writer changed the object at the same time; try again",
            _ when IsTransient(response.StatusCode) => "Cloud Storage is unavailable for now; Sluice tries again",
            _ => "check the bucket configuration",
        };
        throw new BucketException($"Could not {action}: Cloud Storage answered {status} ({detail}); {advice}.", status, IsTransient(response.StatusCode));
    }

    private static async Task<string> ReadErrorMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        try
        {
            var error = JsonSerializer.Deserialize(body, GcsJsonContext.Default.GcsErrorJson);
            if (!string.IsNullOrWhiteSpace(error?.Error?.Message))
            {
                return error.Error.Message.TrimEnd('.');
            }
        }
        catch (JsonException)
        {
        }
        return response.ReasonPhrase ?? "no details";
    }

    private async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            return await JsonSerializer.DeserializeAsync(stream, type, cancellationToken)
                ?? throw new BucketException($"Cloud Storage at {endpoint} returned an empty answer for {Uri}.");
        }
        catch (JsonException e)
        {
            throw new BucketException($"Cloud Storage at {endpoint} returned something that is not JSON for {Uri}; is the endpoint really a Cloud Storage JSON API?", null, isTransient: false, e);
        }
    }
}
