//! The rubric post of each stage (short: who, when, the question, the criteria, its button)
//! and its thread reply with the full rubric.

use crate::domain::interview_loop::{InterviewLoop, Stage};
use crate::domain::progress::LoopProgress;
use crate::domain::rubric::{Rubric, StageRubric};
use crate::slack::mrkdwn::{duration_words, escape, mentions};
use serde_json::{Value, json};

use super::*;
use crate::slack::ids::*;

/// One short post per stage, to fit a phone screen: the stage, who and when, the one
/// question, the criteria by name, and the scorecard button. The full rubric is the thread
/// reply under it ([`rubric_detail`]).
pub fn rubric_message(
    l: &InterviewLoop,
    stage: &Stage,
    rubric: &Rubric,
    feedback_due: std::time::Duration,
    progress: &LoopProgress,
) -> Message {
    let stage_rubric = rubric.stage(&stage.key);
    let total = l.stages.len();
    let title = format!(
        "{}. {}{}",
        stage.position,
        stage.name,
        stage_rubric
            .map(|s| format!(" · {}", s.duration_label()))
            .unwrap_or_default()
    );
    let who = mentions(&stage.interviewers, ":warning: no interviewer yet");
    let mut lines = vec![
        format!("*{title}* · stage {} of {total}", stage.position),
        format!("{who} · {}", stage_when(stage)),
    ];
    if let Some(sr) = stage_rubric {
        lines.push(format!("_{}_", sr.question));
        let names: Vec<&str> = sr.criteria.iter().map(|c| c.name.as_str()).collect();
        lines.push(format!("Criteria: {}", names.join(" · ")));
    }
    let mut blocks = vec![section(&lines.join("\n"))];
    // After a final decision scorecards are frozen: no button invites a change.
    if !l.is_decided() {
        blocks.push(json!({
            "type": "actions",
            "block_id": format!("stage_actions:{}", stage.position),
            "elements": [scorecard_button(l, stage, progress)],
        }));
    }
    let due = duration_words(feedback_due);
    blocks.push(context(&format!(
        "Full rubric in the thread. Scorecard due {due} after the interview."
    )));
    Message {
        text: format!(
            "{title} for {}: {}",
            escape(&l.candidate_name),
            mentions(&stage.interviewers, "no interviewer assigned yet")
        ),
        blocks,
    }
}

/// The thread reply under a stage's post: how to run it, every criterion with what to listen
/// for, what a strong and a merely well-prepared answer look like, and the red flags.
pub fn rubric_detail(stage: &Stage, sr: &StageRubric) -> Message {
    let mut blocks = Vec::new();
    if !sr.format.is_empty() {
        blocks.push(section(&format!("*How to run it:* {}", sr.format)));
    }
    for (i, c) in sr.criteria.iter().enumerate() {
        blocks.push(section(&format!(
            "*{}. {}*\n:ear: *Listen for:* {}\n:white_check_mark: *Strong:* {}\n:mortar_board: *Merely well prepared:* {}",
            i + 1,
            c.name,
            c.listen_for,
            c.strong,
            c.well_prepared
        )));
    }
    if !sr.red_flags.is_empty() {
        let flags: Vec<String> = sr.red_flags.iter().map(|f| format!("• {f}")).collect();
        blocks.push(section(&format!(
            ":triangular_flag_on_post: *Red flags*\n{}",
            flags.join("\n")
        )));
    }
    Message {
        text: format!("The full rubric for {}", stage.name),
        blocks,
    }
}

/// The button that opens a stage's scorecard: "Edit my scorecard" once the stage's panel
/// has submitted (channel messages look the same to everyone), "Submit scorecard" before.
pub(super) fn scorecard_button(l: &InterviewLoop, stage: &Stage, progress: &LoopProgress) -> Value {
    let label = if progress.stage_complete(stage) {
        "Edit my scorecard"
    } else {
        "Submit scorecard"
    };
    let mut button = json!({
        "type": "button",
        "action_id": SCORECARD_OPEN,
        "text": { "type": "plain_text", "text": label },
        "value": stage_value(l.id, stage.position),
    });
    if !progress.stage_complete(stage) {
        button["style"] = json!("primary");
    }
    button
}
