namespace Sluice.Buckets.Local;

/// <summary>A bucket that is a local directory; object names are paths relative to it with '/' separators.</summary>
internal sealed class LocalBucket : IBucket
{
    private readonly BucketOptions options;

    public LocalBucket(BucketUri uri, string root, BucketOptions options)
    {
        Uri = uri;
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        this.options = options;
        // The watched directory is the deepest directory that contains every name under the prefix.
        var prefixDirectory = uri.Prefix.Contains('/', StringComparison.Ordinal) ? uri.Prefix[..uri.Prefix.LastIndexOf('/')] : "";
        WatchDirectory = prefixDirectory.Length == 0 ? Root : ToPath(prefixDirectory);
    }

    public BucketUri Uri { get; }

    public string Root { get; }

    public string WatchDirectory { get; }

    public string ToPath(string name) => Path.Combine(Root, name.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The object name of a path inside the bucket, or null for the root itself or a path outside it.</summary>
    public string? ToName(string fullPath)
    {
        var relative = Path.GetRelativePath(Root, fullPath);
        if (relative == "." || Path.IsPathRooted(relative) || relative == ".." || relative.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            return null;
        }
        return Path.DirectorySeparatorChar == '/' ? relative : relative.Replace(Path.DirectorySeparatorChar, '/');
    }

    /// <summary>Whether a name is an object of this source: under the prefix and not a temp or hidden name.</summary>
    public bool IsObjectName(string? name) =>
        name is not null && name.StartsWith(Uri.Prefix, StringComparison.Ordinal) && !ObjectNames.IsIgnored(name);

    public BucketObject ToObject(string name, FileStamp stamp) =>
        new(Uri.Bucket, name, stamp.Generation, stamp.Size, stamp.Modified, GuessContentType(name));

    public FileStamp? Stamp(string name) => FileStamp.Read(ToPath(name));

    /// <summary>Names of the files under the prefix, unordered; a missing directory has none.</summary>
    public IEnumerable<string> EnumerateNames()
    {
        if (!Directory.Exists(WatchDirectory))
        {
            yield break;
        }
        var enumeration = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = 0,
            ReturnSpecialDirectories = false,
        };
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(WatchDirectory, "*", enumeration);
        }
        catch (DirectoryNotFoundException)
        {
            yield break;
        }
        using var enumerator = files.GetEnumerator();
        while (true)
        {
            string path;
            try
            {
                if (!enumerator.MoveNext())
                {
                    yield break;
                }
                path = enumerator.Current;
            }
            catch (DirectoryNotFoundException)
            {
                // The directory went away during the scan; the next scan sees the rest.
                yield break;
            }
            var name = ToName(path);
            if (IsObjectName(name))
            {
                yield return name!;
            }
        }
    }

    public Task<IReadOnlyList<BucketObject>> ListAsync(CancellationToken cancellationToken)
    {
        var objects = new List<BucketObject>();
        foreach (var name in EnumerateNames())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Stamp(name) is { } stamp)
            {
                objects.Add(ToObject(name, stamp));
            }
        }
        objects.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return Task.FromResult<IReadOnlyList<BucketObject>>(objects);
    }

    public Task<BucketObject?> StatAsync(string name, CancellationToken cancellationToken)
    {
        ObjectNames.Validate(name);
        return Task.FromResult(!ObjectNames.IsIgnored(name) && Stamp(name) is { } stamp ? ToObject(name, stamp) : null);
    }

    public async Task<BucketObjectContent?> ReadAsync(string name, long? generation, CancellationToken cancellationToken)
    {
        ObjectNames.Validate(name);
        if (ObjectNames.IsIgnored(name))
        {
            return null;
        }
        var path = ToPath(name);
        // A rename can replace the file while it is read: the content belongs to a version only if the stamp is the
        // same before and after the read.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var before = FileStamp.Read(path);
            if (before is null || (generation is { } wanted && before.Value.Generation != wanted))
            {
                return null;
            }
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(path, cancellationToken);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
            var after = FileStamp.Read(path);
            if (after == before)
            {
                return new BucketObjectContent(ToObject(name, before.Value), bytes);
            }
        }
        throw new BucketException($"Object '{name}' in {Uri} kept changing while it was read; write it with a temp file and a rename (as `sluice apply` does).", null, isTransient: true);
    }

    public async Task<long> WriteAsync(string name, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        ObjectNames.Validate(name);
        if (ObjectNames.IsIgnored(name))
        {
            throw new ArgumentException($"The object name '{name}' is a hidden or temporary name that buckets ignore; drop the leading '.' or the .tmp/.partial/~ ending.", nameof(name));
        }
        var path = ToPath(name);
        var directory = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(content, cancellationToken);
                stream.Flush(flushToDisk: true);
            }
            var stamp = FileStamp.Read(temp) ?? throw new BucketException($"The temp file {temp} vanished before it was renamed; is another process cleaning {directory}?");
            // A re-upload must be a new generation even within the file system's time-stamp granularity: move the
            // modification time past the current version's.
            if (FileStamp.Read(path) is { } current && stamp.ModifiedMicroseconds <= current.ModifiedMicroseconds)
            {
                var bumped = DateTime.UnixEpoch.AddTicks((current.ModifiedMicroseconds + 1) * 10);
                File.SetLastWriteTimeUtc(temp, bumped);
                stamp = FileStamp.Read(temp) ?? stamp;
            }
            File.Move(temp, path, overwrite: true);
            NativeStat.SyncDirectory(directory);
            return stamp.Generation;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public Task<bool> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        ObjectNames.Validate(name);
        var path = ToPath(name);
        if (!File.Exists(path))
        {
            return Task.FromResult(false);
        }
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            return Task.FromResult(false);
        }
        NativeStat.SyncDirectory(Path.GetDirectoryName(path)!);
        return Task.FromResult(true);
    }

    public IAsyncEnumerable<BucketEvent> WatchAsync(CancellationToken cancellationToken) =>
        WatchAsync([], cancellationToken);

    public IAsyncEnumerable<BucketEvent> WatchAsync(IReadOnlyCollection<BucketObject> known, CancellationToken cancellationToken) =>
        new LocalWatcher(this, known, options).RunAsync(cancellationToken);

    public void Dispose()
    {
    }

    internal static string? GuessContentType(string name) => Path.GetExtension(name).ToUpperInvariant() switch
    {
        ".YAML" or ".YML" => "application/yaml",
        ".JSON" => "application/json",
        ".TXT" => "text/plain",
        _ => null,
    };

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
