using Npgsql;

namespace Sluice.Controller.Tests.Intake;

/// <summary>A fresh PostgreSQL database per test on the server that SLUICE_TEST_POSTGRES names.</summary>
internal static class TestPostgres
{
    public static async Task<string> CreateDatabaseAsync()
    {
        var server = Environment.GetEnvironmentVariable("SLUICE_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(server))
        {
            Assert.Fail(
                "SLUICE_TEST_POSTGRES is not set: run the tests through scripts/test, which starts a throwaway PostgreSQL, or set it to an Npgsql connection string of a server where the user may create databases.");
        }

        var name = "sluice_intake_" + Guid.NewGuid().ToString("N")[..12];
        await using (var connection = new NpgsqlConnection(server))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE {name}";
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(server) { Database = name }.ConnectionString;
    }
}
