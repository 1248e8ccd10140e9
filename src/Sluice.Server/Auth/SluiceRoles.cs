using System.Security.Claims;

namespace Sluice.Server.Auth;

/// <summary>What a token may do. Each role includes the ones before it.</summary>
public enum SluiceRole
{
    /// <summary>Read everything.</summary>
    Viewer = 1,

    /// <summary>Also apply manifests, roll back, pause/unpause, backfill, cancel runs.</summary>
    Operator = 2,

    /// <summary>Also manage tokens.</summary>
    Admin = 3,
}

/// <summary>Names of the authorization policies; endpoints use <c>.RequireAuthorization(SluicePolicies.Operator)</c>.</summary>
public static class SluicePolicies
{
    public const string Viewer = "sluice-viewer";
    public const string Operator = "sluice-operator";
    public const string Admin = "sluice-admin";
}

/// <summary>Role names as they appear on the wire, in claims and in the database.</summary>
public static class SluiceRoles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";

    /// <summary>Claim holding the id of the token a request authenticated with.</summary>
    public const string TokenIdClaim = "sluice:token-id";

    public static string ToName(this SluiceRole role) => role switch
    {
        SluiceRole.Viewer => Viewer,
        SluiceRole.Operator => Operator,
        SluiceRole.Admin => Admin,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    public static bool TryParse(string? text, out SluiceRole role)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case Viewer: role = SluiceRole.Viewer; return true;
            case Operator: role = SluiceRole.Operator; return true;
            case Admin: role = SluiceRole.Admin; return true;
            default: role = default; return false;
        }
    }

    /// <summary>The role of an authenticated user, or null for anonymous requests.</summary>
    public static SluiceRole? GetSluiceRole(this ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true && TryParse(user.FindFirstValue(ClaimTypes.Role), out var role) ? role : null;

    /// <summary>Whether the user has at least <paramref name="role"/>.</summary>
    public static bool HasRole(this ClaimsPrincipal user, SluiceRole role) => user.GetSluiceRole() >= role;

    /// <summary>Role names that satisfy at least <paramref name="role"/> (for RequireRole).</summary>
    internal static string[] AtLeast(SluiceRole role) =>
        Enum.GetValues<SluiceRole>().Where(r => r >= role).Select(r => r.ToName()).ToArray();
}
