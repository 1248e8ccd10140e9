using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Sluice.Buckets.Local;

/// <summary>
/// Watches a local bucket: file-system notifications for speed, a full reconciling scan at start and every
/// <see cref="BucketOptions.ScanInterval"/> (and after the notification queue overflowed) so nothing is missed.
/// A file that arrives by rename is complete and reported at once; a file written in place is reported once its
/// size and modification time stayed the same for <see cref="BucketOptions.StableInterval"/>.
/// One instance serves one enumeration; all state is touched only by the enumerating loop.
/// </summary>
internal sealed class LocalWatcher
{
    private readonly LocalBucket bucket;
    private readonly BucketOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly Dictionary<string, BucketObject> reported = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Pending> pending = new(StringComparer.Ordinal);
    private readonly Channel<Change> changes = Channel.CreateUnbounded<Change>(new UnboundedChannelOptions { SingleReader = true });
    private FileSystemWatcher? watcher;
    private bool rescanRequested;

    public LocalWatcher(LocalBucket bucket, IReadOnlyCollection<BucketObject> known, BucketOptions options)
    {
        this.bucket = bucket;
        this.options = options;
        time = options.TimeProvider;
        logger = options.LoggerFactory.CreateLogger<LocalWatcher>();
        foreach (var item in known)
        {
            if (bucket.Uri.Covers(item.Bucket, item.Name))
            {
                reported[item.Name] = item;
            }
        }
    }

    private enum ChangeKind
    {
        Created,
        Changed,
        Deleted,
        Renamed,
        Overflow,
    }

    public async IAsyncEnumerable<BucketEvent> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var output = new List<BucketEvent>();
        try
        {
            // Notifications start before the first scan, so a file written during the scan is seen by one or the other.
            try
            {
                Directory.CreateDirectory(bucket.WatchDirectory);
                StartNotifications();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new BucketException(
                    $"Cannot watch {bucket.WatchDirectory} for bucket {bucket.Uri}: {e.Message} Check that Sluice may create and read the directory; if the inotify limits are reached, raise fs.inotify.max_user_instances / max_user_watches or turn file-system notifications off.",
                    e);
            }
            var nextScan = time.GetUtcNow();
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                output.Clear();
                while (changes.Reader.TryRead(out var change))
                {
                    Handle(change, output);
                }
                var now = time.GetUtcNow();
                if (rescanRequested || now >= nextScan)
                {
                    rescanRequested = false;
                    Scan(output);
                    nextScan = time.GetUtcNow() + options.ScanInterval;
                }
                CheckPending(output);
                foreach (var item in output)
                {
                    yield return item;
                }
                if (output.Count > 0)
                {
                    continue;
                }
                var due = nextScan;
                foreach (var entry in pending.Values)
                {
                    due = entry.DueAt < due ? entry.DueAt : due;
                }
                await WaitForChangeAsync(due - time.GetUtcNow(), cancellationToken);
            }
        }
        finally
        {
            watcher?.Dispose();
            changes.Writer.TryComplete();
        }
    }

    private async Task WaitForChangeAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return;
        }
        using var timeout = new CancellationTokenSource(delay, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await changes.Reader.WaitToReadAsync(linked.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The delay is over: time for a scan or a stability check.
        }
    }

    private void StartNotifications()
    {
        if (!options.UseFileSystemNotifications)
        {
            return;
        }
        watcher?.Dispose();
        var created = new FileSystemWatcher(bucket.WatchDirectory)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            InternalBufferSize = 64 * 1024,
        };
        // The callbacks run on thread-pool threads; they only queue, and the loop does the rest.
        created.Created += (_, e) => changes.Writer.TryWrite(new Change(ChangeKind.Created, e.FullPath, null));
        created.Changed += (_, e) => changes.Writer.TryWrite(new Change(ChangeKind.Changed, e.FullPath, null));
        created.Deleted += (_, e) => changes.Writer.TryWrite(new Change(ChangeKind.Deleted, e.FullPath, null));
        created.Renamed += (_, e) => changes.Writer.TryWrite(new Change(ChangeKind.Renamed, e.FullPath, e.OldFullPath));
        created.Error += (_, e) => changes.Writer.TryWrite(new Change(ChangeKind.Overflow, e.GetException().Message, null));
        created.EnableRaisingEvents = true;
        watcher = created;
    }

    private void Handle(Change change, List<BucketEvent> output)
    {
        switch (change.Kind)
        {
            case ChangeKind.Overflow:
                logger.LogWarning("File-system notifications for {Bucket} were lost ({Reason}); scanning the directory again.", bucket.Uri, change.Path);
                rescanRequested = true;
                return;
            case ChangeKind.Created when Directory.Exists(change.Path):
                // Files can land in a new directory before its notifications are set up.
                rescanRequested = true;
                return;
            case ChangeKind.Created or ChangeKind.Changed:
                Observe(bucket.ToName(change.Path), completed: false, BucketEventSources.Watch, output);
                return;
            case ChangeKind.Deleted:
                Gone(bucket.ToName(change.Path), output);
                return;
            case ChangeKind.Renamed:
                Gone(bucket.ToName(change.OldPath!), output);
                if (Directory.Exists(change.Path))
                {
                    rescanRequested = true;
                    return;
                }
                // A rename is atomic: the file under its new name is complete.
                Observe(bucket.ToName(change.Path), completed: true, BucketEventSources.Watch, output);
                return;
        }
    }

    /// <summary>A path disappeared: an object, or a directory holding objects.</summary>
    private void Gone(string? name, List<BucketEvent> output)
    {
        if (name is null)
        {
            return;
        }
        if (reported.ContainsKey(name) || pending.ContainsKey(name))
        {
            Observe(name, completed: false, BucketEventSources.Watch, output);
            return;
        }
        var directoryPrefix = name + "/";
        foreach (var inside in reported.Keys.Concat(pending.Keys).Where(k => k.StartsWith(directoryPrefix, StringComparison.Ordinal)).ToList())
        {
            Observe(inside, completed: false, BucketEventSources.Watch, output);
        }
    }

    /// <summary>Looks at one name now and reports, defers or forgets it.</summary>
    private void Observe(string? name, bool completed, string source, List<BucketEvent> output)
    {
        if (!bucket.IsObjectName(name))
        {
            return;
        }
        var now = time.GetUtcNow();
        var stamp = bucket.Stamp(name!);
        if (stamp is null)
        {
            pending.Remove(name!);
            if (reported.Remove(name!, out var last))
            {
                output.Add(new BucketEvent(BucketEventKind.Deleted, last, source) { ObservedAt = now });
            }
            return;
        }
        var item = bucket.ToObject(name!, stamp.Value);
        if (reported.TryGetValue(name!, out var previous) && previous.Generation == item.Generation)
        {
            pending.Remove(name!);
            return;
        }
        if (completed || now - stamp.Value.Modified >= options.StableInterval)
        {
            Report(item, source, now, output);
            return;
        }
        if (!pending.TryGetValue(name!, out var waiting) || waiting.Generation != item.Generation)
        {
            pending[name!] = new Pending(item.Generation, source, now + options.StableInterval);
        }
    }

    private void CheckPending(List<BucketEvent> output)
    {
        if (pending.Count == 0)
        {
            return;
        }
        var now = time.GetUtcNow();
        foreach (var (name, waiting) in pending.Where(p => p.Value.DueAt <= now).ToList())
        {
            var stamp = bucket.Stamp(name);
            if (stamp is null)
            {
                pending.Remove(name);
                Observe(name, completed: false, waiting.Source, output);
            }
            else if (stamp.Value.Generation == waiting.Generation)
            {
                Report(bucket.ToObject(name, stamp.Value), waiting.Source, now, output);
            }
            else
            {
                pending[name] = waiting with { Generation = stamp.Value.Generation, DueAt = now + options.StableInterval };
            }
        }
    }

    private void Report(BucketObject item, string source, DateTimeOffset now, List<BucketEvent> output)
    {
        pending.Remove(item.Name);
        reported[item.Name] = item;
        output.Add(new BucketEvent(BucketEventKind.Finalized, item, source) { ObservedAt = now });
    }

    private void Scan(List<BucketEvent> output)
    {
        if (!Directory.Exists(bucket.WatchDirectory))
        {
            // The directory itself was removed: its notifications are gone with it.
            Directory.CreateDirectory(bucket.WatchDirectory);
            StartNotifications();
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in bucket.EnumerateNames())
        {
            seen.Add(name);
            Observe(name, completed: false, BucketEventSources.Scan, output);
        }
        foreach (var name in reported.Keys.Concat(pending.Keys).Where(k => !seen.Contains(k)).ToList())
        {
            Observe(name, completed: false, BucketEventSources.Scan, output);
        }
    }

    private sealed record Pending(long Generation, string Source, DateTimeOffset DueAt);

    private sealed record Change(ChangeKind Kind, string Path, string? OldPath);
}
