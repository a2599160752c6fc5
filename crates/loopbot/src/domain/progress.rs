//! Where a loop stands: who has submitted for which stage, what each stage's status is, and
//! whether recommendations may be shown yet (blindness).

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::UnixMillis;
use crate::domain::interview_loop::{InterviewLoop, LoopStatus, Stage};
use crate::domain::schedule::Timing;
use crate::domain::scorecard::{Rating, Scorecard};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopProgress {
    /// stage position → interviewer → overall recommendation of their latest scorecard.
    submitted: BTreeMap<u32, BTreeMap<String, Rating>>,
    /// Stages escalated to the owners for someone who has not submitted.
    overdue: BTreeSet<u32>,
    /// (stage position, interviewer) → when their feedback is due, for scheduled stages.
    due_at: BTreeMap<(u32, String), crate::clock::UnixMillis>,
    /// When each scheduled stage's interview starts and ends and its feedback is due.
    timings: BTreeMap<u32, Timing>,
    /// The moment the statuses are for.
    now: UnixMillis,
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

/// Where a stage stands at a moment, following its interview's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageStatus {
    Skipped {
        reason: String,
    },
    /// No feedback and not skipped, though its interview is over (or was never scheduled) and
    /// a later stage has feedback, or a decision was asked for without it.
    Missing,
    NoInterviewer,
    /// No interview time yet.
    Unscheduled,
    /// The interview is ahead.
    Scheduled {
        at: UnixMillis,
    },
    /// The interview is running now.
    InProgress,
    /// The interview is over; feedback is not due yet.
    AwaitingFeedback {
        submitted: usize,
        of: usize,
    },
    /// Past its deadline for someone; reminders are going out.
    Due {
        submitted: usize,
        of: usize,
    },
    /// Escalated to the hiring manager and the coordinator.
    Overdue,
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

    /// Adds what reminders know: when each interviewer's feedback is due, and which stages
    /// were escalated for someone who has not submitted.
    pub fn with_chases(mut self, chases: &[Chase]) -> Self {
        for chase in chases {
            self.due_at
                .insert((chase.position, chase.user.clone()), chase.due_at);
            if chase.escalated && !self.has_submitted(chase.position, &chase.user) {
                self.overdue.insert(chase.position);
            }
        }
        self
    }

    /// Statuses as of `now`, with each scheduled stage's interview times.
    pub fn at(mut self, now: UnixMillis, timings: BTreeMap<u32, Timing>) -> Self {
        self.now = now;
        self.timings = timings;
        self
    }

    /// The moment the statuses are for.
    pub fn now(&self) -> UnixMillis {
        self.now
    }

    /// When the stage's interview starts and ends and its feedback is due, if scheduled.
    pub fn timing(&self, position: u32) -> Option<Timing> {
        self.timings.get(&position).copied()
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

    /// The stage's status at the progress's moment: what is done first (submitted, skipped,
    /// escalated, missing), then what the clock says.
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
        let pending: Vec<&String> = stage
            .interviewers
            .iter()
            .filter(|u| !self.has_submitted(stage.position, u))
            .collect();
        let (submitted, of) = (
            stage.interviewers.len() - pending.len(),
            stage.interviewers.len(),
        );
        let Some(timing) = self.timing(stage.position) else {
            return if submitted == 0 {
                StageStatus::Unscheduled
            } else {
                StageStatus::AwaitingFeedback { submitted, of }
            };
        };
        if self.now < timing.start {
            return StageStatus::Scheduled { at: timing.start };
        }
        if self.now < timing.end {
            return StageStatus::InProgress;
        }
        let due = pending
            .iter()
            .any(|u| self.due_at(stage.position, u).unwrap_or(timing.due) <= self.now);
        if due {
            StageStatus::Due { submitted, of }
        } else {
            StageStatus::AwaitingFeedback { submitted, of }
        }
    }

    /// Whether the stage's interview has started by the progress's moment (an unscheduled
    /// stage has not).
    pub fn has_started(&self, position: u32) -> bool {
        self.timing(position).is_some_and(|t| t.start <= self.now)
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
    /// feedback, and either unscheduled or past the time their feedback was due. A stage whose
    /// interview is still ahead, or whose interviewer still has time to write, is not missing,
    /// however the panel was ordered.
    pub fn missing_before_feedback(&self, l: &InterviewLoop) -> Vec<u32> {
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
            .filter(|s| self.timing(s.position).is_none_or(|t| t.due <= self.now))
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
    use crate::domain::interview_loop::fixtures::{sample_loop, scorecard as card};

    fn timed(start: UnixMillis) -> Timing {
        Timing {
            start,
            end: start + 60,
            due: start + 1_000,
        }
    }

    #[test]
    fn statuses_follow_submissions() {
        let mut l = sample_loop();
        l.stages[0].interview_at = Some(1);
        let p = LoopProgress::from_scorecards(&[card(2, "UB", Rating::Yes)]);
        assert_eq!(
            p.status(&l, &l.stages[0]),
            StageStatus::Unscheduled,
            "no timing known: unscheduled"
        );
        assert_eq!(
            p.status(&l, &l.stages[1]),
            StageStatus::AwaitingFeedback {
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
    fn statuses_follow_the_interview_clock() {
        let l = sample_loop();
        let stage = &l.stages[0];
        let timings = |now| {
            LoopProgress::default()
                .with_chases(&[])
                .at(now, [(1, timed(100))].into())
        };
        assert_eq!(
            timings(99).status(&l, stage),
            StageStatus::Scheduled { at: 100 }
        );
        assert_eq!(timings(100).status(&l, stage), StageStatus::InProgress);
        assert_eq!(
            timings(160).status(&l, stage),
            StageStatus::AwaitingFeedback {
                submitted: 0,
                of: 1
            }
        );
        assert_eq!(
            timings(1_100).status(&l, stage),
            StageStatus::Due {
                submitted: 0,
                of: 1
            }
        );
        let escalated = LoopProgress::default()
            .with_chases(&[Chase {
                position: 1,
                user: "UA".into(),
                due_at: 1_100,
                reminders_sent: 3,
                escalated: true,
                stopped: false,
            }])
            .at(5_000, [(1, timed(100))].into());
        assert_eq!(escalated.status(&l, stage), StageStatus::Overdue);
        let done = LoopProgress::from_scorecards(&[card(1, "UA", Rating::Yes)])
            .at(5_000, [(1, timed(100))].into());
        assert_eq!(done.status(&l, stage), StageStatus::Submitted);
        // A chase's own due time wins over the stage's (the person joined the panel later).
        let later = LoopProgress::default()
            .with_chases(&[Chase {
                position: 1,
                user: "UA".into(),
                due_at: 2_000,
                reminders_sent: 0,
                escalated: false,
                stopped: false,
            }])
            .at(1_500, [(1, timed(100))].into());
        assert!(matches!(
            later.status(&l, stage),
            StageStatus::AwaitingFeedback { .. }
        ));
    }

    #[test]
    fn a_stage_is_missing_when_a_later_one_has_feedback_and_it_has_none() {
        let mut l = sample_loop();
        let p = LoopProgress::from_scorecards(&[card(3, "UC", Rating::Yes)])
            .at(10, [(1, timed(-2_000)), (2, timed(-2_000))].into());
        assert_eq!(p.missing_before_feedback(&l), [1, 2]);
        l.skips.push(crate::domain::interview_loop::Skip {
            position: 1,
            reason: "withdrew".into(),
            skipped_by: "UHM".into(),
            skipped_at: 0,
        });
        assert_eq!(p.missing_before_feedback(&l), [2]);
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
                .missing_before_feedback(&l)
                .is_empty()
        );
    }

    #[test]
    fn a_stage_whose_interview_is_still_ahead_is_not_missing_whatever_the_order() {
        let l = sample_loop();
        let cards = [card(3, "UC", Rating::Yes)];
        // Stage 1's feedback was due long ago; stage 2's interview is ahead; stage 4 comes
        // after the feedback.
        let timings = || [(1, timed(-2_000)), (2, timed(500))].into();
        let p = |now| LoopProgress::from_scorecards(&cards).at(now, timings());
        assert_eq!(p(10).missing_before_feedback(&l), [1]);
        // Just after stage 2's interview its interviewer still has time to write.
        assert_eq!(p(600).missing_before_feedback(&l), [1]);
        // Once its feedback is due, it is missing.
        assert_eq!(p(1_500).missing_before_feedback(&l), [1, 2]);
        // Unscheduled stages before the feedback count: nobody knows when they will happen.
        let unscheduled = LoopProgress::from_scorecards(&cards);
        assert_eq!(unscheduled.missing_before_feedback(&l), [1, 2]);
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
