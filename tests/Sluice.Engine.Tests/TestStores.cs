using Npgsql;

namespace Sluice.Engine.Tests;

/// <summary>Fresh, real stores for tests: a SQLite file in a temp directory, or a new schema in the test PostgreSQL.</summary>
public static class TestStores
{
    public const string PostgresVariable = "SLUICE_TEST_POSTGRES";

    public static string NewSqliteUri()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sluice-engine-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return "sqlite://" + Path.Combine(dir, "sluice.db");
    }

    /// <summary>The test server's connection string; fails (never skips) when the variable is missing.</summary>
    public static string PostgresConnectionString() =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set: run the tests through scripts/test, or start a PostgreSQL server and set " +
                $"{PostgresVariable} to its Npgsql connection string (source scripts/prereqs.sh; start_throwaway_postgres).");

    /// <summary>A connection string whose search path is a new, empty schema.</summary>
    public static async Task<string> NewPostgresStoreAsync()
    {
        var baseConnection = PostgresConnectionString();
        var schema = "t_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(baseConnection))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(baseConnection) { SearchPath = schema }.ConnectionString;
    }

    public static async Task<string> NewStoreAsync(StoreDialect dialect) =>
        dialect == StoreDialect.Sqlite ? NewSqliteUri() : await NewPostgresStoreAsync();
}
