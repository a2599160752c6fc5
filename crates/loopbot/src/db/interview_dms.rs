//! The `interview_dms` table: briefs before interviews and nudges after them, each queued
//! exactly once.

use sqlx::{AnyConnection, AnyExecutor};

use super::trip::Trip;

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InterviewDm {
    pub loop_id: LoopId,
    #[sqlx(try_from = "i64")]
    pub position: u32,
    pub user_id: String,
    /// `brief` or `nudge`.
    pub kind: String,
    pub interview_at: UnixMillis,
    pub send_at: UnixMillis,
}

/// In the caller's transaction: the loop's unsent messages become exactly `wanted`. Messages
/// already queued stay queued (a row wanted again is not sent again).
pub async fn replace_unsent(
    tx: &mut AnyConnection,
    loop_id: LoopId,
    wanted: &[InterviewDm],
) -> sqlx::Result<()> {
    // One trip: the stages' briefs and nudges are written while the change holds the writer.
    let mut trip = Trip::new();
    trip.push(
        "DELETE FROM interview_dms WHERE loop_id = $1 AND queued_at IS NULL",
        vec![loop_id.into()],
    );
    for dm in wanted {
        trip.push(
            "INSERT INTO interview_dms (loop_id, position, user_id, kind, interview_at, send_at)
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            vec![
                dm.loop_id.into(),
                dm.position.into(),
                dm.user_id.as_str().into(),
                dm.kind.as_str().into(),
                dm.interview_at.into(),
                dm.send_at.into(),
            ],
        );
    }
    trip.run(tx).await?;
    Ok(())
}

/// Forgets the loop's briefs and nudges not yet queued (none of them will be sent).
pub async fn delete_unsent(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM interview_dms WHERE loop_id = $1 AND queued_at IS NULL")
        .bind(loop_id)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}

/// Messages due by `now` and not yet queued, oldest first.
pub async fn due(
    db: impl AnyExecutor<'_>,
    now: UnixMillis,
    limit: i64,
) -> sqlx::Result<Vec<InterviewDm>> {
    sqlx::query_as(
        "SELECT loop_id, position, user_id, kind, interview_at, send_at FROM interview_dms
          WHERE queued_at IS NULL AND send_at <= $1 ORDER BY send_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Marks a message queued; false when another sweep got there first.
pub async fn claim(
    db: impl AnyExecutor<'_>,
    dm: &InterviewDm,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE interview_dms SET queued_at = $6
          WHERE loop_id = $1 AND position = $2 AND user_id = $3 AND kind = $4
            AND interview_at = $5 AND queued_at IS NULL",
    )
    .bind(dm.loop_id)
    .bind(i64::from(dm.position))
    .bind(&dm.user_id)
    .bind(&dm.kind)
    .bind(dm.interview_at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}
