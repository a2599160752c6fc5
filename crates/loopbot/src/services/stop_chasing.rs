//! Stopping the chase for feedback: one person (submitted), a stage (skipped) or the whole loop
//! (decided, closed). A leaf, in the caller's transaction.

use sqlx::AnyConnection;

use crate::db;
use crate::domain::interview_loop::LoopId;

/// Stops chasing: one person (submitted), a stage (skipped) or the whole loop (decided).
pub async fn stop(
    tx: &mut AnyConnection,
    loop_id: LoopId,
    position: Option<u32>,
    user: Option<&str>,
    reason: &str,
) -> sqlx::Result<()> {
    match (position, user) {
        (Some(position), Some(user)) => {
            db::reminders::stop(&mut *tx, loop_id, position, user, reason)
                .await
                .map(drop)
        }
        _ => db::reminders::stop_all(&mut *tx, loop_id, position, reason).await,
    }
}
