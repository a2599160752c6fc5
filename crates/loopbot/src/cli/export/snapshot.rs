//! The [`Snapshot`]: every exported row, read in one transaction, and the lookups the document
//! and the tables share.

use crate::db;
use crate::db::export::{InterviewerRow, LoopRow, ScorecardRow, SkipRow, StageRow};

/// Everything exported, read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub loops: Vec<LoopRow>,
    pub stages: Vec<StageRow>,
    pub interviewers: Vec<InterviewerRow>,
    pub skips: Vec<SkipRow>,
    pub scorecards: Vec<ScorecardRow>,
}

/// Reads the snapshot in one transaction, so the tables agree with each other.
pub async fn load(db: &db::Db) -> sqlx::Result<Snapshot> {
    let mut tx = db.begin().await?;
    let snapshot = Snapshot {
        loops: db::export::loops(&mut *tx).await?,
        stages: db::export::stages(&mut *tx).await?,
        interviewers: db::export::interviewers(&mut *tx).await?,
        skips: db::export::skips(&mut *tx).await?,
        scorecards: db::export::scorecards(&mut *tx).await?,
    };
    tx.commit().await?;
    Ok(snapshot)
}

/// The stage's panel: its interviewers' user ids.
pub(super) fn panel(snapshot: &Snapshot, s: &StageRow) -> Vec<String> {
    snapshot
        .interviewers
        .iter()
        .filter(|i| i.loop_id == s.loop_id && i.position == s.position)
        .map(|i| i.user_id.clone())
        .collect()
}

impl Snapshot {
    /// "decided without: Values and collaboration (confirmed by UHM)" for a decision made
    /// without stages that had no feedback.
    pub fn decided_without(&self, l: &crate::db::export::LoopRow) -> Option<String> {
        let names = self.decided_without_names(l);
        (!names.is_empty()).then(|| {
            format!(
                "decided without: {} (confirmed by {})",
                names.join(", "),
                l.decided_by.as_deref().unwrap_or_default()
            )
        })
    }

    /// The names of the stages the decision was made without.
    pub fn decided_without_names(&self, l: &crate::db::export::LoopRow) -> Vec<String> {
        l.decided_without
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(|p| p.parse::<u32>().ok())
            .filter_map(|p| {
                self.stages
                    .iter()
                    .find(|s| s.loop_id == l.id && s.position == p)
                    .map(|s| s.name.clone())
            })
            .collect()
    }
}
