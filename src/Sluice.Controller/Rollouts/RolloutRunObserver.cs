using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Rollouts;

/// <summary>
/// Told when a rollout or rollback run ends: records a failure in the pipeline's history, and with
/// <c>rollback: auto</c> starts the rollback to the <c>from</c> spec. The engine calls it at least once, so every
/// action is idempotent (conditional updates; the rollback run's idempotency key is the failed run's id).
/// </summary>
public sealed class RolloutRunObserver : IRunObserver
{
    private readonly RolloutService service;
    private readonly PipelineRegistry registry;
    private readonly ILogger logger;

    public RolloutRunObserver(RolloutService service, PipelineRegistry registry, ILogger<RolloutRunObserver>? logger = null)
    {
        this.service = service;
        this.registry = registry;
        this.logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Called with every finished rollout or rollback (after the registry is updated), e.g. for metrics.</summary>
    public event Action<RunDetail, RolloutRunInput>? RunFinished;

    public async Task OnRunFinishedAsync(RunDetail run, CancellationToken cancellationToken)
    {
        if (!RolloutRunKinds.IsRolloutFlow(run.Run.Kind) || run.Run.InputJson is null)
        {
            return;
        }

        var input = RolloutRunInput.FromJson(run.Run.InputJson);
        if (run.Run.Status is RunStatus.Failed or RunStatus.Cancelled)
        {
            var reason = ReasonOf(run);
            var status = run.Run.Status == RunStatus.Failed ? RevisionStatus.Failed : RevisionStatus.Cancelled;
            // The rollback is linked before the failure is recorded, so that whoever sees the rollout failed also
            // sees the rollback that follows it.
            if (ShouldRollBack(run, input))
            {
                await service.StartAutoRollbackAsync(run.Run.Id, input, cancellationToken);
            }

            await registry.MarkFinishedUnsuccessfullyAsync(run.Run.Id, status, reason, cancellationToken);
            if (run.Run.Status == RunStatus.Failed && input.Kind == RolloutRunKinds.Rollout && input.Spec.Rollback == RollbackMode.Auto
                     && input.Spec.From is null)
            {
                logger.LogWarning(
                    "Rollout run {RunId} of pipeline {Pipeline} failed on a first deploy; there is no earlier version to roll back to",
                    run.Run.Id, input.Spec.Pipeline);
            }
        }

        RunFinished?.Invoke(run, input);
    }

    /// <summary>The reason of the run, or of its failed step.</summary>
    public static string ReasonOf(RunDetail run) =>
        run.Steps.FirstOrDefault(s => s.Status == StepStatus.Failed)?.Reason
        ?? run.Run.Reason
        ?? (run.Run.Status == RunStatus.Cancelled ? "cancelled" : "failed without a reason");

    /// <summary>
    /// Only a failed rollout with <c>rollback: auto</c> and a <c>from</c> to go back to, and only when it changed
    /// something: a rollout that stopped at check-current (a mismatch) left the old job untouched.
    /// </summary>
    private static bool ShouldRollBack(RunDetail run, RolloutRunInput input) =>
        run.Run.Status == RunStatus.Failed
        && input.Kind == RolloutRunKinds.Rollout
        && input.Spec.Rollback == RollbackMode.Auto
        && input.Spec.From is not null
        && run.Steps.Any(s => s.Name != RolloutSteps.CheckCurrent && s.StartedAt is not null && s.Status != StepStatus.Skipped);
}
