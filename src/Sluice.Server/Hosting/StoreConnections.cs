using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Sluice.Server.Hosting;

/// <summary>Opens connections to the state store named by the configuration (SQLite file or PostgreSQL).</summary>
public interface IStoreConnections
{
    bool IsPostgres { get; }

    Task<DbConnection> OpenAsync(CancellationToken cancellationToken);
}

/// <summary>Connections from a store URI: <c>sqlite:///abs/path.db</c>, <c>postgres://…</c> or an Npgsql connection string.</summary>
internal sealed class StoreConnections : IStoreConnections, IDisposable
{
    private readonly string _connectionString;
    private readonly NpgsqlDataSource? _postgres;

    public StoreConnections(string storeUri)
    {
        if (storeUri.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = storeUri["sqlite://".Length..];
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            _connectionString = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30, Pooling = true }.ToString();
        }
        else
        {
            _connectionString = ToNpgsqlConnectionString(storeUri);
            _postgres = NpgsqlDataSource.Create(_connectionString);
        }
    }

    public bool IsPostgres => _postgres is not null;

    public async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (_postgres is not null)
        {
            return await _postgres.OpenConnectionAsync(cancellationToken);
        }

        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    public void Dispose() => _postgres?.Dispose();

    internal static string ToNpgsqlConnectionString(string store)
    {
        if (!store.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) && !store.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return store;
        }

        var uri = new Uri(store);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : "postgres",
        };
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            builder[Uri.UnescapeDataString(kv[0])] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "true";
        }

        return builder.ConnectionString;
    }
}
