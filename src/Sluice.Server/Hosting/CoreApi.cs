using System.Reflection;
using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Configuration;
using Sluice.Server.Modules;

namespace Sluice.Server.Hosting;

/// <summary>The server's own API: <c>/v1/info</c> and <c>/v1/tokens</c>.</summary>
internal static class CoreApi
{
    public static string Version { get; } =
        typeof(CoreApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static void Map(SluiceEndpoints endpoints)
    {
        var api = endpoints.Api;
        api.MapGet("/info", GetInfo).WithName("GetInfo").WithSummary("What this server is and who you are");

        var tokens = api.MapGroup("/tokens").RequireAuthorization(SluicePolicies.Admin).WithTags("Tokens");
        tokens.MapGet("", ListTokensAsync).WithName("ListTokens").WithSummary("API tokens (admin)");
        tokens.MapPost("", CreateTokenAsync).WithName("CreateToken").WithSummary("Create an API token; its secret is returned once (admin)");
        tokens.MapGet("/{id}", GetTokenAsync).WithName("GetToken");
        tokens.MapDelete("/{id}", RevokeTokenAsync).WithName("RevokeToken").WithSummary("Revoke a token and end its browser sessions (admin)");
    }

    private static ServerInfo GetInfo(ClaimsPrincipal user, SluiceConfig config, ServerModules modules, SluiceServerStartTime started) =>
        new(
            Version,
            config.Runner.ToString().ToLowerInvariant(),
            config.StoreIsSqlite ? "sqlite" : "postgres",
            config.Project,
            config.Region,
            config.EmbeddedEmulator,
            config.DataflowEndpoint?.ToString(),
            new ServerBuckets(config.ManifestsBucket, config.SchedulesBucket, config.BucketsDirectory),
            modules.Names,
            started.Value,
            user.GetSluiceRole()?.ToName() ?? "",
            user.FindFirstValue(SluiceRoles.TokenIdClaim) ?? "");

    private static async Task<ListResponse<TokenResource>> ListTokensAsync(TokenStore store, bool? all, CancellationToken cancellationToken)
    {
        var tokens = await store.ListAsync(all == true, cancellationToken);
        return new ListResponse<TokenResource>(tokens.Select(TokenResource.From).ToArray());
    }

    private static async Task<Results<Created<CreatedTokenResource>, ProblemHttpResult>> CreateTokenAsync(
        CreateTokenRequest request, TokenStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!SluiceRoles.TryParse(request.Role, out var role))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid role",
                detail: $"'{request.Role}' is not a role; use viewer, operator or admin.");
        }

        var name = string.IsNullOrWhiteSpace(request.Name) ? $"{role.ToName()} token" : request.Name.Trim();
        if (name.Length > 200)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid name", detail: "The token name is longer than 200 characters; use a shorter name.");
        }

        var (token, secret) = await store.CreateAsync(name, role, user.FindFirstValue(SluiceRoles.TokenIdClaim), cancellationToken);
        return TypedResults.Created(
            $"/v1/tokens/{token.Id}",
            new CreatedTokenResource(token.Id, token.Name, token.Role.ToName(), token.Prefix, token.CreatedAt, token.CreatedBy, secret));
    }

    private static async Task<Results<Ok<TokenResource>, ProblemHttpResult>> GetTokenAsync(string id, TokenStore store, CancellationToken cancellationToken) =>
        await store.GetAsync(id, cancellationToken) is { } token
            ? TypedResults.Ok(TokenResource.From(token))
            : TokenNotFound(id);

    private static async Task<Results<Ok<TokenResource>, ProblemHttpResult>> RevokeTokenAsync(string id, TokenStore store, CancellationToken cancellationToken) =>
        await store.RevokeAsync(id, cancellationToken) is { } token
            ? TypedResults.Ok(TokenResource.From(token))
            : TokenNotFound(id);

    private static ProblemHttpResult TokenNotFound(string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"There is no token '{id}'; list them with 'sluice token list'.");
}

/// <summary>When the server started (for /v1/info and the overview).</summary>
public sealed class SluiceServerStartTime
{
    public DateTimeOffset Value { get; set; }
}
