using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Sluice.Engine;

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
/// Tokens and browser sessions in the state store (module "auth" of the engine's migrations). Secrets are random
/// (<c>sluice_</c> + 32 bytes base64url) and only their SHA-256 hash is kept, so a copy of the database gives no access.
/// </summary>
public sealed class TokenStore
{
    public const string TokenPrefix = "sluice_";
    public const string BootstrapTokenId = "bootstrap-admin";

    private const string Columns = "id, name, role, token_prefix, created_at, created_by, revoked_at";

    private readonly IDatabase _database;

    public TokenStore(IDatabase database)
    {
        _database = database;
    }

    /// <summary>Creates a token; the returned secret is shown once and never stored.</summary>
    public async Task<(TokenRecord Token, string Secret)> CreateAsync(string name, SluiceRole role, string? createdBy, CancellationToken cancellationToken)
    {
        var secret = NewSecret(TokenPrefix);
        var token = new TokenRecord(NewId(), name, role, secret[..12], Now(), createdBy, null);
        await _database.WriteAsync((connection, transaction) => InsertAsync(connection, transaction, token, Hash(secret), onlyIfNoTokens: false, cancellationToken), cancellationToken);
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
        var inserted = await _database.WriteAsync(
            (connection, transaction) => InsertAsync(connection, transaction, token, Hash(secret), onlyIfNoTokens: true, cancellationToken),
            cancellationToken);
        return inserted ? secret : null;
    }

    public Task<IReadOnlyList<TokenRecord>> ListAsync(bool includeRevoked, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {Columns} FROM sluice_tokens" + (includeRevoked ? "" : " WHERE revoked_at IS NULL") + " ORDER BY created_at, id", cancellationToken);

    public async Task<TokenRecord?> GetAsync(string id, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {Columns} FROM sluice_tokens WHERE id = @id", cancellationToken, ("id", id))).SingleOrDefault();

    /// <summary>Revokes a token and ends its browser sessions. Revoking twice is fine. Null when there is no such token.</summary>
    public async Task<TokenRecord?> RevokeAsync(string id, CancellationToken cancellationToken)
    {
        await _database.WriteAsync(
            async (connection, transaction) =>
            {
                await connection.ExecuteAsync(transaction, "UPDATE sluice_tokens SET revoked_at = @now WHERE id = @id AND revoked_at IS NULL", cancellationToken, ("id", id), ("now", _database.NowMs()));
                return await connection.ExecuteAsync(transaction, "DELETE FROM sluice_sessions WHERE token_id = @id", cancellationToken, ("id", id));
            },
            cancellationToken);
        return await GetAsync(id, cancellationToken);
    }

    /// <summary>The active token with this secret, or null.</summary>
    public async Task<TokenRecord?> AuthenticateAsync(string secret, CancellationToken cancellationToken)
    {
        if (!secret.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        return (await QueryAsync($"SELECT {Columns} FROM sluice_tokens WHERE token_hash = @hash AND revoked_at IS NULL", cancellationToken, ("hash", Hash(secret)))).SingleOrDefault();
    }

    /// <summary>Starts a browser session for a token; returns the session secret for the cookie.</summary>
    public async Task<string> CreateSessionAsync(string tokenId, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        var secret = NewSecret("session_");
        var now = _database.NowMs();
        await _database.WriteAsync(
            async (connection, transaction) =>
            {
                // Expired sessions are swept here, the one place sessions are written anyway.
                await connection.ExecuteAsync(transaction, "DELETE FROM sluice_sessions WHERE expires_at <= @now", cancellationToken, ("now", now));
                return await connection.ExecuteAsync(
                    transaction,
                    "INSERT INTO sluice_sessions (session_hash, token_id, created_at, expires_at) VALUES (@hash, @token, @created, @expires)",
                    cancellationToken,
                    ("hash", Hash(secret)), ("token", tokenId), ("created", now), ("expires", now + (long)lifetime.TotalMilliseconds));
            },
            cancellationToken);
        return secret;
    }

    /// <summary>The active token behind an unexpired session, or null.</summary>
    public async Task<TokenRecord?> AuthenticateSessionAsync(string sessionSecret, CancellationToken cancellationToken) =>
        (await QueryAsync(
            """
            SELECT t.id, t.name, t.role, t.token_prefix, t.created_at, t.created_by, t.revoked_at
            FROM sluice_sessions s JOIN sluice_tokens t ON t.id = s.token_id
            WHERE s.session_hash = @hash AND s.expires_at > @now AND t.revoked_at IS NULL
            """,
            cancellationToken,
            ("hash", Hash(sessionSecret)), ("now", _database.NowMs()))).SingleOrDefault();

    public Task DeleteSessionAsync(string sessionSecret, CancellationToken cancellationToken) =>
        _database.WriteAsync(
            (connection, transaction) => connection.ExecuteAsync(transaction, "DELETE FROM sluice_sessions WHERE session_hash = @hash", cancellationToken, ("hash", Hash(sessionSecret))),
            cancellationToken);

    /// <summary>SHA-256 of the secret, lower-case hex.</summary>
    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private DateTimeOffset Now() => DbTime.FromUnixMs(_database.NowMs());

    private static string NewSecret(string prefix) =>
        prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string NewId() => "tok_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static async Task<bool> InsertAsync(DbConnection connection, DbTransaction transaction, TokenRecord token, string hash, bool onlyIfNoTokens, CancellationToken cancellationToken)
    {
        // The fixed bootstrap id plus ON CONFLICT makes two replicas starting at once create one admin token, not two.
        var sql = onlyIfNoTokens
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
        var rows = await connection.ExecuteAsync(
            transaction,
            sql,
            cancellationToken,
            ("id", token.Id), ("name", token.Name), ("role", token.Role.ToName()), ("hash", hash), ("prefix", token.Prefix),
            ("created", token.CreatedAt.ToUnixTimeMilliseconds()), ("createdBy", token.CreatedBy));
        return rows == 1;
    }

    private Task<IReadOnlyList<TokenRecord>> QueryAsync(string sql, CancellationToken cancellationToken, params (string Name, object? Value)[] parameters) =>
        _database.ReadAsync<IReadOnlyList<TokenRecord>>(
            async connection =>
            {
                await using var command = connection.CreateCommand(sql, null, parameters);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                var tokens = new List<TokenRecord>();
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
                        DbTime.FromUnixMs(reader.GetInt64(4)),
                        await reader.IsDBNullAsync(5, cancellationToken) ? null : reader.GetString(5),
                        await reader.IsDBNullAsync(6, cancellationToken) ? null : DbTime.FromUnixMs(reader.GetInt64(6))));
                }

                return tokens;
            },
            cancellationToken);
}
