using System.Collections.Concurrent;
using System.Diagnostics;

namespace Sluice.Buckets.Tests;

/// <summary>Consumes a watch in the background; tests wait for events with generous deadlines.</summary>
internal sealed class EventCollector : IAsyncDisposable
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentQueue<BucketEvent> events = new();
    private readonly SemaphoreSlim arrived = new(0);
    private readonly Task consumer;

    private EventCollector(Func<CancellationToken, IAsyncEnumerable<BucketEvent>> watch)
    {
        consumer = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in watch(stop.Token))
                {
                    events.Enqueue(item);
                    arrived.Release();
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
        });
    }

    public IReadOnlyList<BucketEvent> Events => [.. events];

    public static EventCollector Start(IBucketSource source, IReadOnlyCollection<BucketObject>? known = null) =>
        new(ct => source.WatchAsync(known ?? [], ct));

    public async Task<BucketEvent> WaitForAsync(Func<BucketEvent, bool> predicate, TimeSpan? timeout = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var match = events.FirstOrDefault(predicate);
            if (match is not null)
            {
                return match;
            }
            if (consumer.IsFaulted)
            {
                await consumer;
            }
            var left = limit - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No matching event; saw: {string.Join(", ", events)}");
            }
            await arrived.WaitAsync(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
        }
    }

    public Task<BucketEvent> WaitForAsync(BucketEventKind kind, string name, TimeSpan? timeout = null) =>
        WaitForAsync(e => e.Kind == kind && e.Object.Name == name, timeout);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await consumer;
        stop.Dispose();
        arrived.Dispose();
    }
}
