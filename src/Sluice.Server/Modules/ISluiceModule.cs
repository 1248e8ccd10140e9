using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Sluice.Server.Configuration;
using Sluice.Server.Ui;

namespace Sluice.Server.Modules;

/// <summary>
/// A product flow plugged into the server (rollouts, schedules, intake…): it registers its services and maps its
/// API endpoints and UI pages. Modules are listed in <see cref="Hosting.SluiceServerBuilder.AddProductModules"/>.
/// </summary>
public interface ISluiceModule
{
    void ConfigureServices(IServiceCollection services, SluiceConfig config);

    void MapEndpoints(SluiceEndpoints endpoints);
}

/// <summary>Where a module maps its endpoints.</summary>
public sealed class SluiceEndpoints
{
    /// <summary>The REST API under <c>/v1</c>. Every endpoint needs at least a viewer token unless it says otherwise;
    /// changes add <c>.RequireAuthorization(SluicePolicies.Operator)</c>.</summary>
    public required RouteGroupBuilder Api { get; init; }

    /// <summary>The application root, for endpoints outside <c>/v1</c> and <c>/ui</c> (push receivers, compatibility APIs).
    /// Still authenticated by default; use <c>.AllowAnonymous()</c> only with a check of your own.</summary>
    public required IEndpointRouteBuilder Root { get; init; }

    /// <summary>Server-rendered pages under <c>/ui</c> (browser session; viewers may read).</summary>
    public required RouteGroupBuilder Ui { get; init; }

    /// <summary>The navigation bar of the UI.</summary>
    public required UiNavigation Navigation { get; init; }

    /// <summary>Cards on the overview page.</summary>
    public required UiOverview Overview { get; init; }
}
