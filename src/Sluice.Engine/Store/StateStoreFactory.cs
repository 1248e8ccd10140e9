using Npgsql;

namespace Sluice.Engine;

/// <summary>Opens a state store from the <c>--store</c> value.</summary>
public static class StateStoreFactory
{
    /// <summary>
    /// Opens <c>sqlite:///abs/path/sluice.db</c> (or <c>sqlite:relative.db</c>), <c>postgres://user:pass@host:port/db</c>
    /// (<c>postgresql://</c> too), or an Npgsql connection string (<c>Host=…;Database=…</c>). Nothing is read or
    /// written until the first connection; migrations are applied by the engine at start-up.
    /// </summary>
    public static IDatabase Open(string storeUri, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(storeUri);
        var time = timeProvider ?? TimeProvider.System;
        var value = storeUri.Trim();
        if (value.StartsWith("sqlite:", StringComparison.OrdinalIgnoreCase))
        {
            var path = value["sqlite:".Length..];
            if (path.StartsWith("//", StringComparison.Ordinal))
            {
                path = path[2..];
            }

            path = Uri.UnescapeDataString(path);
            if (path.Length == 0)
            {
                throw new StateStoreException(
                    $"The store '{storeUri}' names no file; use sqlite:///absolute/path/sluice.db or sqlite:relative/path.db.");
            }

            return new SqliteDatabase(path, time);
        }

        if (value.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ||
            value.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase))
        {
            return new PostgresDatabase(PostgresUriToConnectionString(storeUri, value), time);
        }

        if (value.Contains('=', StringComparison.Ordinal))
        {
            try
            {
                return new PostgresDatabase(new NpgsqlConnectionStringBuilder(value).ConnectionString, time);
            }
            catch (ArgumentException ex)
            {
                throw new StateStoreException(
                    $"The store '{Redact(storeUri)}' is not a valid PostgreSQL connection string ({ex.Message}); use Host=…;Database=…;Username=… or postgres://user@host/db.", ex);
            }
        }

        throw new StateStoreException(
            $"The store '{Redact(storeUri)}' is neither sqlite:///path/sluice.db nor postgres://user@host:5432/db (nor an Npgsql connection string); fix --store.");
    }

    private static string PostgresUriToConnectionString(string original, string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new StateStoreException(
                $"The store '{Redact(original)}' is not a valid PostgreSQL URI; use postgres://user:password@host:5432/database.");
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host };
        if (!uri.IsDefaultPort && uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(parts[1]);
            }
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var setting = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            try
            {
                builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = setting;
            }
            catch (ArgumentException)
            {
                throw new StateStoreException(
                    $"The store '{Redact(original)}' has an unknown option '{key}'; remove it or use an Npgsql connection string keyword.");
            }
        }

        return builder.ConnectionString;
    }

    private static string Redact(string store)
    {
        // Keep passwords out of error messages and logs.
        var at = store.IndexOf('@', StringComparison.Ordinal);
        var scheme = store.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0 && at > scheme)
        {
            var colon = store.IndexOf(':', scheme + 3);
            if (colon > 0 && colon < at)
            {
                return string.Concat(store.AsSpan(0, colon + 1), "***", store.AsSpan(at));
            }
        }

        return System.Text.RegularExpressions.Regex.Replace(store, "(?i)(password|pwd)=[^;]*", "$1=***");
    }
}
