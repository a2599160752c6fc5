//! What Loopbot keeps about the ATSs: the webhook deliveries it has accepted (for dedupe) and
//! each ATS interview as last read.

use sqlx::{AnyExecutor, Row};

use crate::clock::UnixMillis;

/// Records a webhook delivery; `false` when this ATS already delivered this id (a retry or a
/// replay), which then has no second effect.
pub async fn record_delivery(
    db: impl AnyExecutor<'_>,
    ats: &str,
    delivery_id: &str,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO ats_deliveries (ats, delivery_id, received_at) VALUES ($1, $2, $3)
         ON CONFLICT (ats, delivery_id) DO NOTHING",
    )
    .bind(ats)
    .bind(delivery_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// One ATS interview as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredInterview {
    pub interview_id: String,
    pub application_id: String,
    pub interview_key: String,
    pub stage_key: Option<String>,
    pub starts_at: Option<UnixMillis>,
    pub ends_at: Option<UnixMillis>,
    pub cancelled: bool,
    /// JSON list of `{email, name, ats_user_id}`.
    pub interviewers: String,
}

pub async fn upsert_interview(
    db: impl AnyExecutor<'_>,
    ats: &str,
    interview: &StoredInterview,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ats_interviews (ats, interview_id, application_id, interview_key, stage_key,
                                     starts_at, ends_at, cancelled, interviewers, read_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (ats, interview_id) DO UPDATE SET
             application_id = excluded.application_id,
             interview_key = excluded.interview_key,
             stage_key = excluded.stage_key,
             starts_at = excluded.starts_at,
             ends_at = excluded.ends_at,
             cancelled = excluded.cancelled,
             interviewers = excluded.interviewers,
             read_at = excluded.read_at",
    )
    .bind(ats)
    .bind(&interview.interview_id)
    .bind(&interview.application_id)
    .bind(&interview.interview_key)
    .bind(interview.stage_key.as_deref())
    .bind(interview.starts_at)
    .bind(interview.ends_at)
    .bind(i64::from(interview.cancelled))
    .bind(&interview.interviewers)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks every stored interview of the application that the ATS no longer lists as cancelled
/// (an Ashby schedule update drops a cancelled event).
pub async fn cancel_missing(
    db: impl AnyExecutor<'_>,
    ats: &str,
    application_id: &str,
    listed: &[String],
    now: UnixMillis,
) -> sqlx::Result<()> {
    // The listed ids as one JSON-free, portable IN list would need dynamic SQL; a delimited
    // string match keeps it one statement on both databases.
    let joined = format!(",{},", listed.join(","));
    sqlx::query(
        "UPDATE ats_interviews SET cancelled = 1, read_at = $4
          WHERE ats = $1 AND application_id = $2 AND cancelled = 0
            AND $3 NOT LIKE '%,' || interview_id || ',%'",
    )
    .bind(ats)
    .bind(application_id)
    .bind(joined)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn interviews_of(
    db: impl AnyExecutor<'_>,
    ats: &str,
    application_id: &str,
) -> sqlx::Result<Vec<StoredInterview>> {
    let rows = sqlx::query(
        "SELECT interview_id, application_id, interview_key, stage_key, starts_at, ends_at,
                cancelled, interviewers
           FROM ats_interviews WHERE ats = $1 AND application_id = $2
          ORDER BY starts_at, interview_id",
    )
    .bind(ats)
    .bind(application_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(StoredInterview {
                interview_id: row.try_get(0)?,
                application_id: row.try_get(1)?,
                interview_key: row.try_get(2)?,
                stage_key: row.try_get(3)?,
                starts_at: row.try_get(4)?,
                ends_at: row.try_get(5)?,
                cancelled: row.try_get::<i64, _>(6)? != 0,
                interviewers: row.try_get(7)?,
            })
        })
        .collect()
}

/// The application an ATS interview was last read under, if Loopbot has read it.
pub async fn application_of_interview(
    db: impl AnyExecutor<'_>,
    ats: &str,
    interview_id: &str,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT application_id FROM ats_interviews WHERE ats = $1 AND interview_id = $2",
    )
    .bind(ats)
    .bind(interview_id)
    .fetch_optional(db)
    .await
}

/// Claims the ATS's poll if it is due (or has never run): moves its next time on by `every`
/// and returns true, once per interval whatever the number of replicas asking.
pub async fn claim_due_poll(
    db: &mut sqlx::AnyConnection,
    ats: &str,
    now: UnixMillis,
    every_ms: i64,
) -> sqlx::Result<bool> {
    sqlx::query(
        "INSERT INTO ats_polls (ats, cursor, next_poll_at) VALUES ($1, NULL, $2)
         ON CONFLICT (ats) DO NOTHING",
    )
    .bind(ats)
    .bind(now)
    .execute(&mut *db)
    .await?;
    let claimed =
        sqlx::query("UPDATE ats_polls SET next_poll_at = $3 WHERE ats = $1 AND next_poll_at <= $2")
            .bind(ats)
            .bind(now)
            .bind(now + every_ms)
            .execute(&mut *db)
            .await?;
    Ok(claimed.rows_affected() == 1)
}

pub async fn poll_cursor(db: impl AnyExecutor<'_>, ats: &str) -> sqlx::Result<Option<String>> {
    Ok(
        sqlx::query_scalar::<_, Option<String>>("SELECT cursor FROM ats_polls WHERE ats = $1")
            .bind(ats)
            .fetch_optional(db)
            .await?
            .flatten(),
    )
}

pub async fn set_poll_cursor(
    db: impl AnyExecutor<'_>,
    ats: &str,
    cursor: Option<&str>,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE ats_polls SET cursor = $2, polled_at = $3 WHERE ats = $1")
        .bind(ats)
        .bind(cursor)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// The loop stored under this source key (`ats:<ats>:<application>`), if any.
pub async fn loop_of_source(
    db: impl AnyExecutor<'_>,
    source_key: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("SELECT id FROM loops WHERE source_view_id = $1")
        .bind(source_key)
        .fetch_optional(db)
        .await
}

/// The source key of a loop (`ats:<ats>:<application>` for a loop the ATS started).
pub async fn source_of_loop(
    db: impl AnyExecutor<'_>,
    loop_id: i64,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT source_view_id FROM loops WHERE id = $1")
        .bind(loop_id)
        .fetch_optional(db)
        .await
}
