//! Scorecards: the 4-point scale with no neutral middle, and the rules a submission must pass.

use std::collections::BTreeMap;

use crate::clock::UnixMillis;
use crate::domain::rubric::StageRubric;

/// Evidence shorter than this is not evidence: say what the candidate said or did.
pub const MIN_EVIDENCE_CHARS: usize = 40;
pub const MAX_TEXT_CHARS: usize = 3000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rating {
    StrongNo = 1,
    No = 2,
    Yes = 3,
    StrongYes = 4,
}

impl Rating {
    pub const ALL: [Rating; 4] = [Rating::StrongNo, Rating::No, Rating::Yes, Rating::StrongYes];

    pub fn from_score(score: i64) -> Option<Rating> {
        Some(match score {
            1 => Rating::StrongNo,
            2 => Rating::No,
            3 => Rating::Yes,
            4 => Rating::StrongYes,
            _ => return None,
        })
    }

    pub fn score(self) -> i64 {
        self as i64
    }

    pub fn label(self) -> &'static str {
        match self {
            Rating::StrongNo => "Strong no",
            Rating::No => "No",
            Rating::Yes => "Yes",
            Rating::StrongYes => "Strong yes",
        }
    }

    /// "3 · Yes"
    pub fn display(self) -> String {
        format!("{} · {}", self.score(), self.label())
    }
}

/// The modal as submitted, read out of Slack's payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScorecardInput {
    /// criterion key → rating, for the criteria that were rated.
    pub ratings: BTreeMap<String, Rating>,
    pub overall: Option<Rating>,
    pub evidence: String,
    pub concerns: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScorecardField {
    Criterion(String),
    Overall,
    Evidence,
    Concerns,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorecardError {
    pub field: ScorecardField,
    pub message: String,
}

/// A complete, valid scorecard body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorecardBody {
    pub ratings: BTreeMap<String, Rating>,
    pub overall: Rating,
    pub evidence: String,
    pub concerns: String,
}

impl ScorecardBody {
    /// A stable fingerprint of the content, for recognising a repeated submission.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for (key, rating) in &self.ratings {
            hasher.update(format!("{key}={};", rating.score()));
        }
        hasher.update(format!("overall={};", self.overall.score()));
        hasher.update(self.evidence.as_bytes());
        hasher.update([0u8]);
        hasher.update(self.concerns.as_bytes());
        hex::encode(&hasher.finalize()[..16])
    }
}

/// A stored scorecard (the latest version, unless asked otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scorecard {
    pub loop_id: i64,
    pub position: u32,
    pub interviewer_id: String,
    pub version: i64,
    pub body: ScorecardBody,
    pub submitted_at: UnixMillis,
}

/// A note from an earlier stage for the next interviewers: its "concerns for the next stages",
/// never ratings or evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOff {
    /// The earlier stage's name.
    pub stage: String,
    pub note: String,
}

/// The hand-off notes that reach stage `position`'s interviewers: every earlier stage's
/// non-empty concerns, in stage order (`stage_name` names a position).
pub fn hand_offs<'a>(
    latest: &[Scorecard],
    position: u32,
    stage_name: impl Fn(u32) -> Option<&'a str>,
) -> Vec<HandOff> {
    let mut earlier: Vec<&Scorecard> = latest
        .iter()
        .filter(|c| c.position < position && !c.body.concerns.trim().is_empty())
        .collect();
    earlier.sort_by_key(|c| (c.position, c.submitted_at));
    earlier
        .into_iter()
        .filter_map(|c| {
            Some(HandOff {
                stage: stage_name(c.position)?.to_string(),
                note: c.body.concerns.trim().to_string(),
            })
        })
        .collect()
}

pub fn validate(
    input: &ScorecardInput,
    stage: &StageRubric,
) -> Result<ScorecardBody, Vec<ScorecardError>> {
    let mut errors = Vec::new();
    let mut ratings = BTreeMap::new();
    for criterion in &stage.criteria {
        match input.ratings.get(&criterion.key) {
            Some(rating) => {
                ratings.insert(criterion.key.clone(), *rating);
            }
            None => errors.push(ScorecardError {
                field: ScorecardField::Criterion(criterion.key.clone()),
                message: "Rate this criterion from 1 (strong no) to 4 (strong yes).".into(),
            }),
        }
    }
    if input.overall.is_none() {
        errors.push(ScorecardError {
            field: ScorecardField::Overall,
            message: "Choose your overall recommendation.".into(),
        });
    }
    let evidence = input.evidence.trim().to_string();
    let evidence_len = evidence.chars().count();
    if evidence_len < MIN_EVIDENCE_CHARS {
        errors.push(ScorecardError {
            field: ScorecardField::Evidence,
            message: format!(
                "Write at least {MIN_EVIDENCE_CHARS} characters: what the candidate said or did that supports your ratings."
            ),
        });
    } else if evidence_len > MAX_TEXT_CHARS {
        errors.push(ScorecardError {
            field: ScorecardField::Evidence,
            message: format!("Keep the evidence to {MAX_TEXT_CHARS} characters."),
        });
    }
    let concerns = input.concerns.trim().to_string();
    if concerns.chars().count() > MAX_TEXT_CHARS {
        errors.push(ScorecardError {
            field: ScorecardField::Concerns,
            message: format!("Keep the concerns to {MAX_TEXT_CHARS} characters."),
        });
    }
    match (errors.is_empty(), input.overall) {
        (true, Some(overall)) => Ok(ScorecardBody {
            ratings,
            overall,
            evidence,
            concerns,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rubric::RubricSet;

    fn full_input(stage: &StageRubric) -> ScorecardInput {
        ScorecardInput {
            ratings: stage
                .criteria
                .iter()
                .map(|c| (c.key.clone(), Rating::Yes))
                .collect(),
            overall: Some(Rating::StrongYes),
            evidence: "Walked through the sharding migration they led, with numbers.".into(),
            concerns: "".into(),
        }
    }

    #[test]
    fn the_scale_has_four_points_and_no_middle() {
        assert_eq!(Rating::ALL.len(), 4);
        assert_eq!(Rating::from_score(0), None);
        assert_eq!(Rating::from_score(5), None);
        assert_eq!(
            Rating::from_score(3).map(Rating::display).as_deref(),
            Some("3 · Yes")
        );
    }

    #[test]
    fn a_complete_scorecard_is_valid() {
        let rubrics = RubricSet::builtin();
        let stage = &rubrics.default_rubric().stages[0];
        let body = validate(&full_input(stage), stage).unwrap();
        assert_eq!(body.overall, Rating::StrongYes);
        assert_eq!(body.ratings.len(), stage.criteria.len());
    }

    #[test]
    fn each_missing_piece_is_reported_on_its_own_field() {
        let rubrics = RubricSet::builtin();
        let stage = &rubrics.default_rubric().stages[1];
        let mut input = full_input(stage);
        let first = stage.criteria[0].key.clone();
        input.ratings.remove(&first);
        input.overall = None;
        input.evidence = "good".into();
        input.concerns = "x".repeat(3001);
        let errors = validate(&input, stage).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
        assert_eq!(
            fields,
            [
                ScorecardField::Criterion(first),
                ScorecardField::Overall,
                ScorecardField::Evidence,
                ScorecardField::Concerns
            ]
        );
    }

    #[test]
    fn the_fingerprint_changes_with_the_content_only() {
        let rubrics = RubricSet::builtin();
        let stage = &rubrics.default_rubric().stages[0];
        let a = validate(&full_input(stage), stage).unwrap();
        let mut b = a.clone();
        assert_eq!(a.fingerprint(), b.fingerprint());
        b.evidence.push('!');
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
