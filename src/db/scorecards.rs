//! Scorecard versions. Submitting again adds a version; the latest is the current one.

use std::collections::BTreeMap;

use sqlx::SqliteExecutor;

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;
use crate::domain::scorecard::{Rating, Scorecard, ScorecardBody};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub version: i64,
}

/// Adds a version of the scorecard of `user` for stage `position`. `based_on` is the version
/// the form was opened from; the same form submitted twice with the same content is stored
/// once (returns `None` the second time). Refused (also `None`) once the loop is decided.
#[allow(clippy::too_many_arguments)]
pub async fn insert_version(
    db: impl SqliteExecutor<'_>,
    loop_id: LoopId,
    position: u32,
    user: &str,
    body: &ScorecardBody,
    based_on: i64,
    now: UnixMillis,
) -> sqlx::Result<Option<Stored>> {
    let ratings: BTreeMap<&str, i64> = body
        .ratings
        .iter()
        .map(|(k, r)| (k.as_str(), r.score()))
        .collect();
    let key = format!(
        "{loop_id}:{position}:{user}:{based_on}:{}",
        body.fingerprint()
    );
    let row: Option<(i64, i64)> = sqlx::query_as(
        "INSERT INTO scorecards (loop_id, position, interviewer_id, version, overall, ratings,
                                 evidence, concerns, submission_key, submitted_at)
         SELECT ?1, ?2, ?3, COALESCE(MAX(version), 0) + 1, ?4, ?5, ?6, ?7, ?8, ?9
           FROM scorecards
          WHERE loop_id = ?1 AND position = ?2 AND interviewer_id = ?3
            AND NOT EXISTS (SELECT 1 FROM loops WHERE id = ?1 AND status = 'decided')
         ON CONFLICT (submission_key) DO NOTHING
         RETURNING id, version",
    )
    .bind(loop_id)
    .bind(position)
    .bind(user)
    .bind(body.overall.score())
    .bind(serde_json::to_string(&ratings).unwrap_or_default())
    .bind(&body.evidence)
    .bind(&body.concerns)
    .bind(key)
    .bind(now)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(id, version)| Stored { id, version }))
}

#[derive(sqlx::FromRow)]
struct Row {
    loop_id: i64,
    position: u32,
    interviewer_id: String,
    version: i64,
    overall: i64,
    ratings: String,
    evidence: String,
    concerns: String,
    submitted_at: i64,
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
                overall: Rating::from_score(r.overall).unwrap_or(Rating::No),
                evidence: r.evidence,
                concerns: r.concerns,
            },
            submitted_at: r.submitted_at,
        }
    }
}

/// The current scorecard of every (stage, interviewer) of a loop, by stage then time.
pub async fn latest_for_loop(
    db: impl SqliteExecutor<'_>,
    loop_id: LoopId,
) -> sqlx::Result<Vec<Scorecard>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT s.loop_id, s.position, s.interviewer_id, s.version, s.overall, s.ratings,
                s.evidence, s.concerns, s.submitted_at
           FROM scorecards s
          WHERE s.loop_id = ?1
            AND s.version = (SELECT MAX(version) FROM scorecards l
                              WHERE l.loop_id = s.loop_id AND l.position = s.position
                                AND l.interviewer_id = s.interviewer_id)
          ORDER BY s.position, s.submitted_at, s.id",
    )
    .bind(loop_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The current scorecard of one interviewer for one stage.
pub async fn latest(
    db: impl SqliteExecutor<'_>,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> sqlx::Result<Option<Scorecard>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT loop_id, position, interviewer_id, version, overall, ratings, evidence, concerns,
                submitted_at
           FROM scorecards
          WHERE loop_id = ?1 AND position = ?2 AND interviewer_id = ?3
          ORDER BY version DESC LIMIT 1",
    )
    .bind(loop_id)
    .bind(position)
    .bind(user)
    .fetch_optional(db)
    .await?;
    Ok(row.map(Into::into))
}

/// Which stage, interviewer and version a stored scorecard row is.
pub async fn identity(
    db: impl SqliteExecutor<'_>,
    id: i64,
) -> sqlx::Result<Option<(u32, String, i64)>> {
    sqlx::query_as("SELECT position, interviewer_id, version FROM scorecards WHERE id = ?1")
        .bind(id)
        .fetch_optional(db)
        .await
}
