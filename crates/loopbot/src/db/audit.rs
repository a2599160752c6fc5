//! The audit record: who changed what in a loop, and when.

use sqlx::AnyExecutor;

use super::trip::Trip;

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;

const RECORD: &str =
    "INSERT INTO audit_log (loop_id, actor_id, action, detail, at) VALUES ($1, $2, $3, $4, $5)";

/// [`record`] in a trip with other statements.
pub fn record_into(
    trip: &mut Trip,
    loop_id: LoopId,
    actor_id: &str,
    action: &str,
    detail: &str,
    at: UnixMillis,
) {
    trip.push(
        RECORD,
        vec![
            loop_id.into(),
            actor_id.into(),
            action.into(),
            detail.into(),
            at.into(),
        ],
    );
}

pub async fn record(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    actor_id: &str,
    action: &str,
    detail: &str,
    at: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(RECORD)
        .bind(loop_id)
        .bind(actor_id)
        .bind(action)
        .bind(detail)
        .bind(at)
        .execute(db)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub actor_id: String,
    pub action: String,
    pub detail: String,
    pub at: UnixMillis,
}

pub async fn for_loop(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<Vec<AuditEntry>> {
    sqlx::query_as(
        "SELECT actor_id, action, detail, at FROM audit_log WHERE loop_id = $1 ORDER BY id",
    )
    .bind(loop_id)
    .fetch_all(db)
    .await
}

/// The newest entry of `action` in the loop: (who, detail).
pub async fn latest(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    action: &str,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as(
        "SELECT actor_id, detail FROM audit_log WHERE loop_id = $1 AND action = $2
          ORDER BY id DESC LIMIT 1",
    )
    .bind(loop_id)
    .bind(action)
    .fetch_optional(db)
    .await
}
