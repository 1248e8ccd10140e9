using Sluice.Manifests;

namespace Sluice.Controller;

/// <summary>
/// Starts rollout runs; implemented by the rollout flow (<c>RolloutService</c>). Event intake and the
/// Airflow-compatible API call it, passing the idempotency key of the event that carried the manifest, so that the
/// same object version never starts two rollouts.
/// </summary>
public interface IRolloutStarter
{
    /// <summary>
    /// Starts (or, when a run with <paramref name="idempotencyKey"/> exists, finds) the rollout of
    /// <paramref name="manifest"/> and returns its run id.
    /// </summary>
    /// <param name="source">Where the manifest came from, for people (e.g. <c>manifests/clickstream.yaml#1733068800123</c>).</param>
    /// <exception cref="ManifestRefusedException">The manifest is valid but cannot be rolled out; the message says why.</exception>
    Task<long> StartAsync(RolloutManifest manifest, string idempotencyKey, string source, CancellationToken cancellationToken);
}

/// <summary>
/// Registers and removes schedules for event intake; implemented over the schedule flow's <c>ScheduleService</c>.
/// Both methods are idempotent: registering the same spec twice, or unscheduling twice, changes nothing the second time.
/// </summary>
public interface IScheduleRegistrar
{
    /// <summary>Registers a schedule, or updates the one with the same dagId (the change applies to slots not yet started).</summary>
    /// <exception cref="ManifestRefusedException">The manifest is valid but cannot be registered; the message says why.</exception>
    Task RegisterAsync(ScheduleManifest manifest, string source, CancellationToken cancellationToken);

    /// <summary>Removes a schedule; false when there was none.</summary>
    Task<bool> UnscheduleAsync(string dagId, bool cancelRunning, CancellationToken cancellationToken);
}

/// <summary>
/// Explains what applying a manifest would do (<c>sluice apply --dry-run</c>, <c>POST /v1/manifests?dryRun=true</c>);
/// implemented by the flows. Every registered planner that accepts a manifest's kind is asked.
/// </summary>
public interface IManifestPlanner
{
    bool CanPlan(Manifest manifest);

    Task<ManifestPlan> PlanAsync(Manifest manifest, CancellationToken cancellationToken);
}

/// <summary>The answer of a planner: the steps that would run, and problems that would make the run fail.</summary>
public sealed record ManifestPlan(string Summary, IReadOnlyList<PlannedStep> Steps, IReadOnlyList<string> Problems)
{
    public static ManifestPlan Of(string summary, params PlannedStep[] steps) => new(summary, steps, []);
}

/// <summary>One step a run would take.</summary>
public sealed record PlannedStep(string Name, string Description);

/// <summary>
/// A flow refuses a manifest that parsed and validated (the pipeline is locked, the schedule does not exist…).
/// Intake records the event as rejected with <see cref="Exception.Message"/> as its reason and does not retry it.
/// </summary>
public class ManifestRefusedException : Exception
{
    public ManifestRefusedException()
    {
    }

    public ManifestRefusedException(string message)
        : base(message)
    {
    }

    public ManifestRefusedException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}
