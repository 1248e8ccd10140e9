using System.Data.Common;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Sluice.Engine;

/// <summary>One schema change of a module, written once per dialect.</summary>
public sealed record Migration(int Version, string Sqlite, string Postgres)
{
    public string For(StoreDialect dialect) => dialect == StoreDialect.Sqlite ? Sqlite : Postgres;
}

/// <summary>
/// The schema of one module (<c>engine</c>, <c>pipelines</c>, <c>schedules</c>, …): migrations numbered 1, 2, 3…
/// Register an implementation as <c>services.AddSingleton&lt;IMigrationSource, X&gt;()</c>; the engine applies all of
/// them at start-up, before any hosted service runs.
/// </summary>
public interface IMigrationSource
{
    string Module { get; }

    IReadOnlyList<Migration> Migrations { get; }
}

/// <summary>
/// Applies migrations per module and records the version in <c>sluice_schema</c>. Each module's pending migrations run
/// in one transaction; on PostgreSQL an advisory lock keeps replicas that start together from migrating twice.
/// A store whose version is newer than the code's is refused.
/// </summary>
public sealed class MigrationRunner
{
    // Arbitrary constant shared by all Sluice replicas: the advisory lock that serializes migrations.
    private const long PostgresMigrationLock = 0x51_1C_E0_00_01;
    private readonly IDatabase database;
    private readonly ILogger logger;

    public MigrationRunner(IDatabase database, ILogger<MigrationRunner>? logger = null)
    {
        this.database = database;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    public async Task ApplyAsync(IEnumerable<IMigrationSource> sources, CancellationToken cancellationToken)
    {
        foreach (var source in sources)
        {
            await ApplyAsync(source, cancellationToken);
        }
    }

    public async Task ApplyAsync(IMigrationSource source, CancellationToken cancellationToken)
    {
        Validate(source);
        var latest = source.Migrations.Count == 0 ? 0 : source.Migrations[^1].Version;
        var applied = await database.WriteAsync(
            async (connection, transaction) =>
            {
                await LockAsync(connection, transaction, cancellationToken);
                await EnsureSchemaTableAsync(connection, transaction, cancellationToken);
                var current = await ReadVersionAsync(connection, transaction, source.Module, cancellationToken);
                if (current > latest)
                {
                    throw new SchemaTooNewException(source.Module, current, latest, database.DisplayName);
                }

                var done = new List<int>();
                foreach (var migration in source.Migrations.Where(m => m.Version > current))
                {
                    await connection.ExecuteAsync(transaction, migration.For(database.Dialect), cancellationToken);
                    done.Add(migration.Version);
                }

                if (done.Count > 0)
                {
                    var sql = current == 0
                        ? "INSERT INTO sluice_schema (module, version, applied_at) VALUES (@module, @version, @now)"
                        : "UPDATE sluice_schema SET version = @version, applied_at = @now WHERE module = @module";
                    await connection.ExecuteAsync(
                        transaction, sql, cancellationToken, ("module", source.Module), ("version", latest), ("now", database.NowMs()));
                }

                return done;
            },
            cancellationToken);
        if (applied.Count > 0)
        {
            logger.LogInformation(
                "Applied {Count} migration(s) of {Module} to {Store}; schema version is now {Version}",
                applied.Count, source.Module, database.DisplayName, latest);
        }
    }

    /// <summary>The stored schema version of a module; 0 when none was applied.</summary>
    public Task<int> GetVersionAsync(string module, CancellationToken cancellationToken) =>
        database.WriteAsync(
            async (connection, transaction) =>
            {
                await EnsureSchemaTableAsync(connection, transaction, cancellationToken);
                return await ReadVersionAsync(connection, transaction, module, cancellationToken);
            },
            cancellationToken);

    private static void Validate(IMigrationSource source)
    {
        if (string.IsNullOrWhiteSpace(source.Module))
        {
            throw new ArgumentException($"The migration source {source.GetType().Name} has no module name.", nameof(source));
        }

        for (var i = 0; i < source.Migrations.Count; i++)
        {
            if (source.Migrations[i].Version != i + 1)
            {
                throw new ArgumentException(
                    $"The migrations of '{source.Module}' must be numbered 1, 2, 3… in order; found version {source.Migrations[i].Version} at position {i + 1}.",
                    nameof(source));
            }
        }
    }

    private async Task LockAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        if (database.Dialect == StoreDialect.Postgres)
        {
            await using var command = connection.CreateCommand("SELECT pg_advisory_xact_lock(@key)", transaction, ("key", PostgresMigrationLock));
            await command.ExecuteScalarAsync(cancellationToken);
        }
    }

    private static Task<int> EnsureSchemaTableAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(
            transaction,
            "CREATE TABLE IF NOT EXISTS sluice_schema (module TEXT PRIMARY KEY, version INTEGER NOT NULL, applied_at BIGINT NOT NULL)",
            cancellationToken);

    private static async Task<int> ReadVersionAsync(
        DbConnection connection, DbTransaction transaction, string module, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand(
            "SELECT version FROM sluice_schema WHERE module = @module", transaction, ("module", module));
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? 0 : Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
