//! Scorecard versions and drafts. Submitting again adds a version; the latest is the current
//! one. A draft is what an interviewer typed and has not submitted: one per (loop, stage,
//! interviewer), replaced as they type, deleted by their submission.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{AnyExecutor, Row as _};

use super::trip::{Read, Trip, rows_of};

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;
use crate::domain::scorecard::{Rating, Scorecard, ScorecardBody, ScorecardDraft, ScorecardInput};

fn json_list<T: serde::Serialize>(items: T) -> String {
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub version: i64,
}

/// Adds a version of the scorecard of `user` for stage `position`, in a trip with other
/// statements (which run whether it stores or not: the caller rolls back what it does not
/// want). `based_on` is the version the form was opened from; the same form submitted twice
/// with the same content is stored once (`None` the second time). Refused (also `None`) once
/// the loop is decided.
#[allow(clippy::too_many_arguments)]
pub fn insert_version_into(
    trip: &mut Trip,
    loop_id: LoopId,
    position: u32,
    user: &str,
    body: &ScorecardBody,
    based_on: i64,
    now: UnixMillis,
) -> Read<Option<Stored>> {
    let ratings: BTreeMap<&str, i64> = body
        .ratings
        .iter()
        .map(|(k, r)| (k.as_str(), r.score()))
        .collect();
    let key = format!(
        "{loop_id}:{position}:{user}:{based_on}:{}",
        body.fingerprint()
    );
    trip.read(
        "INSERT INTO scorecards (loop_id, position, interviewer_id, version, overall, ratings,
                                 evidence, concerns, submission_key, submitted_at,
                                 not_assessed, red_flags)
         SELECT $1, $2, $3, COALESCE(MAX(version), 0) + 1, $4, $5, $6, $7, $8, $9, $10, $11
           FROM scorecards
          WHERE loop_id = $1 AND position = $2 AND interviewer_id = $3
            AND NOT EXISTS (SELECT 1 FROM loops WHERE id = $1 AND status = 'decided')
         ON CONFLICT (submission_key) DO NOTHING
         RETURNING id, version",
        vec![
            loop_id.into(),
            position.into(),
            user.into(),
            body.overall.score().into(),
            serde_json::to_string(&ratings).unwrap_or_default().into(),
            body.evidence.as_str().into(),
            body.concerns.as_str().into(),
            key.into(),
            now.into(),
            json_list(&body.not_assessed).into(),
            json_list(&body.red_flags).into(),
        ],
        |rows| {
            let Some(row) = rows.first() else {
                return Ok(None);
            };
            Ok(Some(Stored {
                id: row.try_get(0)?,
                version: row.try_get(1)?,
            }))
        },
    )
}

#[derive(sqlx::FromRow)]
struct Row {
    loop_id: i64,
    #[sqlx(try_from = "i64")]
    position: u32,
    interviewer_id: String,
    version: i64,
    overall: i64,
    ratings: String,
    evidence: String,
    concerns: String,
    submitted_at: i64,
    not_assessed: String,
    red_flags: String,
}

impl From<Row> for Scorecard {
    fn from(r: Row) -> Scorecard {
        let ratings: BTreeMap<String, i64> = serde_json::from_str(&r.ratings).unwrap_or_default();
        Scorecard {
            loop_id: r.loop_id,
            position: r.position,
            interviewer_id: r.interviewer_id,
            version: r.version,
            body: ScorecardBody {
                ratings: ratings
                    .into_iter()
                    .filter_map(|(k, v)| Rating::from_score(v).map(|r| (k, r)))
                    .collect(),
                not_assessed: serde_json::from_str(&r.not_assessed).unwrap_or_default(),
                overall: Rating::from_score(r.overall).unwrap_or(Rating::No),
                evidence: r.evidence,
                concerns: r.concerns,
                red_flags: serde_json::from_str(&r.red_flags).unwrap_or_default(),
            },
            submitted_at: r.submitted_at,
        }
    }
}

/// The current scorecard of every (stage, interviewer) of a loop, by stage then time.
pub async fn latest_for_loop(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
) -> sqlx::Result<Vec<Scorecard>> {
    let rows: Vec<Row> = sqlx::query_as(LATEST_FOR_LOOP)
        .bind(loop_id)
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

const LATEST_FOR_LOOP: &str = "SELECT s.loop_id, s.position, s.interviewer_id, s.version,
        s.overall, s.ratings, s.evidence, s.concerns, s.submitted_at, s.not_assessed,
        s.red_flags
   FROM scorecards s
  WHERE s.loop_id = $1
    AND s.version = (SELECT MAX(version) FROM scorecards l
                      WHERE l.loop_id = s.loop_id AND l.position = s.position
                        AND l.interviewer_id = s.interviewer_id)
  ORDER BY s.position, s.submitted_at, s.id";

/// [`latest_for_loop`] in a trip with other statements.
pub fn latest_for_loop_into(trip: &mut Trip, loop_id: LoopId) -> Read<Vec<Scorecard>> {
    trip.read(LATEST_FOR_LOOP, vec![loop_id.into()], |rows| {
        Ok(rows_of::<Row>(rows)?.into_iter().map(Into::into).collect())
    })
}

/// The current scorecard of one interviewer for one stage.
pub async fn latest(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> sqlx::Result<Option<Scorecard>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT loop_id, position, interviewer_id, version, overall, ratings, evidence, concerns,
                submitted_at, not_assessed, red_flags
           FROM scorecards
          WHERE loop_id = $1 AND position = $2 AND interviewer_id = $3
          ORDER BY version DESC LIMIT 1",
    )
    .bind(loop_id)
    .bind(i64::from(position))
    .bind(user)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

/// Which stage, interviewer and version a stored scorecard row is.
pub async fn identity(
    db: impl AnyExecutor<'_>,
    id: i64,
) -> sqlx::Result<Option<(u32, String, i64)>> {
    let row: Option<(i64, String, i64)> =
        sqlx::query_as("SELECT position, interviewer_id, version FROM scorecards WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(position, interviewer, version)| {
        (
            u32::try_from(position).unwrap_or(u32::MAX),
            interviewer,
            version,
        )
    }))
}

/// A draft's typed state as stored (JSON). Unknown or missing fields read as empty.
#[derive(serde::Serialize, serde::Deserialize, Default)]
#[serde(default)]
struct DraftState {
    ratings: BTreeMap<String, i64>,
    not_assessed: BTreeSet<String>,
    overall: Option<i64>,
    evidence: String,
    concerns: String,
    red_flags: Vec<String>,
}

impl From<&ScorecardInput> for DraftState {
    fn from(i: &ScorecardInput) -> Self {
        DraftState {
            ratings: i
                .ratings
                .iter()
                .map(|(k, r)| (k.clone(), r.score()))
                .collect(),
            not_assessed: i.not_assessed.clone(),
            overall: i.overall.map(Rating::score),
            evidence: i.evidence.clone(),
            concerns: i.concerns.clone(),
            red_flags: i.red_flags.clone(),
        }
    }
}

impl From<DraftState> for ScorecardInput {
    fn from(d: DraftState) -> Self {
        ScorecardInput {
            ratings: d
                .ratings
                .into_iter()
                .filter_map(|(k, v)| Rating::from_score(v).map(|r| (k, r)))
                .collect(),
            not_assessed: d.not_assessed,
            overall: d.overall.and_then(Rating::from_score),
            evidence: d.evidence,
            concerns: d.concerns,
            red_flags: d.red_flags,
        }
    }
}

/// Saves what `user` has typed into the scorecard form of stage `position`, replacing their
/// earlier draft unless that one was saved later (requests can arrive out of order).
pub async fn save_draft(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    position: u32,
    user: &str,
    draft: &ScorecardDraft,
) -> sqlx::Result<()> {
    let state = serde_json::to_string(&DraftState::from(&draft.input)).unwrap_or_default();
    sqlx::query(
        "INSERT INTO scorecard_drafts (loop_id, position, interviewer_id, based_on, state,
                                       updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (loop_id, position, interviewer_id) DO UPDATE
            SET based_on = excluded.based_on, state = excluded.state,
                updated_at = excluded.updated_at
          WHERE excluded.updated_at >= scorecard_drafts.updated_at",
    )
    .bind(loop_id)
    .bind(i64::from(position))
    .bind(user)
    .bind(draft.based_on)
    .bind(state)
    .bind(draft.updated_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The draft of `user` for stage `position`, if they have one.
pub async fn draft(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> sqlx::Result<Option<ScorecardDraft>> {
    let row: Option<(i64, String, i64)> = sqlx::query_as(
        "SELECT based_on, state, updated_at FROM scorecard_drafts
          WHERE loop_id = $1 AND position = $2 AND interviewer_id = $3",
    )
    .bind(loop_id)
    .bind(i64::from(position))
    .bind(user)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(based_on, state, updated_at)| ScorecardDraft {
        based_on,
        input: serde_json::from_str::<DraftState>(&state)
            .unwrap_or_default()
            .into(),
        updated_at,
    }))
}

const DELETE_DRAFT: &str = "DELETE FROM scorecard_drafts
                             WHERE loop_id = $1 AND position = $2 AND interviewer_id = $3";

/// [`delete_draft`] in a trip with other statements.
pub fn delete_draft_into(trip: &mut Trip, loop_id: LoopId, position: u32, user: &str) {
    trip.push(
        DELETE_DRAFT,
        vec![loop_id.into(), position.into(), user.into()],
    );
}

/// Discards the draft of `user` for stage `position` (their submission replaces it).
pub async fn delete_draft(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> sqlx::Result<()> {
    sqlx::query(DELETE_DRAFT)
        .bind(loop_id)
        .bind(i64::from(position))
        .bind(user)
        .execute(db)
        .await?;
    Ok(())
}
