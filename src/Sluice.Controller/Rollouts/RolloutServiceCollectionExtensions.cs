using Microsoft.Extensions.DependencyInjection;
using Sluice.Controller.Rollouts.Steps;
using Sluice.Engine;

namespace Sluice.Controller.Rollouts;

public static class RolloutServiceCollectionExtensions
{
    /// <summary>
    /// Registers the rollout flow: its tables, step handlers, run observer and <see cref="RolloutService"/>. Event
    /// intake reaches the service through its own adapters (<see cref="IRolloutStarter"/>, <see cref="IManifestPlanner"/>).
    /// Needs the engine (<c>AddSluiceEngine</c>) and an <see cref="IDataflowClients"/>.
    /// </summary>
    public static IServiceCollection AddSluiceRollouts(this IServiceCollection services, Action<RolloutOptions>? configure = null)
    {
        var options = new RolloutOptions();
        configure?.Invoke(options);
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton<IMigrationSource, RolloutMigrations>();
        services.AddSingleton<PipelineRegistry>();
        services.AddSingleton<RolloutStepServices>();
        services.AddStepHandler<CheckCurrentStep>();
        services.AddStepHandler<StopOldStep>();
        services.AddStepHandler<WaitTerminalStep>();
        services.AddStepHandler<LaunchNewStep>();
        services.AddStepHandler<UpdateInPlaceStep>();
        services.AddStepHandler<ValidateStep>();
        services.AddStepHandler<RecordStep>();
        services.AddSingleton<RolloutService>();
        services.AddSingleton<RolloutRunObserver>();
        services.AddSingleton<IRunObserver>(sp => sp.GetRequiredService<RolloutRunObserver>());
        return services;
    }
}
