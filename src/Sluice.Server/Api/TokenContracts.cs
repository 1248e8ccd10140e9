using Sluice.Server.Auth;

namespace Sluice.Server.Api;

/// <summary>An API token as the API shows it (never its secret, except once at creation).</summary>
public record TokenResource(
    string Id,
    string Name,
    string Role,
    string Prefix,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    DateTimeOffset? RevokedAt)
{
    public static TokenResource From(TokenRecord token) =>
        new(token.Id, token.Name, token.Role.ToName(), token.Prefix, token.CreatedAt, token.CreatedBy, token.RevokedAt);
}

/// <summary>The answer to <c>POST /v1/tokens</c>: the token plus its secret, shown this once.</summary>
public sealed record CreatedTokenResource(
    string Id,
    string Name,
    string Role,
    string Prefix,
    DateTimeOffset CreatedAt,
    string? CreatedBy,
    string Token);

/// <summary>Body of <c>POST /v1/tokens</c>.</summary>
public sealed record CreateTokenRequest(string? Name, string? Role);

/// <summary>The answer to <c>GET /v1/info</c>.</summary>
public sealed record ServerInfo(
    string Version,
    string Runner,
    string Store,
    string? Project,
    string? Region,
    bool EmbeddedEmulator,
    string? DataflowEndpoint,
    ServerBuckets Buckets,
    IReadOnlyList<string> Modules,
    DateTimeOffset StartedAt,
    string Role,
    string TokenId);

/// <summary>The buckets the server watches.</summary>
public sealed record ServerBuckets(string Manifests, string Schedules, string Directory);
