using System.Text;

namespace Sluice.Buckets.Tests;

public sealed class LocalBucketTests : IDisposable
{
    private readonly TempDirectory dir = new();
    private readonly IBucket bucket;

    public LocalBucketTests()
    {
        bucket = BucketFactory.Open(BucketUri.Parse("sluice-rollouts"), new BucketOptions { BucketsDirectory = dir.Path });
    }

    public void Dispose()
    {
        bucket.Dispose();
        dir.Dispose();
    }

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task A_written_object_reads_back_with_the_generation_the_write_returned()
    {
        var generation = await bucket.WriteAsync("rollouts/clickstream.yaml", Bytes("kind: Rollout\n"), default);

        var content = await bucket.ReadAsync("rollouts/clickstream.yaml", generation, default);
        var stat = await bucket.StatAsync("rollouts/clickstream.yaml", default);

        Assert.NotNull(content);
        Assert.Equal("kind: Rollout\n", content.Text);
        Assert.Equal(generation, content.Object.Generation);
        Assert.Equal(new BucketObject("sluice-rollouts", "rollouts/clickstream.yaml", generation, 14, stat!.Updated, "application/yaml"), stat);
        Assert.True(File.Exists(dir.Combine("sluice-rollouts", "rollouts", "clickstream.yaml")));
    }

    [Fact]
    public async Task Rewriting_the_same_content_is_a_new_generation_every_time()
    {
        var generations = new List<long>();
        for (var i = 0; i < 25; i++)
        {
            generations.Add(await bucket.WriteAsync("same.yaml", Bytes("same content"), default));
        }

        Assert.Equal(generations.Count, generations.Distinct().Count());
        Assert.Equal(generations.Order(), generations);
        Assert.Equal(generations[^1], (await bucket.StatAsync("same.yaml", default))!.Generation);
    }

    [Fact]
    public async Task Reading_a_replaced_generation_finds_nothing()
    {
        var first = await bucket.WriteAsync("a.yaml", Bytes("v1"), default);
        var second = await bucket.WriteAsync("a.yaml", Bytes("v2"), default);

        Assert.Null(await bucket.ReadAsync("a.yaml", first, default));
        Assert.Equal("v2", (await bucket.ReadAsync("a.yaml", second, default))!.Text);
        Assert.Equal("v2", (await bucket.ReadAsync("a.yaml", null, default))!.Text);
        Assert.Null(await bucket.ReadAsync("missing.yaml", null, default));
    }

    [Fact]
    public async Task A_write_leaves_no_temp_file_behind()
    {
        await bucket.WriteAsync("x/y.yaml", Bytes("content"), default);

        var files = Directory.GetFiles(dir.Combine("sluice-rollouts"), "*", SearchOption.AllDirectories);
        Assert.Equal([dir.Combine("sluice-rollouts", "x", "y.yaml")], files);
    }

    [Fact]
    public async Task Listing_skips_temp_and_hidden_names_and_is_ordered_by_name()
    {
        var root = dir.Combine("sluice-rollouts");
        Directory.CreateDirectory(Path.Combine(root, ".cache"));
        Directory.CreateDirectory(Path.Combine(root, "b"));
        await File.WriteAllTextAsync(Path.Combine(root, "b", "z.yaml"), "z");
        await File.WriteAllTextAsync(Path.Combine(root, "a.yaml"), "a");
        await File.WriteAllTextAsync(Path.Combine(root, ".a.yaml.1234.tmp"), "partial");
        await File.WriteAllTextAsync(Path.Combine(root, "upload.partial"), "partial");
        await File.WriteAllTextAsync(Path.Combine(root, "a.yaml~"), "editor backup");
        await File.WriteAllTextAsync(Path.Combine(root, ".cache", "c.yaml"), "hidden");

        var names = (await bucket.ListAsync(default)).Select(o => o.Name);

        Assert.Equal(["a.yaml", "b/z.yaml"], names);
    }

    [Fact]
    public async Task A_prefix_limits_listing_to_its_objects_but_names_stay_bucket_relative()
    {
        await bucket.WriteAsync("rollouts/a.yaml", Bytes("a"), default);
        await bucket.WriteAsync("rollouts-old/b.yaml", Bytes("b"), default);
        await bucket.WriteAsync("schedules/c.yaml", Bytes("c"), default);
        using var rollouts = BucketFactory.Open(BucketUri.Parse("sluice-rollouts/rollouts/"), new BucketOptions { BucketsDirectory = dir.Path });
        using var partial = BucketFactory.Open(BucketUri.Parse("sluice-rollouts/rollouts"), new BucketOptions { BucketsDirectory = dir.Path });

        Assert.Equal(["rollouts/a.yaml"], (await rollouts.ListAsync(default)).Select(o => o.Name));
        Assert.Equal(["rollouts-old/b.yaml", "rollouts/a.yaml"], (await partial.ListAsync(default)).Select(o => o.Name));
    }

    [Fact]
    public async Task Deleting_reports_whether_there_was_an_object()
    {
        await bucket.WriteAsync("a.yaml", Bytes("a"), default);

        Assert.True(await bucket.DeleteAsync("a.yaml", default));
        Assert.False(await bucket.DeleteAsync("a.yaml", default));
        Assert.Null(await bucket.StatAsync("a.yaml", default));
    }

    [Theory]
    [InlineData("../escape.yaml")]
    [InlineData("/abs.yaml")]
    [InlineData("a//b.yaml")]
    [InlineData("")]
    public async Task Bad_object_names_are_refused_with_a_sentence(string name)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => bucket.WriteAsync(name, Bytes("x"), default));

        Assert.EndsWith(".", error.Message.Split(" (Parameter")[0], StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.Path, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task Temp_names_cannot_be_written_because_watchers_would_ignore_them()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => bucket.WriteAsync("x.yaml.partial", Bytes("x"), default));

        Assert.Contains("ignore", error.Message, StringComparison.Ordinal);
    }
}
