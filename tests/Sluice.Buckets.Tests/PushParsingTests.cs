using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Sluice.Buckets.Tests;

/// <summary>Pub/Sub push and Eventarc deliveries in their documented wire formats.</summary>
public class PushParsingTests
{
    private static readonly FakeTimeProvider Clock = new(new DateTimeOffset(2026, 11, 30, 10, 0, 1, TimeSpan.Zero));

    private const string ObjectJson = """
        {"kind":"storage#object","id":"acme-manifests/rollouts/clickstream.yaml/1764496800123456","selfLink":"https://www.googleapis.com/storage/v1/b/acme-manifests/o/rollouts%2Fclickstream.yaml",
         "name":"rollouts/clickstream.yaml","bucket":"acme-manifests","generation":"1764496800123456","metageneration":"1","contentType":"application/yaml",
         "timeCreated":"2026-11-30T10:00:00.123Z","updated":"2026-11-30T10:00:00.123Z","storageClass":"STANDARD","size":"512","md5Hash":"XrY7u+Ae7tCTyyK7j1rNww==","crc32c":"AAAAAA==","etag":"CMDm"}
        """;

    private static string PubSubBody(string eventType, string? data = ObjectJson, string payloadFormat = "JSON_API_V1", string extraAttributes = "")
    {
        var encoded = data is null ? "" : $"\"data\": \"{Convert.ToBase64String(Encoding.UTF8.GetBytes(data))}\",";
        return $$"""
            {"message": {"attributes": {"bucketId": "acme-manifests", "eventTime": "2026-11-30T10:00:00.123456Z", "eventType": "{{eventType}}",
               "notificationConfig": "projects/_/buckets/acme-manifests/notificationConfigs/3", "objectGeneration": "1764496800123456",
               "objectId": "rollouts/clickstream.yaml", "payloadFormat": "{{payloadFormat}}"{{extraAttributes}}},
             {{encoded}} "messageId": "9876543210", "message_id": "9876543210", "publishTime": "2026-11-30T10:00:00.5Z", "publish_time": "2026-11-30T10:00:00.5Z"},
             "subscription": "projects/acme/subscriptions/sluice-manifests"}
            """;
    }

    [Fact]
    public void A_pubsub_finalize_notification_is_a_finalized_event_for_that_generation()
    {
        var result = PubSubPush.Parse(PubSubBody("OBJECT_FINALIZE"), Clock);

        Assert.Equal(BucketPushOutcome.Accepted, result.Outcome);
        Assert.Equal("9876543210", result.MessageId);
        var item = Assert.Single(result.Events);
        Assert.Equal(BucketEventKind.Finalized, item.Kind);
        Assert.Equal("pubsub", item.Source);
        Assert.Equal(new BucketObject("acme-manifests", "rollouts/clickstream.yaml", 1764496800123456, 512,
            new DateTimeOffset(2026, 11, 30, 10, 0, 0, 123, TimeSpan.Zero), "application/yaml"), item.Object);
        Assert.Equal(Clock.GetUtcNow(), item.ObservedAt);
    }

    [Fact]
    public void A_pubsub_delete_notification_is_a_deleted_event()
    {
        var result = PubSubPush.Parse(PubSubBody("OBJECT_DELETE"), Clock);

        Assert.Equal(BucketEventKind.Deleted, Assert.Single(result.Events).Kind);
    }

    [Fact]
    public void Without_a_payload_the_attributes_name_the_object_version()
    {
        var result = PubSubPush.Parse(PubSubBody("OBJECT_FINALIZE", data: null, payloadFormat: "NONE"), Clock);

        var item = Assert.Single(result.Events).Object;
        Assert.Equal(("acme-manifests", "rollouts/clickstream.yaml", 1764496800123456L), (item.Bucket, item.Name, item.Generation));
    }

    [Fact]
    public void An_archive_caused_by_an_overwrite_is_ignored_but_an_archive_of_the_live_version_is_a_deletion()
    {
        var overwritten = PubSubPush.Parse(PubSubBody("OBJECT_ARCHIVE", extraAttributes: ", \"overwrittenByGeneration\": \"1764496899000000\""), Clock);
        var deleted = PubSubPush.Parse(PubSubBody("OBJECT_ARCHIVE"), Clock);

        Assert.Equal(BucketPushOutcome.Ignored, overwritten.Outcome);
        Assert.Contains("1764496899000000", overwritten.Reason, StringComparison.Ordinal);
        Assert.Equal(BucketEventKind.Deleted, Assert.Single(deleted.Events).Kind);
    }

    [Fact]
    public void Metadata_updates_are_ignored_with_a_reason()
    {
        var result = PubSubPush.Parse(PubSubBody("OBJECT_METADATA_UPDATE"), Clock);

        Assert.Equal(BucketPushOutcome.Ignored, result.Outcome);
        Assert.Empty(result.Events);
        Assert.NotNull(result.Reason);
    }

    [Theory]
    [InlineData("not json", "not JSON")]
    [InlineData("""{"subscription": "x"}""", "no \"message\"")]
    [InlineData("""{"message": {"data": "aGk=", "messageId": "1"}}""", "no eventType")]
    public void Bodies_that_are_not_storage_notifications_are_rejected_with_a_reason(string body, string reason)
    {
        var result = PubSubPush.Parse(body, Clock);

        Assert.True(result.IsRejected);
        Assert.Contains(reason, result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_event_types_and_broken_payloads_are_rejected()
    {
        Assert.Contains("OBJECT_EXPLODE", PubSubPush.Parse(PubSubBody("OBJECT_EXPLODE"), Clock).Reason, StringComparison.Ordinal);
        var broken = PubSubPush.Parse(PubSubBody("OBJECT_FINALIZE").Replace("\"data\": \"", "\"data\": \"%%%", StringComparison.Ordinal), Clock);
        Assert.True(broken.IsRejected);
        Assert.Contains("base64", broken.Reason, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> BinaryHeaders(string type) => new()
    {
        ["Content-Type"] = "application/json; charset=utf-8",
        ["ce-id"] = "1234567890",
        ["ce-source"] = "//storage.googleapis.com/projects/_/buckets/acme-manifests",
        ["ce-specversion"] = "1.0",
        ["ce-type"] = type,
        ["ce-subject"] = "objects/rollouts/clickstream.yaml",
        ["ce-time"] = "2026-11-30T10:00:00.123456Z",
        ["Ce-Bucket"] = "acme-manifests",
    };

    [Fact]
    public void A_binary_mode_finalized_cloudevent_is_a_finalized_event()
    {
        var result = EventarcCloudEvent.Parse(BinaryHeaders("google.cloud.storage.object.v1.finalized"), ObjectJson, Clock);

        Assert.Equal(BucketPushOutcome.Accepted, result.Outcome);
        Assert.Equal("1234567890", result.MessageId);
        var item = Assert.Single(result.Events);
        Assert.Equal((BucketEventKind.Finalized, "eventarc"), (item.Kind, item.Source));
        Assert.Equal(("acme-manifests", "rollouts/clickstream.yaml", 1764496800123456L, 512L), (item.Object.Bucket, item.Object.Name, item.Object.Generation, item.Object.Size));
    }

    [Fact]
    public void Header_names_are_case_insensitive_and_deleted_events_are_deletions()
    {
        var headers = BinaryHeaders("google.cloud.storage.object.v1.deleted").ToDictionary(h => h.Key.ToUpperInvariant(), h => h.Value);

        var result = EventarcCloudEvent.Parse(headers, ObjectJson, Clock);

        Assert.Equal(BucketEventKind.Deleted, Assert.Single(result.Events).Kind);
    }

    [Fact]
    public void A_structured_mode_cloudevent_is_read_from_the_body()
    {
        var body = $$"""
            {"specversion": "1.0", "id": "42", "type": "google.cloud.storage.object.v1.finalized",
             "source": "//storage.googleapis.com/projects/_/buckets/acme-manifests", "subject": "objects/rollouts/clickstream.yaml",
             "time": "2026-11-30T10:00:00.123456Z", "datacontenttype": "application/json", "data": {{ObjectJson}}}
            """;

        var result = EventarcCloudEvent.Parse([new("content-type", "application/cloudevents+json; charset=UTF-8")], body, Clock);

        var item = Assert.Single(result.Events);
        Assert.Equal("42", result.MessageId);
        Assert.Equal(1764496800123456, item.Object.Generation);
    }

    [Fact]
    public void Bucket_and_name_come_from_source_and_subject_when_the_data_lacks_them()
    {
        var result = EventarcCloudEvent.Parse(BinaryHeaders("google.cloud.storage.object.v1.finalized"), """{"generation": "17", "size": "3"}""", Clock);

        var item = Assert.Single(result.Events).Object;
        Assert.Equal(("acme-manifests", "rollouts/clickstream.yaml", 17L), (item.Bucket, item.Name, item.Generation));
    }

    [Fact]
    public void Archived_and_metadata_events_are_ignored()
    {
        Assert.Equal(BucketPushOutcome.Ignored, EventarcCloudEvent.Parse(BinaryHeaders("google.cloud.storage.object.v1.archived"), ObjectJson, Clock).Outcome);
        Assert.Equal(BucketPushOutcome.Ignored, EventarcCloudEvent.Parse(BinaryHeaders("google.cloud.storage.object.v1.metadataUpdated"), ObjectJson, Clock).Outcome);
    }

    [Fact]
    public void Requests_that_are_not_storage_cloudevents_are_rejected_with_a_reason()
    {
        Assert.Contains("no ce-type", EventarcCloudEvent.Parse([new("Content-Type", "application/json")], ObjectJson, Clock).Reason, StringComparison.Ordinal);
        Assert.Contains("not a Cloud Storage object event", EventarcCloudEvent.Parse(BinaryHeaders("google.cloud.pubsub.topic.v1.messagePublished"), ObjectJson, Clock).Reason, StringComparison.Ordinal);
        Assert.Contains("not JSON", EventarcCloudEvent.Parse(BinaryHeaders("google.cloud.storage.object.v1.finalized"), "<xml/>", Clock).Reason, StringComparison.Ordinal);
        Assert.Contains("generation", EventarcCloudEvent.Parse(BinaryHeaders("google.cloud.storage.object.v1.finalized"), """{"name": "x"}""", Clock).Reason, StringComparison.Ordinal);
        var headers = BinaryHeaders("google.cloud.storage.object.v1.finalized");
        headers["ce-specversion"] = "0.3";
        Assert.Contains("spec version", EventarcCloudEvent.Parse(headers, ObjectJson, Clock).Reason, StringComparison.Ordinal);
        Assert.True(EventarcCloudEvent.Parse([], "", Clock).IsRejected);
    }
}
