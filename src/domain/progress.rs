//! Where a loop stands: who has submitted for which stage, what each stage's status is, and
//! whether recommendations may be shown yet (blindness).

use std::collections::BTreeMap;

use crate::domain::interview_loop::{InterviewLoop, LoopStatus, Stage};
use crate::domain::scorecard::{Rating, Scorecard};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopProgress {
    /// stage position → interviewer → overall recommendation of their latest scorecard.
    submitted: BTreeMap<u32, BTreeMap<String, Rating>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageStatus {
    NoInterviewer,
    Unscheduled,
    Pending { submitted: usize, of: usize },
    Submitted,
}

impl LoopProgress {
    /// From the latest scorecard of each (stage, interviewer).
    pub fn from_scorecards(latest: &[Scorecard]) -> Self {
        let mut submitted: BTreeMap<u32, BTreeMap<String, Rating>> = BTreeMap::new();
        for card in latest {
            submitted
                .entry(card.position)
                .or_default()
                .insert(card.interviewer_id.clone(), card.body.overall);
        }
        LoopProgress { submitted }
    }

    /// Recommendations for a stage, by interviewer.
    pub fn stage(&self, position: u32) -> impl Iterator<Item = (&str, Rating)> {
        self.submitted
            .get(&position)
            .into_iter()
            .flat_map(|m| m.iter().map(|(u, r)| (u.as_str(), *r)))
    }

    pub fn has_submitted(&self, position: u32, user: &str) -> bool {
        self.submitted
            .get(&position)
            .is_some_and(|m| m.contains_key(user))
    }

    /// Whether `user` has submitted any scorecard in this loop.
    pub fn has_submitted_any(&self, user: &str) -> bool {
        self.submitted.values().any(|m| m.contains_key(user))
    }

    /// Every assigned interviewer of the stage has submitted.
    pub fn stage_complete(&self, stage: &Stage) -> bool {
        !stage.interviewers.is_empty()
            && stage
                .interviewers
                .iter()
                .all(|u| self.has_submitted(stage.position, u))
    }

    pub fn status(&self, stage: &Stage) -> StageStatus {
        if self.stage_complete(stage) {
            return StageStatus::Submitted;
        }
        if stage.interviewers.is_empty() {
            return StageStatus::NoInterviewer;
        }
        let submitted = stage
            .interviewers
            .iter()
            .filter(|u| self.has_submitted(stage.position, u))
            .count();
        if stage.interview_at.is_none() && submitted == 0 {
            return StageStatus::Unscheduled;
        }
        StageStatus::Pending {
            submitted,
            of: stage.interviewers.len(),
        }
    }

    /// Blind by default: recommendations show in the channel only once every stage is complete,
    /// or the decision is recorded.
    pub fn recommendations_visible(&self, l: &InterviewLoop) -> bool {
        l.status == LoopStatus::Decided || l.stages.iter().all(|s| self.stage_complete(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interview_loop::fixtures::sample_loop;
    use crate::domain::scorecard::ScorecardBody;

    fn card(position: u32, who: &str, overall: Rating) -> Scorecard {
        Scorecard {
            loop_id: 1,
            position,
            interviewer_id: who.into(),
            version: 1,
            body: ScorecardBody {
                ratings: Default::default(),
                overall,
                evidence: "e".into(),
                concerns: String::new(),
            },
            submitted_at: 0,
        }
    }

    #[test]
    fn statuses_follow_submissions() {
        let mut l = sample_loop();
        l.stages[0].interview_at = Some(1);
        let p = LoopProgress::from_scorecards(&[card(2, "UB", Rating::Yes)]);
        assert_eq!(
            p.status(&l.stages[0]),
            StageStatus::Pending {
                submitted: 0,
                of: 1
            }
        );
        assert_eq!(
            p.status(&l.stages[1]),
            StageStatus::Pending {
                submitted: 1,
                of: 2
            }
        );
        assert_eq!(p.status(&l.stages[2]), StageStatus::NoInterviewer);
        assert_eq!(p.status(&l.stages[3]), StageStatus::Unscheduled);
        assert!(p.has_submitted_any("UB"));
        assert!(!p.has_submitted_any("UA"));
    }

    #[test]
    fn recommendations_stay_hidden_until_every_stage_is_in_or_the_decision_is_recorded() {
        let mut l = sample_loop();
        l.stages[2].interviewers = vec!["UC".into()];
        let mut cards = vec![
            card(1, "UA", Rating::Yes),
            card(2, "UB", Rating::No),
            card(2, "UHM", Rating::Yes),
            card(3, "UC", Rating::StrongYes),
        ];
        assert!(!LoopProgress::from_scorecards(&cards).recommendations_visible(&l));
        cards.push(card(4, "UA", Rating::Yes));
        assert!(LoopProgress::from_scorecards(&cards).recommendations_visible(&l));

        let mut decided = sample_loop();
        decided.status = LoopStatus::Decided;
        assert!(LoopProgress::default().recommendations_visible(&decided));
    }
}
