using System.Text;
using System.Text.Json;
using Sluice.Buckets.Gcs;

namespace Sluice.Buckets;

/// <summary>
/// Parses an Eventarc delivery of a Cloud Storage event, a CloudEvent 1.0 over HTTP in binary mode (<c>ce-*</c>
/// headers, the object resource as the JSON body) or structured mode (<c>application/cloudevents+json</c>, attributes
/// and <c>data</c> in the body). Types: <c>google.cloud.storage.object.v1.finalized|deleted|archived|metadataUpdated</c>.
/// </summary>
public static class EventarcCloudEvent
{
    private const string TypePrefix = "google.cloud.storage.object.v1.";
    private const string SourcePrefix = "//storage.googleapis.com/projects/_/buckets/";

    public static BucketPushResult Parse(IEnumerable<KeyValuePair<string, string>> headers, string body, TimeProvider? timeProvider = null)
    {
        var header = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            header[name] = value;
        }
        var contentType = header.GetValueOrDefault("Content-Type") ?? "";
        var now = (timeProvider ?? TimeProvider.System).GetUtcNow();

        if (contentType.StartsWith("application/cloudevents+json", StringComparison.OrdinalIgnoreCase))
        {
            return ParseStructured(body, now);
        }
        if (!header.TryGetValue("ce-type", out var type))
        {
            return BucketPushResult.Rejected("The request is not a CloudEvent: it has no ce-type header and its Content-Type is not application/cloudevents+json; point only an Eventarc trigger for Cloud Storage at this endpoint.");
        }
        JsonDocument data;
        try
        {
            data = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return BucketPushResult.Rejected($"The CloudEvent body is not JSON ({e.Message}); Cloud Storage events carry the object resource as JSON.", header.GetValueOrDefault("ce-id"));
        }
        using (data)
        {
            return Interpret(
                header.GetValueOrDefault("ce-specversion"), type, header.GetValueOrDefault("ce-id"), header.GetValueOrDefault("ce-source"),
                header.GetValueOrDefault("ce-subject"), data.RootElement, now);
        }
    }

    private static BucketPushResult ParseStructured(string body, DateTimeOffset now)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return BucketPushResult.Rejected($"The structured CloudEvent is not JSON ({e.Message}).");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return BucketPushResult.Rejected("The structured CloudEvent is not a JSON object.");
            }
            var id = Text(root, "id");
            var type = Text(root, "type");
            if (type is null)
            {
                return BucketPushResult.Rejected("The structured CloudEvent has no \"type\"; a Cloud Storage event has type google.cloud.storage.object.v1.finalized or .deleted.", id);
            }
            JsonElement data;
            if (root.TryGetProperty("data", out var inline))
            {
                data = inline;
            }
            else if (Text(root, "data_base64") is { } base64)
            {
                try
                {
                    using var decoded = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(base64)));
                    data = decoded.RootElement.Clone();
                }
                catch (Exception e) when (e is FormatException or JsonException)
                {
                    return BucketPushResult.Rejected("The structured CloudEvent's data_base64 is not base64-encoded object JSON.", id);
                }
            }
            else
            {
                data = default;
            }
            return Interpret(Text(root, "specversion"), type, id, Text(root, "source"), Text(root, "subject"), data, now);
        }
    }

    private static BucketPushResult Interpret(string? specVersion, string type, string? id, string? source, string? subject, JsonElement data, DateTimeOffset now)
    {
        if (specVersion != "1.0")
        {
            return BucketPushResult.Rejected($"The CloudEvent has spec version '{specVersion}'; Eventarc sends 1.0.", id);
        }
        if (!type.StartsWith(TypePrefix, StringComparison.Ordinal))
        {
            return BucketPushResult.Rejected($"The CloudEvent type '{type}' is not a Cloud Storage object event; create the Eventarc trigger with event type {TypePrefix}finalized (and .deleted).", id);
        }
        BucketEventKind kind;
        switch (type[TypePrefix.Length..])
        {
            case "finalized":
                kind = BucketEventKind.Finalized;
                break;
            case "deleted":
                kind = BucketEventKind.Deleted;
                break;
            case "archived":
                // An archived event does not say whether the version was deleted or overwritten; the finalized and
                // deleted events (and polling) cover both without it.
                return BucketPushResult.Ignored("Archived versions need no action; the finalized and deleted events cover every change of the live version.", id);
            case "metadataUpdated":
                return BucketPushResult.Ignored("Metadata updates do not change an object's content.", id);
            default:
                return BucketPushResult.Rejected($"The Cloud Storage event type '{type}' is unknown; expected {TypePrefix}finalized or .deleted.", id);
        }

        GcsObjectJson resource;
        try
        {
            resource = data.ValueKind == JsonValueKind.Object ? data.Deserialize(GcsJsonContext.Default.GcsObjectJson) ?? new() : new();
        }
        catch (JsonException e)
        {
            return BucketPushResult.Rejected($"The CloudEvent data is not a Cloud Storage object resource ({e.Message}).", id);
        }
        if (resource.Bucket is null && source is not null && source.StartsWith(SourcePrefix, StringComparison.Ordinal))
        {
            resource.Bucket = source[SourcePrefix.Length..];
        }
        if (resource.Name is null && subject is not null && subject.StartsWith("objects/", StringComparison.Ordinal))
        {
            resource.Name = subject["objects/".Length..];
        }
        var item = resource.ToBucketObject(out var problem);
        if (item is null)
        {
            return BucketPushResult.Rejected($"The {type} event does not name an object version: {problem}.", id);
        }
        return BucketPushResult.Accepted(new BucketEvent(kind, item, BucketEventSources.Eventarc) { ObservedAt = now }, id);
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
