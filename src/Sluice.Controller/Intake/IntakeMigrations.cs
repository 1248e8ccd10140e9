using Sluice.Engine;

namespace Sluice.Controller.Intake;

/// <summary>
/// The event ledger's tables (module <c>intake</c>):
/// <list type="bullet">
/// <item><c>intake_events</c>: one row per object version or deletion, unique on (bucket, object, generation, change),
/// inserted before anything is dispatched;</item>
/// <item><c>intake_objects</c>: the objects as intake last saw them (the "known" set a reconciling scan compares
/// against);</item>
/// <item><c>intake_object_targets</c>: what each object's dispatched version declares (<c>schedule:DAG_ID</c>), so that
/// deleting a schedule manifest unschedules exactly the dagIds no other object declares;</item>
/// <item><c>intake_dag_runs</c>: runs triggered through the Airflow-compatible API, by dag_run_id.</item>
/// </list>
/// </summary>
public sealed class IntakeMigrations : IMigrationSource
{
    public string Module => "intake";

    public IReadOnlyList<Migration> Migrations { get; } =
    [
        new Migration(
            1,
            Sqlite: """
                CREATE TABLE intake_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    channel TEXT NOT NULL,
                    bucket TEXT NOT NULL,
                    object_name TEXT NOT NULL,
                    generation BIGINT NOT NULL,
                    change TEXT NOT NULL,
                    source TEXT NOT NULL,
                    state TEXT NOT NULL,
                    reason TEXT NULL,
                    problems TEXT NULL,
                    dispatches TEXT NULL,
                    previous_targets TEXT NULL,
                    size BIGINT NULL,
                    object_updated_at BIGINT NULL,
                    observed_at BIGINT NULL,
                    received_at BIGINT NOT NULL,
                    finished_at BIGINT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (bucket, object_name, generation, change)
                );
                CREATE INDEX intake_events_state ON intake_events (state, id);
                CREATE INDEX intake_events_object ON intake_events (object_name, generation);
                CREATE TABLE intake_objects (
                    bucket TEXT NOT NULL,
                    object_name TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    generation BIGINT NOT NULL,
                    size BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (bucket, object_name)
                );
                CREATE INDEX intake_objects_channel ON intake_objects (channel);
                CREATE TABLE intake_object_targets (
                    bucket TEXT NOT NULL,
                    object_name TEXT NOT NULL,
                    target TEXT NOT NULL,
                    PRIMARY KEY (bucket, object_name, target)
                );
                CREATE INDEX intake_object_targets_target ON intake_object_targets (target);
                CREATE TABLE intake_dag_runs (
                    dag_id TEXT NOT NULL,
                    dag_run_id TEXT NOT NULL,
                    logical_date BIGINT NOT NULL,
                    conf TEXT NULL,
                    run_id BIGINT NULL,
                    bucket TEXT NULL,
                    object_name TEXT NULL,
                    generation BIGINT NULL,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (dag_id, dag_run_id)
                );
                CREATE UNIQUE INDEX intake_dag_runs_logical_date ON intake_dag_runs (dag_id, logical_date);
                """,
            Postgres: """
                CREATE TABLE intake_events (
                    id BIGSERIAL PRIMARY KEY,
                    channel TEXT NOT NULL,
                    bucket TEXT NOT NULL,
                    object_name TEXT NOT NULL,
                    generation BIGINT NOT NULL,
                    change TEXT NOT NULL,
                    source TEXT NOT NULL,
                    state TEXT NOT NULL,
                    reason TEXT NULL,
                    problems TEXT NULL,
                    dispatches TEXT NULL,
                    previous_targets TEXT NULL,
                    size BIGINT NULL,
                    object_updated_at BIGINT NULL,
                    observed_at BIGINT NULL,
                    received_at BIGINT NOT NULL,
                    finished_at BIGINT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (bucket, object_name, generation, change)
                );
                CREATE INDEX intake_events_state ON intake_events (state, id);
                CREATE INDEX intake_events_object ON intake_events (object_name, generation);
                CREATE TABLE intake_objects (
                    bucket TEXT NOT NULL,
                    object_name TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    generation BIGINT NOT NULL,
                    size BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (bucket, object_name)
                );
                CREATE INDEX intake_objects_channel ON intake_objects (channel);
                CREATE TABLE intake_object_targets (
                    bucket TEXT NOT NULL,
                    object_name TEXT NOT NULL,
                    target TEXT NOT NULL,
                    PRIMARY KEY (bucket, object_name, target)
                );
                CREATE INDEX intake_object_targets_target ON intake_object_targets (target);
                CREATE TABLE intake_dag_runs (
                    dag_id TEXT NOT NULL,
                    dag_run_id TEXT NOT NULL,
                    logical_date BIGINT NOT NULL,
                    conf TEXT NULL,
                    run_id BIGINT NULL,
                    bucket TEXT NULL,
                    object_name TEXT NULL,
                    generation BIGINT NULL,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (dag_id, dag_run_id)
                );
                CREATE UNIQUE INDEX intake_dag_runs_logical_date ON intake_dag_runs (dag_id, logical_date);
                """),

        // Which process handles a received event, until when: with several replicas, one handles it, and the others
        // take it over when that one died before finishing.
        new Migration(
            2,
            Sqlite: """
                ALTER TABLE intake_events ADD COLUMN claimed_by TEXT NULL;
                ALTER TABLE intake_events ADD COLUMN claimed_until BIGINT NULL;
                """,
            Postgres: """
                ALTER TABLE intake_events ADD COLUMN claimed_by TEXT NULL;
                ALTER TABLE intake_events ADD COLUMN claimed_until BIGINT NULL;
                """),
    ];
}
