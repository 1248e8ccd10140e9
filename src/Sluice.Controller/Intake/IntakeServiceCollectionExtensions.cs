using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sluice.Engine;

namespace Sluice.Controller.Intake;

public static class IntakeServiceCollectionExtensions
{
    /// <summary>
    /// Registers event intake: the ledger (migration module <c>intake</c>), the watched buckets, the workers, the
    /// watcher (a hosted service, registered after the engine's so that the store is migrated first) and the
    /// applier. Needs <see cref="IDatabase"/> (from <c>AddSluiceEngine</c>); the flows register
    /// <see cref="IRolloutStarter"/> and <see cref="IScheduleRegistrar"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The options are not usable; the message lists every problem.</exception>
    public static IServiceCollection AddSluiceIntake(this IServiceCollection services, Action<IntakeOptions>? configure = null)
    {
        var options = new IntakeOptions();
        configure?.Invoke(options);
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", problems), nameof(configure));
        }

        _ = options.GetChannels();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(options);
        services.AddSingleton<IMigrationSource, IntakeMigrations>();
        services.AddSingleton<EventLedger>();
        services.AddSingleton(_ => new IntakeBuckets(options));
        services.TryAddSingleton<ITemplateChecker>(_ => options.LocalTemplatesDirectory is { } directory
            ? new LocalTemplateChecker(directory)
            : new CloudTemplateChecker(options.Buckets));
        services.AddSingleton<IntakeProcessor>();
        services.AddSingleton<IntakeService>();
        services.AddSingleton<ManifestApplier>();
        services.AddSingleton<BucketWatchService>();
        services.AddHostedService(sp => sp.GetRequiredService<BucketWatchService>());
        return services;
    }
}
