using Sluice.Engine;

namespace Sluice.Controller.Rollouts;

/// <summary>The pipeline registry's tables (module <c>rollouts</c>).</summary>
public sealed class RolloutMigrations : IMigrationSource
{
    public string Module => "rollouts";

    public IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, Sqlite: V1, Postgres: V1),
    ];

    // The same DDL serves both dialects: TEXT, INTEGER and BIGINT mean the same in SQLite and PostgreSQL here.
    private const string V1 = """
        CREATE TABLE pipelines (
            name TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            revision INTEGER NULL,
            version TEXT NULL,
            job_id TEXT NULL,
            job_name TEXT NULL,
            job_state TEXT NULL,
            stable_revision INTEGER NULL,
            active_run_id BIGINT NULL,
            project TEXT NULL,
            region TEXT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE pipeline_revisions (
            pipeline TEXT NOT NULL,
            revision INTEGER NOT NULL,
            run_id BIGINT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            strategy TEXT NOT NULL,
            from_version TEXT NULL,
            version TEXT NOT NULL,
            spec_json TEXT NOT NULL,
            source TEXT NOT NULL,
            status TEXT NOT NULL,
            reason TEXT NULL,
            job_id TEXT NULL,
            job_name TEXT NULL,
            rollback_of_run_id BIGINT NULL,
            rollback_run_id BIGINT NULL,
            created_at BIGINT NOT NULL,
            started_at BIGINT NULL,
            finished_at BIGINT NULL,
            PRIMARY KEY (pipeline, revision)
        );
        CREATE INDEX pipeline_revisions_name ON pipeline_revisions (name);
        CREATE TABLE pipeline_jobs (
            job_id TEXT PRIMARY KEY,
            pipeline TEXT NOT NULL,
            job_name TEXT NOT NULL,
            revision INTEGER NULL,
            run_id BIGINT NULL,
            version TEXT NULL,
            job_type TEXT NULL,
            last_state TEXT NULL,
            created_at BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE INDEX pipeline_jobs_pipeline ON pipeline_jobs (pipeline);
        """;
}
