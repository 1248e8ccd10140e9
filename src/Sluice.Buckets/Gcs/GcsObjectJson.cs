using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sluice.Buckets.Gcs;

/// <summary>
/// The Cloud Storage object resource of the JSON API (storage#object), as listed, returned by uploads, and sent as the
/// payload of Pub/Sub notifications (JSON_API_V1) and Eventarc events. int64 fields arrive as JSON strings.
/// </summary>
internal sealed class GcsObjectJson
{
    public string? Kind { get; set; }

    public string? Name { get; set; }

    public string? Bucket { get; set; }

    public JsonElement Generation { get; set; }

    public JsonElement Size { get; set; }

    public string? Updated { get; set; }

    public string? TimeCreated { get; set; }

    public string? ContentType { get; set; }

    public string? Md5Hash { get; set; }

    /// <summary>The object as Sluice sees it, or null with a reason when a field it needs is missing or malformed.</summary>
    public BucketObject? ToBucketObject(out string? problem)
    {
        if (string.IsNullOrEmpty(Bucket) || string.IsNullOrEmpty(Name))
        {
            problem = "the object resource has no bucket or name";
            return null;
        }
        if (ReadInt64(Generation) is not { } generation)
        {
            problem = $"object {Bucket}/{Name} has no valid generation";
            return null;
        }
        var updated = ParseTime(Updated) ?? ParseTime(TimeCreated) ?? DateTimeOffset.UnixEpoch;
        problem = null;
        return new BucketObject(Bucket, Name, generation, ReadInt64(Size) ?? 0, updated, ContentType);
    }

    internal static long? ReadInt64(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number when element.TryGetInt64(out var number) => number,
        JsonValueKind.String when long.TryParse(element.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    internal static DateTimeOffset? ParseTime(string? text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}

internal sealed class GcsObjectListJson
{
    public List<GcsObjectJson>? Items { get; set; }

    public string? NextPageToken { get; set; }
}

internal sealed class GcsErrorJson
{
    public GcsErrorBody? Error { get; set; }
}

internal sealed class GcsErrorBody
{
    public int Code { get; set; }

    public string? Message { get; set; }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(GcsObjectJson))]
[JsonSerializable(typeof(GcsObjectListJson))]
[JsonSerializable(typeof(GcsErrorJson))]
[JsonSerializable(typeof(string))]
internal sealed partial class GcsJsonContext : JsonSerializerContext
{
}
