//! The pinned summary and the channel topic.

use crate::domain::interview_loop::InterviewLoop;
use crate::domain::progress::{LoopProgress, StageStatus};
use crate::domain::rubric::Rubric;
use crate::slack::mrkdwn::{clip, date_time, escape, mention, mentions};
use serde_json::json;

use super::*;
use crate::slack::ids::*;
use crate::slack::messages::rubric::scorecard_button;

/// The channel topic: who and what, short (Slack allows 250 characters).
pub fn topic(l: &InterviewLoop) -> String {
    clip(
        &format!(
            "Interview loop: {} for {}. Summary is pinned; scores stay hidden until the loop is complete.",
            l.candidate_name, l.role
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

/// The pinned summary: the candidate, the people, one row per stage, warnings, the decision.
/// Recommendations appear only once blindness allows.
pub fn summary_message(
    l: &InterviewLoop,
    rubric: Option<&Rubric>,
    progress: &LoopProgress,
) -> Message {
    let visible = progress.recommendations_visible(l);
    let mut blocks = vec![header(&format!("Interview loop · {}", l.candidate_name))];
    blocks.push(fields(&[
        format!("*Role*\n{}", escape(&l.role)),
        format!("*Hiring manager*\n{}", mention(&l.hiring_manager_id)),
        format!("*Coordinator*\n{}", mention(&l.coordinator_id)),
        format!("*Stages*\n{}", l.stages.len()),
    ]));
    blocks.push(divider());
    for stage in &l.stages {
        let duration = rubric
            .and_then(|r| r.stage(&stage.key))
            .map(|s| format!(" · {}", s.duration_label()))
            .unwrap_or_default();
        let status = progress.status(l, stage);
        let who = if stage.interviewers.is_empty() {
            String::new()
        } else {
            format!("{} · ", mentions(&stage.interviewers, ""))
        };
        let when = match (&status, stage.interview_at) {
            (StageStatus::Scheduled { .. } | StageStatus::NoInterviewer, _) | (_, None) => {
                String::new()
            }
            (_, Some(at)) => format!("{} · ", date_time(at)),
        };
        let mut text = format!(
            "*{}. {}*{duration}\n{who}{when}{}",
            stage.position,
            stage.name,
            status_text(&status),
        );
        if visible {
            let recommendations: Vec<String> = progress
                .stage(stage.position)
                .map(|(user, rating)| format!("{}: *{}*", mention(user), rating.display()))
                .collect();
            if !recommendations.is_empty() {
                text.push_str(&format!("\nRecommendation: {}", recommendations.join(", ")));
            }
        }
        let mut row = section(&text);
        if !stage.interviewers.is_empty() && l.decision.is_none() {
            row["accessory"] = scorecard_button(l, stage, progress);
        }
        blocks.push(row);
    }
    let unstaffed: Vec<&str> = l.unstaffed_stages().map(|s| s.name.as_str()).collect();
    if !unstaffed.is_empty() {
        blocks.push(context(&format!(
            ":warning: No interviewer yet for: {}. Every stage checks something the others cannot; assign someone before the loop moves on.",
            unstaffed.join(", ")
        )));
    }
    blocks.push(divider());
    blocks.push(section(&match &l.decision {
        Some(d) => format!(
            "*Decision:* *{}*, recorded by {} on {}.\n_{}_",
            d.outcome.label(),
            mention(&d.decided_by),
            date_time(d.decided_at),
            escape(&clip(&d.rationale, 1500))
        ),
        None => "*Decision:* not recorded yet".to_string(),
    }));
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
    blocks.push(context(if l.decision.is_some() {
        "The decision is recorded: scorecards are final and every recommendation is shown above. Full scorecards: *View scorecards*."
    } else if visible {
        "Every stage is in: recommendations are shown above. Full scorecards: *View scorecards*."
    } else {
        "Blind until every stage is in: the channel shows who has submitted, never ratings. Full scorecards are open to the hiring manager, the coordinator, and interviewers who have submitted their own."
    }));
    Message {
        text: format!(
            "Interview loop summary for {}: {} stages",
            escape(&l.candidate_name),
            l.stages.len()
        ),
        blocks,
    }
}
