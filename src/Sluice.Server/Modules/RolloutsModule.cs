using Microsoft.Extensions.DependencyInjection;
using Sluice.Controller;
using Sluice.Controller.Rollouts;
using Sluice.Engine;
using Sluice.Server.Configuration;
using Sluice.Server.Hosting;
using Sluice.Server.Metrics;
using Sluice.Server.Rollouts;

namespace Sluice.Server.Modules;

/// <summary>
/// Rollouts: the pipeline registry and the rollout flow, <c>/v1/pipelines</c> and <c>/v1/rollouts</c>, the Pipelines
/// and Rollouts pages, and the rollout metrics.
/// </summary>
/// <remarks>
/// Settings (<c>settings:</c> in sluice.yaml): <c>rollouts.pollInterval</c> (how often waiting steps look at a job;
/// default 10s with Dataflow, 1s with the emulator), <c>rollouts.cancelTimeout</c> (default 10m).
/// </remarks>
public sealed class RolloutsModule : ISluiceModule
{
    public void ConfigureServices(IServiceCollection services, SluiceConfig config)
    {
        services.AddSluiceRollouts(options => Configure(options, config));
        services.AddSingleton<IRunObserver, RolloutMetricsObserver>();
    }

    public void MapEndpoints(SluiceEndpoints endpoints)
    {
        RolloutsApi.Map(endpoints);
        RolloutsPages.Map(endpoints);
    }

    public static void Configure(RolloutOptions options, SluiceConfig config)
    {
        // The emulator starts jobs in well under a second; Dataflow takes minutes, and its API quota is shared.
        options.PollInterval = config.Runner == RunnerKind.Emulator ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(10);
        if (config.GetSetting("rollouts.pollInterval") is { Length: > 0 } poll)
        {
            options.PollInterval = ParseDuration("rollouts.pollInterval", poll);
        }

        if (config.GetSetting("rollouts.cancelTimeout") is { Length: > 0 } cancel)
        {
            options.CancelTimeout = ParseDuration("rollouts.cancelTimeout", cancel);
        }
    }

    private static TimeSpan ParseDuration(string key, string text) =>
        Sluice.Manifests.Values.Durations.TryParse(text, out var duration, out var error)
            ? duration
            : throw new ArgumentException($"The setting {key} '{text}' is not a duration ({error}); use e.g. 2s or 1m.");

    /// <summary>Counts finished rollouts by outcome (<c>sluice_rollouts_total</c>); step durations are the server's.</summary>
    private sealed class RolloutMetricsObserver(SluiceMetrics metrics) : IRunObserver
    {
        public Task OnRunFinishedAsync(RunDetail run, CancellationToken cancellationToken)
        {
            if (RolloutRunKinds.IsRolloutFlow(run.Run.Kind))
            {
                // A rollback that restored the pipeline counts as rolled_back; everything else by its run state.
                var outcome = run.Run.Kind == RolloutRunKinds.Rollback && run.Run.Status == RunStatus.Succeeded ? "rolled_back" : run.Run.Status.ToStored();
                metrics.RecordRollout(outcome);
            }

            return Task.CompletedTask;
        }
    }
}
