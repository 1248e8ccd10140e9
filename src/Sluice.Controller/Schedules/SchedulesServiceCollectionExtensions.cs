using Microsoft.Extensions.DependencyInjection;
using Sluice.Engine;

namespace Sluice.Controller.Schedules;

public static class SchedulesServiceCollectionExtensions
{
    /// <summary>
    /// Registers the schedule flow: its tables, step handlers, run observer, the scheduler (a hosted service) and
    /// <see cref="ScheduleService"/>, which intake reaches as <see cref="IScheduleRegistrar"/>. Needs the engine
    /// (<c>AddSluiceEngine</c>) and <see cref="IDataflowClients"/>.
    /// </summary>
    public static IServiceCollection AddSluiceSchedules(this IServiceCollection services, Action<ScheduleOptions>? configure = null)
    {
        var options = new ScheduleOptions();
        configure?.Invoke(options);
        options.Validate();
        services.AddSingleton(options);
        services.AddSingleton<IMigrationSource, ScheduleMigrations>();
        services.AddSingleton<IStepHandler, SlotRenderStep>();
        services.AddSingleton<IStepHandler, SlotLaunchStep>();
        services.AddSingleton<IStepHandler, SlotWaitStep>();
        services.AddSingleton<IStepHandler, BackfillStep>();
        services.AddSingleton<IRunObserver, SlotRunObserver>();
        services.AddSingleton<SlotScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<SlotScheduler>());
        services.AddSingleton<ScheduleService>();
        services.AddSingleton<IScheduleRegistrar, Intake.ScheduleRegistrar>();
        services.AddSingleton<IManifestPlanner, ScheduleManifestPlanner>();
        return services;
    }
}
