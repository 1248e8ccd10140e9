using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sluice.Engine;

public static class EngineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the store (<see cref="IDatabase"/>), the <see cref="WorkflowEngine"/> and the hosted service that
    /// migrates the store at start-up (before hosted services registered later start) and runs the engine loop.
    /// Register step handlers, run observers and migration sources as singletons of their interfaces.
    /// </summary>
    public static IServiceCollection AddSluiceEngine(this IServiceCollection services, string storeUri, Action<EngineOptions>? configure = null)
    {
        var options = new EngineOptions();
        configure?.Invoke(options);
        options.Validate();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton<IDatabase>(sp => StateStoreFactory.Open(storeUri, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new WorkflowEngine(
            sp.GetRequiredService<IDatabase>(),
            new DeferredServices<IStepHandler>(sp),
            new DeferredServices<IRunObserver>(sp),
            options,
            sp.GetService<ILogger<WorkflowEngine>>(),
            new DeferredServices<IMigrationSource>(sp)));
        services.AddHostedService<EngineHostedService>();
        return services;
    }

    /// <summary>Registers a step handler.</summary>
    public static IServiceCollection AddStepHandler<THandler>(this IServiceCollection services)
        where THandler : class, IStepHandler =>
        services.AddSingleton<IStepHandler, THandler>();

    /// <summary>Resolves services when first enumerated, so that they may depend on the engine without a cycle.</summary>
    private sealed class DeferredServices<T>(IServiceProvider provider) : IEnumerable<T>
    {
        public IEnumerator<T> GetEnumerator() => provider.GetServices<T>().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}

/// <summary>Migrates the store when the host starts, then runs the engine loop until the host stops.</summary>
internal sealed class EngineHostedService(WorkflowEngine engine) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await engine.EnsureStoreReadyAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => engine.RunLoopAsync(stoppingToken);
}
