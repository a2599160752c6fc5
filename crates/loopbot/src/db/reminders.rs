//! Reminder state per (loop, stage, interviewer), the cached Slack time zones, and who has
//! opened the App Home.

use sqlx::{AnyConnection, AnyExecutor, Row};

use super::trip::{Read, Trip};

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReminderRow {
    pub loop_id: LoopId,
    #[sqlx(try_from = "i64")]
    pub position: u32,
    pub user_id: String,
    pub due_at: UnixMillis,
    pub next_at: Option<UnixMillis>,
    pub sent_count: i64,
    pub escalated_at: Option<UnixMillis>,
    pub stopped_reason: Option<String>,
    /// Reminders queued so far: the number of the latest reminder job (see the migration
    /// `reminders_by_delivery`). `sent_count` counts the ones Slack accepted.
    pub queued_count: i64,
    /// The reminder queued and not yet delivered, if any; while set, nothing more is queued.
    pub pending_seq: Option<i64>,
}

const COLUMNS: &str = "loop_id, position, user_id, due_at, next_at, sent_count, escalated_at, \
                       stopped_reason, queued_count, pending_seq";

/// The sweep: reminders due now, oldest first. Served by the partial index `reminders_due`.
pub const DUE_SQL: &str = "SELECT loop_id, position, user_id, due_at, next_at, sent_count, \
     escalated_at, stopped_reason, queued_count, pending_seq
   FROM reminders WHERE next_at IS NOT NULL AND next_at <= $1 ORDER BY next_at LIMIT $2";

pub async fn due(
    db: impl AnyExecutor<'_>,
    now: UnixMillis,
    limit: i64,
) -> sqlx::Result<Vec<ReminderRow>> {
    sqlx::query_as(DUE_SQL)
        .bind(now)
        .bind(limit)
        .fetch_all(db)
        .await
}

pub async fn for_loop(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<Vec<ReminderRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM reminders WHERE loop_id = $1 ORDER BY position, user_id"
    )))
    .bind(loop_id)
    .fetch_all(db)
    .await
}

pub async fn get(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> sqlx::Result<Option<ReminderRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM reminders WHERE loop_id = $1 AND position = $2 AND user_id = $3"
    )))
    .bind(loop_id)
    .bind(i64::from(position))
    .bind(user)
    .fetch_optional(db)
    .await
}

/// Sets the due time of an assignment. A row not yet reminded (and not stopped) is chased
/// from its new due time; one already reminded keeps its cadence. A first reminder in flight
/// for a due time that changed is dropped (its job finds it no longer pending): it would name
/// the old time, and the new one may not have come yet.
pub async fn upsert(
    db: &mut AnyConnection,
    loop_id: LoopId,
    position: u32,
    user: &str,
    due_at: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO reminders (loop_id, position, user_id, due_at, next_at) VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (loop_id, position, user_id) DO UPDATE SET
             due_at = excluded.due_at,
             pending_seq = CASE WHEN reminders.sent_count = 0
                                     AND reminders.due_at <> excluded.due_at THEN NULL
                                ELSE reminders.pending_seq END,
             next_at = CASE WHEN reminders.stopped_reason IS NOT NULL THEN NULL
                            WHEN reminders.sent_count = 0
                                 AND (reminders.due_at <> excluded.due_at
                                      OR reminders.pending_seq IS NULL) THEN excluded.due_at
                            ELSE reminders.next_at END",
    )
    .bind(loop_id)
    .bind(i64::from(position))
    .bind(user)
    .bind(due_at)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(
    db: &mut AnyConnection,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM reminders WHERE loop_id = $1 AND position = $2 AND user_id = $3")
        .bind(loop_id)
        .bind(i64::from(position))
        .bind(user)
        .execute(db)
        .await?;
    Ok(())
}

const STOP: &str = "UPDATE reminders SET next_at = NULL, stopped_reason = $4
                     WHERE loop_id = $1 AND position = $2 AND user_id = $3
                       AND stopped_reason IS NULL";

/// [`stop`] in a trip with other statements.
pub fn stop_into(trip: &mut Trip, loop_id: LoopId, position: u32, user: &str, reason: &str) {
    trip.push(
        STOP,
        vec![loop_id.into(), position.into(), user.into(), reason.into()],
    );
}

/// Stops chasing one person for one stage.
pub async fn stop(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    position: u32,
    user: &str,
    reason: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query(STOP)
        .bind(loop_id)
        .bind(i64::from(position))
        .bind(user)
        .bind(reason)
        .execute(db)
        .await?;
    Ok(r.rows_affected() > 0)
}

/// Stops chasing a whole stage (skipped) or, with `position = None`, a whole loop (decided).
pub async fn stop_all(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    position: Option<u32>,
    reason: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE reminders SET next_at = NULL, stopped_reason = $3
          WHERE loop_id = $1 AND ($2 IS NULL OR position = $2) AND stopped_reason IS NULL",
    )
    .bind(loop_id)
    .bind(position.map(i64::from))
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

/// Claims a due reminder for queueing, if nobody has since it was read: it becomes the one in
/// flight (`pending_seq`, numbered `queued_count + 1`), and nothing more is due until it is
/// delivered ([`record_delivery`]). Returns whether this caller claimed it.
pub async fn claim(db: impl AnyExecutor<'_>, row: &ReminderRow) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE reminders SET queued_count = queued_count + 1, pending_seq = queued_count + 1,
                next_at = NULL
          WHERE loop_id = $1 AND position = $2 AND user_id = $3 AND next_at = $4
            AND queued_count = $5 AND pending_seq IS NULL AND stopped_reason IS NULL",
    )
    .bind(row.loop_id)
    .bind(i64::from(row.position))
    .bind(&row.user_id)
    .bind(row.next_at)
    .bind(row.queued_count)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Numbers the reminder just claimed `seq` instead (its first number was taken by the job of
/// an earlier row for the same person and stage, since deleted).
pub async fn renumber(db: impl AnyExecutor<'_>, row: &ReminderRow, seq: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE reminders SET queued_count = $4, pending_seq = $4
          WHERE loop_id = $1 AND position = $2 AND user_id = $3",
    )
    .bind(row.loop_id)
    .bind(i64::from(row.position))
    .bind(&row.user_id)
    .bind(seq)
    .execute(db)
    .await?;
    Ok(())
}

/// A due row that has had every reminder it may have: nothing more is scheduled.
pub async fn finish(db: impl AnyExecutor<'_>, row: &ReminderRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE reminders SET next_at = NULL
          WHERE loop_id = $1 AND position = $2 AND user_id = $3 AND next_at = $4",
    )
    .bind(row.loop_id)
    .bind(i64::from(row.position))
    .bind(&row.user_id)
    .bind(row.next_at)
    .execute(db)
    .await?;
    Ok(())
}

/// Slack accepted reminder `seq`: it is counted (after the `row.sent_count` delivered before
/// it), and the next one is due at `next_at` (`None`: that was the last), unless chasing
/// stopped meanwhile. Returns `false` when it was recorded before (a run repeated after a crash) or
/// is no longer the one in flight: then nothing changes.
pub async fn record_delivery(
    db: impl AnyExecutor<'_>,
    row: &ReminderRow,
    seq: i64,
    next_at: Option<UnixMillis>,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE reminders SET sent_count = sent_count + 1, pending_seq = NULL,
                next_at = CASE WHEN stopped_reason IS NULL THEN $6 ELSE NULL END
          WHERE loop_id = $1 AND position = $2 AND user_id = $3 AND pending_seq = $4
            AND sent_count = $5",
    )
    .bind(row.loop_id)
    .bind(i64::from(row.position))
    .bind(&row.user_id)
    .bind(seq)
    .bind(row.sent_count)
    .bind(next_at)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// Marks the escalation done; `false` if it was done before (it happens once).
pub async fn mark_escalated(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    position: u32,
    user: &str,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "UPDATE reminders SET escalated_at = $4
          WHERE loop_id = $1 AND position = $2 AND user_id = $3 AND escalated_at IS NULL",
    )
    .bind(loop_id)
    .bind(i64::from(position))
    .bind(user)
    .bind(now)
    .execute(db)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A cached time zone, if fetched after `fresh_after`.
pub async fn cached_tz(
    db: impl AnyExecutor<'_>,
    user: &str,
    fresh_after: UnixMillis,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT tz FROM user_profiles WHERE user_id = $1 AND fetched_at >= $2")
        .bind(user)
        .bind(fresh_after)
        .fetch_optional(db)
        .await
}

const CACHE_TZ: &str = "INSERT INTO user_profiles (user_id, tz, fetched_at) VALUES ($1, $2, $3)
     ON CONFLICT (user_id) DO UPDATE SET tz = excluded.tz, fetched_at = excluded.fetched_at";

/// [`cache_tz`] in a trip with other statements.
pub fn cache_tz_into(trip: &mut Trip, user: &str, tz: &str, now: UnixMillis) {
    trip.push(CACHE_TZ, vec![user.into(), tz.into(), now.into()]);
}

pub async fn cache_tz(
    db: impl AnyExecutor<'_>,
    user: &str,
    tz: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(CACHE_TZ)
        .bind(user)
        .bind(tz)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn add_home_viewer(
    db: impl AnyExecutor<'_>,
    user: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO home_viewers (user_id, opened_at) VALUES ($1, $2)
         ON CONFLICT (user_id) DO UPDATE SET opened_at = excluded.opened_at",
    )
    .bind(user)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// The people of a loop (coordinator, hiring manager, panel) who have opened the App Home.
pub async fn home_viewers_of_loop(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(HOME_VIEWERS_OF_LOOP)
        .bind(loop_id)
        .fetch_all(db)
        .await
}

const HOME_VIEWERS_OF_LOOP: &str = "SELECT user_id FROM home_viewers
   WHERE user_id IN (SELECT coordinator_id FROM loops WHERE id = $1
                     UNION SELECT hiring_manager_id FROM loops WHERE id = $1
                     UNION SELECT user_id FROM stage_interviewers WHERE loop_id = $1)
   ORDER BY user_id";

/// [`home_viewers_of_loop`] in a trip with other statements.
pub fn home_viewers_of_loop_into(trip: &mut Trip, loop_id: LoopId) -> Read<Vec<String>> {
    trip.read(HOME_VIEWERS_OF_LOOP, vec![loop_id.into()], |rows| {
        rows.iter().map(|row| row.try_get(0)).collect()
    })
}

/// Resumes chasing what was stopped for `reason` (a reopened loop): the next reminder is due
/// at the later of its due time and `now`. A reminder still in flight from before is dropped
/// (its job finds it no longer pending); the sweep queues a fresh one.
pub async fn resume(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    reason: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE reminders SET stopped_reason = NULL, pending_seq = NULL,
                next_at = CASE WHEN due_at > $3 THEN due_at ELSE $3 END
          WHERE loop_id = $1 AND stopped_reason = $2",
    )
    .bind(loop_id)
    .bind(reason)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}
