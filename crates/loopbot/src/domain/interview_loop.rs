//! An interview loop as stored: the candidate, the people, the stages, and what has been
//! provisioned in Slack for it.

use crate::clock::UnixMillis;

pub type LoopId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopStatus {
    /// Stored; its channel, messages and pin are being made.
    Provisioning,
    Open,
    Decided,
    /// The channel was archived or deleted.
    Closed,
}

impl LoopStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LoopStatus::Provisioning => "provisioning",
            LoopStatus::Open => "open",
            LoopStatus::Decided => "decided",
            LoopStatus::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "provisioning" => LoopStatus::Provisioning,
            "open" => LoopStatus::Open,
            "decided" => LoopStatus::Decided,
            "closed" => LoopStatus::Closed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stage {
    /// 1-based order within the loop.
    pub position: u32,
    pub key: String,
    pub name: String,
    pub interview_at: Option<UnixMillis>,
    pub interviewers: Vec<String>,
    /// The rubric message posted for this stage.
    pub rubric_ts: Option<String>,
}

/// The hiring decision. Hold keeps the loop open; the others are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Hire,
    NoHire,
    Hold,
    /// The candidate withdrew.
    Withdrawn,
}

impl Outcome {
    pub const ALL: [Outcome; 4] = [
        Outcome::Hire,
        Outcome::NoHire,
        Outcome::Hold,
        Outcome::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Hire => "hire",
            Outcome::NoHire => "no_hire",
            Outcome::Hold => "hold",
            Outcome::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Hire => "Hire",
            Outcome::NoHire => "No hire",
            Outcome::Hold => "Hold",
            Outcome::Withdrawn => "Withdrawn",
        }
    }

    /// A final outcome freezes the scorecards and archives the channel; Hold does neither.
    pub fn is_final(self) -> bool {
        self != Outcome::Hold
    }
}

/// A decision's rationale needs at least this many characters: why, in terms of the evidence.
pub const MIN_RATIONALE_CHARS: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    pub rationale: String,
    pub decided_by: String,
    pub decided_at: UnixMillis,
    /// Stages with no feedback that the person deciding confirmed deciding without.
    pub without: Vec<u32>,
}

/// A skip's reason may be at most this long.
pub const MAX_REASON_CHARS: usize = 500;

/// A stage skipped on purpose, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    pub position: u32,
    pub reason: String,
    pub skipped_by: String,
    pub skipped_at: UnixMillis,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterviewLoop {
    pub id: LoopId,
    pub candidate_name: String,
    pub rubric_id: String,
    pub role: String,
    pub coordinator_id: String,
    pub hiring_manager_id: String,
    pub origin_channel_id: Option<String>,
    pub status: LoopStatus,
    pub channel_name: Option<String>,
    pub channel_id: Option<String>,
    pub members_invited: bool,
    pub topic_set: bool,
    pub summary_ts: Option<String>,
    pub summary_pinned: bool,
    pub confirmation_sent: bool,
    pub created_at: UnixMillis,
    pub stages: Vec<Stage>,
    pub decision: Option<Decision>,
    pub skips: Vec<Skip>,
    /// Stages a missing-stage warning was posted for (once per stage).
    pub warned: Vec<u32>,
    /// How many times the loop was reopened after a decision.
    pub cycle: i64,
    /// What started the loop, once: the start form's view id, or `ats:<ats>:<application>`
    /// for a loop an ATS started.
    pub source_key: String,
    pub archived_at: Option<UnixMillis>,
}

impl InterviewLoop {
    /// A final decision is recorded: scorecards are frozen (Hold is not final).
    pub fn is_decided(&self) -> bool {
        self.status == LoopStatus::Decided
    }

    /// Everyone who belongs in the candidate channel, each once, in a stable order:
    /// coordinator, hiring manager, then the panel by stage.
    pub fn members(&self) -> Vec<String> {
        let mut members: Vec<String> = Vec::new();
        let people = [&self.coordinator_id, &self.hiring_manager_id]
            .into_iter()
            .chain(self.stages.iter().flat_map(|s| s.interviewers.iter()));
        for person in people {
            if !members.contains(person) {
                members.push(person.clone());
            }
        }
        members
    }

    /// Stages that nobody has been assigned to yet.
    pub fn unstaffed_stages(&self) -> impl Iterator<Item = &Stage> {
        self.stages.iter().filter(|s| s.interviewers.is_empty())
    }

    pub fn stage_at(&self, position: u32) -> Option<&Stage> {
        self.stages.iter().find(|s| s.position == position)
    }

    pub fn skip_of(&self, position: u32) -> Option<&Skip> {
        self.skips.iter().find(|s| s.position == position)
    }

    /// The coordinator and the hiring manager run the loop: skips, decisions, panel changes.
    pub fn is_owner(&self, user: &str) -> bool {
        user == self.coordinator_id || user == self.hiring_manager_id
    }

    /// Finds a stage by its number, key, or (the start of) its name, ignoring case.
    pub fn find_stage(&self, text: &str) -> Option<&Stage> {
        let wanted = text.trim().to_lowercase();
        if wanted.is_empty() {
            return None;
        }
        if let Ok(n) = wanted.parse::<u32>() {
            return self.stage_at(n);
        }
        self.stages
            .iter()
            .find(|s| s.key == wanted || s.name.to_lowercase() == wanted)
            .or_else(|| {
                let mut matches = self.stages.iter().filter(|s| {
                    s.key.starts_with(&wanted) || s.name.to_lowercase().starts_with(&wanted)
                });
                match (matches.next(), matches.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            })
    }
}

/// The scheduled stages in the order their interviews happen, when that is not the rubric's
/// order (a panel may well be scheduled that way); `None` when in order.
pub fn time_order_if_shuffled(stages: &[Stage]) -> Option<Vec<&Stage>> {
    let mut timed: Vec<&Stage> = stages.iter().filter(|s| s.interview_at.is_some()).collect();
    timed.sort_by_key(|s| (s.interview_at, s.position));
    let in_order = timed.windows(2).all(|w| w[0].position < w[1].position);
    (!in_order).then_some(timed)
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::domain::scorecard::{Rating, Scorecard, ScorecardBody};

    /// `who`'s first scorecard for stage `position` of [`sample_loop`].
    pub fn scorecard(position: u32, who: &str, overall: Rating) -> Scorecard {
        Scorecard {
            loop_id: 1,
            position,
            interviewer_id: who.into(),
            version: 1,
            body: ScorecardBody {
                ratings: Default::default(),
                not_assessed: Default::default(),
                overall,
                evidence: "e".into(),
                concerns: String::new(),
                red_flags: Vec::new(),
            },
            submitted_at: 0,
        }
    }

    pub fn sample_loop() -> InterviewLoop {
        let stage = |position: u32, key: &str, name: &str, who: &[&str]| Stage {
            position,
            key: key.into(),
            name: name.into(),
            interview_at: None,
            interviewers: who.iter().map(|s| s.to_string()).collect(),
            rubric_ts: None,
        };
        InterviewLoop {
            id: 1,
            candidate_name: "Ada Lovelace".into(),
            rubric_id: "senior-backend".into(),
            role: "Senior Backend Engineer".into(),
            coordinator_id: "UCOORD".into(),
            hiring_manager_id: "UHM".into(),
            origin_channel_id: Some("CORIGIN".into()),
            status: LoopStatus::Open,
            channel_name: Some("loop-ada-lovelace-senior-backend".into()),
            channel_id: Some("C1".into()),
            members_invited: true,
            topic_set: true,
            summary_ts: Some("1.000001".into()),
            summary_pinned: true,
            confirmation_sent: true,
            created_at: 0,
            decision: None,
            skips: Vec::new(),
            warned: Vec::new(),
            cycle: 0,
            source_key: "V1".into(),
            archived_at: None,
            stages: vec![
                stage(1, "technical-screen", "Technical screen", &["UA"]),
                stage(2, "system-design", "System design", &["UB", "UHM"]),
                stage(3, "coding", "Coding", &[]),
                stage(4, "values", "Values and collaboration", &["UA"]),
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::sample_loop;
    use super::time_order_if_shuffled;

    #[test]
    fn members_are_listed_once_in_a_stable_order() {
        assert_eq!(sample_loop().members(), ["UCOORD", "UHM", "UA", "UB"]);
    }

    #[test]
    fn stages_are_found_by_number_key_or_name() {
        let l = sample_loop();
        for (text, expected) in [
            ("3", Some(3)),
            ("coding", Some(3)),
            ("System Design", Some(2)),
            ("tech", Some(1)),
            ("values", Some(4)),
            ("9", None),
            ("", None),
            ("s", Some(2)),
        ] {
            assert_eq!(l.find_stage(text).map(|s| s.position), expected, "{text}");
        }
    }

    #[test]
    fn unstaffed_stages_are_found() {
        let l = sample_loop();
        let names: Vec<_> = l.unstaffed_stages().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Coding"]);
    }

    #[test]
    fn a_panel_out_of_the_rubrics_order_is_told_apart_from_one_in_order() {
        let mut l = sample_loop();
        assert!(
            time_order_if_shuffled(&l.stages).is_none(),
            "nothing scheduled"
        );
        l.stages[0].interview_at = Some(100);
        l.stages[1].interview_at = Some(200);
        l.stages[2].interview_at = Some(300);
        assert!(time_order_if_shuffled(&l.stages).is_none());
        // Coding before system design; values unscheduled.
        l.stages[2].interview_at = Some(150);
        let order: Vec<u32> = time_order_if_shuffled(&l.stages)
            .unwrap()
            .iter()
            .map(|s| s.position)
            .collect();
        assert_eq!(order, [1, 3, 2]);
    }
}
