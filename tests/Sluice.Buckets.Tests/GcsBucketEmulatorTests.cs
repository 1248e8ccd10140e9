using System.Text;
using Sluice.Buckets.Gcs;

namespace Sluice.Buckets.Tests;

/// <summary>The Cloud Storage bucket against a real third-party emulator of the JSON API.</summary>
public sealed class GcsBucketEmulatorTests : IDisposable
{
    private readonly string bucketName = GcsEmulator.NewBucketName();
    private readonly BucketOptions options;
    private readonly IBucket bucket;

    public GcsBucketEmulatorTests()
    {
        options = new BucketOptions { GcsEndpoint = GcsEmulator.Endpoint, PollInterval = TimeSpan.FromMilliseconds(200) };
        bucket = BucketFactory.Open($"gs://{bucketName}", options);
    }

    public void Dispose() => bucket.Dispose();

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task A_written_object_reads_back_with_its_generation()
    {
        var generation = await bucket.WriteAsync("rollouts/clickstream.yaml", Bytes("kind: Rollout\n"), default);

        var stat = await bucket.StatAsync("rollouts/clickstream.yaml", default);
        var content = await bucket.ReadAsync("rollouts/clickstream.yaml", generation, default);

        Assert.NotNull(stat);
        Assert.Equal((bucketName, "rollouts/clickstream.yaml", generation, 14L), (stat.Bucket, stat.Name, stat.Generation, stat.Size));
        Assert.Equal("application/yaml", stat.ContentType);
        Assert.Equal("kind: Rollout\n", content!.Text);
        Assert.Equal(stat, content.Object);
    }

    [Fact]
    public async Task A_replaced_generation_cannot_be_read_and_missing_objects_are_null()
    {
        var first = await bucket.WriteAsync("a.yaml", Bytes("v1"), default);
        await Task.Delay(5); // the emulator's generations are milliseconds
        var second = await bucket.WriteAsync("a.yaml", Bytes("v2"), default);

        Assert.NotEqual(first, second);
        Assert.Null(await bucket.ReadAsync("a.yaml", first, default));
        Assert.Equal("v2", (await bucket.ReadAsync("a.yaml", second, default))!.Text);
        Assert.Null(await bucket.ReadAsync("nothing-here.yaml", null, default));
        Assert.Null(await bucket.StatAsync("nothing-here.yaml", default));
    }

    [Fact]
    public async Task Listing_follows_pages_and_keeps_to_the_prefix()
    {
        foreach (var name in new[] { "rollouts/e.yaml", "rollouts/a.yaml", "rollouts/c.yaml", "rollouts/b.yaml", "rollouts/d.yaml", "schedules/x.yaml" })
        {
            await bucket.WriteAsync(name, Bytes(name), default);
        }
        using var rollouts = (GcsBucket)BucketFactory.Open($"gs://{bucketName}/rollouts/", options);
        rollouts.PageSize = 2;

        var names = (await rollouts.ListAsync(default)).Select(o => o.Name);

        Assert.Equal(["rollouts/a.yaml", "rollouts/b.yaml", "rollouts/c.yaml", "rollouts/d.yaml", "rollouts/e.yaml"], names);
    }

    [Fact]
    public async Task Deleting_reports_whether_there_was_an_object()
    {
        await bucket.WriteAsync("a.yaml", Bytes("a"), default);

        Assert.True(await bucket.DeleteAsync("a.yaml", default));
        Assert.False(await bucket.DeleteAsync("a.yaml", default));
        Assert.Empty(await bucket.ListAsync(default));
    }

    [Fact]
    public async Task Polling_reports_existing_new_replaced_and_deleted_objects()
    {
        var existing = await bucket.WriteAsync("existing.yaml", Bytes("e"), default);
        await using var events = EventCollector.Start(bucket);
        var first = await events.WaitForAsync(BucketEventKind.Finalized, "existing.yaml");
        Assert.Equal((existing, "poll"), (first.Object.Generation, first.Source));

        var added = await bucket.WriteAsync("added.yaml", Bytes("a"), default);
        Assert.Equal(added, (await events.WaitForAsync(BucketEventKind.Finalized, "added.yaml")).Object.Generation);
        await Task.Delay(5);
        var replaced = await bucket.WriteAsync("existing.yaml", Bytes("e"), default);
        await events.WaitForAsync(e => e.Object.Generation == replaced);
        await bucket.DeleteAsync("added.yaml", default);
        var deleted = await events.WaitForAsync(BucketEventKind.Deleted, "added.yaml");

        Assert.Equal((added, "poll"), (deleted.Object.Generation, deleted.Source));
        Assert.Single(events.Events, e => e.Object.Name == "added.yaml" && e.Kind == BucketEventKind.Finalized);
    }

    [Fact]
    public async Task Polling_from_a_known_state_reports_only_what_changed_since()
    {
        var kept = await bucket.WriteAsync("kept.yaml", Bytes("k"), default);
        var keptObject = (await bucket.StatAsync("kept.yaml", default))!;
        var marker = await bucket.WriteAsync("new.yaml", Bytes("n"), default);
        var known = new[] { keptObject, new BucketObject(bucketName, "removed-while-down.yaml", 7, 1, DateTimeOffset.UnixEpoch) };

        await using var events = EventCollector.Start(bucket, known);

        Assert.Equal(marker, (await events.WaitForAsync(BucketEventKind.Finalized, "new.yaml")).Object.Generation);
        Assert.Equal(7, (await events.WaitForAsync(BucketEventKind.Deleted, "removed-while-down.yaml")).Object.Generation);
        Assert.DoesNotContain(events.Events, e => e.Object.Name == "kept.yaml");
        Assert.Equal(kept, keptObject.Generation);
    }

    [Fact]
    public async Task An_unreachable_endpoint_is_a_transient_error_that_names_the_endpoint()
    {
        using var closed = BucketFactory.Open($"gs://{bucketName}", new BucketOptions { GcsEndpoint = new Uri("http://127.0.0.1:9/"), MaxAttempts = 1 });

        var error = await Assert.ThrowsAsync<BucketException>(() => closed.ListAsync(default));

        Assert.True(error.IsTransient);
        Assert.Contains("http://127.0.0.1:9/", error.Message, StringComparison.Ordinal);
    }
}
