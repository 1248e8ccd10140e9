using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sluice.Server.Auth;

/// <summary>
/// Authenticates API calls by <c>Authorization: Bearer sluice_…</c> and browsers by the session cookie set at login.
/// An unauthenticated API call gets 401 with a problem document; a browser asking for a UI page is sent to the login page.
/// </summary>
internal sealed class SluiceAuthenticationHandler : AuthenticationHandler<AuthenticationSchemeOptions>
{
    public const string SchemeName = "Sluice";
    public const string SessionCookie = "sluice_session";
    private const string AuthenticatedByCookie = "sluice:cookie";

    private readonly TokenStore _tokens;
    private readonly InternalCaller _internal;

    public SluiceAuthenticationHandler(
        IOptionsMonitor<AuthenticationSchemeOptions> options,
        ILoggerFactory logger,
        UrlEncoder encoder,
        TokenStore tokens,
        InternalCaller internalCaller)
        : base(options, logger, encoder)
    {
        _tokens = tokens;
        _internal = internalCaller;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (header.Length > 0)
        {
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return AuthenticateResult.Fail("The Authorization header must be 'Bearer <token>'.");
            }

            var secret = header["Bearer ".Length..].Trim();
            if (_internal.Matches(secret))
            {
                return Success(new TokenRecord("internal", InternalCaller.Name, SluiceRole.Operator, "internal", default, null, null), byCookie: false);
            }

            var token = await _tokens.AuthenticateAsync(secret, Context.RequestAborted);
            return token is null
                ? AuthenticateResult.Fail("The token is unknown or revoked.")
                : Success(token, byCookie: false);
        }

        if (Request.Cookies.TryGetValue(SessionCookie, out var session) && session.Length > 0)
        {
            // SameSite=Strict keeps other sites from sending the cookie; the Origin check is a second line for old browsers.
            if (!HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method) && !IsSameOrigin())
            {
                return AuthenticateResult.Fail("Cross-site request refused.");
            }

            var token = await _tokens.AuthenticateSessionAsync(session, Context.RequestAborted);
            return token is null ? AuthenticateResult.NoResult() : Success(token, byCookie: true);
        }

        return AuthenticateResult.NoResult();
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if (IsBrowserPage())
        {
            var returnUrl = Request.PathBase + Request.Path + Request.QueryString;
            Response.Redirect($"{Request.PathBase}/ui/login?returnUrl={Uri.EscapeDataString(returnUrl)}");
            return;
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Results.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Unauthorized",
            detail: Request.Headers.Authorization.Count > 0
                ? "The token is unknown or revoked; use a valid token (the first admin token is in the data directory's admin.token)."
                : "This endpoint needs an API token: send 'Authorization: Bearer <token>' (create one with 'sluice token create').")
            .ExecuteAsync(Context);
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var role = Context.User.GetSluiceRole()?.ToName() ?? "none";
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await Results.Problem(
            statusCode: StatusCodes.Status403Forbidden,
            title: "Forbidden",
            detail: $"Your token's role ({role}) may not do this; ask an admin for an operator or admin token.")
            .ExecuteAsync(Context);
    }

    private static AuthenticateResult Success(TokenRecord token, bool byCookie)
    {
        var claims = new List<Claim>
        {
            new(ClaimTypes.NameIdentifier, token.Id),
            new(ClaimTypes.Name, token.Name),
            new(ClaimTypes.Role, token.Role.ToName()),
            new(SluiceRoles.TokenIdClaim, token.Id),
        };
        if (byCookie)
        {
            claims.Add(new Claim(AuthenticatedByCookie, "true"));
        }

        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));
    }

    private bool IsBrowserPage() =>
        Request.Path.StartsWithSegments("/ui") && HttpMethods.IsGet(Request.Method)
        && Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    private bool IsSameOrigin()
    {
        var origin = Request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return Request.Headers["Sec-Fetch-Site"].ToString() is "" or "same-origin";
        }

        return Uri.TryCreate(origin, UriKind.Absolute, out var uri)
            && string.Equals(uri.Authority, Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
