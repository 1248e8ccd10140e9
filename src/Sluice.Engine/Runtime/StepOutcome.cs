namespace Sluice.Engine;

public enum StepOutcomeKind
{
    Succeeded,
    Wait,
    Retry,
    Failed,
    Skipped,
}

/// <summary>What a step handler decided. Create with the static factories.</summary>
public sealed record StepOutcome
{
    private StepOutcome(StepOutcomeKind kind)
    {
        Kind = kind;
    }

    public StepOutcomeKind Kind { get; }

    /// <summary>Why (failed, skipped, retry).</summary>
    public string? Reason { get; private init; }

    /// <summary>The step's output, serialized as JSON (succeeded).</summary>
    public object? Output { get; private init; }

    /// <summary>Re-check after this long (wait), or retry after this long instead of the policy's backoff (retry).</summary>
    public TimeSpan? Delay { get; private init; }

    /// <summary>Re-check at this time (wait).</summary>
    public DateTimeOffset? Until { get; private init; }

    public static StepOutcome Succeeded() => new(StepOutcomeKind.Succeeded);

    public static StepOutcome SucceededWith(object output) => new(StepOutcomeKind.Succeeded) { Output = output };

    /// <summary>Not done yet: the engine persists the step's data, frees the thread and calls the handler again later.</summary>
    public static StepOutcome Wait(TimeSpan delay) => new(StepOutcomeKind.Wait) { Delay = delay };

    public static StepOutcome WaitUntil(DateTimeOffset time) => new(StepOutcomeKind.Wait) { Until = time };

    /// <summary>A transient failure: try again after the policy's backoff, until the attempts run out.</summary>
    public static StepOutcome Retry(string reason) => new(StepOutcomeKind.Retry) { Reason = reason };

    /// <summary>A transient failure with a known delay (for example an HTTP Retry-After).</summary>
    public static StepOutcome Retry(string reason, TimeSpan after) => new(StepOutcomeKind.Retry) { Reason = reason, Delay = after };

    /// <summary>A permanent failure: the run fails with this reason.</summary>
    public static StepOutcome Failed(string reason) => new(StepOutcomeKind.Failed) { Reason = reason };

    /// <summary>Nothing to do; steps that depend on this one still run.</summary>
    public static StepOutcome Skipped(string reason) => new(StepOutcomeKind.Skipped) { Reason = reason };
}

/// <summary>Executes the steps of one kind. Register with <c>services.AddSingleton&lt;IStepHandler, X&gt;()</c>.</summary>
/// <remarks>
/// A handler may be called more than once for the same attempt (after a crash or a lost lease, with
/// <see cref="StepContext.Resumed"/> set), so it performs side effects only through <see cref="StepContext.EffectAsync{T}"/>.
/// An exception counts as <see cref="StepOutcome.Retry(string)"/>.
/// </remarks>
public interface IStepHandler
{
    string Kind { get; }

    Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken);
}

/// <summary>Told when a run finishes (succeeded, failed or cancelled). At least once: implementations must be idempotent.</summary>
public interface IRunObserver
{
    Task OnRunFinishedAsync(RunDetail run, CancellationToken cancellationToken);
}
