//! Loops, their stages and panels, and the Slack objects provisioned for them.

use sqlx::{Sqlite, SqliteExecutor, Transaction};

use crate::clock::UnixMillis;
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus, Stage};
use crate::domain::start_form::NewLoop;

/// Stores a new loop. Returns `None` when a loop was already stored for this start form
/// (`source_view_id`): a repeated submission has one effect.
pub async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    new: &NewLoop,
    source_view_id: &str,
    now: UnixMillis,
) -> sqlx::Result<Option<LoopId>> {
    let id: Option<LoopId> = sqlx::query_scalar(
        "INSERT INTO loops (source_view_id, candidate_name, rubric_id, role, coordinator_id,
                            hiring_manager_id, origin_channel_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
         ON CONFLICT (source_view_id) DO NOTHING
         RETURNING id",
    )
    .bind(source_view_id)
    .bind(&new.candidate_name)
    .bind(&new.rubric_id)
    .bind(&new.role)
    .bind(&new.coordinator_id)
    .bind(&new.hiring_manager_id)
    .bind(&new.origin_channel_id)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(id) = id else { return Ok(None) };
    for stage in &new.stages {
        sqlx::query(
            "INSERT INTO stages (loop_id, position, stage_key, name, interview_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(id)
        .bind(stage.position)
        .bind(&stage.key)
        .bind(&stage.name)
        .bind(stage.interview_at)
        .execute(&mut **tx)
        .await?;
        for user in &stage.interviewers {
            sqlx::query(
                "INSERT INTO stage_interviewers (loop_id, position, user_id) VALUES (?1, ?2, ?3)",
            )
            .bind(id)
            .bind(stage.position)
            .bind(user)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(Some(id))
}

#[derive(sqlx::FromRow)]
struct LoopRow {
    id: LoopId,
    candidate_name: String,
    rubric_id: String,
    role: String,
    coordinator_id: String,
    hiring_manager_id: String,
    origin_channel_id: Option<String>,
    status: String,
    channel_name: Option<String>,
    channel_id: Option<String>,
    members_invited: bool,
    topic_set: bool,
    summary_ts: Option<String>,
    summary_pinned: bool,
    confirmation_sent: bool,
    created_at: UnixMillis,
}

#[derive(sqlx::FromRow)]
struct StageRow {
    position: u32,
    stage_key: String,
    name: String,
    interview_at: Option<UnixMillis>,
    rubric_ts: Option<String>,
}

macro_rules! loop_columns {
    () => {
        "id, candidate_name, rubric_id, role, coordinator_id, hiring_manager_id, origin_channel_id,
         status, channel_name, channel_id, members_invited, topic_set, summary_ts, summary_pinned,
         confirmation_sent, created_at"
    };
}

pub async fn get<'c, E>(db: E, id: LoopId) -> sqlx::Result<Option<InterviewLoop>>
where
    E: SqliteExecutor<'c> + Copy,
{
    let row: Option<LoopRow> = sqlx::query_as(concat!(
        "SELECT ",
        loop_columns!(),
        " FROM loops WHERE id = ?1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    match row {
        Some(row) => Ok(Some(with_stages(db, row).await?)),
        None => Ok(None),
    }
}

pub async fn find_by_channel<'c, E>(db: E, channel_id: &str) -> sqlx::Result<Option<InterviewLoop>>
where
    E: SqliteExecutor<'c> + Copy,
{
    let row: Option<LoopRow> = sqlx::query_as(concat!(
        "SELECT ",
        loop_columns!(),
        " FROM loops WHERE channel_id = ?1"
    ))
    .bind(channel_id)
    .fetch_optional(db)
    .await?;
    match row {
        Some(row) => Ok(Some(with_stages(db, row).await?)),
        None => Ok(None),
    }
}

async fn with_stages<'c, E>(db: E, row: LoopRow) -> sqlx::Result<InterviewLoop>
where
    E: SqliteExecutor<'c> + Copy,
{
    let stage_rows: Vec<StageRow> = sqlx::query_as(
        "SELECT position, stage_key, name, interview_at, rubric_ts FROM stages
          WHERE loop_id = ?1 ORDER BY position",
    )
    .bind(row.id)
    .fetch_all(db)
    .await?;
    let panel: Vec<(u32, String)> = sqlx::query_as(
        "SELECT position, user_id FROM stage_interviewers WHERE loop_id = ?1
          ORDER BY position, rowid",
    )
    .bind(row.id)
    .fetch_all(db)
    .await?;
    let stages = stage_rows
        .into_iter()
        .map(|s| Stage {
            interviewers: panel
                .iter()
                .filter(|(position, _)| *position == s.position)
                .map(|(_, user)| user.clone())
                .collect(),
            position: s.position,
            key: s.stage_key,
            name: s.name,
            interview_at: s.interview_at,
            rubric_ts: s.rubric_ts,
        })
        .collect();
    Ok(InterviewLoop {
        id: row.id,
        candidate_name: row.candidate_name,
        rubric_id: row.rubric_id,
        role: row.role,
        coordinator_id: row.coordinator_id,
        hiring_manager_id: row.hiring_manager_id,
        origin_channel_id: row.origin_channel_id,
        status: LoopStatus::parse(&row.status).unwrap_or(LoopStatus::Open),
        channel_name: row.channel_name,
        channel_id: row.channel_id,
        members_invited: row.members_invited,
        topic_set: row.topic_set,
        summary_ts: row.summary_ts,
        summary_pinned: row.summary_pinned,
        confirmation_sent: row.confirmation_sent,
        created_at: row.created_at,
        stages,
    })
}

/// One provisioning step's result, stored before the next step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provisioned<'a> {
    Channel { id: &'a str, name: &'a str },
    MembersInvited,
    TopicSet,
    RubricPosted { position: u32, ts: &'a str },
    SummaryPosted { ts: &'a str },
    SummaryPinned,
    ConfirmationSent,
}

pub async fn record_step(
    db: impl SqliteExecutor<'_>,
    id: LoopId,
    step: Provisioned<'_>,
    now: UnixMillis,
) -> sqlx::Result<()> {
    // Every statement binds ?1 = loop id and ?2 = now, then the step's own values.
    let (sql, values): (&str, Vec<String>) = match step {
        Provisioned::Channel { id: channel, name } => (
            "UPDATE loops SET channel_id = ?3, channel_name = ?4, updated_at = ?2 WHERE id = ?1",
            vec![channel.to_string(), name.to_string()],
        ),
        Provisioned::MembersInvited => (
            "UPDATE loops SET members_invited = 1, updated_at = ?2 WHERE id = ?1",
            vec![],
        ),
        Provisioned::TopicSet => (
            "UPDATE loops SET topic_set = 1, updated_at = ?2 WHERE id = ?1",
            vec![],
        ),
        Provisioned::RubricPosted { position, ts } => (
            "UPDATE stages SET rubric_ts = ?4 WHERE loop_id = ?1 AND position = ?3 AND ?2 IS NOT NULL",
            vec![position.to_string(), ts.to_string()],
        ),
        Provisioned::SummaryPosted { ts } => (
            "UPDATE loops SET summary_ts = ?3, updated_at = ?2 WHERE id = ?1",
            vec![ts.to_string()],
        ),
        Provisioned::SummaryPinned => (
            "UPDATE loops SET summary_pinned = 1, updated_at = ?2 WHERE id = ?1",
            vec![],
        ),
        Provisioned::ConfirmationSent => (
            "UPDATE loops SET confirmation_sent = 1,
                    status = CASE status WHEN 'provisioning' THEN 'open' ELSE status END,
                    updated_at = ?2
              WHERE id = ?1",
            vec![],
        ),
    };
    let mut query = sqlx::query(sql).bind(id).bind(now);
    for value in values {
        query = query.bind(value);
    }
    query.execute(db).await?;
    Ok(())
}

pub async fn status(db: impl SqliteExecutor<'_>, id: LoopId) -> sqlx::Result<Option<LoopStatus>> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM loops WHERE id = ?1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(status.as_deref().and_then(LoopStatus::parse))
}

pub async fn set_status(
    db: impl SqliteExecutor<'_>,
    id: LoopId,
    status: LoopStatus,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE loops SET status = ?2, updated_at = ?3 WHERE id = ?1")
        .bind(id)
        .bind(status.as_str())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}
