using Sluice.Engine;

namespace Sluice.Server.Auth;

/// <summary>Schema of the "auth" module: API tokens (hashed) and browser sessions.</summary>
internal sealed class AuthMigrations : IMigrationSource
{
    public string Module => "auth";

    public IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1,
            Sqlite: """
                CREATE TABLE sluice_tokens (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    token_prefix TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    created_by TEXT NULL,
                    revoked_at BIGINT NULL);
                CREATE TABLE sluice_sessions (
                    session_hash TEXT PRIMARY KEY,
                    token_id TEXT NOT NULL REFERENCES sluice_tokens (id),
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL);
                CREATE INDEX sluice_sessions_token ON sluice_sessions (token_id);
                """,
            Postgres: """
                CREATE TABLE sluice_tokens (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    token_hash TEXT NOT NULL UNIQUE,
                    token_prefix TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    created_by TEXT NULL,
                    revoked_at BIGINT NULL);
                CREATE TABLE sluice_sessions (
                    session_hash TEXT PRIMARY KEY,
                    token_id TEXT NOT NULL REFERENCES sluice_tokens (id),
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL);
                CREATE INDEX sluice_sessions_token ON sluice_sessions (token_id);
                """),
    ];
}
