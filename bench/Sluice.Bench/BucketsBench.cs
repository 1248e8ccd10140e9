using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Sluice.Buckets;

namespace Sluice.Bench;

/// <summary>
/// `bench buckets [--count N]`: how fast a local bucket reports a new object. A manifest file is written under a temp
/// name and renamed into the watched directory (what `sluice apply` does); the latency is from just before the rename
/// to the moment the watch loop hands the Finalized event to its consumer.
/// </summary>
internal static class BucketsBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length >= 2 && args[0] == "--count" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500;
        var root = Directory.CreateTempSubdirectory("sluice-bench-buckets-").FullName;
        try
        {
            var content = Encoding.UTF8.GetBytes("apiVersion: sluice/v1\nkind: Rollout\nmetadata: { name: bench }\nspec: { pipeline: bench }\n");
            Console.WriteLine($"## Buckets\n\nLocal bucket (`file://` directory on {DescribeFileSystem(root)}), {count} objects per run, {Environment.ProcessorCount} cores.\n");
            Console.WriteLine("| measurement | p50 | p90 | p99 | max |");
            Console.WriteLine("|---|---|---|---|---|");

            var paced = await MeasureRenamesAsync(Path.Combine(root, "paced"), count, content, pause: TimeSpan.FromMilliseconds(5));
            Row("rename → event, one at a time (5 ms apart)", paced);
            var burst = await MeasureRenamesAsync(Path.Combine(root, "burst"), count, content, pause: TimeSpan.Zero);
            Row($"rename → event, burst of {count}", burst);
            var written = await MeasureWriterAsync(Path.Combine(root, "writer"), count, content);
            Row("IBucketWriter.WriteAsync start (temp file, fsync, rename) → event", written);

            var scanCount = count * 4;
            var scan = await MeasureStartupScanAsync(Path.Combine(root, "scan"), scanCount, content);
            Console.WriteLine($"\nStart-up reconciling scan: {scanCount} objects present before the watch starts are all reported in {scan.TotalMilliseconds:F0} ms.");
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static async Task<List<double>> MeasureRenamesAsync(string directory, int count, byte[] content, TimeSpan pause)
    {
        Directory.CreateDirectory(directory);
        await using var watch = await Watch.StartAsync(directory);
        var staged = new List<(string Temp, string Final, string Name)>();
        for (var i = 0; i < count; i++)
        {
            var name = $"manifest-{i:D5}.yaml";
            var temp = Path.Combine(directory, $".{name}.tmp");
            await File.WriteAllBytesAsync(temp, content);
            staged.Add((temp, Path.Combine(directory, name), name));
        }
        var started = new long[count];
        for (var i = 0; i < count; i++)
        {
            started[i] = Stopwatch.GetTimestamp();
            File.Move(staged[i].Temp, staged[i].Final);
            if (pause > TimeSpan.Zero)
            {
                await watch.WaitForAsync(staged[i].Name);
                await Task.Delay(pause);
            }
        }
        var latencies = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var seen = await watch.WaitForAsync(staged[i].Name);
            latencies.Add(Stopwatch.GetElapsedTime(started[i], seen).TotalMilliseconds);
        }
        return latencies;
    }

    private static async Task<List<double>> MeasureWriterAsync(string directory, int count, byte[] content)
    {
        Directory.CreateDirectory(directory);
        using var bucket = BucketFactory.Open(BucketUri.Parse(new Uri(directory).AbsoluteUri), new BucketOptions());
        await using var watch = await Watch.StartAsync(directory);
        var latencies = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var name = $"written-{i:D5}.yaml";
            var started = Stopwatch.GetTimestamp();
            await bucket.WriteAsync(name, content, default);
            var seen = await watch.WaitForAsync(name);
            latencies.Add(Stopwatch.GetElapsedTime(started, seen).TotalMilliseconds);
        }
        return latencies;
    }

    private static async Task<TimeSpan> MeasureStartupScanAsync(string directory, int count, byte[] content)
    {
        Directory.CreateDirectory(directory);
        for (var i = 0; i < count; i++)
        {
            var sub = Path.Combine(directory, $"team-{i % 20:D2}");
            Directory.CreateDirectory(sub);
            await File.WriteAllBytesAsync(Path.Combine(sub, $"m-{i:D5}.yaml"), content);
        }
        // Make every file older than the stable interval, as files left from before a restart are.
        var old = DateTime.UnixEpoch.AddSeconds(1_700_000_000);
        foreach (var file in Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, old);
        }
        var started = Stopwatch.GetTimestamp();
        await using var watch = await Watch.StartAsync(directory, waitForReady: false);
        await watch.WaitForCountAsync(count);
        return Stopwatch.GetElapsedTime(started);
    }

    private static void Row(string label, List<double> latencies)
    {
        latencies.Sort();
        string P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)].ToString("F2", CultureInfo.InvariantCulture) + " ms";
        Console.WriteLine($"| {label} | {P(0.50)} | {P(0.90)} | {P(0.99)} | {latencies[^1].ToString("F2", CultureInfo.InvariantCulture)} ms |");
    }

    private static string DescribeFileSystem(string path)
    {
        var drive = DriveInfo.GetDrives().Where(d => path.StartsWith(d.RootDirectory.FullName, StringComparison.Ordinal))
            .OrderByDescending(d => d.RootDirectory.FullName.Length).FirstOrDefault();
        return drive is null ? "an unknown file system" : drive.DriveFormat;
    }

    /// <summary>Consumes a watch; records when each Finalized event reached the consumer.</summary>
    private sealed class Watch : IAsyncDisposable
    {
        private readonly IBucket bucket;
        private readonly CancellationTokenSource stop = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource<long>> seen = new();
        private readonly Task loop;
        private int finalized;

        private Watch(string directory)
        {
            bucket = BucketFactory.Open(BucketUri.Parse(new Uri(directory).AbsoluteUri), new BucketOptions());
            loop = Task.Run(async () =>
            {
                try
                {
                    await foreach (var item in bucket.WatchAsync(stop.Token))
                    {
                        var at = Stopwatch.GetTimestamp();
                        if (item.Kind == BucketEventKind.Finalized)
                        {
                            Interlocked.Increment(ref finalized);
                            Slot(item.Object.Name).TrySetResult(at);
                        }
                    }
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
            });
        }

        public static async Task<Watch> StartAsync(string directory, bool waitForReady = true)
        {
            var watch = new Watch(directory);
            if (waitForReady)
            {
                // Notifications are live once an object written after the start has been reported.
                await File.WriteAllTextAsync(Path.Combine(directory, "ready.yaml"), "ready");
                await watch.WaitForAsync("ready.yaml");
            }
            return watch;
        }

        public Task<long> WaitForAsync(string name) => Slot(name).Task.WaitAsync(TimeSpan.FromSeconds(60));

        public async Task WaitForCountAsync(int count)
        {
            var clock = Stopwatch.StartNew();
            while (Volatile.Read(ref finalized) < count)
            {
                if (clock.Elapsed > TimeSpan.FromMinutes(2))
                {
                    throw new TimeoutException($"Only {finalized} of {count} objects were reported.");
                }
                await Task.Delay(1);
            }
        }

        private TaskCompletionSource<long> Slot(string name) =>
            seen.GetOrAdd(name, _ => new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously));

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
#pragma warning disable VSTHRD003 // the loop is this object's own task, started in its constructor
            await loop;
#pragma warning restore VSTHRD003
            bucket.Dispose();
            stop.Dispose();
        }
    }
}
