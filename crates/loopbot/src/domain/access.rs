//! Who may do what with scorecards. Each refusal carries the reason, worded for the person.

use crate::clock::UnixMillis;
use crate::domain::interview_loop::{InterviewLoop, LoopStatus, Stage};
use crate::domain::progress::LoopProgress;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotOnPanel {
        stage: String,
    },
    NoSuchStage,
    LoopDecided,
    LoopNotReady,
    NotYetSubmitted,
    /// Someone on the panel who still owes scorecards of their own.
    OwnScorecardsFirst {
        stages: Vec<String>,
    },
    /// The interview has not started: its scorecard opens at `opens_at` (Unix ms).
    NotYetHeld {
        stage: String,
        opens_at: UnixMillis,
    },
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::NotOnPanel { stage } => format!(
                "Only the interviewers assigned to {stage} can submit its scorecard. If you ran this interview, ask the coordinator to add you to the panel."
            ),
            Refusal::NoSuchStage => "This stage no longer exists in the loop.".into(),
            Refusal::LoopDecided => "The decision for this loop has been recorded, so its scorecards are final and can no longer be changed.".into(),
            Refusal::LoopNotReady => "This loop is still being set up. Try again in a minute.".into(),
            Refusal::OwnScorecardsFirst { stages } => format!(
                "Scorecards are blind until your own are in, so nobody's view colours yours. Still to submit: {}.",
                stages.join(", ")
            ),
            Refusal::NotYetHeld { stage, opens_at } => format!(
                "The {stage} scorecard opens when the interview starts, {}. Nothing was saved.",
                when(*opens_at)
            ),
            Refusal::NotYetSubmitted => "Scorecards are blind: you can read the others once you have submitted your own for this loop. The hiring manager and the coordinator can always read them.".into(),
        }
    }
}

/// A time for a refusal's words: Slack shows it in the reader's own time zone.
fn when(at: UnixMillis) -> String {
    let secs = at.div_euclid(1000);
    let fallback = jiff::Timestamp::from_second(secs)
        .map(|t| t.strftime("%a %d %b %H:%M UTC").to_string())
        .unwrap_or_else(|_| "at its scheduled time".into());
    format!("<!date^{secs}^{{date_short_pretty}} at {{time}}|{fallback}>")
}

/// Opening or submitting the scorecard of stage `position` at `now`: only its panel, only once
/// its interview has started (an unscheduled stage is open), never after the decision.
pub fn may_score(
    l: &InterviewLoop,
    position: u32,
    user: &str,
    now: UnixMillis,
) -> Result<(), Refusal> {
    let stage = l.stage_at(position).ok_or(Refusal::NoSuchStage)?;
    if l.status == LoopStatus::Decided {
        return Err(Refusal::LoopDecided);
    }
    if l.status == LoopStatus::Provisioning && l.summary_ts.is_none() {
        return Err(Refusal::LoopNotReady);
    }
    if !stage.interviewers.iter().any(|u| u == user) {
        return Err(Refusal::NotOnPanel {
            stage: stage.name.clone(),
        });
    }
    if let Some(at) = stage.interview_at
        && now < at
    {
        return Err(Refusal::NotYetHeld {
            stage: stage.name.clone(),
            opens_at: at,
        });
    }
    Ok(())
}

/// Reading everyone's full scorecards. Blind per stage: someone on the panel (the hiring
/// manager and the coordinator included) reads them only once their own scorecard is in for
/// every stage they are on that is not skipped, so no score colours an interview still to be
/// run or written up. The hiring manager and the coordinator, when not on the panel, always
/// may.
pub fn may_view(l: &InterviewLoop, progress: &LoopProgress, user: &str) -> Result<(), Refusal> {
    let mine: Vec<&Stage> = l
        .stages
        .iter()
        .filter(|s| s.interviewers.iter().any(|u| u == user))
        .filter(|s| l.skip_of(s.position).is_none())
        .collect();
    if mine.is_empty() {
        return if user == l.hiring_manager_id || user == l.coordinator_id {
            Ok(())
        } else {
            Err(Refusal::NotYetSubmitted)
        };
    }
    let owed: Vec<String> = mine
        .iter()
        .filter(|s| !progress.has_submitted(s.position, user))
        .map(|s| s.name.clone())
        .collect();
    if owed.is_empty() {
        Ok(())
    } else {
        Err(Refusal::OwnScorecardsFirst { stages: owed })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interview_loop::fixtures::{sample_loop, scorecard};
    use crate::domain::scorecard::{Rating, Scorecard};

    fn submitted_by(who: &str, position: u32) -> LoopProgress {
        LoopProgress::from_scorecards(&[card_of(who, position)])
    }

    fn card_of(who: &str, position: u32) -> Scorecard {
        scorecard(position, who, Rating::Yes)
    }

    #[test]
    fn only_the_stage_panel_may_score_and_never_after_the_decision() {
        let l = sample_loop();
        assert_eq!(may_score(&l, 1, "UA", i64::MAX), Ok(()));
        assert!(matches!(
            may_score(&l, 1, "UB", i64::MAX),
            Err(Refusal::NotOnPanel { .. })
        ));
        assert!(matches!(
            may_score(&l, 1, "UCOORD", i64::MAX),
            Err(Refusal::NotOnPanel { .. })
        ));
        assert_eq!(may_score(&l, 9, "UA", i64::MAX), Err(Refusal::NoSuchStage));
        let mut decided = sample_loop();
        decided.status = LoopStatus::Decided;
        assert_eq!(
            may_score(&decided, 1, "UA", i64::MAX),
            Err(Refusal::LoopDecided)
        );
    }

    #[test]
    fn full_scorecards_are_blind_per_stage_for_everyone_on_the_panel() {
        let mut l = sample_loop();
        let none = LoopProgress::default();
        assert_eq!(may_view(&l, &none, "UCOORD"), Ok(()), "not on the panel");
        assert_eq!(
            may_view(&l, &none, "UHM"),
            Err(Refusal::OwnScorecardsFirst {
                stages: vec!["System design".into()]
            }),
            "a hiring manager who interviews is blind until their scorecard is in"
        );
        assert_eq!(may_view(&l, &submitted_by("UHM", 2), "UHM"), Ok(()));
        assert_eq!(
            may_view(&l, &submitted_by("UA", 1), "UA"),
            Err(Refusal::OwnScorecardsFirst {
                stages: vec!["Values and collaboration".into()]
            }),
            "on two stages: not after the first scorecard"
        );
        let both = LoopProgress::from_scorecards(
            &[1, 4].iter().map(|p| card_of("UA", *p)).collect::<Vec<_>>(),
        );
        assert_eq!(may_view(&l, &both, "UA"), Ok(()));
        assert_eq!(
            may_view(&l, &submitted_by("UA", 1), "UOUT"),
            Err(Refusal::NotYetSubmitted)
        );
        l.skips.push(crate::domain::interview_loop::Skip {
            position: 4,
            reason: "not needed".into(),
            skipped_by: "UHM".into(),
            skipped_at: 0,
        });
        assert_eq!(
            may_view(&l, &submitted_by("UA", 1), "UA"),
            Ok(()),
            "a skipped stage is owed by nobody"
        );
    }
}
