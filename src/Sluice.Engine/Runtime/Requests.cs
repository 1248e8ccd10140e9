namespace Sluice.Engine;

/// <summary>What to run. Steps execute in list order unless <see cref="StepRequest.DependsOn"/> says otherwise.</summary>
/// <param name="Kind">What sort of run this is (<c>rollout</c>, <c>rollback</c>, <c>slot</c>, …).</param>
/// <param name="Name">A human name (the pipeline, the schedule slot…).</param>
/// <param name="MutexKey">Runs with the same key execute one at a time, in arrival order.</param>
/// <param name="IdempotencyKey">Starting a second run with the same key returns the first run instead.</param>
/// <param name="Timeout">The longest the run may take from its start (not counting time queued behind its mutex).</param>
public sealed record RunRequest(
    string Kind,
    string Name,
    IReadOnlyList<StepRequest> Steps,
    string? InputJson = null,
    string? MutexKey = null,
    string? IdempotencyKey = null,
    long? ParentRunId = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    TimeSpan? Timeout = null);

/// <summary>One step of a run.</summary>
/// <param name="DependsOn">
/// Steps that must succeed (or be skipped) first. Null means "the previous step in the list" so that a plain list runs
/// in order; an empty list means "no dependency".
/// </param>
/// <param name="Retry">Retry policy; null uses <see cref="EngineOptions.DefaultRetry"/>.</param>
/// <param name="Timeout">The longest the step may take from its first start, waits and retries included.</param>
public sealed record StepRequest(
    string Name,
    string Kind,
    string? InputJson = null,
    IReadOnlyList<string>? DependsOn = null,
    RetryPolicy? Retry = null,
    TimeSpan? Timeout = null);

/// <summary>The answer to <see cref="WorkflowEngine.StartRunAsync"/>.</summary>
/// <param name="Created">False when a run with the same idempotency key already existed; <paramref name="RunId"/> is that run.</param>
public sealed record RunStart(long RunId, bool Created);

/// <summary>Exponential backoff with jitter: delay(n) = min(MaxDelay, InitialDelay × Multiplier^(n-1)) ± JitterFraction.</summary>
public sealed record RetryPolicy
{
    public static RetryPolicy Default { get; } = new();

    /// <summary>A single attempt: a Retry outcome or an exception fails the step.</summary>
    public static RetryPolicy NoRetry { get; } = new() { MaxAttempts = 1 };

    /// <summary>Attempts in total, the first included.</summary>
    public int MaxAttempts { get; init; } = 3;

    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    public double Multiplier { get; init; } = 2;

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The delay varies uniformly by ± this fraction so that many failing steps do not retry in lockstep.</summary>
    public double JitterFraction { get; init; } = 0.2;

    /// <summary>The delay before attempt <paramref name="failedAttempt"/> + 1; <paramref name="random01"/> is uniform in [0, 1).</summary>
    public TimeSpan GetDelay(int failedAttempt, double random01)
    {
        var exponent = Math.Max(0, failedAttempt - 1);
        var baseMs = Math.Min(MaxDelay.TotalMilliseconds, InitialDelay.TotalMilliseconds * Math.Pow(Multiplier, exponent));
        var jittered = baseMs * (1 + (JitterFraction * ((2 * random01) - 1)));
        return TimeSpan.FromMilliseconds(Math.Max(1, jittered));
    }

    /// <summary>Problems with this policy, empty when valid.</summary>
    public IEnumerable<string> Validate(string owner)
    {
        if (MaxAttempts < 1)
        {
            yield return $"{owner}: retry maxAttempts must be at least 1 (got {MaxAttempts}).";
        }

        if (InitialDelay < TimeSpan.Zero || MaxDelay < TimeSpan.Zero)
        {
            yield return $"{owner}: retry delays must not be negative.";
        }

        if (Multiplier < 1)
        {
            yield return $"{owner}: retry multiplier must be at least 1 (got {Multiplier}).";
        }

        if (JitterFraction is < 0 or > 1)
        {
            yield return $"{owner}: retry jitter fraction must be between 0 and 1 (got {JitterFraction}).";
        }
    }
}

/// <summary>Filters for <see cref="WorkflowEngine.ListRunsAsync"/>; newest first, paged by id.</summary>
public sealed record RunQuery
{
    public string? Kind { get; init; }

    public string? Name { get; init; }

    public IReadOnlyList<RunStatus>? Statuses { get; init; }

    public string? MutexKey { get; init; }

    public long? ParentRunId { get; init; }

    /// <summary>Every label given must match.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    /// <summary>Only runs with a smaller id (the <see cref="RunPage.NextBeforeId"/> of the previous page).</summary>
    public long? BeforeId { get; init; }

    public int Limit { get; init; } = 50;
}

public sealed record RunPage(IReadOnlyList<RunSummary> Runs, long? NextBeforeId);
