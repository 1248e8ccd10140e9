using System.Collections.Concurrent;
using System.Data;
using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Sluice.Engine;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. Readers run concurrently; writers are serialized in-process
/// (SQLite allows one writer) and wait on the busy timeout for writers of other processes.
/// </summary>
internal sealed class SqliteDatabase : DatabaseBase
{
    private const int BusyTimeoutMs = 15_000;
    private readonly string connectionString;
    private const int MaxBatch = 256;
    private const string Savepoint = "sluice_write";
    private readonly SemaphoreSlim writeGate = new(1, 1);
    private readonly ConcurrentQueue<IWriteItem> queued = new();
    private int walEnabled;
    private DbConnection? writer;

    public SqliteDatabase(string path, TimeProvider timeProvider)
        : base(timeProvider)
    {
        FilePath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(FilePath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = FilePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();
    }

    public string FilePath { get; }

    public override StoreDialect Dialect => StoreDialect.Sqlite;

    public override string DisplayName => "sqlite://" + FilePath;

    public override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            if (Volatile.Read(ref walEnabled) == 0)
            {
                // journal_mode is stored in the file, so setting it once per process is enough.
                await connection.ExecuteAsync(null, "PRAGMA journal_mode=WAL;", cancellationToken);
                Volatile.Write(ref walEnabled, 1);
            }

            return connection;
        }
        catch (SqliteException ex)
        {
            await connection.DisposeAsync();
            throw new StateStoreException(
                $"Cannot open the SQLite state store {FilePath}: {ex.Message}; check that the directory is writable and the file is a Sluice database.", ex);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await writeGate.WaitAsync();
        if (writer is not null)
        {
            await writer.DisposeAsync();
            writer = null;
        }

        writeGate.Dispose();
        SqliteConnection.ClearAllPools();
    }

    /// <summary>
    /// Group commit: each write queues its work, and whoever holds the writer runs every queued work in one transaction,
    /// each inside its own savepoint, so that one work's failure rolls back only that work. A write completes after the
    /// commit that holds it. SQLite has one writer anyway; sharing a commit (and the WAL pages it writes) among the
    /// transitions of many runs is what lets a burst of runs through in milliseconds rather than seconds.
    /// </summary>
    protected override async Task<T> WriteOnceAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        var item = new WriteItem<T>(work);
        queued.Enqueue(item);
        try
        {
            await writeGate.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (!item.TryCancel())
        {
            // A batch took the work before the cancellation: its outcome stands.
            return await item.Task;
        }

        try
        {
            // Our work may have run in the batch of the previous holder; then there is nothing left to do but report.
            while (!item.Task.IsCompleted && await CommitBatchAsync())
            {
            }
        }
        finally
        {
            writeGate.Release();
        }

        return await item.Task;
    }

    /// <summary>Runs the queued works in one transaction. Returns false when the queue was empty.</summary>
    private async Task<bool> CommitBatchAsync()
    {
        var batch = new List<IWriteItem>();
        while (batch.Count < MaxBatch && queued.TryDequeue(out var next))
        {
            if (next.TryTake())
            {
                batch.Add(next);
            }
        }

        if (batch.Count == 0)
        {
            return false;
        }

        var failures = new Exception?[batch.Count];
        try
        {
            writer ??= await OpenWriterAsync(CancellationToken.None);
            // Serializable maps to BEGIN IMMEDIATE: the write lock is taken up front, so a transaction never fails
            // half-way when it upgrades from reading to writing.
            await using var transaction = await writer.BeginTransactionAsync(IsolationLevel.Serializable, CancellationToken.None);
            for (var i = 0; i < batch.Count; i++)
            {
                if (batch.Count == 1)
                {
                    await batch[i].RunAsync(writer, transaction);
                    continue;
                }

                await transaction.SaveAsync(Savepoint);
                try
                {
                    await batch[i].RunAsync(writer, transaction);
                }
                catch (Exception ex) when (ex is not SqliteException { SqliteErrorCode: not (19 or 1) })
                {
                    // The work's own failure (a constraint, an SQL error, an exception it threw to abort): undo it
                    // alone. Other SQLite errors (I/O, busy, corrupt) fail the whole batch below.
                    failures[i] = ex;
                    await transaction.RollbackAsync(Savepoint);
                }

                await transaction.ReleaseAsync(Savepoint);
            }

            await transaction.CommitAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            if (ex is SqliteException)
            {
                // Start the next write on a fresh connection rather than trust this one's state.
                await writer!.DisposeAsync();
                writer = null;
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Fail(failures[i] ?? ex);
            }

            return true;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (failures[i] is { } failure)
            {
                batch[i].Fail(failure);
            }
            else
            {
                batch[i].Complete();
            }
        }

        return true;
    }

    /// <summary>The one writer of this process: opened once, so its pragmas are set once.</summary>
    private async Task<DbConnection> OpenWriterAsync(CancellationToken cancellationToken)
    {
        var connection = await OpenConnectionAsync(cancellationToken);
        // synchronous=NORMAL in WAL mode keeps every commit atomic and durable across process crashes (only an OS
        // crash may lose the last commits), at a fraction of FULL's fsync cost. The busy timeout covers writers of
        // other processes.
        await connection.ExecuteAsync(null, $"PRAGMA busy_timeout={BusyTimeoutMs}; PRAGMA synchronous=NORMAL;", cancellationToken);
        return connection;
    }

    protected override bool IsTransient(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 5 or 6 }; // SQLITE_BUSY, SQLITE_LOCKED

    private interface IWriteItem
    {
        bool TryTake();

        Task RunAsync(DbConnection connection, DbTransaction transaction);

        void Complete();

        void Fail(Exception exception);
    }

    /// <summary>One queued write: its work, its result once run, and who may still take it (a batch, or its cancellation).</summary>
    private sealed class WriteItem<T>(Func<DbConnection, DbTransaction, Task<T>> work) : IWriteItem
    {
        private const int Queued = 0;
        private const int Taken = 1;
        private const int Cancelled = 2;
        private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int state;
        private T? result;

#pragma warning disable VSTHRD003 // completed by the batch that runs the work; awaiting it cannot deadlock
        public Task<T> Task => completion.Task;
#pragma warning restore VSTHRD003

        public bool TryTake() => Interlocked.CompareExchange(ref state, Taken, Queued) == Queued;

        public bool TryCancel() => Interlocked.CompareExchange(ref state, Cancelled, Queued) == Queued;

        public async Task RunAsync(DbConnection connection, DbTransaction transaction) => result = await work(connection, transaction);

        public void Complete() => completion.TrySetResult(result!);

        public void Fail(Exception exception) => completion.TrySetException(exception);
    }
}
