namespace Sluice.Controller.Schedules;

/// <summary>
/// The next due time of every active schedule, earliest first. Replacing or removing an entry leaves its old heap
/// node behind; such stale nodes are skipped when they surface and dropped when they outnumber the live ones.
/// Thread-safe.
/// </summary>
internal sealed class DueQueue
{
    private readonly Lock gate = new();
    private readonly PriorityQueue<(string DagId, long Version), long> heap = new();
    private readonly Dictionary<string, (long Version, long DueAt)> entries = new(StringComparer.Ordinal);
    private long version;

    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    /// <summary>Sets (or replaces) the due time of a schedule; returns true when it became the earliest.</summary>
    public bool Set(string dagId, long dueAt)
    {
        lock (gate)
        {
            if (entries.TryGetValue(dagId, out var existing) && existing.DueAt == dueAt)
            {
                return false;
            }

            var v = ++version;
            entries[dagId] = (v, dueAt);
            heap.Enqueue((dagId, v), dueAt);
            CompactIfNeeded();
            return PeekLocked() is { } head && head.DagId == dagId;
        }
    }

    /// <summary>Sets the due time unless the schedule is already due earlier.</summary>
    public bool SetEarlier(string dagId, long dueAt)
    {
        lock (gate)
        {
            return entries.TryGetValue(dagId, out var existing) && existing.DueAt <= dueAt ? false : Set(dagId, dueAt);
        }
    }

    public void Remove(string dagId)
    {
        lock (gate)
        {
            entries.Remove(dagId);
        }
    }

    public bool Contains(string dagId)
    {
        lock (gate)
        {
            return entries.ContainsKey(dagId);
        }
    }

    public long? GetDueAt(string dagId)
    {
        lock (gate)
        {
            return entries.TryGetValue(dagId, out var entry) ? entry.DueAt : null;
        }
    }

    /// <summary>The earliest due time, or null when the queue is empty.</summary>
    public long? PeekDueAt()
    {
        lock (gate)
        {
            return PeekLocked()?.DueAt;
        }
    }

    /// <summary>Removes and returns up to <paramref name="max"/> schedules due at or before <paramref name="now"/>, earliest first.</summary>
    public List<(string DagId, long DueAt)> TakeDue(long now, int max)
    {
        var due = new List<(string DagId, long DueAt)>();
        lock (gate)
        {
            while (due.Count < max && PeekLocked() is { } head && head.DueAt <= now)
            {
                heap.Dequeue();
                entries.Remove(head.DagId);
                due.Add(head);
            }
        }

        return due;
    }

    private (string DagId, long DueAt)? PeekLocked()
    {
        while (heap.TryPeek(out var node, out var dueAt))
        {
            if (entries.TryGetValue(node.DagId, out var entry) && entry.Version == node.Version)
            {
                return (node.DagId, dueAt);
            }

            heap.Dequeue();
        }

        return null;
    }

    private void CompactIfNeeded()
    {
        if (heap.Count <= (2 * entries.Count) + 1024)
        {
            return;
        }

        heap.Clear();
        foreach (var (dagId, entry) in entries)
        {
            heap.Enqueue((dagId, entry.Version), entry.DueAt);
        }
    }
}
