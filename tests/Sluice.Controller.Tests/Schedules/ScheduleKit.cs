using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Sluice.Controller.Schedules;
using Sluice.Dataflow;
using Sluice.Engine;
using Sluice.Manifests;

namespace Sluice.Controller.Tests.Schedules;

/// <summary>
/// The schedule flow wired by hand on a real store (a SQLite file, or a fresh schema of the test PostgreSQL), with a
/// fake clock: tests advance the clock, dispatch, and process the engine's due work themselves.
/// </summary>
public sealed class ScheduleKit : IAsyncDisposable
{
    public const string PostgresVariable = "SLUICE_TEST_POSTGRES";

    private ScheduleKit(IDatabase database, FakeTimeProvider clock, IDataflowClients dataflow, ScheduleOptions options, string replicaId)
    {
        Database = database;
        Clock = clock;
        Options = options;
        Dataflow = dataflow;
        var handlers = new List<IStepHandler>();
        var observers = new List<IRunObserver>();
        Engine = new WorkflowEngine(database, handlers, observers, new EngineOptions { ReplicaId = replicaId }, migrations: [new ScheduleMigrations()]);
        Scheduler = new SlotScheduler(database, Engine, options, clock);
        Service = new ScheduleService(database, Engine, Scheduler, dataflow, options, clock);
        handlers.Add(new SlotRenderStep(database));
        handlers.Add(new SlotLaunchStep(database, dataflow));
        handlers.Add(new SlotWaitStep(database, dataflow, options));
        handlers.Add(new BackfillStep(database, Engine, options));
        observers.Add(new SlotRunObserver(database, Scheduler));
    }

    public IDatabase Database { get; }

    public FakeTimeProvider Clock { get; }

    public ScheduleOptions Options { get; }

    public IDataflowClients Dataflow { get; }

    public WorkflowEngine Engine { get; }

    public SlotScheduler Scheduler { get; }

    public ScheduleService Service { get; }

    public static string NewSqliteUri()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sluice-schedule-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return "sqlite://" + Path.Combine(dir, "sluice.db");
    }

    /// <summary>A connection string whose search path is a new, empty schema of the test server; fails (never skips) without one.</summary>
    public static async Task<string> NewPostgresStoreAsync()
    {
        var baseConnection = System.Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set: run the tests through scripts/test, or start a PostgreSQL server and set " +
                $"{PostgresVariable} to its Npgsql connection string (source scripts/prereqs.sh; start_throwaway_postgres).");
        var schema = "s_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(baseConnection))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE SCHEMA {schema}", connection);
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(baseConnection) { SearchPath = schema }.ConnectionString;
    }

    /// <summary>A kit on <paramref name="storeUri"/>; a Dataflow client that is never reached unless a test processes runs.</summary>
    public static async Task<ScheduleKit> StartAsync(
        string storeUri, FakeTimeProvider clock, IDataflowClients? dataflow = null, ScheduleOptions? options = null, string replicaId = "replica-a")
    {
        var database = StateStoreFactory.Open(storeUri, clock);
        var kit = new ScheduleKit(
            database,
            clock,
            dataflow ?? DataflowClientCache.ForEmulator(new Uri("http://127.0.0.1:9/"), clock),
            options ?? new ScheduleOptions { JobPollInterval = TimeSpan.FromSeconds(1), SyncInterval = TimeSpan.FromSeconds(5) },
            replicaId);
        await kit.Scheduler.LoadAsync(CancellationToken.None);
        return kit;
    }

    public static FakeTimeProvider ClockAt(string isoUtc) =>
        new(DateTimeOffset.Parse(isoUtc, System.Globalization.CultureInfo.InvariantCulture)) { AutoAdvanceAmount = TimeSpan.Zero };

    public static ScheduleManifest Manifest(
        string dagId,
        string schedule = "@daily",
        string startDate = "2026-11-01T00:00:00Z",
        string? endDate = null,
        bool catchup = true,
        int maxActiveRuns = 16,
        bool paused = false,
        string timeZone = "UTC",
        string jobName = "wc-{{ ds_nodash }}",
        string template = "gs://sluice-examples/templates/wordcount",
        IReadOnlyDictionary<string, string>? parameters = null,
        int retries = 0,
        TimeSpan? retryDelay = null) => new()
        {
            Metadata = new ManifestMetadata(dagId.Replace('_', '-')),
            Spec = new ScheduleSpec
            {
                DagId = dagId,
                Schedule = schedule,
                TimeZone = timeZone,
                StartDate = DateTimeOffset.Parse(startDate, System.Globalization.CultureInfo.InvariantCulture),
                EndDate = endDate is null ? null : DateTimeOffset.Parse(endDate, System.Globalization.CultureInfo.InvariantCulture),
                Catchup = catchup,
                MaxActiveRuns = maxActiveRuns,
                Paused = paused,
                Retries = new Manifests.RetryPolicy { Count = retries, Delay = retryDelay ?? TimeSpan.FromSeconds(1) },
                Job = new ScheduledJob
                {
                    Template = new TemplateRef(TemplateKind.Classic, template),
                    JobName = jobName,
                    Parameters = parameters ?? new Dictionary<string, string>
                    {
                        ["inputFile"] = "gs://sluice-examples/data/words-{{ ds_nodash }}.txt",
                        ["output"] = "gs://sluice-output/" + dagId + "/{{ ds }}/counts.txt",
                    },
                },
            },
        };

    /// <summary>Claims and starts what is due at the clock's time.</summary>
    public Task<int> DispatchAsync() => Scheduler.DispatchDueAsync(CancellationToken.None);

    public async Task<IReadOnlyList<SlotRunInfo>> SlotsAsync(string dagId) =>
        (await Service.ListSlotsAsync(dagId, 1000, null, CancellationToken.None)).OrderBy(s => s.LogicalDate).ToList();

    /// <summary>Ends a slot's run the way a user would (cancel), and lets the engine finish it and tell the observer.</summary>
    public async Task FinishRunAsync(long runId)
    {
        await Engine.CancelRunAsync(runId, "test finished it", CancellationToken.None);
        await Engine.ProcessDueRunsAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        Scheduler.Dispose();
        await Engine.DisposeAsync();
        await Database.DisposeAsync();
        if (Dataflow is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }
}
