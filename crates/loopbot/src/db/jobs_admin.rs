//! Reads and writes for `loopbot jobs`: the outbound work an operator looks at (queued,
//! running and failed jobs) and the requeueing of failed jobs. The worker's own statements are
//! in [`super::jobs`].

use sqlx::AnyExecutor;

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;

/// One job that is not done, as an operator sees it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PendingJob {
    pub id: i64,
    pub kind: String,
    pub loop_id: Option<LoopId>,
    /// `queued`, `running` or `failed`.
    pub state: String,
    /// When a queued job runs next.
    pub run_at: UnixMillis,
    /// Runs so far (including the one in progress for a running job).
    pub attempts: i64,
    /// Who runs it (`host:pid:…`), for a running job.
    pub locked_by: Option<String>,
    /// Until when its worker holds it, for a running job.
    pub locked_until: Option<UnixMillis>,
    pub last_error: Option<String>,
    pub created_at: UnixMillis,
    /// For a failed job: when it was given up on.
    pub updated_at: UnixMillis,
}

/// A job that was put back in the queue.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RequeuedJob {
    pub id: i64,
    pub kind: String,
    pub loop_id: Option<LoopId>,
}

/// Queued, running and failed jobs (`state` picks one of them), oldest first.
pub async fn pending(
    db: impl AnyExecutor<'_>,
    state: Option<&str>,
) -> sqlx::Result<Vec<PendingJob>> {
    sqlx::query_as(
        "SELECT id, kind, loop_id, state, run_at, attempts, locked_by, locked_until, last_error,
                created_at, updated_at
           FROM jobs
          WHERE state IN ('queued', 'running', 'failed') AND ($1 IS NULL OR state = $1)
          ORDER BY created_at, id",
    )
    .bind(state)
    .fetch_all(db)
    .await
}

/// The state of one job; `None` when there is no such job.
pub async fn state_of(db: impl AnyExecutor<'_>, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT state FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Queues a failed job again to run at `now`, with its attempts reset and no lease holder.
/// `last_error` is kept until the job runs again. `None` when the job does not exist or is
/// not failed (then nothing changes).
pub async fn requeue_failed(
    db: impl AnyExecutor<'_>,
    id: i64,
    now: UnixMillis,
) -> sqlx::Result<Option<RequeuedJob>> {
    sqlx::query_as(
        "UPDATE jobs SET state = 'queued', run_at = $2, attempts = 0, locked_by = NULL,
                locked_until = NULL, updated_at = $2
          WHERE id = $1 AND state = 'failed'
         RETURNING id, kind, loop_id",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(db)
    .await
}

/// [`requeue_failed`] for every failed job; returns them by id.
pub async fn requeue_all_failed(
    db: impl AnyExecutor<'_>,
    now: UnixMillis,
) -> sqlx::Result<Vec<RequeuedJob>> {
    let mut requeued: Vec<RequeuedJob> = sqlx::query_as(
        "UPDATE jobs SET state = 'queued', run_at = $1, attempts = 0, locked_by = NULL,
                locked_until = NULL, updated_at = $1
          WHERE state = 'failed'
         RETURNING id, kind, loop_id",
    )
    .bind(now)
    .fetch_all(db)
    .await?;
    // RETURNING has no defined order.
    requeued.sort_by_key(|job| job.id);
    Ok(requeued)
}
