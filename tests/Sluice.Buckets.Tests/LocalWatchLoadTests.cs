using System.Text;

namespace Sluice.Buckets.Tests;

/// <summary>Many objects before and during a watch, re-uploads and half-written files mixed in.</summary>
public sealed class LocalWatchLoadTests : IDisposable
{
    private readonly TempDirectory dir = new();

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task Every_object_version_written_before_or_during_the_watch_is_reported_and_no_partial_one_is()
    {
        var options = new BucketOptions { BucketsDirectory = dir.Path, StableInterval = TimeSpan.FromSeconds(3) };
        using var bucket = BucketFactory.Open(BucketUri.Parse("load"), options);
        var root = dir.Combine("load");
        Directory.CreateDirectory(root);
        var latest = new Dictionary<string, long>();
        var written = new List<(string Name, long Generation)>();
        async Task WriteAsync(string name, string content)
        {
            var generation = await bucket.WriteAsync(name, Encoding.UTF8.GetBytes(content), default);
            latest[name] = generation;
            written.Add((name, generation));
        }

        // While Sluice is down: objects, and temp files of uploads that never finished.
        for (var i = 0; i < 500; i++)
        {
            await WriteAsync($"before/m-{i:D4}.yaml", $"manifest {i}");
        }
        for (var i = 0; i < 20; i++)
        {
            await File.WriteAllTextAsync(Path.Combine(root, "before", $".m-{i:D4}.yaml.abc.tmp"), "half");
        }

        await using var events = EventCollector.Start(bucket);

        // While it runs: new objects, re-uploads of the same content, slow in-place writers, abandoned partials.
        Directory.CreateDirectory(Path.Combine(root, "slow"));
        // Each slow writer has its own thread: a 100 ms pause must not become a multi-second one while the thread
        // pool is busy (the loop below fsyncs a thousand files), or the writer would look finished to any watcher.
        var slowWriters = Enumerable.Range(0, 10).Select(i => Task.Factory.StartNew(
            () =>
            {
                using var stream = new FileStream(Path.Combine(root, "slow", $"s-{i}.yaml"), FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
                for (var chunk = 0; chunk < 4; chunk++)
                {
                    stream.Write(Encoding.UTF8.GetBytes($"chunk {chunk}\n"));
                    stream.Flush();
                    Thread.Sleep(100);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToList();
        for (var i = 0; i < 500; i++)
        {
            await WriteAsync($"during/m-{i:D4}.yaml", $"manifest {i}");
            if (i % 5 == 0)
            {
                await WriteAsync($"before/m-{i:D4}.yaml", $"manifest {i}");
            }
            if (i % 25 == 0)
            {
                await File.WriteAllTextAsync(Path.Combine(root, "during", $"upload-{i}.yaml.partial"), "half");
            }
        }
        await Task.WhenAll(slowWriters);

        foreach (var (name, generation) in latest)
        {
            await events.WaitForAsync(e => e.Object.Name == name && e.Object.Generation == generation, TimeSpan.FromSeconds(60));
        }
        for (var i = 0; i < 10; i++)
        {
            await events.WaitForAsync(BucketEventKind.Finalized, $"slow/s-{i}.yaml", TimeSpan.FromSeconds(60));
        }

        var reported = events.Events;
        Assert.All(reported, e => Assert.Equal(BucketEventKind.Finalized, e.Kind));
        Assert.All(reported, e => Assert.False(ObjectNames.IsIgnored(e.Object.Name), e.Object.Name));
        // Each reported version is one that was written (an intermediate one may be skipped when it was replaced
        // before the watch looked), and none is reported twice.
        var writtenVersions = written.ToHashSet();
        Assert.All(reported.Where(e => !e.Object.Name.StartsWith("slow/", StringComparison.Ordinal)), e => Assert.Contains((e.Object.Name, e.Object.Generation), writtenVersions));
        Assert.Equal(reported.Count, reported.Select(e => (e.Object.Name, e.Object.Generation)).Distinct().Count());
        // Slow writers are reported once, complete.
        Assert.All(reported.Where(e => e.Object.Name.StartsWith("slow/", StringComparison.Ordinal)), e => Assert.Equal(4 * 8, e.Object.Size));
        Assert.Equal(10, reported.Count(e => e.Object.Name.StartsWith("slow/", StringComparison.Ordinal)));
        Assert.Equal(1000, reported.Select(e => e.Object.Name).Distinct().Count(n => !n.StartsWith("slow/", StringComparison.Ordinal) && reported.Last(e => e.Object.Name == n).Object.Generation == latest[n]));
    }

    [Fact]
    public void Unusable_options_are_refused_with_every_problem_at_once()
    {
        var options = new BucketOptions { ScanInterval = TimeSpan.Zero, PollInterval = TimeSpan.FromSeconds(-1), MaxAttempts = 0, GcsEndpoint = new Uri("ftp://x/") };

        var error = Assert.Throws<ArgumentException>(() => BucketFactory.Open("gs://acme", options));

        Assert.Contains("scan interval", error.Message, StringComparison.Ordinal);
        Assert.Contains("poll interval", error.Message, StringComparison.Ordinal);
        Assert.Contains("attempts", error.Message, StringComparison.Ordinal);
        Assert.Contains("ftp://x/", error.Message, StringComparison.Ordinal);
    }
}
