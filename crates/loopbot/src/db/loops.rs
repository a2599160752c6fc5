//! Loops, their stages and panels, and the Slack objects provisioned for them.

use sqlx::{AnyConnection, AnyExecutor};

use super::trip::{Answer, Read, Trip, Value, rows_of};

use crate::clock::UnixMillis;
use crate::domain::interview_loop::{
    Decision, InterviewLoop, LoopId, LoopStatus, Outcome, Skip, Stage,
};
use crate::domain::start_form::NewLoop;

/// Stores a new loop. Returns `None` when a loop was already stored for this start form
/// (`source_view_id`): a repeated submission has one effect.
pub async fn insert(
    tx: &mut AnyConnection,
    new: &NewLoop,
    source_view_id: &str,
    now: UnixMillis,
) -> sqlx::Result<Option<LoopId>> {
    let id: Option<LoopId> = sqlx::query_scalar(
        "INSERT INTO loops (source_view_id, candidate_name, rubric_id, role, coordinator_id,
                            hiring_manager_id, origin_channel_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
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
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else { return Ok(None) };
    // The stages and their panels in one trip (a statement each would be a hop each while
    // this change holds SQLite's writer).
    let mut trip = Trip::new();
    for stage in &new.stages {
        trip.push(
            "INSERT INTO stages (loop_id, position, stage_key, name, interview_at)
             VALUES ($1, $2, $3, $4, $5)",
            vec![
                id.into(),
                stage.position.into(),
                stage.key.as_str().into(),
                stage.name.as_str().into(),
                stage.interview_at.into(),
            ],
        );
        for (seq, user) in (0_i64..).zip(&stage.interviewers) {
            trip.push(
                "INSERT INTO stage_interviewers (loop_id, position, user_id, seq)
                 VALUES ($1, $2, $3, $4)",
                vec![
                    id.into(),
                    stage.position.into(),
                    user.as_str().into(),
                    seq.into(),
                ],
            );
        }
    }
    trip.run(tx).await?;
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
    members_invited: i64,
    topic_set: i64,
    summary_ts: Option<String>,
    summary_pinned: i64,
    confirmation_sent: i64,
    created_at: UnixMillis,
    decision: Option<String>,
    decision_rationale: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<UnixMillis>,
    archived_at: Option<UnixMillis>,
    decided_without: Option<String>,
    cycle: i64,
    source_view_id: String,
}

/// One row of the combined stages / panel / skips / warnings query.
#[derive(sqlx::FromRow)]
struct PartRow {
    kind: i64,
    #[sqlx(try_from = "i64")]
    position: u32,
    text1: Option<String>,
    text2: Option<String>,
    number: Option<i64>,
    text3: Option<String>,
}

macro_rules! loop_columns {
    () => {
        "id, candidate_name, rubric_id, role, coordinator_id, hiring_manager_id, origin_channel_id,
         status, channel_name, channel_id, members_invited, topic_set, summary_ts, summary_pinned,
         confirmation_sent, created_at, decision, decision_rationale, decided_by, decided_at,
         archived_at, decided_without, cycle, source_view_id"
    };
}

pub async fn get(db: &super::Db, id: LoopId) -> sqlx::Result<Option<InterviewLoop>> {
    let mut trip = Trip::new();
    let read = get_into(&mut trip, id);
    if let Some(answers) = super::read_on_lane(db, trip).await {
        return read.take(&mut answers?);
    }
    let mut conn = db.acquire().await?;
    get_in(&mut conn, id).await
}

/// The loop whose channel is `channel_id`.
pub async fn find_by_channel(
    db: &super::Db,
    channel_id: &str,
) -> sqlx::Result<Option<InterviewLoop>> {
    let mut conn = db.acquire().await?;
    load(&mut conn, Key::Channel(channel_id)).await
}

/// [`get`] inside the caller's transaction (sees its uncommitted changes, holds no second
/// connection).
pub async fn get_in(conn: &mut AnyConnection, id: LoopId) -> sqlx::Result<Option<InterviewLoop>> {
    load(conn, Key::Id(id)).await
}

/// How a loop is found.
enum Key<'a> {
    Id(LoopId),
    Channel(&'a str),
}

/// Stages, panels, skips and warnings of the loop `$1` names, in one query: each row is one of
/// them, told apart by `kind`.
macro_rules! parts_of {
    ($loop_id:literal) => {
        concat!(
            "SELECT 0 AS kind, position, stage_key AS text1, name AS text2, interview_at AS number,
                    rubric_ts AS text3, 0 AS seq
               FROM stages WHERE loop_id = ",
            $loop_id,
            "
             UNION ALL
             SELECT 1, position, user_id, NULL, NULL, NULL, seq
               FROM stage_interviewers WHERE loop_id = ",
            $loop_id,
            "
             UNION ALL
             SELECT 2, position, reason, skipped_by, skipped_at, NULL, 0
               FROM stage_skips WHERE loop_id = ",
            $loop_id,
            "
             UNION ALL
             SELECT 3, position, NULL, NULL, NULL, NULL, 0
               FROM skip_warnings WHERE loop_id = ",
            $loop_id,
            "
             ORDER BY kind, position, seq"
        )
    };
}

/// The loop's row and its parts in one trip to the database ([`Trip`]): on SQLite one hop to
/// the connection's thread instead of two.
async fn load(conn: &mut AnyConnection, key: Key<'_>) -> sqlx::Result<Option<InterviewLoop>> {
    let mut trip = Trip::new();
    let read = read_into(&mut trip, key);
    let mut answers = trip.run(conn).await?;
    read.take(&mut answers)
}

/// The loop `id` in a trip with other statements: [`LoopRead::take`] once it has run.
pub fn get_into(trip: &mut Trip, id: LoopId) -> LoopRead {
    read_into(trip, Key::Id(id))
}

fn read_into(trip: &mut Trip, key: Key<'_>) -> LoopRead {
    let (row_sql, parts_sql, value): (&'static str, &'static str, Value) = match key {
        Key::Id(id) => (
            concat!("SELECT ", loop_columns!(), " FROM loops WHERE id = $1"),
            parts_of!("$1"),
            Value::Int(id),
        ),
        Key::Channel(channel_id) => (
            concat!(
                "SELECT ",
                loop_columns!(),
                " FROM loops WHERE channel_id = $1"
            ),
            parts_of!("(SELECT id FROM loops WHERE channel_id = $1)"),
            Value::from(channel_id),
        ),
    };
    LoopRead {
        row: trip.read(row_sql, vec![value.clone()], rows_of::<LoopRow>),
        parts: trip.read(parts_sql, vec![value], rows_of::<PartRow>),
    }
}

/// A loop read in a trip ([`get_into`]).
pub struct LoopRead {
    row: Read<Vec<LoopRow>>,
    parts: Read<Vec<PartRow>>,
}

impl LoopRead {
    pub fn take(&self, answers: &mut [Answer]) -> sqlx::Result<Option<InterviewLoop>> {
        let Some(row) = self.row.take(answers)?.into_iter().next() else {
            return Ok(None);
        };
        Ok(Some(assemble(row, &self.parts.take(answers)?)))
    }
}

fn assemble(row: LoopRow, parts: &[PartRow]) -> InterviewLoop {
    let of_kind = |kind: i64| parts.iter().filter(move |p| p.kind == kind);
    let stages = of_kind(0)
        .map(|s| Stage {
            interviewers: of_kind(1)
                .filter(|p| p.position == s.position)
                .filter_map(|p| p.text1.clone())
                .collect(),
            position: s.position,
            key: s.text1.clone().unwrap_or_default(),
            name: s.text2.clone().unwrap_or_default(),
            interview_at: s.number,
            rubric_ts: s.text3.clone(),
        })
        .collect();
    let skips: Vec<(u32, String, String, UnixMillis)> = of_kind(2)
        .map(|p| {
            (
                p.position,
                p.text1.clone().unwrap_or_default(),
                p.text2.clone().unwrap_or_default(),
                p.number.unwrap_or_default(),
            )
        })
        .collect();
    let warned: Vec<u32> = of_kind(3).map(|p| p.position).collect();
    let decision = match (
        row.decision.as_deref().and_then(Outcome::parse),
        row.decided_by,
        row.decided_at,
    ) {
        (Some(outcome), Some(decided_by), Some(decided_at)) => Some(Decision {
            outcome,
            rationale: row.decision_rationale.unwrap_or_default(),
            decided_by,
            decided_at,
            without: row
                .decided_without
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter_map(|p| p.parse().ok())
                .collect(),
        }),
        _ => None,
    };
    InterviewLoop {
        decision,
        skips: skips
            .into_iter()
            .map(|(position, reason, skipped_by, skipped_at)| Skip {
                position,
                reason,
                skipped_by,
                skipped_at,
            })
            .collect(),
        warned,
        cycle: row.cycle,
        source_key: row.source_view_id,
        archived_at: row.archived_at,
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
        members_invited: row.members_invited != 0,
        topic_set: row.topic_set != 0,
        summary_ts: row.summary_ts,
        summary_pinned: row.summary_pinned != 0,
        confirmation_sent: row.confirmation_sent != 0,
        created_at: row.created_at,
        stages,
    }
}

/// One provisioning step's result, stored before the next step runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Provisioned<'a> {
    /// About to ask Slack for a channel with this name (stored first, so a retry can find it).
    ChannelIntended {
        name: &'a str,
    },
    Channel {
        id: &'a str,
        name: &'a str,
    },
    MembersInvited,
    TopicSet,
    RubricPosted {
        position: u32,
        ts: &'a str,
    },
    SummaryPosted {
        ts: &'a str,
    },
    SummaryPinned,
    ConfirmationSent,
}

pub async fn record_step(
    db: impl AnyExecutor<'_>,
    id: LoopId,
    step: Provisioned<'_>,
    now: UnixMillis,
) -> sqlx::Result<()> {
    // Every statement binds $1 = loop id and $2 = now, then the step's own values.
    let (sql, values): (&str, Vec<String>) = match step {
        Provisioned::ChannelIntended { name } => (
            "UPDATE loops SET pending_channel_name = $3, updated_at = $2 WHERE id = $1",
            vec![name.to_string()],
        ),
        Provisioned::Channel { id: channel, name } => (
            "UPDATE loops SET channel_id = $3, channel_name = $4, pending_channel_name = NULL,
                    updated_at = $2
              WHERE id = $1",
            vec![channel.to_string(), name.to_string()],
        ),
        Provisioned::MembersInvited => (
            "UPDATE loops SET members_invited = 1, updated_at = $2 WHERE id = $1",
            vec![],
        ),
        Provisioned::TopicSet => (
            "UPDATE loops SET topic_set = 1, updated_at = $2 WHERE id = $1",
            vec![],
        ),
        Provisioned::RubricPosted { position, ts } => (
            "UPDATE stages SET rubric_ts = $4 WHERE loop_id = $1 AND position = CAST($3 AS BIGINT) AND $2 IS NOT NULL",
            vec![position.to_string(), ts.to_string()],
        ),
        Provisioned::SummaryPosted { ts } => (
            "UPDATE loops SET summary_ts = $3, updated_at = $2 WHERE id = $1",
            vec![ts.to_string()],
        ),
        Provisioned::SummaryPinned => (
            "UPDATE loops SET summary_pinned = 1, updated_at = $2 WHERE id = $1",
            vec![],
        ),
        Provisioned::ConfirmationSent => (
            "UPDATE loops SET confirmation_sent = 1,
                    status = CASE status WHEN 'provisioning' THEN 'open' ELSE status END,
                    updated_at = $2
              WHERE id = $1",
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

pub async fn status(db: impl AnyExecutor<'_>, id: LoopId) -> sqlx::Result<Option<LoopStatus>> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM loops WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?;
    Ok(status.as_deref().and_then(LoopStatus::parse))
}

pub async fn set_status(
    db: impl AnyExecutor<'_>,
    id: LoopId,
    status: LoopStatus,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE loops SET status = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(status.as_str())
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Records the decision; `false` if the loop was already decided.
/// Records the decision: a final one sets the loop `decided`, Hold keeps it open (a later
/// decision replaces the Hold). `false` if a final decision was already recorded.
pub async fn record_decision(
    db: impl AnyExecutor<'_>,
    id: LoopId,
    decision: &Decision,
) -> sqlx::Result<bool> {
    let without: Vec<String> = decision.without.iter().map(u32::to_string).collect();
    let result = sqlx::query(
        "UPDATE loops SET status = $7, decision = $2, decision_rationale = $3,
                decided_by = $4, decided_at = $5, decided_without = $6, updated_at = $5
          WHERE id = $1 AND status IN ('open', 'provisioning')",
    )
    .bind(id)
    .bind(decision.outcome.as_str())
    .bind(&decision.rationale)
    .bind(&decision.decided_by)
    .bind(decision.decided_at)
    .bind((!without.is_empty()).then(|| without.join(",")))
    .bind(if decision.outcome.is_final() {
        LoopStatus::Decided.as_str()
    } else {
        LoopStatus::Open.as_str()
    })
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Reopens a loop with a final decision whose channel is not archived: the decision is cleared
/// (the audit log keeps it) and a new round starts. `false` if it was not in that state.
pub async fn reopen(db: impl AnyExecutor<'_>, id: LoopId, now: UnixMillis) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "UPDATE loops SET status = 'open', decision = NULL, decision_rationale = NULL,
                decided_by = NULL, decided_at = NULL, decided_without = NULL,
                cycle = cycle + 1, updated_at = $2
          WHERE id = $1 AND status = 'decided' AND archived_at IS NULL",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Records a deliberate skip; `false` if the stage was already skipped.
pub async fn insert_skip(db: impl AnyExecutor<'_>, id: LoopId, skip: &Skip) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO stage_skips (loop_id, position, reason, skipped_by, skipped_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (loop_id, position) DO NOTHING",
    )
    .bind(id)
    .bind(i64::from(skip.position))
    .bind(&skip.reason)
    .bind(&skip.skipped_by)
    .bind(skip.skipped_at)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The order of interviews the channel was last told about (see the `order_noted` column).
pub async fn order_noted(conn: &mut AnyConnection, id: LoopId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT order_noted FROM loops WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map(Option::flatten)
}

pub async fn set_order_noted(
    conn: &mut AnyConnection,
    id: LoopId,
    order: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE loops SET order_noted = $2 WHERE id = $1")
        .bind(id)
        .bind(order)
        .execute(&mut *conn)
        .await
        .map(drop)
}

/// A stage's warning, once: a stage warned about before is left as it was.
const INSERT_WARNING: &str =
    "INSERT INTO skip_warnings (loop_id, position, cause, warned_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT (loop_id, position) DO NOTHING";

/// [`INSERT_WARNING`] for each of `positions`, in a trip; [`Warnings::new_ones`] reads which
/// were new.
pub fn insert_warnings_into(
    trip: &mut Trip,
    id: LoopId,
    positions: &[u32],
    cause: &str,
    now: UnixMillis,
) -> Warnings {
    let at = positions
        .iter()
        .map(|&p| {
            let at = trip.push(
                INSERT_WARNING,
                vec![id.into(), p.into(), cause.into(), now.into()],
            );
            (p, at)
        })
        .collect();
    Warnings { at }
}

/// Warnings inserted in a trip ([`insert_warnings_into`]).
pub struct Warnings {
    at: Vec<(u32, usize)>,
}

impl Warnings {
    /// The stages warned about for the first time, in the order given.
    pub fn new_ones(&self, answers: &[Answer]) -> Vec<u32> {
        self.at
            .iter()
            .filter(|(_, at)| answers.get(*at).is_some_and(|a| a.changed == 1))
            .map(|(p, _)| *p)
            .collect()
    }
}

/// The cause of a stage's warning, once given.
pub async fn warning_cause(
    db: impl AnyExecutor<'_>,
    id: LoopId,
    position: u32,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT cause FROM skip_warnings WHERE loop_id = $1 AND position = $2")
        .bind(id)
        .bind(i64::from(position))
        .fetch_optional(db)
        .await
}

/// Replaces a stage's panel and time. Returns the people newly added.
pub async fn set_panel(
    tx: &mut AnyConnection,
    id: LoopId,
    position: u32,
    interviewers: &[String],
    interview_at: Option<UnixMillis>,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE stages SET interview_at = $3 WHERE loop_id = $1 AND position = $2")
        .bind(id)
        .bind(i64::from(position))
        .bind(interview_at)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM stage_interviewers WHERE loop_id = $1 AND position = $2")
        .bind(id)
        .bind(i64::from(position))
        .execute(&mut *tx)
        .await?;
    for (seq, user) in (0_i64..).zip(interviewers) {
        sqlx::query(
            "INSERT INTO stage_interviewers (loop_id, position, user_id, seq)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(i64::from(position))
        .bind(user)
        .bind(seq)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

/// The channel was archived (or unarchived, `at = None`) outside Loopbot.
pub async fn set_archived(
    db: impl AnyExecutor<'_>,
    id: LoopId,
    at: Option<UnixMillis>,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE loops SET archived_at = $2,
                status = CASE
                    WHEN status = 'decided' THEN status
                    WHEN $2 IS NULL THEN 'open'
                    ELSE 'closed' END,
                updated_at = $3
          WHERE id = $1",
    )
    .bind(id)
    .bind(at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_channel_name(
    db: impl AnyExecutor<'_>,
    id: LoopId,
    name: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE loops SET channel_name = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(name)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Ids of loops not yet decided or closed in which `user` has a part, newest first.
pub async fn open_loop_ids_for(db: impl AnyExecutor<'_>, user: &str) -> sqlx::Result<Vec<LoopId>> {
    sqlx::query_scalar(
        "SELECT id FROM loops
          WHERE status IN ('provisioning', 'open')
            AND (coordinator_id = $1 OR hiring_manager_id = $1
                 OR id IN (SELECT loop_id FROM stage_interviewers WHERE user_id = $1))
          ORDER BY created_at DESC, id DESC
          LIMIT 20",
    )
    .bind(user)
    .fetch_all(db)
    .await
}

pub async fn id_by_channel(
    db: impl AnyExecutor<'_>,
    channel_id: &str,
) -> sqlx::Result<Option<LoopId>> {
    sqlx::query_scalar("SELECT id FROM loops WHERE channel_id = $1")
        .bind(channel_id)
        .fetch_optional(db)
        .await
}

/// The channel name a loop was about to create when its last provisioning run stopped.
pub async fn pending_channel_name(
    db: impl AnyExecutor<'_>,
    id: LoopId,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar::<_, Option<String>>("SELECT pending_channel_name FROM loops WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}
