using System.Text.Json;

namespace Sluice.Engine;

/// <summary>What a step handler sees of its run and step, and how it logs and performs side effects.</summary>
public sealed class StepContext
{
    private readonly RunExecution execution;
    private readonly bool firstCall;
    private readonly HashSet<string> effectKeys = new(StringComparer.Ordinal);

    internal StepContext(RunExecution execution, StepRow step, int attempt, bool resumed, bool firstCall)
    {
        this.firstCall = firstCall;
        this.execution = execution;
        Run = execution.Run.ToSummary();
        Step = step.ToState();
        Attempt = attempt;
        Resumed = resumed;
        DataJson = step.DataJson;
    }

    public RunSummary Run { get; }

    /// <summary>The step as stored when this call began (status running).</summary>
    public StepState Step { get; }

    /// <summary>The attempt, from 1. Waiting re-checks keep the attempt; a retry after a failure increments it.</summary>
    public int Attempt { get; }

    /// <summary>
    /// True when the previous call for this attempt never reported back (the process died or lost its lease): effects
    /// it may have performed are reconciled through <see cref="EffectAsync{T}"/>'s lookup.
    /// </summary>
    public bool Resumed { get; }

    /// <summary>The engine's clock.</summary>
    public TimeProvider TimeProvider => execution.Database.TimeProvider;

    /// <summary>The step's data as JSON, as last set.</summary>
    public string? DataJson { get; private set; }

    /// <summary>The step's input, or the run's input when the step has none.</summary>
    public T GetInput<T>()
    {
        var json = Step.InputJson ?? Run.InputJson
            ?? throw new InvalidOperationException($"Step '{Step.Name}' of run {Run.Id} has no input, nor has its run.");
        return JsonSerializer.Deserialize<T>(json, EngineJson.Options)
            ?? throw new InvalidOperationException($"The input of step '{Step.Name}' of run {Run.Id} is null.");
    }

    /// <summary>What this step kept with <see cref="SetData"/> in an earlier call (a sensor's progress, say).</summary>
    public T? GetData<T>() => DataJson is null ? default : JsonSerializer.Deserialize<T>(DataJson, EngineJson.Options);

    /// <summary>Keeps data with the step; it is stored with this call's outcome and given back in later calls.</summary>
    public void SetData(object data) => DataJson = JsonSerializer.Serialize(data, data.GetType(), EngineJson.Options);

    /// <summary>The output of another step of the run, or default when it has none (yet).</summary>
    public T? GetOutput<T>(string stepName) => execution.GetOutput<T>(stepName);

    /// <summary>Appends a line to the step's log in the store (streamed by <see cref="WorkflowEngine.FollowStepLogsAsync"/>).</summary>
    public Task LogAsync(string message, CancellationToken cancellationToken) =>
        execution.LogAsync(Step.Name, Attempt, message, cancellationToken);

    /// <summary>
    /// Performs a side effect at most once per (run, step, key), across crashes, retries and replicas:
    /// <list type="number">
    /// <item>if the effect is recorded as done, its stored result is returned and nothing runs;</item>
    /// <item>if it was recorded but not completed (a crash or an error during <paramref name="perform"/>),
    /// <paramref name="lookup"/> asks the outside world whether it happened; a non-null answer is stored and returned;</item>
    /// <item>otherwise the key is recorded (after checking that this replica still holds the run's lease and that the
    /// run was not cancelled), <paramref name="perform"/> runs, and its result is stored.</item>
    /// </list>
    /// The one window left is a crash between <paramref name="perform"/> and storing its result; that is exactly what
    /// <paramref name="lookup"/> covers, so it must find an effect that <paramref name="perform"/> made (for example a job
    /// by its labels).
    /// </summary>
    public Task<T> EffectAsync<T>(
        string key, Func<CancellationToken, Task<T?>> lookup, Func<CancellationToken, Task<T>> perform, CancellationToken cancellationToken)
        where T : class =>
        // On a step's very first call no earlier call can have recorded this key, so the store is not asked.
        execution.EffectAsync(Step.Name, Attempt, mayHaveRecords: !firstCall || !effectKeys.Add(key), key, lookup, perform, cancellationToken);
}
