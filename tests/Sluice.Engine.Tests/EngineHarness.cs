using Microsoft.Extensions.Time.Testing;

namespace Sluice.Engine.Tests;

/// <summary>A real store with a fake clock, and engines (replicas) on it.</summary>
public sealed class EngineHarness : IAsyncDisposable
{
    private readonly List<WorkflowEngine> engines = [];
    private readonly List<IDatabase> databases = [];

    private EngineHarness(string storeUri, FakeTimeProvider time)
    {
        StoreUri = storeUri;
        Time = time;
    }

    public string StoreUri { get; }

    public FakeTimeProvider Time { get; }

    public List<IStepHandler> Handlers { get; } = [];

    public RecordingObserver Observer { get; } = new();

    public static async Task<EngineHarness> CreateAsync(StoreDialect dialect) =>
        new(await TestStores.NewStoreAsync(dialect), new FakeTimeProvider(new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero)));

    public IDatabase OpenDatabase()
    {
        var database = StateStoreFactory.Open(StoreUri, Time);
        databases.Add(database);
        return database;
    }

    /// <summary>A replica with its own connection pool, the harness's handlers and observer.</summary>
    public WorkflowEngine NewEngine(string replicaId = "replica-a", Action<EngineOptions>? configure = null, bool observe = true)
    {
        var options = new EngineOptions
        {
            ReplicaId = replicaId,
            LeaseDuration = TimeSpan.FromSeconds(30),
            DefaultRetry = new RetryPolicy { MaxAttempts = 3, InitialDelay = TimeSpan.FromSeconds(1), JitterFraction = 0 },
        };
        configure?.Invoke(options);
        var engine = new WorkflowEngine(OpenDatabase(), Handlers, observe ? [Observer] : [], options);
        engines.Add(engine);
        return engine;
    }

    public void Handle(string kind, Func<StepContext, StepOutcome> execute) => Handlers.Add(DelegateHandler.Sync(kind, execute));

    public void HandleAsync(string kind, Func<StepContext, CancellationToken, Task<StepOutcome>> execute) =>
        Handlers.Add(new DelegateHandler(kind, execute));

    public async ValueTask DisposeAsync()
    {
        foreach (var engine in engines)
        {
            await engine.DisposeAsync();
        }

        foreach (var database in databases)
        {
            await database.DisposeAsync();
        }
    }
}

public static class RunRequests
{
    public static RunRequest Steps(string name, params string[] kinds) =>
        new("test", name, kinds.Select((k, i) => new StepRequest($"s{i + 1}", k)).ToList());
}
