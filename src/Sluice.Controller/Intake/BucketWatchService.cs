using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sluice.Buckets;

namespace Sluice.Controller.Intake;

/// <summary>
/// Runs event intake in the host: starts the workers (handling what an earlier process left behind), then consumes
/// each watched bucket's events into the ledger. A bucket that fails (directory gone, Cloud Storage unreachable) is
/// watched again after a pause; its reconciling scan then reports whatever changed meanwhile.
/// </summary>
public sealed class BucketWatchService : BackgroundService
{
    private static readonly TimeSpan MaxPause = TimeSpan.FromSeconds(30);
    private readonly IntakeService _intake;
    private readonly IntakeBuckets _buckets;
    private readonly IntakeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public BucketWatchService(
        IntakeService intake, IntakeBuckets buckets, IntakeOptions options, TimeProvider time, ILogger<BucketWatchService> logger)
    {
        _intake = intake;
        _buckets = buckets;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await _intake.StopAsync();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await _intake.StartAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        if (!_options.Watch)
        {
            return;
        }

        await Task.WhenAll(_buckets.Channels.Select(channel => WatchAsync(channel, stoppingToken)));
    }

    private async Task WatchAsync(IntakeChannel channel, CancellationToken cancellationToken)
    {
        var source = _buckets.Get(channel.Name);
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var known = await _intake.Ledger.ListKnownObjectsAsync(channel.Name, cancellationToken);
                _logger.LogInformation("Watching the {Channel} bucket {Uri} ({Known} object(s) known)", channel.Name, channel.Uri, known.Count);
                await foreach (var bucketEvent in source.WatchAsync(known, cancellationToken))
                {
                    failures = 0;
                    if (!channel.Uri.Covers(bucketEvent.Object.Bucket, bucketEvent.Object.Name))
                    {
                        continue;
                    }

                    var change = bucketEvent.Kind == BucketEventKind.Deleted ? ObjectChange.Deleted : ObjectChange.Finalized;
                    var observed = bucketEvent.ObservedAt == default ? _time.GetUtcNow() : bucketEvent.ObservedAt;
                    await _intake.IngestAsync(new IncomingEvent(channel.Name, change, bucketEvent.Object, bucketEvent.Source, observed), cancellationToken);
                }

                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                failures++;
                var pause = TimeSpan.FromTicks(Math.Min(MaxPause.Ticks, TimeSpan.FromSeconds(1).Ticks * (1L << Math.Min(failures - 1, 10))));
                _logger.LogError(e, "Watching the {Channel} bucket {Uri} failed: {Message}; trying again in {Pause}",
                    channel.Name, channel.Uri, e.Message, pause);
                try
                {
                    await Task.Delay(pause, _time, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
