using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sluice.Server.Auth;
using Sluice.Server.Configuration;
using Sluice.Server.Hosting;
using Sluice.Server.Modules;

namespace Sluice.Server.Ui;

/// <summary>The pages of the shell: login, logout, the overview and the tokens page.</summary>
internal static class CorePages
{
    private static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(12);

    public static void Map(SluiceEndpoints endpoints)
    {
        var ui = endpoints.Ui;
        endpoints.Navigation.Add("Overview", "/ui", order: 0);
        endpoints.Navigation.Add("Tokens", "/ui/tokens", order: 1000, minimumRole: SluiceRole.Admin);

        ui.MapGet("/login", (string? returnUrl, string? error) => LoginPage(returnUrl, error)).AllowAnonymous();
        ui.MapPost("/login", LoginAsync).AllowAnonymous();
        ui.MapPost("/logout", LogoutAsync).AllowAnonymous();

        ui.MapGet("", OverviewAsync);
        ui.MapGet("/overview/{id}", OverviewSectionAsync);

        ui.MapGet("/tokens", TokensPageAsync).RequireAuthorization(SluicePolicies.Admin);
        ui.MapGet("/tokens/list", async (TokenStore store, CancellationToken ct) => UiLayout.Fragment(await TokensTableAsync(store, ct)))
            .RequireAuthorization(SluicePolicies.Admin);
        ui.MapPost("/tokens", CreateTokenAsync).RequireAuthorization(SluicePolicies.Admin);
        ui.MapPost("/tokens/{id}/revoke", async (string id, TokenStore store, CancellationToken ct) =>
        {
            await store.RevokeAsync(id, ct);
            return Results.Redirect("/ui/tokens");
        }).RequireAuthorization(SluicePolicies.Admin);
    }

    private static IResult LoginPage(string? returnUrl, string? error, int statusCode = StatusCodes.Status200OK)
    {
        var message = error is null ? "" : $"<p class=\"error\" role=\"alert\">{Html.Encode(error)}</p>";
        var body = $"""
            <div class="login">
            <p>Sign in with an API token. The first admin token is in <code>admin.token</code> in the server's data directory
            (<code>./.sluice/admin.token</code> by default); create more with <code>sluice token create --role viewer</code>.</p>
            {message}
            <form method="post" action="/ui/login">
            <label for="token">Token</label>
            <input id="token" name="token" type="password" autocomplete="off" placeholder="sluice_…" required autofocus>
            <input type="hidden" name="returnUrl" value="{Html.Encode(SafeReturnUrl(returnUrl))}">
            <button type="submit" class="primary">Sign in</button>
            </form>
            </div>
            """;
        return UiLayout.Bare("Sign in", body, statusCode);
    }

    private static async Task<IResult> LoginAsync(HttpContext context, TokenStore store, CancellationToken cancellationToken)
    {
        var form = await context.Request.ReadFormAsync(cancellationToken);
        var secret = form["token"].ToString().Trim();
        var returnUrl = SafeReturnUrl(form["returnUrl"].ToString());
        var token = secret.Length == 0 ? null : await store.AuthenticateAsync(secret, cancellationToken);
        if (token is null)
        {
            return LoginPage(returnUrl, "That token is unknown or revoked; check it and try again.", StatusCodes.Status401Unauthorized);
        }

        var session = await store.CreateSessionAsync(token.Id, SessionLifetime, cancellationToken);
        context.Response.Cookies.Append(SluiceAuthenticationHandler.SessionCookie, session, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = "/",
            MaxAge = SessionLifetime,
        });
        return Results.Redirect(returnUrl);
    }

    private static async Task<IResult> LogoutAsync(HttpContext context, TokenStore store, CancellationToken cancellationToken)
    {
        if (context.Request.Cookies.TryGetValue(SluiceAuthenticationHandler.SessionCookie, out var session))
        {
            await store.DeleteSessionAsync(session, cancellationToken);
        }

        context.Response.Cookies.Delete(SluiceAuthenticationHandler.SessionCookie, new CookieOptions { Path = "/" });
        return Results.Redirect("/ui/login");
    }

    private static async Task<IResult> OverviewAsync(HttpContext context, SluiceConfig config, ServerModules modules, SluiceServerStartTime started, UiOverview overview)
    {
        var facts = Html.Facts(
        [
            ("Version", Html.Encode(CoreApi.Version)),
            ("Runner", Html.Encode(config.Runner.ToString().ToLowerInvariant() + (config.EmbeddedEmulator ? " (embedded emulator)" : ""))),
            ("Project / region", Html.Encode($"{config.Project ?? "–"} / {config.Region ?? "–"}")),
            ("Store", Html.Encode(config.StoreIsSqlite ? "SQLite" : "PostgreSQL")),
            ("Rollouts bucket", $"<code>{Html.Encode(config.ManifestsBucket)}</code>"),
            ("Schedules bucket", $"<code>{Html.Encode(config.SchedulesBucket)}</code>"),
            ("Modules", Html.Encode(modules.Names.Count == 0 ? "none" : string.Join(", ", modules.Names))),
            ("Started", Html.Time(started.Value)),
        ]);
        var cards = new System.Text.StringBuilder();
        foreach (var section in overview.Sections)
        {
            var inner = await RenderSectionAsync(section, context);
            cards.Append($"<section class=\"card\" id=\"overview-{Html.Encode(section.Id)}\"><h2>{Html.Encode(section.Title)}</h2>")
                .Append(Html.Live($"/ui/overview/{Uri.EscapeDataString(section.Id)}", inner))
                .Append("</section>");
        }

        cards.Append($"<section class=\"card\" id=\"overview-server\"><h2>Server</h2>{facts}</section>");
        return UiLayout.Page("Overview", $"<div class=\"cards\">{cards}</div>");
    }

    private static async Task<IResult> OverviewSectionAsync(string id, HttpContext context, UiOverview overview)
    {
        var section = overview.Sections.FirstOrDefault(s => s.Id == id);
        return section is null ? Results.NotFound() : UiLayout.Fragment(await RenderSectionAsync(section, context));
    }

    private static async Task<string> RenderSectionAsync(UiOverviewSection section, HttpContext context)
    {
        try
        {
            return await section.Render(context, context.RequestAborted);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return $"<p class=\"error\">This section could not be shown: {Html.Encode(e.Message)}</p>";
        }
    }

    private static async Task<IResult> TokensPageAsync(TokenStore store, CancellationToken cancellationToken) =>
        UiLayout.Page("Tokens", await TokensBodyAsync(store, null, cancellationToken));

    private static async Task<IResult> CreateTokenAsync(HttpContext context, TokenStore store, CancellationToken cancellationToken)
    {
        var form = await context.Request.ReadFormAsync(cancellationToken);
        if (!SluiceRoles.TryParse(form["role"], out var role))
        {
            return UiLayout.Page("Tokens", await TokensBodyAsync(store, "<p class=\"error\" role=\"alert\">Choose a role: viewer, operator or admin.</p>", cancellationToken), StatusCodes.Status400BadRequest);
        }

        var name = form["name"].ToString().Trim();
        var (token, secret) = await store.CreateAsync(name.Length == 0 ? $"{role.ToName()} token" : name, role, context.User.FindFirstValue(SluiceRoles.TokenIdClaim), cancellationToken);
        var notice = $"""
            <p class="notice" role="status">Token <strong>{Html.Encode(token.Name)}</strong> ({Html.Encode(role.ToName())}) created. Copy it now; it is not shown again:<br>
            <code id="new-token">{Html.Encode(secret)}</code></p>
            """;
        return UiLayout.Page("Tokens", await TokensBodyAsync(store, notice, cancellationToken), StatusCodes.Status201Created);
    }

    private static async Task<string> TokensBodyAsync(TokenStore store, string? notice, CancellationToken cancellationToken)
    {
        var form = """
            <h2>Create a token</h2>
            <form method="post" action="/ui/tokens" id="create-token">
            <input name="name" placeholder="name, e.g. ci-deployer" aria-label="Name">
            <select name="role" aria-label="Role"><option value="viewer">viewer</option><option value="operator">operator</option><option value="admin">admin</option></select>
            <button type="submit" class="primary">Create</button>
            </form>
            """;
        return (notice ?? "") + "<h2>Active tokens</h2>" + Html.Live("/ui/tokens/list", await TokensTableAsync(store, cancellationToken)) + form;
    }

    private static async Task<string> TokensTableAsync(TokenStore store, CancellationToken cancellationToken)
    {
        var tokens = await store.ListAsync(includeRevoked: false, cancellationToken);
        return Html.Table(
            ["Id", "Name", "Role", "Prefix", "Created", ""],
            tokens.Select(t => (IReadOnlyList<string>)
            [
                $"<code>{Html.Encode(t.Id)}</code>",
                Html.Encode(t.Name),
                Html.Encode(t.Role.ToName()),
                $"<code>{Html.Encode(t.Prefix)}…</code>",
                Html.Time(t.CreatedAt),
                Html.PostButton($"/ui/tokens/{Uri.EscapeDataString(t.Id)}/revoke", "Revoke", confirm: $"Revoke {t.Name}?", css: "danger"),
            ]),
            empty: "No active tokens.",
            id: "tokens");
    }

    /// <summary>Only local paths, so the login form cannot be used to send people to another site.</summary>
    private static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url.StartsWith('/') && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/ui";
}
