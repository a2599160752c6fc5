//! The durable jobs table. Use cases insert jobs in their own transaction; the worker claims
//! one due job at a time with a single UPDATE (atomic, also across processes), and a lease
//! lets another worker take over a job whose worker died.

use sqlx::SqliteExecutor;

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    pub loop_id: Option<LoopId>,
    pub payload: String,
    /// At most one job with this key exists; enqueueing it again is a no-op.
    pub dedupe_key: Option<String>,
    pub run_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub loop_id: Option<LoopId>,
    pub payload: String,
    /// Including this run.
    pub attempts: i64,
}

/// Returns whether a job was inserted (false when its dedupe key already exists).
pub async fn enqueue(
    db: impl SqliteExecutor<'_>,
    job: &NewJob,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO jobs (kind, loop_id, payload, dedupe_key, run_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&job.kind)
    .bind(job.loop_id)
    .bind(&job.payload)
    .bind(&job.dedupe_key)
    .bind(job.run_at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Queues a refresh job (re-rendering a message from the current state). If it is queued
/// already, nothing changes: it will render the latest state when it runs. If it is running,
/// it runs once more when done. If it ran before, it is queued again, but not earlier than
/// `min_gap_ms` after its last run, so a burst of changes makes one update per gap.
pub async fn enqueue_refresh(
    db: impl SqliteExecutor<'_>,
    job: &NewJob,
    now: UnixMillis,
    min_gap_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO jobs (kind, loop_id, payload, dedupe_key, run_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)
         ON CONFLICT (dedupe_key) DO UPDATE SET
             rerun = CASE WHEN jobs.state = 'running' THEN 1 ELSE jobs.rerun END,
             run_at = CASE WHEN jobs.state IN ('done', 'failed')
                           THEN MAX(excluded.run_at, jobs.updated_at + ?7) ELSE jobs.run_at END,
             attempts = CASE WHEN jobs.state IN ('done', 'failed') THEN 0 ELSE jobs.attempts END,
             state = CASE WHEN jobs.state IN ('done', 'failed') THEN 'queued' ELSE jobs.state END",
    )
    .bind(&job.kind)
    .bind(job.loop_id)
    .bind(&job.payload)
    .bind(&job.dedupe_key)
    .bind(job.run_at)
    .bind(now)
    .bind(min_gap_ms)
    .execute(db)
    .await?;
    Ok(())
}

/// Claims the next due job: queued and due, or running with an expired lease.
pub async fn claim_due(
    db: impl SqliteExecutor<'_>,
    now: UnixMillis,
    lease_ms: i64,
) -> sqlx::Result<Option<ClaimedJob>> {
    sqlx::query_as(
        "UPDATE jobs
            SET state = 'running', attempts = attempts + 1, locked_until = ?1 + ?2, updated_at = ?1
          WHERE id = (SELECT id FROM jobs
                       WHERE (state = 'queued' AND run_at <= ?1)
                          OR (state = 'running' AND locked_until <= ?1)
                       ORDER BY run_at, id
                       LIMIT 1)
         RETURNING id, kind, loop_id, payload, attempts",
    )
    .bind(now)
    .bind(lease_ms)
    .fetch_optional(db)
    .await
}

/// Marks a job done, or queues it again `rerun_gap_ms` from now if it was asked for again
/// while it ran.
pub async fn complete(
    db: impl SqliteExecutor<'_>,
    id: i64,
    now: UnixMillis,
    rerun_gap_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = CASE rerun WHEN 1 THEN 'queued' ELSE 'done' END,
                run_at = CASE rerun WHEN 1 THEN ?2 + ?3 ELSE run_at END,
                attempts = CASE rerun WHEN 1 THEN 0 ELSE attempts END,
                rerun = 0, locked_until = NULL, last_error = NULL, updated_at = ?2
          WHERE id = ?1",
    )
    .bind(id)
    .bind(now)
    .bind(rerun_gap_ms)
    .execute(db)
    .await?;
    Ok(())
}

/// Puts a claimed job back in the queue to run at `run_at`. `counted: false` gives back the
/// attempt (the failure was not the job's: a paused token, working hours).
pub async fn requeue(
    db: impl SqliteExecutor<'_>,
    id: i64,
    run_at: UnixMillis,
    error: &str,
    now: UnixMillis,
    counted: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = 'queued', run_at = ?2, locked_until = NULL, last_error = ?3,
                attempts = CASE WHEN ?5 THEN attempts ELSE MAX(attempts - 1, 0) END,
                updated_at = ?4
          WHERE id = ?1",
    )
    .bind(id)
    .bind(run_at)
    .bind(error)
    .bind(now)
    .bind(counted)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn give_up(
    db: impl SqliteExecutor<'_>,
    id: i64,
    error: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = 'failed', locked_until = NULL, last_error = ?2, updated_at = ?3
          WHERE id = ?1",
    )
    .bind(id)
    .bind(error)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets finished jobs last touched before `older_than` (the table would grow forever).
pub async fn prune_done(db: impl SqliteExecutor<'_>, older_than: UnixMillis) -> sqlx::Result<u64> {
    let result = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?1")
        .bind(older_than)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Number of jobs per state, for /metrics.
pub async fn count_by_state(db: impl SqliteExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
        .fetch_all(db)
        .await
}

/// When the next queued job is due, so an idle worker knows how long it may sleep.
pub async fn next_due_at(db: impl SqliteExecutor<'_>) -> sqlx::Result<Option<UnixMillis>> {
    sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE state = 'queued'")
        .fetch_one(db)
        .await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Every job of a loop, oldest first (for tests and operators).
pub async fn for_loop(db: impl SqliteExecutor<'_>, loop_id: LoopId) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as(
        "SELECT id, kind, state, attempts, last_error FROM jobs WHERE loop_id = ?1 ORDER BY id",
    )
    .bind(loop_id)
    .fetch_all(db)
    .await
}
