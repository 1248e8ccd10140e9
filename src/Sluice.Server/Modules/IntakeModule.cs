using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sluice.Controller;
using Sluice.Controller.Intake;
using Sluice.Server.Configuration;
using Sluice.Server.Intake;

namespace Sluice.Server.Modules;

/// <summary>
/// Event intake: the watched buckets and the event ledger, <c>/v1/events</c>, <c>/v1/manifests</c>, the push
/// endpoints, the Airflow-compatible API under <c>/api/v1</c>, and the Events page.
/// </summary>
/// <remarks>
/// Settings (<c>settings:</c> in sluice.yaml, or <c>SLUICE_SETTINGS__INTAKE_PUSHTOKEN</c>… in the environment):
/// <c>intake.pushToken</c> (shared secret of the push endpoints), <c>intake.gcsEndpoint</c> (a Cloud Storage
/// emulator), <c>intake.workers</c>.
/// </remarks>
public sealed class IntakeModule : ISluiceModule
{
    public void ConfigureServices(IServiceCollection services, SluiceConfig config)
    {
        services.AddSluiceIntake(options => Configure(options, config));
        services.TryAddSingleton<IRolloutStarter>(sp => new RolloutStarter(sp));
        services.TryAddSingleton<IScheduleRegistrar>(sp => new LazyScheduleRegistrar(sp));
        services.AddSingleton<IManifestPlanner>(sp => new RolloutPlanner(sp));
        services.AddSingleton<IIntakeListener, IntakeMetricsListener>();
        services.AddSingleton<PushReceiver>();
        services.AddSingleton<AirflowApi>();
    }

    public void MapEndpoints(SluiceEndpoints endpoints)
    {
        IntakeApi.Map(endpoints.Api);
        AirflowApi.Map(endpoints.Root);
        EventsPages.Map(endpoints);
    }

    /// <summary>The intake options of a server configuration.</summary>
    public static void Configure(IntakeOptions options, SluiceConfig config)
    {
        options.RolloutsBucket = config.ManifestsBucket;
        options.SchedulesBucket = config.SchedulesBucket;
        options.Buckets.BucketsDirectory = config.BucketsDirectory;
        options.LocalTemplatesDirectory = config.Runner == RunnerKind.Emulator ? config.BucketsDirectory : null;
        options.PushToken = Setting(config, "pushToken");
        if (Setting(config, "gcsEndpoint") is { Length: > 0 } endpoint)
        {
            options.Buckets.GcsEndpoint = Uri.TryCreate(endpoint, UriKind.Absolute, out var uri)
                ? uri
                : throw new ArgumentException($"The setting intake.gcsEndpoint '{endpoint}' is not an absolute URL such as http://127.0.0.1:9199/.");
        }

        if (Setting(config, "workers") is { Length: > 0 } workers)
        {
            options.Workers = int.TryParse(workers, System.Globalization.CultureInfo.InvariantCulture, out var count)
                ? count
                : throw new ArgumentException($"The setting intake.workers '{workers}' is not a number; use e.g. 4.");
        }
    }

    /// <summary>A setting <c>intake.NAME</c> (sluice.yaml) or <c>intake_NAME</c> (<c>SLUICE_SETTINGS__INTAKE_NAME</c> in the environment).</summary>
    private static string? Setting(SluiceConfig config, string name) =>
        config.GetSetting("intake." + name) ?? config.GetSetting("intake_" + name);
}
