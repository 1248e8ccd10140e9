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
    private readonly SemaphoreSlim writeGate = new(1, 1);
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

    protected override async Task<T> WriteOnceAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await writeGate.WaitAsync(cancellationToken);
        try
        {
            writer ??= await OpenWriterAsync(cancellationToken);
            try
            {
                // Serializable maps to BEGIN IMMEDIATE: the write lock is taken up front, so a transaction never fails
                // half-way when it upgrades from reading to writing.
                await using var transaction = await writer.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken);
                var result = await work(writer, transaction);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (SqliteException)
            {
                // Start the next write on a fresh connection rather than trust this one's state.
                await writer.DisposeAsync();
                writer = null;
                throw;
            }
        }
        finally
        {
            writeGate.Release();
        }
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
}
