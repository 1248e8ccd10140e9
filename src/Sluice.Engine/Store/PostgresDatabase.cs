using System.Data;
using System.Data.Common;
using Npgsql;

namespace Sluice.Engine;

/// <summary>The shared store for several replicas: PostgreSQL through an Npgsql data source (pooled).</summary>
internal sealed class PostgresDatabase : DatabaseBase
{
    private readonly NpgsqlDataSource dataSource;

    public PostgresDatabase(string connectionString, TimeProvider timeProvider)
        : base(timeProvider)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        DisplayName = $"postgres://{builder.Username}@{builder.Host}:{builder.Port}/{builder.Database}";
        // The engine sends the same few statements over and over: let Npgsql prepare them on the server, and skip the
        // state reset of pooled connections (nothing here changes session state). Explicit settings win.
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        if (!connectionString.Contains("Reset On Close", StringComparison.OrdinalIgnoreCase))
        {
            builder.NoResetOnClose = true;
        }

        dataSource = NpgsqlDataSource.Create(builder);
    }

    public override StoreDialect Dialect => StoreDialect.Postgres;

    public override string DisplayName { get; }

    public override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (NpgsqlException ex) when (ex is not PostgresException || ex.IsTransient)
        {
            throw new StateStoreException(
                $"Cannot connect to the PostgreSQL state store {DisplayName}: {ex.Message}; check --store and that the server is running and reachable.", ex);
        }
        catch (PostgresException ex)
        {
            throw new StateStoreException(
                $"The PostgreSQL state store {DisplayName} refused the connection: {ex.MessageText}; check the user, password and database in --store.", ex);
        }
    }

    public override async ValueTask DisposeAsync() => await dataSource.DisposeAsync();

    protected override async Task<T> WriteOnceAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);
        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    protected override bool IsTransient(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected || pg.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient,
        StateStoreException { InnerException: NpgsqlException inner } => inner.IsTransient,
        _ => false,
    };
}
