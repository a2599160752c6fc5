//! Scorecards: the 4-point scale with no neutral middle, worded per criterion from its rubric,
//! "Not assessed" for a criterion that did not come up, the stage's red flags, drafts, and the
//! rules a submission must pass.

use std::collections::{BTreeMap, BTreeSet};

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

    /// The point as an overall recommendation: "Strong yes" … "Strong no". Never for a
    /// criterion, whose points are worded against its rubric ([`Rating::criterion_label`]).
    pub fn recommendation_label(self) -> &'static str {
        match self {
            Rating::StrongNo => "Strong no",
            Rating::No => "No",
            Rating::Yes => "Yes",
            Rating::StrongYes => "Strong yes",
        }
    }

    /// "3 · Yes": an overall recommendation, as the form's "Overall recommendation" asks it.
    pub fn recommendation_display(self) -> String {
        format!("{} · {}", self.score(), self.recommendation_label())
    }

    /// What the point means for one criterion, read against its rubric text: 4 shows the
    /// strong signals, 2 is the merely well-prepared answer.
    pub fn criterion_label(self) -> &'static str {
        match self {
            Rating::StrongYes => "Shows the strong signals",
            Rating::Yes => "Mostly strong",
            Rating::No => "Merely well prepared",
            Rating::StrongNo => "Absent, or a red flag",
        }
    }

    /// "3 · Mostly strong"
    pub fn criterion_display(self) -> String {
        format!("{} · {}", self.score(), self.criterion_label())
    }
}

/// The choice for a criterion that did not come up in the interview. It does not count.
pub const NOT_ASSESSED: &str = "Not assessed";

/// The modal as submitted (or as typed so far, for a draft), read out of Slack's payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScorecardInput {
    /// criterion key → rating, for the criteria that were rated.
    pub ratings: BTreeMap<String, Rating>,
    /// The criteria marked "Not assessed".
    pub not_assessed: BTreeSet<String>,
    pub overall: Option<Rating>,
    pub evidence: String,
    pub concerns: String,
    /// The texts of the stage's red flags that were ticked.
    pub red_flags: Vec<String>,
}

impl From<&ScorecardBody> for ScorecardInput {
    fn from(body: &ScorecardBody) -> Self {
        ScorecardInput {
            ratings: body.ratings.clone(),
            not_assessed: body.not_assessed.clone(),
            overall: Some(body.overall),
            evidence: body.evidence.clone(),
            concerns: body.concerns.clone(),
            red_flags: body.red_flags.clone(),
        }
    }
}

/// What an interviewer typed into a scorecard form and has not submitted yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScorecardDraft {
    /// The version the form was opened from (0 before a first submission).
    pub based_on: i64,
    pub input: ScorecardInput,
    pub updated_at: UnixMillis,
}

/// What a reopened form shows: the draft when it continues the current scorecard (it was
/// typed on a form opened from the latest version, after that version was submitted), else
/// the current scorecard, else nothing.
pub fn prefill(
    draft: Option<&ScorecardDraft>,
    latest: Option<&Scorecard>,
) -> Option<ScorecardInput> {
    let current = latest.map(|c| c.version).unwrap_or(0);
    let fresh = |d: &&ScorecardDraft| {
        d.based_on == current && latest.is_none_or(|c| d.updated_at >= c.submitted_at)
    };
    match draft.filter(fresh) {
        Some(d) => Some(d.input.clone()),
        None => latest.map(|c| ScorecardInput::from(&c.body)),
    }
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
    /// criterion key → rating; criteria marked "Not assessed" are not here.
    pub ratings: BTreeMap<String, Rating>,
    /// The criterion keys marked "Not assessed": they do not count.
    pub not_assessed: BTreeSet<String>,
    pub overall: Rating,
    pub evidence: String,
    pub concerns: String,
    /// The texts of the stage's red flags the interviewer ticked, as the rubric worded them at
    /// submission, in the rubric's order.
    pub red_flags: Vec<String>,
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
        // Absent from scorecards stored before these existed, so their fingerprints stay.
        if !self.not_assessed.is_empty() || !self.red_flags.is_empty() {
            for key in &self.not_assessed {
                hasher.update([0u8]);
                hasher.update(format!("na={key}").as_bytes());
            }
            for flag in &self.red_flags {
                hasher.update([0u8]);
                hasher.update(format!("flag={flag}").as_bytes());
            }
        }
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
    let mut not_assessed = BTreeSet::new();
    for criterion in &stage.criteria {
        match input.ratings.get(&criterion.key) {
            Some(rating) => {
                ratings.insert(criterion.key.clone(), *rating);
            }
            None if input.not_assessed.contains(&criterion.key) => {
                not_assessed.insert(criterion.key.clone());
            }
            None => errors.push(ScorecardError {
                field: ScorecardField::Criterion(criterion.key.clone()),
                message: format!(
                    "Rate this criterion from 1 to 4, or choose {NOT_ASSESSED} if it did not come up."
                ),
            }),
        }
    }
    if ratings.is_empty()
        && errors.is_empty()
        && let Some(first) = stage.criteria.first()
    {
        errors.push(ScorecardError {
            field: ScorecardField::Criterion(first.key.clone()),
            message: format!(
                "Rate at least one criterion: with every criterion {NOT_ASSESSED}, the scorecard says nothing about the candidate."
            ),
        });
    }
    // Only the stage's own red flags, in the rubric's order, worded as the rubric words them.
    let red_flags: Vec<String> = stage
        .red_flags
        .iter()
        .filter(|flag| input.red_flags.iter().any(|f| f.trim() == flag.trim()))
        .cloned()
        .collect();
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
            not_assessed,
            overall,
            evidence,
            concerns,
            red_flags,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests;
