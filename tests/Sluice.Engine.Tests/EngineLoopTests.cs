using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Sluice.Engine.Tests;

/// <summary>The engine loop on the real clock: wake-ups, shutdown, hosting. Bounds are generous; the benchmark measures latency.</summary>
public abstract class EngineLoopTests
{
    private readonly CancellationTokenSource timeout = new(TimeSpan.FromMinutes(2));

    protected abstract StoreDialect Dialect { get; }

    private CancellationToken Ct => timeout.Token;

    [Fact]
    public async Task The_loop_starts_new_runs_and_due_waits_without_waiting_for_its_poll_interval()
    {
        var store = await TestStores.NewStoreAsync(Dialect);
        await using var database = StateStoreFactory.Open(store);
        var handlers = new IStepHandler[]
        {
            DelegateHandler.Sync("wait-50ms", ctx =>
            {
                if (ctx.GetData<string>() is null)
                {
                    ctx.SetData("checked");
                    return StepOutcome.Wait(TimeSpan.FromMilliseconds(50));
                }

                return StepOutcome.Succeeded();
            }),
        };
        // A poll interval far longer than the test's bound: only in-process wake-ups can make it pass.
        var options = new EngineOptions { PollInterval = TimeSpan.FromMinutes(5) };
        await using var engine = new WorkflowEngine(database, handlers, options: options);
        await engine.EnsureStoreReadyAsync(Ct);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var loop = engine.RunLoopAsync(stop.Token);

        var clock = Stopwatch.StartNew();
        var start = await engine.StartRunAsync(
            new RunRequest("test", "fast", [new StepRequest("a", "wait-50ms"), new StepRequest("b", "wait-50ms")]), Ct);
        var run = await engine.WaitForRunAsync(start.RunId, Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.Equal(RunStatus.Succeeded, run.Run.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60));
        await stop.CancelAsync();
        await loop.WaitAsync(TimeSpan.FromSeconds(30), Ct); // returns normally on shutdown
    }

    [Fact]
    public async Task Stopping_the_loop_hands_a_running_step_back_and_the_next_process_resumes_it()
    {
        var store = await TestStores.NewStoreAsync(Dialect);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resumedSeen = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new DelegateHandler("long", async (ctx, ct) =>
        {
            if (!ctx.Resumed)
            {
                entered.TrySetResult();
                await Task.Delay(Timeout.Infinite, ct);
            }

            resumedSeen.TrySetResult(ctx.Resumed);
            return StepOutcome.Succeeded();
        });

        long runId;
        await using (var database = StateStoreFactory.Open(store))
        await using (var first = new WorkflowEngine(database, [handler], options: new EngineOptions { ReplicaId = "first" }))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var loop = first.RunLoopAsync(stop.Token);
            runId = (await first.StartRunAsync(RunRequests.Steps("handover", "long"), Ct)).RunId;
            await entered.Task.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            await stop.CancelAsync();
            await loop.WaitAsync(TimeSpan.FromSeconds(30), Ct);

            var handedBack = (await first.GetRunAsync(runId, Ct))!;
            Assert.Null(handedBack.Run.LeaseOwner);
            Assert.Equal(StepStatus.Running, handedBack.Steps[0].Status);
            Assert.NotNull(handedBack.Run.NextDueAt);
        }

        await using (var database = StateStoreFactory.Open(store))
        await using (var second = new WorkflowEngine(database, [handler], options: new EngineOptions { ReplicaId = "second" }))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var loop = second.RunLoopAsync(stop.Token);
            var run = await second.WaitForRunAsync(runId, Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
            Assert.Equal(RunStatus.Succeeded, run.Run.Status);
            Assert.True(await resumedSeen.Task);
            await stop.CancelAsync();
            await loop;
        }
    }

    [Fact]
    public async Task The_hosted_engine_migrates_every_module_before_other_services_start_and_runs_work()
    {
        var store = await TestStores.NewStoreAsync(Dialect);
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSluiceEngine(store, o => o.PollInterval = TimeSpan.FromMilliseconds(100));
        builder.Services.AddSingleton<IMigrationSource, NotesModule>();
        builder.Services.AddStepHandler<NoteHandler>();
        builder.Services.AddHostedService<UsesNotesTable>();
        using var host = builder.Build();

        await host.StartAsync(Ct);
        var engine = host.Services.GetRequiredService<WorkflowEngine>();
        var start = await engine.StartRunAsync(RunRequests.Steps("hosted", "note"), Ct);
        var run = await engine.WaitForRunAsync(start.RunId, Ct).WaitAsync(TimeSpan.FromSeconds(60), Ct);
        await host.StopAsync(Ct);

        Assert.Equal(RunStatus.Succeeded, run.Run.Status);
        Assert.True(host.Services.GetServices<IHostedService>().OfType<UsesNotesTable>().Single().SawTable);
    }

    private sealed class NotesModule : IMigrationSource
    {
        public string Module => "notes";

        public IReadOnlyList<Migration> Migrations { get; } =
            [new(1, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")];
    }

    private sealed class NoteHandler(IDatabase database) : IStepHandler
    {
        public string Kind => "note";

        public async Task<StepOutcome> ExecuteAsync(StepContext context, CancellationToken cancellationToken)
        {
            await context.EffectAsync(
                "insert-note",
                _ => Task.FromResult<string?>(null),
                async ct =>
                {
                    await database.WriteAsync(
                        (c, t) => c.ExecuteAsync(t, "INSERT INTO notes (id, text) VALUES (@id, 'hello')", ct, ("id", context.Run.Id)), ct);
                    return "inserted";
                },
                cancellationToken);
            return StepOutcome.Succeeded();
        }
    }

    private sealed class UsesNotesTable(IDatabase database) : IHostedService
    {
        public bool SawTable { get; private set; }

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            // Hosted services registered after AddSluiceEngine find their module's tables in place.
            await database.ReadAsync(c => c.QueryAsync(null, "SELECT COUNT(*) FROM notes", r => r.GetInt64(0), cancellationToken), cancellationToken);
            SawTable = true;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

public sealed class SqliteEngineLoopTests : EngineLoopTests
{
    protected override StoreDialect Dialect => StoreDialect.Sqlite;
}

public sealed class PostgresEngineLoopTests : EngineLoopTests
{
    protected override StoreDialect Dialect => StoreDialect.Postgres;
}
