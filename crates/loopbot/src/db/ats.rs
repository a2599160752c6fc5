//! What Loopbot keeps about the ATSs: the webhook deliveries it has accepted (for dedupe) and
//! each ATS interview as last read.

use sqlx::{AnyExecutor, Row};

use crate::clock::UnixMillis;
use crate::domain::ats_mapping::AtsKind;
use crate::domain::ats_outcome::{AtsOutcome, RecordedOutcome};

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

/// Whether the coordinator was already told `what` about `subject` of the application.
pub async fn notice_told(
    db: impl AnyExecutor<'_>,
    ats: &str,
    application_id: &str,
    what: &str,
    subject: &str,
) -> sqlx::Result<bool> {
    let found: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM ats_notices
          WHERE ats = $1 AND application_id = $2 AND what = $3 AND subject = $4",
    )
    .bind(ats)
    .bind(application_id)
    .bind(what)
    .bind(subject)
    .fetch_one(db)
    .await?;
    Ok(found > 0)
}

/// Records that the coordinator is being told `what` about `subject` of an application;
/// `false` when they already were (the notice is then not queued again).
pub async fn record_notice(
    db: impl AnyExecutor<'_>,
    ats: &str,
    application_id: &str,
    what: &str,
    subject: &str,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO ats_notices (ats, application_id, what, subject, told_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (ats, application_id, what, subject) DO NOTHING",
    )
    .bind(ats)
    .bind(application_id)
    .bind(what)
    .bind(subject)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The loop's source key for an ATS application (`ats:<ats>:<application>`): one loop per
/// application, whatever the number of reads.
pub fn source_key(ats: &str, application_id: &str) -> String {
    format!("ats:{ats}:{application_id}")
}

/// The loop fed by this ATS application, if any.
pub async fn loop_of_application(
    db: impl AnyExecutor<'_>,
    ats: &str,
    application_id: &str,
) -> sqlx::Result<Option<i64>> {
    loop_of_source(db, &source_key(ats, application_id)).await
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

/// Makes a hand-started loop the loop of an ATS application: its source key becomes the
/// application's, so every read of the application (and every write back) finds it as if
/// the ATS had started it. The key is unique: a second loop cannot take the same application.
pub async fn link_loop(
    db: impl AnyExecutor<'_>,
    loop_id: i64,
    source_key: &str,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE loops SET source_view_id = $2 WHERE id = $1")
        .bind(loop_id)
        .bind(source_key)
        .execute(db)
        .await?;
    Ok(())
}

/// The application's outcome as last stored (`outcome` text, its time), if any read stored one.
pub async fn outcome_of(
    db: impl AnyExecutor<'_>,
    ats: &str,
    application_id: &str,
) -> sqlx::Result<Option<(Option<String>, i64)>> {
    let row = sqlx::query(
        "SELECT outcome, outcome_at FROM ats_outcomes WHERE ats = $1 AND application_id = $2",
    )
    .bind(ats)
    .bind(application_id)
    .fetch_optional(db)
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}

pub async fn set_outcome(
    db: impl AnyExecutor<'_>,
    ats: &str,
    application_id: &str,
    outcome: Option<&str>,
    outcome_at: UnixMillis,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ats_outcomes (ats, application_id, outcome, outcome_at, read_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (ats, application_id) DO UPDATE SET
             outcome = excluded.outcome,
             outcome_at = excluded.outcome_at,
             read_at = excluded.read_at",
    )
    .bind(ats)
    .bind(application_id)
    .bind(outcome)
    .bind(outcome_at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// The ATS outcome of the application a loop follows, if the loop follows one and the ATS
/// has ever shown it hired or rejected.
pub async fn outcome_of_loop(
    db: &sqlx::AnyPool,
    loop_id: i64,
) -> sqlx::Result<Option<RecordedOutcome>> {
    let Some(source) = source_of_loop(db, loop_id).await? else {
        return Ok(None);
    };
    let Some((ats, application_id)) = source
        .strip_prefix("ats:")
        .and_then(|rest| rest.split_once(':'))
    else {
        return Ok(None);
    };
    let Some(kind) = AtsKind::parse(ats) else {
        return Ok(None);
    };
    Ok(outcome_of(db, ats, application_id)
        .await?
        .map(|(outcome, at_ms)| RecordedOutcome {
            ats: kind,
            outcome: outcome.as_deref().and_then(AtsOutcome::parse),
            at_ms,
        }))
}
