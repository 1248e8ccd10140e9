using System.Text;
using Microsoft.Extensions.Time.Testing;

namespace Sluice.Buckets.Tests;

public sealed class LocalWatchTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    private IBucket Open(BucketOptions? options = null)
    {
        options ??= new BucketOptions();
        options.BucketsDirectory = dir.Path;
        Directory.CreateDirectory(dir.Combine("watched"));
        return BucketFactory.Open(BucketUri.Parse("watched"), options);
    }

    private string PathOf(string name) => dir.Combine("watched", name);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task Objects_present_at_start_are_reported_by_the_start_up_scan()
    {
        using var bucket = Open();
        var g1 = await bucket.WriteAsync("a.yaml", Bytes("a"), default);
        var g2 = await bucket.WriteAsync("sub/b.yaml", Bytes("b"), default);

        await using var events = EventCollector.Start(bucket);

        var a = await events.WaitForAsync(BucketEventKind.Finalized, "a.yaml");
        var b = await events.WaitForAsync(BucketEventKind.Finalized, "sub/b.yaml");
        Assert.Equal((g1, "scan"), (a.Object.Generation, a.Source));
        Assert.Equal((g2, "scan"), (b.Object.Generation, b.Source));
    }

    [Fact]
    public async Task Known_objects_are_not_reported_again_and_vanished_ones_are_reported_deleted()
    {
        using var bucket = Open();
        var kept = await bucket.WriteAsync("kept.yaml", Bytes("k"), default);
        var changedBefore = await bucket.WriteAsync("changed.yaml", Bytes("1"), default);
        var known = new List<BucketObject>
        {
            (await bucket.StatAsync("kept.yaml", default))!,
            (await bucket.StatAsync("changed.yaml", default))!,
            new("watched", "deleted-while-down.yaml", 42, 1, DateTimeOffset.UnixEpoch),
            new("another-bucket", "ignored.yaml", 42, 1, DateTimeOffset.UnixEpoch),
        };
        var changedAfter = await bucket.WriteAsync("changed.yaml", Bytes("1"), default);
        var marker = await bucket.WriteAsync("zz-marker.yaml", Bytes("m"), default);

        await using var events = EventCollector.Start(bucket, known);

        await events.WaitForAsync(BucketEventKind.Finalized, "zz-marker.yaml");
        var deleted = await events.WaitForAsync(BucketEventKind.Deleted, "deleted-while-down.yaml");
        var changed = await events.WaitForAsync(BucketEventKind.Finalized, "changed.yaml");
        Assert.Equal(42, deleted.Object.Generation);
        Assert.Equal("scan", deleted.Source);
        Assert.NotEqual(changedBefore, changedAfter);
        Assert.Equal(changedAfter, changed.Object.Generation);
        Assert.DoesNotContain(events.Events, e => e.Object.Name is "kept.yaml" or "ignored.yaml");
        Assert.NotEqual(0, kept + marker);
    }

    [Fact]
    public async Task A_written_object_is_reported_by_the_watcher_with_the_writers_generation()
    {
        using var bucket = Open(new BucketOptions { StableInterval = TimeSpan.FromMinutes(5) });
        await using var events = EventCollector.Start(bucket);
        await bucket.WriteAsync("ready.yaml", Bytes("r"), default);
        await events.WaitForAsync(BucketEventKind.Finalized, "ready.yaml");

        var generation = await bucket.WriteAsync("rollouts/new.yaml", Bytes("kind: Rollout"), default);

        // A rename is complete at once: even with a five-minute stable interval it is reported now.
        var reported = await events.WaitForAsync(BucketEventKind.Finalized, "rollouts/new.yaml");
        Assert.Equal(generation, reported.Object.Generation);
        Assert.Equal("watch", reported.Source);
        Assert.Equal(13, reported.Object.Size);
    }

    [Fact]
    public async Task A_reupload_of_the_same_content_is_reported_as_a_new_generation()
    {
        using var bucket = Open();
        await using var events = EventCollector.Start(bucket);

        var first = await bucket.WriteAsync("same.yaml", Bytes("same"), default);
        await events.WaitForAsync(e => e.Object.Generation == first);
        var second = await bucket.WriteAsync("same.yaml", Bytes("same"), default);

        var reported = await events.WaitForAsync(e => e.Object.Generation == second);
        Assert.NotEqual(first, second);
        Assert.Equal(BucketEventKind.Finalized, reported.Kind);
    }

    [Fact]
    public async Task A_deleted_object_is_reported_with_its_last_generation()
    {
        using var bucket = Open();
        await using var events = EventCollector.Start(bucket);
        var generation = await bucket.WriteAsync("gone.yaml", Bytes("g"), default);
        await events.WaitForAsync(BucketEventKind.Finalized, "gone.yaml");

        await bucket.DeleteAsync("gone.yaml", default);

        var deleted = await events.WaitForAsync(BucketEventKind.Deleted, "gone.yaml");
        Assert.Equal(generation, deleted.Object.Generation);
        Assert.Equal("watch", deleted.Source);
    }

    [Fact]
    public async Task A_file_written_in_place_is_reported_only_once_it_is_complete()
    {
        using var bucket = Open(new BucketOptions { StableInterval = TimeSpan.FromSeconds(3) });
        await using var events = EventCollector.Start(bucket);
        await using (var stream = new FileStream(PathOf("slow.yaml"), FileMode.Create, FileAccess.Write, FileShare.ReadWrite))
        {
            // A slow writer: 20 chunks, well under the stable interval apart.
            for (var i = 0; i < 20; i++)
            {
                await stream.WriteAsync(Bytes($"line{i:00}\n"));
                await stream.FlushAsync();
                await Task.Delay(50);
            }
        }

        var reported = await events.WaitForAsync(BucketEventKind.Finalized, "slow.yaml");

        Assert.Equal(20 * 7, reported.Object.Size);
        Assert.Single(events.Events, e => e.Object.Name == "slow.yaml");
        Assert.Equal(20 * 7, (await bucket.ReadAsync("slow.yaml", reported.Object.Generation, default))!.Content.Length);
    }

    [Fact]
    public async Task Temp_and_partial_files_are_never_reported()
    {
        using var bucket = Open(new BucketOptions { StableInterval = TimeSpan.Zero });
        await using var events = EventCollector.Start(bucket);

        await File.WriteAllTextAsync(PathOf(".upload.yaml.tmp"), "half");
        await File.WriteAllTextAsync(PathOf("upload.yaml.partial"), "half");
        Directory.CreateDirectory(PathOf(".staging"));
        await File.WriteAllTextAsync(PathOf(".staging/x.yaml"), "half");
        File.Move(PathOf("upload.yaml.partial"), PathOf("upload.yaml"));
        await bucket.WriteAsync("zz-marker.yaml", Bytes("m"), default);

        await events.WaitForAsync(BucketEventKind.Finalized, "zz-marker.yaml");
        var upload = await events.WaitForAsync(BucketEventKind.Finalized, "upload.yaml");
        Assert.Equal("half", (await bucket.ReadAsync("upload.yaml", upload.Object.Generation, default))!.Text);
        Assert.All(events.Events, e => Assert.Contains(e.Object.Name, new[] { "upload.yaml", "zz-marker.yaml" }));
    }

    [Fact]
    public async Task Files_moved_in_from_elsewhere_and_new_directories_are_reported()
    {
        using var outside = new TempDirectory();
        using var bucket = Open();
        await using var events = EventCollector.Start(bucket);
        await bucket.WriteAsync("ready.yaml", Bytes("r"), default);
        await events.WaitForAsync(BucketEventKind.Finalized, "ready.yaml");

        await File.WriteAllTextAsync(outside.Combine("moved.yaml"), "moved");
        File.Move(outside.Combine("moved.yaml"), PathOf("moved.yaml"));
        Directory.CreateDirectory(outside.Combine("tree", "deep"));
        await File.WriteAllTextAsync(outside.Combine("tree", "deep", "t.yaml"), "tree");
        Directory.Move(outside.Combine("tree"), PathOf("tree"));

        await events.WaitForAsync(BucketEventKind.Finalized, "moved.yaml");
        await events.WaitForAsync(BucketEventKind.Finalized, "tree/deep/t.yaml");
    }

    [Fact]
    public async Task Without_notifications_the_periodic_scan_finds_new_and_deleted_objects()
    {
        // The fake clock runs an hour ahead of the files' modification times, so every file counts as settled.
        var clock = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UnixEpoch.ToUnixTimeSeconds()) + (File.GetLastWriteTimeUtc(dir.Path) - DateTime.UnixEpoch) + TimeSpan.FromHours(1));
        using var bucket = Open(new BucketOptions { UseFileSystemNotifications = false, ScanInterval = TimeSpan.FromSeconds(30), TimeProvider = clock });
        await bucket.WriteAsync("before.yaml", Bytes("b"), default);
        await using var events = EventCollector.Start(bucket);
        await events.WaitForAsync(BucketEventKind.Finalized, "before.yaml");

        var generation = await bucket.WriteAsync("missed.yaml", Bytes("m"), default);
        await bucket.DeleteAsync("before.yaml", default);
        await Task.Delay(200);
        Assert.DoesNotContain(events.Events, e => e.Object.Name == "missed.yaml");
        clock.Advance(TimeSpan.FromSeconds(30));

        var found = await events.WaitForAsync(BucketEventKind.Finalized, "missed.yaml");
        var deleted = await events.WaitForAsync(BucketEventKind.Deleted, "before.yaml");
        Assert.Equal((generation, "scan"), (found.Object.Generation, found.Source));
        Assert.Equal("scan", deleted.Source);
    }

    [Fact]
    public async Task A_directory_that_cannot_be_created_ends_the_watch_with_a_clear_error()
    {
        var blocker = dir.Combine("a-file");
        await File.WriteAllTextAsync(blocker, "not a directory");
        using var bucket = BucketFactory.Open(BucketUri.Parse(new Uri(Path.Combine(blocker, "bucket")).AbsoluteUri), new BucketOptions());

        var error = await Assert.ThrowsAsync<BucketException>(async () =>
        {
            await foreach (var unused in bucket.WatchAsync(default))
            {
            }
        });

        Assert.Contains(blocker, error.Message, StringComparison.Ordinal);
        Assert.Contains("Check that Sluice may create and read the directory", error.Message, StringComparison.Ordinal);
    }
}
