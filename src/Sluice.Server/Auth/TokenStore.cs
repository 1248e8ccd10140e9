using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Sluice.Server.Hosting;

namespace Sluice.Server.Auth;

/// <summary>An API token as stored (never the secret itself, only its SHA-256 hash and a short prefix to recognise it).</summary>
public sealed record TokenRecord(
    string Id,
    string Name,
    SluiceRole Role,
    string Prefix,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? RevokedAt)
{
    public bool IsActive => RevokedAt is null;
}

/// <summary>
/// Tokens and browser sessions in the state store. Secrets are random (<c>sluice_</c> + 32 bytes base64url) and only
/// their SHA-256 hash is kept, so a copy of the database does not give access.
/// </summary>
public sealed class TokenStore
{
    public const string TokenPrefix = "sluice_";
    public const string BootstrapTokenId = "bootstrap-admin";

    private readonly IStoreConnections _connections;
    private readonly TimeProvider _time;

    public TokenStore(IStoreConnections connections, TimeProvider time)
    {
        _connections = connections;
        _time = time;
    }

    /// <summary>Creates the tables if they do not exist (idempotent).</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS sluice_tokens (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                token_prefix TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                created_by TEXT NULL,
                revoked_at BIGINT NULL)
            """, cancellationToken);
        await ExecuteAsync(connection, """
            CREATE TABLE IF NOT EXISTS sluice_sessions (
                session_hash TEXT PRIMARY KEY,
                token_id TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL)
            """, cancellationToken);
    }

    /// <summary>Creates a token; the returned secret is shown once and never stored.</summary>
    public async Task<(TokenRecord Token, string Secret)> CreateAsync(string name, SluiceRole role, string? createdBy, CancellationToken cancellationToken)
    {
        var secret = NewSecret(TokenPrefix);
        var token = new TokenRecord(NewId(), name, role, secret[..12], Now(), createdBy, null);
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await InsertAsync(connection, token, Hash(secret), onlyIfNoTokens: false, cancellationToken);
        return (token, secret);
    }

    /// <summary>
    /// Creates the first admin token when the store holds no token at all. Returns its secret, or null when tokens
    /// already exist (another replica, or an earlier start, created them).
    /// </summary>
    public async Task<string?> CreateBootstrapAdminAsync(CancellationToken cancellationToken)
    {
        var secret = NewSecret(TokenPrefix);
        var token = new TokenRecord(BootstrapTokenId, "bootstrap admin (sluice up)", SluiceRole.Admin, secret[..12], Now(), "sluice up", null);
        await using var connection = await _connections.OpenAsync(cancellationToken);
        var inserted = await InsertAsync(connection, token, Hash(secret), onlyIfNoTokens: true, cancellationToken);
        return inserted ? secret : null;
    }

    public async Task<IReadOnlyList<TokenRecord>> ListAsync(bool includeRevoked, CancellationToken cancellationToken)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, role, token_prefix, created_at, created_by, revoked_at FROM sluice_tokens"
            + (includeRevoked ? "" : " WHERE revoked_at IS NULL") + " ORDER BY created_at, id";
        return await ReadTokensAsync(command, cancellationToken);
    }

    public async Task<TokenRecord?> GetAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, role, token_prefix, created_at, created_by, revoked_at FROM sluice_tokens WHERE id = @id";
        AddParameter(command, "id", id);
        return (await ReadTokensAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Revokes a token and ends its browser sessions. Revoking twice is fine. Null when there is no such token.</summary>
    public async Task<TokenRecord?> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        await using (var connection = await _connections.OpenAsync(cancellationToken))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "UPDATE sluice_tokens SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL";
            AddParameter(command, "id", id);
            AddParameter(command, "now", Now().ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync(cancellationToken);

            await using var sessions = connection.CreateCommand();
            sessions.CommandText = "DELETE FROM sluice_sessions WHERE token_id = @id";
            AddParameter(sessions, "id", id);
            await sessions.ExecuteNonQueryAsync(cancellationToken);
        }

        return await GetAsync(id, cancellationToken);
    }

    /// <summary>The active token with this secret, or null.</summary>
    public async Task<TokenRecord?> AuthenticateAsync(string secret, CancellationToken cancellationToken)
    {
        if (!secret.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, name, role, token_prefix, created_at, created_by, revoked_at FROM sluice_tokens WHERE token_hash = @hash AND revoked_at IS NULL";
        AddParameter(command, "hash", Hash(secret));
        return (await ReadTokensAsync(command, cancellationToken)).SingleOrDefault();
    }

    /// <summary>Starts a browser session for a token; returns the session secret for the cookie.</summary>
    public async Task<string> CreateSessionAsync(string tokenId, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var secret = NewSecret("session_");
        var now = Now();
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO sluice_sessions (session_hash, token_id, created_at, expires_at) VALUES (@hash, @token, @created, @expires)";
        AddParameter(command, "hash", Hash(secret));
        AddParameter(command, "token", tokenId);
        AddParameter(command, "created", now.ToUnixTimeMilliseconds());
        AddParameter(command, "expires", (now + lifetime).ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
        return secret;
    }

    /// <summary>The active token behind an unexpired session, or null.</summary>
    public async Task<TokenRecord?> AuthenticateSessionAsync(string sessionSecret, CancellationToken cancellationToken)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT t.id, t.name, t.role, t.token_prefix, t.created_at, t.created_by, t.revoked_at
            FROM sluice_sessions s JOIN sluice_tokens t ON t.id = s.token_id
            WHERE s.session_hash = @hash AND s.expires_at > @now AND t.revoked_at IS NULL
            """;
        AddParameter(command, "hash", Hash(sessionSecret));
        AddParameter(command, "now", Now().ToUnixTimeMilliseconds());
        return (await ReadTokensAsync(command, cancellationToken)).SingleOrDefault();
    }

    public async Task DeleteSessionAsync(string sessionSecret, CancellationToken cancellationToken)
    {
        await using var connection = await _connections.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM sluice_sessions WHERE session_hash = @hash OR expires_at <= @now";
        AddParameter(command, "hash", Hash(sessionSecret));
        AddParameter(command, "now", Now().ToUnixTimeMilliseconds());
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>SHA-256 of the secret, lower-case hex.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(_time.GetUtcNow().ToUnixTimeMilliseconds());

    private static string NewSecret(string prefix) =>
        prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string NewId() => "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static async Task<bool> InsertAsync(DbConnection connection, TokenRecord token, string hash, bool onlyIfNoTokens, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        // The fixed bootstrap id plus ON CONFLICT makes two replicas starting at once create one admin token, not two.
        command.CommandText = onlyIfNoTokens
            ? """
              INSERT INTO sluice_tokens (id, name, role, token_hash, token_prefix, created_at, created_by)
              SELECT @id, @name, @role, @hash, @prefix, @created, @createdBy
              WHERE NOT EXISTS (SELECT 1 FROM sluice_tokens)
              ON CONFLICT (id) DO NOTHING
              """
            : """
              INSERT INTO sluice_tokens (id, name, role, token_hash, token_prefix, created_at, created_by)
              VALUES (@id, @name, @role, @hash, @prefix, @created, @createdBy)
              """;
        AddParameter(command, "id", token.Id);
        AddParameter(command, "name", token.Name);
        AddParameter(command, "role", token.Role.ToName());
        AddParameter(command, "hash", hash);
        AddParameter(command, "prefix", token.Prefix);
        AddParameter(command, "created", token.CreatedAt.ToUnixTimeMilliseconds());
        AddParameter(command, "createdBy", token.CreatedBy);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static async Task<IReadOnlyList<TokenRecord>> ReadTokensAsync(DbCommand command, CancellationToken cancellationToken)
    {
        var tokens = new List<TokenRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!SluiceRoles.TryParse(reader.GetString(2), out var role))
            {
                // A role this version does not know (written by a newer one) grants nothing.
                continue;
            }

            tokens.Add(new TokenRecord(
                reader.GetString(0),
                reader.GetString(1),
                role,
                reader.GetString(3),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                await reader.IsDBNullAsync(5, cancellationToken) ? null : reader.GetString(5),
                await reader.IsDBNullAsync(6, cancellationToken) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6))));
        }

        return tokens;
    }

    private static async Task ExecuteAsync(DbConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static void AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
