//! The App Home tab: what you owe, and the loops you run.

use crate::clock::UnixMillis;
use crate::domain::interview_loop::{InterviewLoop, Stage};
use crate::domain::progress::{LoopProgress, StageStatus};
use crate::slack::mrkdwn::{channel_link, date_time, escape};
use serde_json::{Value, json};

use crate::slack::ids::*;
use crate::slack::messages::section;

/// A scorecard someone owes.
pub struct Owed<'a> {
    pub l: &'a InterviewLoop,
    pub stage: &'a Stage,
    pub due_at: Option<UnixMillis>,
    pub overdue: bool,
}

fn stage_line(l: &InterviewLoop, stage: &Stage, progress: &LoopProgress) -> String {
    let status = match progress.status(l, stage) {
        StageStatus::Submitted => "submitted".to_string(),
        StageStatus::Skipped { .. } => "skipped".into(),
        StageStatus::Missing => "*missing*".into(),
        StageStatus::NoInterviewer => "no interviewer".into(),
        StageStatus::Overdue => ":red_circle: *overdue*".into(),
        StageStatus::Due { .. } => ":alarm_clock: due".into(),
        StageStatus::Unscheduled => "unscheduled".into(),
        StageStatus::Scheduled { at } => format!("scheduled {}", date_time(at)),
        StageStatus::InProgress => "in progress".into(),
        StageStatus::AwaitingFeedback { submitted: 0, .. } => "awaiting feedback".into(),
        StageStatus::AwaitingFeedback { submitted, of } => {
            format!("awaiting feedback, {submitted} of {of} in")
        }
    };
    format!("{}. {} · {status}", stage.position, stage.name)
}

/// The Home view. `owed` is sorted by the caller (overdue first, then by due time);
/// `running` lists the loops the person coordinates or manages, with their progress.
pub fn home_view(owed: &[Owed<'_>], running: &[(&InterviewLoop, &LoopProgress)]) -> Value {
    let mut blocks = vec![
        json!({ "type": "header", "text": { "type": "plain_text", "text": "Your scorecards" } }),
    ];
    if owed.is_empty() {
        blocks.push(section(
            ":white_check_mark: You owe no scorecards right now.",
        ));
    }
    for item in owed.iter().take(30) {
        let when = match (item.overdue, item.due_at) {
            (true, Some(due)) => format!(":red_circle: *overdue*, was due {}", date_time(due)),
            (false, Some(due)) => format!("due {}", date_time(due)),
            (_, None) => "not scheduled yet".into(),
        };
        let mut block = section(&format!(
            "*{}* · {} · {}\n{when}",
            escape(&item.l.candidate_name),
            item.stage.name,
            item.l
                .channel_id
                .as_deref()
                .map(channel_link)
                .unwrap_or_default()
        ));
        block["accessory"] = json!({
            "type": "button",
            "action_id": SCORECARD_OPEN,
            "text": { "type": "plain_text", "text": "Submit scorecard" },
            "style": "primary",
            "value": stage_value(item.l.id, item.stage.position),
        });
        blocks.push(block);
    }
    if !running.is_empty() {
        blocks.push(json!({ "type": "divider" }));
        blocks.push(
            json!({ "type": "header", "text": { "type": "plain_text", "text": "Loops you run" } }),
        );
        for (l, progress) in running.iter().take(25) {
            let lines: Vec<String> = l
                .stages
                .iter()
                .map(|s| stage_line(l, s, progress))
                .collect();
            blocks.push(section(&format!(
                "*{}* · {} · {}\n{}",
                escape(&l.candidate_name),
                escape(&l.role),
                l.channel_id
                    .as_deref()
                    .map(channel_link)
                    .unwrap_or_default(),
                lines.join("\n")
            )));
        }
    }
    blocks.truncate(100);
    json!({ "type": "home", "blocks": blocks })
}
