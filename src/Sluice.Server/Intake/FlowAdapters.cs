using Microsoft.Extensions.DependencyInjection;
using Sluice.Controller;
using Sluice.Controller.Intake;
using Sluice.Controller.Rollouts;
using Sluice.Controller.Schedules;
using Sluice.Manifests;

namespace Sluice.Server.Intake;

// Intake hands manifests to the flows through small interfaces (Sluice.Controller.FlowContracts). These adapters
// resolve the flows when first used, so that a server built without a flow rejects its manifests with a clear
// sentence instead of failing to start.

/// <summary>Starts rollouts through <see cref="RolloutService"/>.</summary>
internal sealed class RolloutStarter(IServiceProvider services) : IRolloutStarter
{
    public async Task<long> StartAsync(RolloutManifest manifest, string idempotencyKey, string source, CancellationToken cancellationToken)
    {
        var rollouts = services.GetService<RolloutService>()
            ?? throw new ManifestRefusedException("This server has no rollout flow, so Rollout manifests cannot be handled; run a full 'sluice up'.");
        try
        {
            return await rollouts.StartAsync(manifest, idempotencyKey, source, cancellationToken);
        }
        catch (RolloutException e)
        {
            throw new ManifestRefusedException(e.Message, e);
        }
    }
}

/// <summary>Registers schedules through <see cref="ScheduleService"/>.</summary>
internal sealed class LazyScheduleRegistrar(IServiceProvider services) : IScheduleRegistrar
{
    private ScheduleRegistrar Inner =>
        services.GetService<ScheduleService>() is { } schedules
            ? new ScheduleRegistrar(schedules)
            : throw new ManifestRefusedException("This server has no schedule flow, so Schedule manifests cannot be handled; run a full 'sluice up'.");

    public Task RegisterAsync(ScheduleManifest manifest, string source, CancellationToken cancellationToken) =>
        Inner.RegisterAsync(manifest, source, cancellationToken);

    public Task<bool> UnscheduleAsync(string dagId, bool cancelRunning, CancellationToken cancellationToken) =>
        Inner.UnscheduleAsync(dagId, cancelRunning, cancellationToken);
}

/// <summary><c>apply --dry-run</c> of a Rollout: the rollout flow's plan (steps, warnings, Dataflow's validateOnly verdict).</summary>
internal sealed class RolloutPlanner(IServiceProvider services) : IManifestPlanner
{
    public bool CanPlan(Manifest manifest) => manifest is RolloutManifest && services.GetService<RolloutService>() is not null;

    public async Task<ManifestPlan> PlanAsync(Manifest manifest, CancellationToken cancellationToken)
    {
        var plan = await services.GetRequiredService<RolloutService>().PlanAsync((RolloutManifest)manifest, cancellationToken);
        var summary = IntakeResources.DescribePlan(manifest);
        if (plan.CurrentVersion is { } current)
        {
            summary += $"; now running {current}{(plan.CurrentJobName is { } job ? $" as {job}" : "")}";
        }

        if (plan.Warnings.Count > 0)
        {
            summary += "; warning: " + string.Join("; warning: ", plan.Warnings);
        }

        var problems = plan.LaunchValid ? [] : new[] { $"Dataflow would refuse the launch: {plan.LaunchProblem ?? "no reason given"}" };
        return new ManifestPlan(summary, plan.Steps.Select(s => new Controller.PlannedStep(s.Name, s.Description)).ToArray(), problems);
    }
}
