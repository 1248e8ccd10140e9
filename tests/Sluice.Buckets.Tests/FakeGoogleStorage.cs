using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Web;

namespace Sluice.Buckets.Tests;

/// <summary>
/// Stands in for live Cloud Storage where the emulator cannot (credentials, faults, preconditions), answering in the
/// JSON API's documented wire format: object resources with int64 fields as strings, error bodies
/// {"error":{"code","message"}}, ifGenerationMatch → 412.
/// </summary>
internal sealed class FakeGoogleStorage : HttpMessageHandler
{
    private readonly ConcurrentDictionary<string, (long Generation, byte[] Content)> objects = new();
    private long nextGeneration = 1_700_000_000_000_000;

    public List<HttpRequestMessage> Requests { get; } = [];

    /// <summary>Answers to give before handling requests normally (null = handle normally).</summary>
    public ConcurrentQueue<HttpStatusCode?> Faults { get; } = new();

    /// <summary>Store the next upload, then answer 503 as if the answer was lost on the way.</summary>
    public bool LoseNextUploadAnswer { get; set; }

    public string? RawAnswer { get; set; }

    public int Uploads { get; private set; }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        lock (Requests)
        {
            Requests.Add(request);
        }
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        if (RawAnswer is not null)
        {
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(RawAnswer) };
        }
        if (Faults.TryDequeue(out var fault) && fault is { } status)
        {
            return Error(status, status == HttpStatusCode.Forbidden ? "caller does not have storage.objects.list access" : "Backend Error");
        }
        var path = request.RequestUri!.AbsolutePath;
        var query = HttpUtility.ParseQueryString(request.RequestUri.Query);
        const string objectsPrefix = "/storage/v1/b/";
        if (request.Method == HttpMethod.Post && path.StartsWith("/upload/storage/v1/b/", StringComparison.Ordinal))
        {
            var name = query["name"]!;
            var current = objects.TryGetValue(name, out var existing) ? existing.Generation : 0;
            if (query["ifGenerationMatch"] is { } match && long.Parse(match, CultureInfo.InvariantCulture) != current)
            {
                return Error(HttpStatusCode.PreconditionFailed, "At least one of the pre-conditions you specified did not hold.");
            }
            var stored = (Interlocked.Increment(ref nextGeneration), body);
            objects[name] = stored;
            Uploads++;
            if (LoseNextUploadAnswer)
            {
                LoseNextUploadAnswer = false;
                return Error(HttpStatusCode.ServiceUnavailable, "Backend Error");
            }
            return Json(Resource(name, stored));
        }
        var rest = path[objectsPrefix.Length..];
        var bucket = rest[..rest.IndexOf('/', StringComparison.Ordinal)];
        var afterBucket = rest[(bucket.Length + 1)..];
        if (request.Method == HttpMethod.Get && afterBucket == "o")
        {
            var prefix = query["prefix"] ?? "";
            var items = objects.Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(o => o.Key, StringComparer.Ordinal)
                .Select(o => Resource(o.Key, o.Value)).ToList();
            return Json(new Dictionary<string, object> { ["kind"] = "storage#objects", ["items"] = items });
        }
        var objectName = Uri.UnescapeDataString(afterBucket["o/".Length..]);
        if (!objects.TryGetValue(objectName, out var item) || (query["generation"] is { } g && long.Parse(g, CultureInfo.InvariantCulture) != item.Generation))
        {
            return Error(HttpStatusCode.NotFound, $"No such object: {bucket}/{objectName}");
        }
        if (request.Method == HttpMethod.Delete)
        {
            objects.TryRemove(objectName, out _);
            return new HttpResponseMessage(HttpStatusCode.NoContent);
        }
        return query["alt"] == "media" ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(item.Content) } : Json(Resource(objectName, item));
    }

    private static Dictionary<string, object> Resource(string name, (long Generation, byte[] Content) item) => new()
    {
        ["kind"] = "storage#object",
        ["bucket"] = "acme",
        ["name"] = name,
        ["generation"] = item.Generation.ToString(CultureInfo.InvariantCulture),
        ["metageneration"] = "1",
        ["size"] = item.Content.Length.ToString(CultureInfo.InvariantCulture),
        ["updated"] = "2026-11-30T10:00:00.123Z",
#pragma warning disable CA5351 // Cloud Storage reports MD5 per object
        ["md5Hash"] = Convert.ToBase64String(MD5.HashData(item.Content)),
#pragma warning restore CA5351
    };

    private static HttpResponseMessage Json(object value) =>
        new(HttpStatusCode.OK) { Content = new StringContent(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json") };

    private static HttpResponseMessage Error(HttpStatusCode status, string message) =>
        new(status) { Content = new StringContent(JsonSerializer.Serialize(new { error = new { code = (int)status, message } }), Encoding.UTF8, "application/json") };
}
