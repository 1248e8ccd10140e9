using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;
using Sluice.Emulator;
using Sluice.Engine;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Configuration;
using Sluice.Server.Metrics;
using Sluice.Server.Modules;
using Sluice.Server.Ui;

namespace Sluice.Server.Hosting;

/// <summary>
/// Builds the Sluice server: configuration, product modules, and test hooks.
/// <code>await using var server = SluiceServerBuilder.Create(config).AddProductModules().Build(); await server.RunAsync(ct);</code>
/// </summary>
public sealed class SluiceServerBuilder
{
    private readonly List<ISluiceModule> _modules = [];
    private readonly List<Action<IServiceCollection>> _serviceOverrides = [];

    private SluiceServerBuilder(SluiceConfig config)
    {
        Config = config;
    }

    public SluiceConfig Config { get; }

    public IReadOnlyList<ISluiceModule> Modules => _modules;

    /// <summary>Whether Ctrl+C and SIGTERM stop the server (true for `sluice up`; tests that host servers in-process turn it off).</summary>
    public bool HandleSignals { get; set; } = true;

    public static SluiceServerBuilder Create(SluiceConfig config) => new(config);

    public SluiceServerBuilder AddModule(ISluiceModule module)
    {
        if (_modules.Any(m => m.GetType() == module.GetType()))
        {
            throw new InvalidOperationException($"The module {module.GetType().Name} is already added.");
        }

        _modules.Add(module);
        return this;
    }

    /// <summary>The product's flows. One line per module.</summary>
    public SluiceServerBuilder AddProductModules()
    {
        AddModule(new Modules.IntakeModule());
        AddModule(new Modules.RolloutsModule());
        AddModule(new SchedulesModule());
        return this;
    }

    /// <summary>Runs after the server's and modules' registrations, so tests can replace services (e.g. a fake TimeProvider).</summary>
    public SluiceServerBuilder ConfigureServices(Action<IServiceCollection> configure)
    {
        _serviceOverrides.Add(configure);
        return this;
    }

    public SluiceServer Build()
    {
        // A free port is chosen here rather than by Kestrel so that the address is known before anything starts:
        // the engine may resume runs that call the embedded emulator through it as soon as the host starts.
        var config = Config.Port == 0 ? Config with { Port = FreePort(Config.Host) } : Config;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "Sluice" });
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            switch (config.Host)
            {
                case "localhost": kestrel.ListenLocalhost(config.Port); break;
                case "*": kestrel.ListenAnyIP(config.Port); break;
                default: kestrel.Listen(IPAddress.Parse(config.Host), config.Port); break;
            }
        });

        ConfigureLogging(builder.Logging, config);
        var services = builder.Services;
        services.AddRouting();
        services.Configure<HostOptions>(o => o.ShutdownTimeout = config.ShutdownTimeout);
        services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        if (!HandleSignals)
        {
            services.AddSingleton<IHostLifetime, NoSignalsLifetime>();
        }

        services.AddSingleton(config);
        services.AddSingleton(TimeProvider.System);
        services.AddSluiceEngine(config.Store);
        services.AddSingleton<IMigrationSource, AuthMigrations>();
        services.AddSingleton<TokenStore>();
        services.AddSingleton<InternalCaller>();
        services.AddSingleton(new ServerAddress { BaseUri = SelfUri(config) });
        services.AddSingleton<ServerDataflowClients>();
        services.AddSingleton<Sluice.Controller.IDataflowClients>(sp => sp.GetRequiredService<ServerDataflowClients>());
        services.AddSingleton(sp => sp.GetRequiredService<ServerDataflowClients>().Default);
        if (config.EmbeddedEmulator)
        {
            services.AddDataflowEmulator(new EmulatorOptions
            {
                BucketsDirectory = config.BucketsDirectory,
                StateDirectory = Path.Combine(config.DataDirectory, "emulator"),
                HandleSigterm = false,
            });
        }

        services.AddSingleton<SluiceMetrics>();
        services.AddSingleton<SluiceServerStartTime>();
        services.AddSingleton<IRunObserver, StepMetricsObserver>();
        services.AddSingleton<UiNavigation>();
        services.AddSingleton<UiOverview>();
        services.AddSingleton(new ServerModules(_modules.Select(ModuleName).ToArray()));
        services.ConfigureHttpJsonOptions(o => SluiceJson.Configure(o.SerializerOptions));
        services.AddProblemDetails();
        services.AddOpenApi();
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("store", tags: [ReadyTag]);

        services.AddAuthentication(SluiceAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, SluiceAuthenticationHandler>(SluiceAuthenticationHandler.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(SluicePolicies.Viewer, p => p.RequireRole(SluiceRoles.AtLeast(SluiceRole.Viewer)))
            .AddPolicy(SluicePolicies.Operator, p => p.RequireRole(SluiceRoles.AtLeast(SluiceRole.Operator)))
            .AddPolicy(SluicePolicies.Admin, p => p.RequireRole(SluiceRoles.AtLeast(SluiceRole.Admin)))
            // Every endpoint needs a token unless it opts out with AllowAnonymous (health and the login page do).
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireRole(SluiceRoles.AtLeast(SluiceRole.Viewer)).Build());

        foreach (var module in _modules)
        {
            module.ConfigureServices(services, config);
        }

        foreach (var configure in _serviceOverrides)
        {
            configure(services);
        }

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseHttpMetrics(o => o.SetMetricFactory(Prometheus.Metrics.WithCustomRegistry(app.Services.GetRequiredService<SluiceMetrics>().Registry)));
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).AllowAnonymous().ExcludeFromDescription();
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = c => c.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealthAsync,
        }).AllowAnonymous();
        app.MapMetrics("/metrics", app.Services.GetRequiredService<SluiceMetrics>().Registry);
        app.MapOpenApi();
        if (config.EmbeddedEmulator)
        {
            // Dataflow's own paths (/v1b3/projects/…), behind the same authentication as everything else.
            app.MapDataflowEmulator();
        }

        app.MapGet("/", () => Results.Redirect("/ui")).AllowAnonymous().ExcludeFromDescription();

        var endpoints = new SluiceEndpoints
        {
            Api = app.MapGroup("/v1").WithTags("Sluice"),
            Root = app,
            Ui = app.MapGroup("/ui").ExcludeFromDescription(),
            Navigation = app.Services.GetRequiredService<UiNavigation>(),
            Overview = app.Services.GetRequiredService<UiOverview>(),
        };
        CoreApi.Map(endpoints);
        RunsApi.Map(endpoints);
        JobsApi.Map(endpoints);
        CorePages.Map(endpoints);
        RunAndJobPages.Map(endpoints);
        foreach (var module in _modules)
        {
            module.MapEndpoints(endpoints);
        }

        return new SluiceServer(app, config);
    }

    internal const string ReadyTag = "ready";

    private static int FreePort(string host)
    {
        var address = host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" => IPAddress.Any,
            _ => IPAddress.Parse(host),
        };
        using var listener = new System.Net.Sockets.TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>How this server reaches itself: loopback when bound to all interfaces.</summary>
    private static Uri SelfUri(SluiceConfig config)
    {
        var host = config.Host is "*" or "0.0.0.0" or "localhost" ? "127.0.0.1" : config.Host == "::" ? "[::1]" : config.Host;
        if (IPAddress.TryParse(host, out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            host = $"[{ip}]";
        }

        return new Uri($"http://{host}:{config.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}/");
    }

    private static string ModuleName(ISluiceModule module)
    {
        var name = module.GetType().Name;
        return (name.EndsWith("Module", StringComparison.Ordinal) ? name[..^"Module".Length] : name).ToLowerInvariant();
    }

    private static void ConfigureLogging(ILoggingBuilder logging, SluiceConfig config)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(config.LogLevel);
        // ASP.NET Core's per-request information logs drown the product's own; keep its warnings.
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        logging.AddFilter(typeof(SluiceAuthenticationHandler).FullName, LogLevel.Warning);
        if (config.LogFormat == LogFormat.Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.JsonWriterOptions = new JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "HH:mm:ss ";
            });
        }
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString().ToLowerInvariant(),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = e.Value.Status.ToString().ToLowerInvariant(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, SluiceJson.Options), context.RequestAborted);
    }
}

/// <summary>A lifetime that leaves Ctrl+C and SIGTERM alone, for servers hosted inside another process (tests, the demo).</summary>
internal sealed class NoSignalsLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Names of the modules the server was built with (shown by /v1/info).</summary>
public sealed record ServerModules(IReadOnlyList<string> Names);

/// <summary>Ready when the state store answers.</summary>
internal sealed class StoreHealthCheck(IDatabase database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await database.ReadAsync(
                async connection =>
                {
                    await using var command = connection.CreateCommand("SELECT 1", null);
                    return await command.ExecuteScalarAsync(cancellationToken);
                },
                cancellationToken);
            return HealthCheckResult.Healthy($"the state store ({database.DisplayName}) answers");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"the state store does not answer: {e.Message}");
        }
    }
}
