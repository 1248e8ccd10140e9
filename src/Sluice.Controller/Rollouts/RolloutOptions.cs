using Sluice.Engine;

namespace Sluice.Controller.Rollouts;

/// <summary>Settings of the rollout flow; <see cref="Validate"/> reports every problem at once.</summary>
public sealed class RolloutOptions
{
    /// <summary>
    /// How often a waiting step (stop, update, validation) looks at the job again. Dataflow takes minutes to start a
    /// job, so the default is gentle on the API quota; the emulator and tests use much shorter intervals.
    /// </summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a cancelled job may take to reach a terminal state before the rollout fails.</summary>
    public TimeSpan CancelTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Retries of a step after a transient failure (Dataflow unreachable after the client's own retries).</summary>
    public RetryPolicy StepRetry { get; set; } = new() { MaxAttempts = 5, InitialDelay = TimeSpan.FromSeconds(2), MaxDelay = TimeSpan.FromMinutes(1) };

    public void Validate()
    {
        var problems = new List<string>();
        if (PollInterval <= TimeSpan.Zero)
        {
            problems.Add($"poll interval must be positive (got {PollInterval})");
        }

        if (CancelTimeout <= TimeSpan.Zero)
        {
            problems.Add($"cancel timeout must be positive (got {CancelTimeout})");
        }

        problems.AddRange(StepRetry.Validate("rollout step retry policy"));
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid rollout options: " + string.Join("; ", problems) + ".");
        }
    }
}
