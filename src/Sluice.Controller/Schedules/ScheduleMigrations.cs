using Sluice.Engine;

namespace Sluice.Controller.Schedules;

/// <summary>
/// The tables of the schedule flow (module <c>schedules</c>):
/// <list type="bullet">
/// <item><c>schedules</c>: one row per dag id with its current spec, pause flag, a tombstone after unschedule, and the
/// cursor (logical date of the latest scheduled slot claimed). <c>revision</c> is a store-wide change counter taken from
/// <c>schedule_counters</c> under a row lock, so replicas can ask for "rows changed since N" without missing one.</item>
/// <item><c>schedule_slots</c>: one row per slot that has (or had) a run; the primary key is what makes a slot claimed once.</item>
/// <item><c>schedule_backfills</c>: one row per backfill request.</item>
/// </list>
/// </summary>
public sealed class ScheduleMigrations : IMigrationSource
{
    public string Module => "schedules";

    public IReadOnlyList<Migration> Migrations { get; } =
    [
        new(
            1,
            Sqlite: """
                CREATE TABLE schedules (
                    dag_id TEXT PRIMARY KEY,
                    spec_json TEXT NOT NULL,
                    source TEXT NOT NULL,
                    paused INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    revision BIGINT NOT NULL,
                    spec_version INTEGER NOT NULL,
                    cursor_at BIGINT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL);
                CREATE INDEX ix_schedules_revision ON schedules (revision);
                CREATE TABLE schedule_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
                INSERT INTO schedule_counters (name, value) VALUES ('revision', 0);
                CREATE TABLE schedule_slots (
                    dag_id TEXT NOT NULL,
                    logical_date BIGINT NOT NULL,
                    interval_start BIGINT NOT NULL,
                    interval_end BIGINT NOT NULL,
                    due_at BIGINT NOT NULL,
                    time_zone TEXT NOT NULL,
                    run_trigger TEXT NOT NULL,
                    generation INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    run_id BIGINT NULL,
                    backfill_id BIGINT NULL,
                    conf_json TEXT NULL,
                    attempts INTEGER NOT NULL,
                    job_id TEXT NULL,
                    job_name TEXT NULL,
                    job_state TEXT NULL,
                    reason TEXT NULL,
                    claimed_at BIGINT NOT NULL,
                    started_at BIGINT NULL,
                    finished_at BIGINT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (dag_id, logical_date));
                CREATE INDEX ix_schedule_slots_dag_state ON schedule_slots (dag_id, state);
                CREATE INDEX ix_schedule_slots_state ON schedule_slots (state, claimed_at);
                CREATE INDEX ix_schedule_slots_backfill ON schedule_slots (backfill_id, state);
                CREATE TABLE schedule_backfills (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    dag_id TEXT NOT NULL,
                    from_date BIGINT NOT NULL,
                    to_date BIGINT NOT NULL,
                    reprocess TEXT NOT NULL,
                    max_active INTEGER NOT NULL,
                    slot_count INTEGER NOT NULL,
                    run_id BIGINT NULL,
                    created_at BIGINT NOT NULL);
                CREATE INDEX ix_schedule_backfills_dag ON schedule_backfills (dag_id);
                """,
            Postgres: """
                CREATE TABLE schedules (
                    dag_id TEXT PRIMARY KEY,
                    spec_json TEXT NOT NULL,
                    source TEXT NOT NULL,
                    paused INTEGER NOT NULL,
                    deleted INTEGER NOT NULL,
                    revision BIGINT NOT NULL,
                    spec_version INTEGER NOT NULL,
                    cursor_at BIGINT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL);
                CREATE INDEX ix_schedules_revision ON schedules (revision);
                CREATE TABLE schedule_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
                INSERT INTO schedule_counters (name, value) VALUES ('revision', 0);
                CREATE TABLE schedule_slots (
                    dag_id TEXT NOT NULL,
                    logical_date BIGINT NOT NULL,
                    interval_start BIGINT NOT NULL,
                    interval_end BIGINT NOT NULL,
                    due_at BIGINT NOT NULL,
                    time_zone TEXT NOT NULL,
                    run_trigger TEXT NOT NULL,
                    generation INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    run_id BIGINT NULL,
                    backfill_id BIGINT NULL,
                    conf_json TEXT NULL,
                    attempts INTEGER NOT NULL,
                    job_id TEXT NULL,
                    job_name TEXT NULL,
                    job_state TEXT NULL,
                    reason TEXT NULL,
                    claimed_at BIGINT NOT NULL,
                    started_at BIGINT NULL,
                    finished_at BIGINT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (dag_id, logical_date));
                CREATE INDEX ix_schedule_slots_dag_state ON schedule_slots (dag_id, state);
                CREATE INDEX ix_schedule_slots_state ON schedule_slots (state, claimed_at);
                CREATE INDEX ix_schedule_slots_backfill ON schedule_slots (backfill_id, state);
                CREATE TABLE schedule_backfills (
                    id BIGSERIAL PRIMARY KEY,
                    dag_id TEXT NOT NULL,
                    from_date BIGINT NOT NULL,
                    to_date BIGINT NOT NULL,
                    reprocess TEXT NOT NULL,
                    max_active INTEGER NOT NULL,
                    slot_count INTEGER NOT NULL,
                    run_id BIGINT NULL,
                    created_at BIGINT NOT NULL);
                CREATE INDEX ix_schedule_backfills_dag ON schedule_backfills (dag_id);
                """),
        new(
            2,
            Sqlite: "ALTER TABLE schedules ADD COLUMN name TEXT NULL;",
            Postgres: "ALTER TABLE schedules ADD COLUMN name TEXT NULL;"),
    ];
}
