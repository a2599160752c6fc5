//! The JSON document: every loop with its decision and stages, each stage with its panel, skip
//! and every scorecard version.

use serde::Serialize;
use serde_json::Value;

use super::snapshot::{Snapshot, panel};
use super::values::{ratings, rfc3339, time};
use crate::clock::UnixMillis;
use crate::db::export::StageRow;

#[derive(Debug, Serialize)]
pub struct Document {
    pub exported_at: String,
    pub loops: Vec<LoopDoc>,
}

#[derive(Debug, Serialize)]
pub struct LoopDoc {
    pub id: i64,
    pub candidate_name: String,
    pub role: String,
    pub rubric_id: String,
    pub status: String,
    pub coordinator_id: String,
    pub hiring_manager_id: String,
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    pub created_at: Value,
    pub decision: Option<DecisionDoc>,
    pub purged: bool,
    pub stages: Vec<StageDoc>,
}

#[derive(Debug, Serialize)]
pub struct DecisionDoc {
    pub decision: String,
    pub rationale: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Value,
    /// The stages decided without (no feedback, confirmed by the person deciding).
    pub decided_without: Vec<String>,
    /// The same as one line: "decided without: <stage> (confirmed by <user id>)".
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct StageDoc {
    pub position: u32,
    pub key: String,
    pub name: String,
    pub interview_at: Value,
    pub interviewers: Vec<String>,
    pub skip: Option<SkipDoc>,
    pub scorecards_purged: i64,
    pub scorecards: Vec<ScorecardDoc>,
}

#[derive(Debug, Serialize)]
pub struct SkipDoc {
    pub reason: String,
    pub skipped_by: String,
    pub skipped_at: Value,
}

#[derive(Debug, Serialize)]
pub struct ScorecardDoc {
    pub interviewer_id: String,
    pub version: i64,
    pub overall: i64,
    pub ratings: Value,
    /// The criterion keys marked "Not assessed" (they do not count).
    pub not_assessed: Value,
    /// The texts of the stage's red flags the interviewer ticked.
    pub red_flags: Value,
    pub evidence: String,
    pub concerns: String,
    pub submitted_at: Value,
    pub current: bool,
}

/// The whole export: loops, each with its decision and stages, each stage with its panel,
/// skip and every scorecard version (`current` marks the latest).
pub fn document(snapshot: &Snapshot, exported_at: UnixMillis) -> Document {
    let loops = snapshot
        .loops
        .iter()
        .map(|l| LoopDoc {
            id: l.id,
            candidate_name: l.candidate_name.clone(),
            role: l.role.clone(),
            rubric_id: l.rubric_id.clone(),
            status: l.status.clone(),
            coordinator_id: l.coordinator_id.clone(),
            hiring_manager_id: l.hiring_manager_id.clone(),
            channel_id: l.channel_id.clone(),
            channel_name: l.channel_name.clone(),
            created_at: time(Some(l.created_at)),
            decision: l.decision.as_ref().map(|decision| DecisionDoc {
                decision: decision.clone(),
                rationale: l.decision_rationale.clone(),
                decided_by: l.decided_by.clone(),
                decided_at: time(l.decided_at),
                decided_without: snapshot.decided_without_names(l),
                note: snapshot.decided_without(l),
            }),
            purged: l.purged_at.is_some(),
            stages: snapshot
                .stages
                .iter()
                .filter(|s| s.loop_id == l.id)
                .map(|s| stage_doc(snapshot, s))
                .collect(),
        })
        .collect();
    Document {
        exported_at: rfc3339(exported_at),
        loops,
    }
}

fn stage_doc(snapshot: &Snapshot, s: &StageRow) -> StageDoc {
    let here = |loop_id: i64, position: u32| loop_id == s.loop_id && position == s.position;
    StageDoc {
        position: s.position,
        key: s.stage_key.clone(),
        name: s.name.clone(),
        interview_at: time(s.interview_at),
        interviewers: panel(snapshot, s),
        skip: snapshot
            .skips
            .iter()
            .find(|k| here(k.loop_id, k.position))
            .map(|k| SkipDoc {
                reason: k.reason.clone(),
                skipped_by: k.skipped_by.clone(),
                skipped_at: time(Some(k.skipped_at)),
            }),
        scorecards_purged: s.scorecards_purged,
        scorecards: snapshot
            .scorecards
            .iter()
            .filter(|c| here(c.loop_id, c.position))
            .map(|c| ScorecardDoc {
                interviewer_id: c.interviewer_id.clone(),
                version: c.version,
                overall: c.overall,
                ratings: ratings(&c.ratings),
                not_assessed: ratings(&c.not_assessed),
                red_flags: ratings(&c.red_flags),
                evidence: c.evidence.clone(),
                concerns: c.concerns.clone(),
                submitted_at: time(Some(c.submitted_at)),
                current: c.current != 0,
            })
            .collect(),
    }
}
