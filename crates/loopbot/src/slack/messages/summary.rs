//! The pinned summary and the channel topic.

use crate::domain::ats_outcome::{AtsOutcome, RecordedOutcome};
use crate::domain::interview_loop::InterviewLoop;
use crate::domain::progress::{LoopProgress, StageStatus};
use crate::domain::rubric::Rubric;
use crate::slack::mrkdwn::{clip, date, date_time, escape, escape_within, mention, mentions};
use serde_json::json;

use super::*;
use crate::slack::ids::*;
use crate::slack::messages::rubric::scorecard_button;

/// The channel topic: who and what, short (Slack allows 250 characters).
pub fn topic(l: &InterviewLoop) -> String {
    clip(
        &format!(
            "Interview loop: {} for {}. Summary is pinned; scores stay hidden until the loop is complete.",
            escape_within(&l.candidate_name, 80),
            escape_within(&l.role, 60)
        ),
        250,
    )
}

/// The stage's status in words, with its time where the time is the news.
pub(crate) fn status_text(status: &StageStatus) -> String {
    match status {
        StageStatus::Skipped { reason } => format!(":fast_forward: skipped: _{}_", escape(reason)),
        StageStatus::Missing => {
            ":rotating_light: *missing*: no feedback, and the loop moved on".into()
        }
        StageStatus::Submitted => ":white_check_mark: submitted".into(),
        StageStatus::Scheduled { at } => format!(":calendar: scheduled {}", date_time(*at)),
        StageStatus::InProgress => ":speech_balloon: interview in progress".into(),
        StageStatus::AwaitingFeedback { submitted: 0, .. } => {
            ":hourglass_flowing_sand: awaiting feedback".into()
        }
        StageStatus::AwaitingFeedback { submitted, of } => {
            format!(":hourglass_flowing_sand: awaiting feedback, {submitted} of {of} in")
        }
        StageStatus::Unscheduled => ":calendar: not scheduled yet".into(),
        StageStatus::Due { .. } => ":alarm_clock: due: reminders are going out".into(),
        StageStatus::Overdue => {
            ":red_circle: *overdue*: the hiring manager and the coordinator were told".into()
        }
        StageStatus::NoInterviewer => ":warning: no interviewer".into(),
    }
}

/// "decided without: Values and collaboration (confirmed by @Harper)", when the decision was
/// recorded without stages that had no feedback.
pub fn decided_without(l: &InterviewLoop) -> Option<String> {
    let d = l.decision.as_ref()?;
    let names: Vec<&str> = d
        .without
        .iter()
        .filter_map(|p| l.stage_at(*p).map(|s| s.name.as_str()))
        .collect();
    (!names.is_empty()).then(|| {
        format!(
            "decided without: {} (confirmed by {})",
            names.join(", "),
            mention(&d.decided_by)
        )
    })
}

/// The summary with where the application ended in the ATS, under its top lines: "In
/// Greenhouse: hired (Dec 6)". The ATS's record only; the decision stays the hiring manager's.
pub fn with_ats_outcome(mut message: Message, outcome: Option<&RecordedOutcome>) -> Message {
    let Some((o, r)) = outcome.and_then(|r| Some((r.outcome?, r))) else {
        return message;
    };
    let icon = match o {
        AtsOutcome::Hired => ":tada:",
        AtsOutcome::Rejected | AtsOutcome::Archived => ":file_folder:",
    };
    let line = context(&format!(
        "{icon} In {}: {} ({}). The decision here is still the hiring manager's.",
        r.ats.label(),
        o.as_str(),
        date(r.at_ms)
    ));
    let at = message.blocks.len().min(2);
    message.blocks.insert(at, line);
    message
}

/// One line: how many stages are in, and what comes next.
fn progress_line(l: &InterviewLoop, progress: &LoopProgress) -> String {
    let done = |s: &&crate::domain::interview_loop::Stage| {
        progress.stage_complete(s) || l.skip_of(s.position).is_some()
    };
    let in_count = l.stages.iter().filter(done).count();
    let head = format!("*{in_count} of {} in*", l.stages.len());
    if in_count == l.stages.len() {
        return format!("{head} · ready to decide");
    }
    let now = progress.now();
    let upcoming = l
        .stages
        .iter()
        .filter(|s| !done(s))
        .filter_map(|s| Some((s.interview_at.filter(|at| *at > now)?, s)))
        .min_by_key(|(at, s)| (*at, s.position));
    match upcoming {
        Some((at, s)) => format!("{head} · next: {}, {}", s.name, date_time(at)),
        None => head,
    }
}

/// The pinned summary: who, a progress line, one line per stage, the decision, and one line
/// on blindness. Each fact once; after a final decision nothing warns about what no longer
/// matters. Recommendations appear only once blindness allows.
pub fn summary_message(
    l: &InterviewLoop,
    _rubric: Option<&Rubric>,
    progress: &LoopProgress,
) -> Message {
    let visible = progress.recommendations_visible(l);
    let decided = l.is_decided();
    let mut blocks = vec![header(&format!("Interview loop · {}", l.candidate_name))];
    let top = match &l.decision {
        Some(d) => format!(
            "*Decision: {}* · {}",
            d.outcome.label(),
            progress_line(l, progress)
        ),
        None => progress_line(l, progress),
    };
    blocks.push(section(&format!(
        "{} · hiring manager {} · coordinator {}\n{top}",
        escape(&l.role),
        mention(&l.hiring_manager_id),
        mention(&l.coordinator_id),
    )));
    blocks.push(divider());
    for stage in &l.stages {
        let status = progress.status(l, stage);
        let recommendations: Vec<String> = if visible {
            progress
                .stage(stage.position)
                .map(|(user, rating)| {
                    format!("{} *{}*", mention(user), rating.recommendation_display())
                })
                .collect()
        } else {
            Vec::new()
        };
        let state = match &status {
            _ if !recommendations.is_empty() => {
                format!(":white_check_mark: {}", recommendations.join(", "))
            }
            StageStatus::Submitted | StageStatus::Skipped { .. } => status_text(&status),
            // A final decision ends the chase: what had no feedback was decided without.
            _ if decided => ":heavy_minus_sign: not held".to_string(),
            _ => status_text(&status),
        };
        let who = if stage.interviewers.is_empty() || !recommendations.is_empty() {
            String::new()
        } else {
            format!("{} · ", mentions(&stage.interviewers, ""))
        };
        let mut row = section(&format!(
            "*{}. {}* · {who}{state}",
            stage.position, stage.name
        ));
        if !stage.interviewers.is_empty() && !decided {
            row["accessory"] = scorecard_button(l, stage, progress);
        }
        blocks.push(row);
    }
    blocks.push(divider());
    if let Some(d) = &l.decision {
        let mut text = format!(
            "*{}*, recorded by {} on {}.\n_{}_",
            d.outcome.label(),
            mention(&d.decided_by),
            date_time(d.decided_at),
            escape_within(&d.rationale, 1500)
        );
        if let Some(without) = decided_without(l) {
            text.push_str(&format!("\n:warning: {without}"));
        }
        blocks.push(section(&text));
    }
    blocks.push(json!({
        "type": "actions",
        "block_id": "summary_actions",
        "elements": [{
            "type": "button",
            "action_id": SCORECARDS_VIEW,
            "text": { "type": "plain_text", "text": "View scorecards" },
            "value": l.id.to_string(),
        }],
    }));
    blocks.push(context(if decided {
        "Decision recorded: scorecards are final and every recommendation is shown."
    } else if visible {
        "Every stage is in: recommendations are shown."
    } else {
        "Blind until every stage is in: the channel shows progress, never ratings."
    }));
    Message {
        text: format!("Interview loop summary for {}", escape(&l.candidate_name),),
        blocks,
    }
}
