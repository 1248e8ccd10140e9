using System.Data.Common;

namespace Sluice.Engine;

/// <summary>The SQL dialect of a state store.</summary>
public enum StoreDialect
{
    Sqlite,
    Postgres,
}

/// <summary>
/// An open state store: a connection factory plus its dialect. The engine and the controller's domain tables share it.
/// Timestamps are stored as BIGINT unix milliseconds (UTC) in both dialects; see <see cref="DbTime"/>.
/// </summary>
public interface IDatabase : IAsyncDisposable
{
    StoreDialect Dialect { get; }

    /// <summary>Where the store is, safe to log (no password).</summary>
    string DisplayName { get; }

    TimeProvider TimeProvider { get; }

    /// <summary>The current time of the injected <see cref="TimeProvider"/> as unix milliseconds.</summary>
    long NowMs();

    /// <summary>Opens a pooled connection (SQLite pragmas already applied). The caller disposes it.</summary>
    Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in a write transaction and commits it. On SQLite writes are serialized in-process
    /// (one writer) and start with BEGIN IMMEDIATE; on PostgreSQL the transaction is READ COMMITTED. Transient
    /// conflicts (busy database, serialization failure, deadlock, dropped connection) re-run the whole work, so it
    /// must touch nothing but the database.
    /// </summary>
    Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken);

    /// <summary>Runs read-only <paramref name="work"/> on its own connection.</summary>
    Task<T> ReadAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken);
}

/// <summary>Conversions between <see cref="DateTimeOffset"/> and the stored unix-millisecond form.</summary>
public static class DbTime
{
    public static long ToUnixMs(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    public static DateTimeOffset FromUnixMs(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs);

    public static DateTimeOffset? FromUnixMs(long? unixMs) => unixMs is { } ms ? FromUnixMs(ms) : null;
}
