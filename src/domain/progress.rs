//! Where a loop stands: who has submitted for which stage, what each stage's status is, and
//! whether recommendations may be shown yet (blindness).

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::UnixMillis;
use crate::domain::interview_loop::{InterviewLoop, LoopStatus, Stage};
use crate::domain::scorecard::{Rating, Scorecard};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopProgress {
    /// stage position → interviewer → overall recommendation of their latest scorecard.
    submitted: BTreeMap<u32, BTreeMap<String, Rating>>,
    /// Stages whose feedback is past due (reminders are going out), and those escalated.
    due: BTreeSet<u32>,
    overdue: BTreeSet<u32>,
    /// (stage position, interviewer) → when their feedback is due, for scheduled stages.
    due_at: BTreeMap<(u32, String), crate::clock::UnixMillis>,
}

/// How far chasing someone for a stage has gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chase {
    pub position: u32,
    pub user: String,
    pub due_at: crate::clock::UnixMillis,
    pub reminders_sent: i64,
    pub escalated: bool,
    pub stopped: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageStatus {
    Skipped {
        reason: String,
    },
    /// No feedback, not skipped, and a warning about it has been posted.
    Missing,
    NoInterviewer,
    /// Escalated to the hiring manager.
    Overdue,
    /// Past its deadline; reminders are going out.
    Due,
    Unscheduled,
    Pending {
        submitted: usize,
        of: usize,
    },
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
        LoopProgress {
            submitted,
            ..Default::default()
        }
    }

    /// Adds what reminders know: which stages are due or overdue for someone who has not
    /// submitted.
    pub fn with_chases(mut self, chases: &[Chase]) -> Self {
        for chase in chases {
            self.due_at
                .insert((chase.position, chase.user.clone()), chase.due_at);
            if chase.stopped || self.has_submitted(chase.position, &chase.user) {
                continue;
            }
            if chase.escalated {
                self.overdue.insert(chase.position);
            } else if chase.reminders_sent > 0 {
                self.due.insert(chase.position);
            }
        }
        self
    }

    /// When `user`'s feedback for the stage is due (scheduled stages only).
    pub fn due_at(&self, position: u32, user: &str) -> Option<crate::clock::UnixMillis> {
        self.due_at.get(&(position, user.to_string())).copied()
    }

    pub fn is_overdue(&self, position: u32) -> bool {
        self.overdue.contains(&position)
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

    /// Whether anyone has submitted a scorecard for the stage.
    pub fn has_feedback(&self, position: u32) -> bool {
        self.submitted.get(&position).is_some_and(|m| !m.is_empty())
    }

    pub fn status(&self, l: &InterviewLoop, stage: &Stage) -> StageStatus {
        if self.stage_complete(stage) {
            return StageStatus::Submitted;
        }
        if let Some(skip) = l.skip_of(stage.position) {
            return StageStatus::Skipped {
                reason: skip.reason.clone(),
            };
        }
        if self.overdue.contains(&stage.position) {
            return StageStatus::Overdue;
        }
        if l.warned.contains(&stage.position) && !self.has_feedback(stage.position) {
            return StageStatus::Missing;
        }
        if stage.interviewers.is_empty() {
            return StageStatus::NoInterviewer;
        }
        if self.due.contains(&stage.position) {
            return StageStatus::Due;
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
        l.status == LoopStatus::Decided
            || l.stages
                .iter()
                .all(|s| self.stage_complete(s) || l.skip_of(s.position).is_some())
    }

    /// Stages the loop moved on without: no feedback and no skip, before a stage that has
    /// feedback, and either unscheduled or with their interview over by `now` (`ended_at`
    /// gives when a stage's interview ends). A stage whose interview is still ahead is not
    /// missing, however the panel was ordered.
    pub fn missing_before_feedback(
        &self,
        l: &InterviewLoop,
        now: UnixMillis,
        ended_at: impl Fn(&Stage) -> Option<UnixMillis>,
    ) -> Vec<u32> {
        let Some(last) = l
            .stages
            .iter()
            .map(|s| s.position)
            .filter(|p| self.has_feedback(*p))
            .max()
        else {
            return Vec::new();
        };
        l.stages
            .iter()
            .filter(|s| s.position < last)
            .filter(|s| !self.has_feedback(s.position) && l.skip_of(s.position).is_none())
            .filter(|s| ended_at(s).is_none_or(|end| end <= now))
            .map(|s| s.position)
            .collect()
    }

    /// Stages with no feedback and no skip: what a decision now would be missing.
    pub fn missing_for_decision(&self, l: &InterviewLoop) -> Vec<u32> {
        l.stages
            .iter()
            .filter(|s| !self.has_feedback(s.position) && l.skip_of(s.position).is_none())
            .map(|s| s.position)
            .collect()
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
            p.status(&l, &l.stages[0]),
            StageStatus::Pending {
                submitted: 0,
                of: 1
            }
        );
        assert_eq!(
            p.status(&l, &l.stages[1]),
            StageStatus::Pending {
                submitted: 1,
                of: 2
            }
        );
        assert_eq!(p.status(&l, &l.stages[2]), StageStatus::NoInterviewer);
        assert_eq!(p.status(&l, &l.stages[3]), StageStatus::Unscheduled);
        assert!(p.has_submitted_any("UB"));
        assert!(!p.has_submitted_any("UA"));
    }

    #[test]
    fn a_stage_is_missing_when_a_later_one_has_feedback_and_it_has_none() {
        let mut l = sample_loop();
        let p = LoopProgress::from_scorecards(&[card(3, "UC", Rating::Yes)]);
        let over = |_: &Stage| Some(0);
        assert_eq!(p.missing_before_feedback(&l, 10, over), [1, 2]);
        l.skips.push(crate::domain::interview_loop::Skip {
            position: 1,
            reason: "withdrew".into(),
            skipped_by: "UHM".into(),
            skipped_at: 0,
        });
        assert_eq!(p.missing_before_feedback(&l, 10, over), [2]);
        assert_eq!(p.missing_for_decision(&l), [2, 4]);
        assert_eq!(
            p.status(&l, &l.stages[0]),
            StageStatus::Skipped {
                reason: "withdrew".into()
            }
        );
        l.warned.push(2);
        assert_eq!(p.status(&l, &l.stages[1]), StageStatus::Missing);
        assert!(
            LoopProgress::default()
                .missing_before_feedback(&l, 10, over)
                .is_empty()
        );
    }

    #[test]
    fn a_stage_whose_interview_is_still_ahead_is_not_missing_whatever_the_order() {
        let l = sample_loop();
        let p = LoopProgress::from_scorecards(&[card(3, "UC", Rating::Yes)]);
        // Stage 1's interview is over; stage 2's is tomorrow; stage 4 comes after the feedback.
        let ends = |s: &Stage| match s.position {
            1 => Some(5),
            2 => Some(1_000),
            _ => None,
        };
        assert_eq!(p.missing_before_feedback(&l, 10, ends), [1]);
        // Unscheduled stages before the feedback count: nobody knows when they will happen.
        assert_eq!(p.missing_before_feedback(&l, 10, |_: &Stage| None), [1, 2]);
        // Once stage 2's interview is over too, it is missing.
        assert_eq!(p.missing_before_feedback(&l, 1_000, ends), [1, 2]);
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
