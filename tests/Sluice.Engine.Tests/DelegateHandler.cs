namespace Sluice.Engine.Tests;

/// <summary>A step handler made from a lambda.</summary>
public sealed class DelegateHandler(string kind, Func<StepContext, CancellationToken, Task<StepOutcome>> execute) : IStepHandler
{
    public string Kind { get; } = kind;

    public Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken) => execute(context, cancellationToken);

    public static DelegateHandler Sync(string kind, Func<StepContext, StepOutcome> execute) =>
        new(kind, (ctx, _) => Task.FromResult(execute(ctx)));
}

public sealed class RecordingObserver : IRunObserver
{
    private readonly List<RunDetail> finished = [];

    public Func<RunDetail, Task>? OnFinished { get; set; }

    public IReadOnlyList<RunDetail> Finished
    {
        get
        {
            lock (finished)
            {
                return finished.ToList();
            }
        }
    }

    public async Task OnRunFinishedAsync(RunDetail run, CancellationToken cancellationToken)
    {
        if (OnFinished is not null)
        {
            await OnFinished(run);
        }

        lock (finished)
        {
            finished.Add(run);
        }
    }
}
