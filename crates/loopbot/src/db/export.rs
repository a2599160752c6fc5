//! Reads for `loopbot export`: every loop with its stages, panels, skips and all scorecard
//! versions, as flat rows. Run them in one transaction for a consistent snapshot.

use sqlx::AnyExecutor;

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LoopRow {
    pub id: LoopId,
    pub candidate_name: String,
    pub role: String,
    pub rubric_id: String,
    pub status: String,
    pub coordinator_id: String,
    pub hiring_manager_id: String,
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    pub created_at: UnixMillis,
    pub decision: Option<String>,
    pub decision_rationale: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<UnixMillis>,
    pub purged_at: Option<UnixMillis>,
    /// Comma-separated positions of the stages the decision was made without.
    pub decided_without: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StageRow {
    pub loop_id: LoopId,
    #[sqlx(try_from = "i64")]
    pub position: u32,
    pub stage_key: String,
    pub name: String,
    pub interview_at: Option<UnixMillis>,
    pub scorecards_purged: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InterviewerRow {
    pub loop_id: LoopId,
    #[sqlx(try_from = "i64")]
    pub position: u32,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SkipRow {
    pub loop_id: LoopId,
    #[sqlx(try_from = "i64")]
    pub position: u32,
    pub reason: String,
    pub skipped_by: String,
    pub skipped_at: UnixMillis,
}

/// One stored version of a scorecard; `current` marks the latest version per
/// (loop, stage, interviewer).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ScorecardRow {
    pub loop_id: LoopId,
    #[sqlx(try_from = "i64")]
    pub position: u32,
    pub interviewer_id: String,
    pub version: i64,
    /// 1 for the latest version (an integer: the same on both backends).
    pub current: i64,
    pub overall: i64,
    /// JSON object: criterion key → score.
    pub ratings: String,
    pub evidence: String,
    pub concerns: String,
    pub submitted_at: UnixMillis,
    /// JSON array: the criterion keys marked "Not assessed".
    pub not_assessed: String,
    /// JSON array: the texts of the red flags ticked.
    pub red_flags: String,
}

pub async fn loops(db: impl AnyExecutor<'_>) -> sqlx::Result<Vec<LoopRow>> {
    sqlx::query_as(
        "SELECT id, candidate_name, role, rubric_id, status, coordinator_id, hiring_manager_id,
                channel_id, channel_name, created_at, decision, decision_rationale, decided_by,
                decided_at, purged_at, decided_without
           FROM loops ORDER BY id",
    )
    .fetch_all(db)
    .await
}

pub async fn stages(db: impl AnyExecutor<'_>) -> sqlx::Result<Vec<StageRow>> {
    sqlx::query_as(
        "SELECT loop_id, position, stage_key, name, interview_at, scorecards_purged
           FROM stages ORDER BY loop_id, position",
    )
    .fetch_all(db)
    .await
}

pub async fn interviewers(db: impl AnyExecutor<'_>) -> sqlx::Result<Vec<InterviewerRow>> {
    sqlx::query_as(
        "SELECT loop_id, position, user_id FROM stage_interviewers
          ORDER BY loop_id, position, seq",
    )
    .fetch_all(db)
    .await
}

pub async fn skips(db: impl AnyExecutor<'_>) -> sqlx::Result<Vec<SkipRow>> {
    sqlx::query_as(
        "SELECT loop_id, position, reason, skipped_by, skipped_at FROM stage_skips
          ORDER BY loop_id, position",
    )
    .fetch_all(db)
    .await
}

/// Every version of every scorecard, by loop, stage, interviewer, version.
pub async fn scorecards(db: impl AnyExecutor<'_>) -> sqlx::Result<Vec<ScorecardRow>> {
    sqlx::query_as(
        "SELECT s.loop_id, s.position, s.interviewer_id, s.version,
                CASE WHEN s.version = (SELECT MAX(l.version) FROM scorecards l
                              WHERE l.loop_id = s.loop_id AND l.position = s.position
                                AND l.interviewer_id = s.interviewer_id)
                     THEN 1 ELSE 0 END AS current,
                s.overall, s.ratings, s.evidence, s.concerns, s.submitted_at, s.not_assessed,
                s.red_flags
           FROM scorecards s
          ORDER BY s.loop_id, s.position, s.interviewer_id, s.version",
    )
    .fetch_all(db)
    .await
}
