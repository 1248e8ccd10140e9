using System.Text;
using System.Text.Json;
using Sluice.Buckets.Gcs;

namespace Sluice.Buckets;

/// <summary>
/// Parses the body of a Pub/Sub push request from a Cloud Storage notification configuration:
/// <c>{"message": {"attributes": {eventType, bucketId, objectId, objectGeneration, payloadFormat, overwrittenByGeneration…},
/// "data": base64(object resource JSON), "messageId", "publishTime"}, "subscription"}</c>.
/// </summary>
public static class PubSubPush
{
    public static BucketPushResult Parse(string body, TimeProvider? timeProvider = null)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return BucketPushResult.Rejected($"The body is not JSON ({e.Message}); a Pub/Sub push subscription sends {{\"message\": {{…}}, \"subscription\": …}}.");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("message", out var message) || message.ValueKind != JsonValueKind.Object)
            {
                return BucketPushResult.Rejected("The body has no \"message\" object, so it is not a Pub/Sub push request; point only a push subscription at this endpoint.");
            }
            var messageId = Text(message, "messageId") ?? Text(message, "message_id");
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            if (message.TryGetProperty("attributes", out var attributesElement) && attributesElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var attribute in attributesElement.EnumerateObject())
                {
                    if (attribute.Value.ValueKind == JsonValueKind.String)
                    {
                        attributes[attribute.Name] = attribute.Value.GetString()!;
                    }
                }
            }
            if (!attributes.TryGetValue("eventType", out var eventType))
            {
                return BucketPushResult.Rejected("The Pub/Sub message has no eventType attribute, so it is not a Cloud Storage notification; subscribe to the topic of a bucket notification configuration.", messageId);
            }

            BucketEventKind kind;
            switch (eventType)
            {
                case "OBJECT_FINALIZE":
                    kind = BucketEventKind.Finalized;
                    break;
                case "OBJECT_DELETE":
                    kind = BucketEventKind.Deleted;
                    break;
                case "OBJECT_ARCHIVE" when attributes.TryGetValue("overwrittenByGeneration", out var newer):
                    return BucketPushResult.Ignored($"The archived version was replaced by generation {newer}, which has its own OBJECT_FINALIZE notification.", messageId);
                case "OBJECT_ARCHIVE":
                    // In a bucket with object versioning, deleting the live version archives it.
                    kind = BucketEventKind.Deleted;
                    break;
                case "OBJECT_METADATA_UPDATE":
                    return BucketPushResult.Ignored("Metadata updates do not change an object's content.", messageId);
                default:
                    return BucketPushResult.Rejected($"The Cloud Storage event type '{eventType}' is unknown; expected OBJECT_FINALIZE, OBJECT_DELETE, OBJECT_ARCHIVE or OBJECT_METADATA_UPDATE.", messageId);
            }

            var item = ReadObject(message, attributes, out var problem);
            if (item is null)
            {
                return BucketPushResult.Rejected($"The {eventType} notification does not name an object version: {problem}; send notifications with payload format JSON_API_V1 or NONE from a bucket notification configuration.", messageId);
            }
            var now = (timeProvider ?? TimeProvider.System).GetUtcNow();
            return BucketPushResult.Accepted(new BucketEvent(kind, item, BucketEventSources.PubSub) { ObservedAt = now }, messageId);
        }
    }

    private static BucketObject? ReadObject(JsonElement message, Dictionary<string, string> attributes, out string? problem)
    {
        // payloadFormat JSON_API_V1: data is the object resource; NONE: the attributes alone name the version.
        var resource = new GcsObjectJson();
        if (message.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.String && data.GetString() is { Length: > 0 } base64)
        {
            try
            {
                resource = JsonSerializer.Deserialize(Encoding.UTF8.GetString(Convert.FromBase64String(base64)), GcsJsonContext.Default.GcsObjectJson) ?? resource;
            }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                problem = "its data is not base64-encoded object JSON";
                return null;
            }
        }
        resource.Bucket ??= attributes.GetValueOrDefault("bucketId");
        resource.Name ??= attributes.GetValueOrDefault("objectId");
        if (resource.Generation.ValueKind == JsonValueKind.Undefined && attributes.TryGetValue("objectGeneration", out var generation))
        {
            resource.Generation = JsonSerializer.SerializeToElement(generation, GcsJsonContext.Default.String);
        }
        if (resource.Updated is null && attributes.TryGetValue("eventTime", out var eventTime))
        {
            resource.Updated = eventTime;
        }
        return resource.ToBucketObject(out problem);
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
