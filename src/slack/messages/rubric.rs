//! The rubric post of each stage: what to ask, what to listen for, who runs it, and its button.

use crate::domain::interview_loop::{InterviewLoop, Stage};
use crate::domain::progress::LoopProgress;
use crate::domain::rubric::{Rubric, StageRubric};
use crate::slack::mrkdwn::{duration_words, escape, mentions};
use serde_json::{Value, json};

use super::*;
use crate::slack::ids::*;

/// One message per stage: what to ask, what to listen for, and who runs it when.
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
        "Stage {} of {total} · {}{}",
        stage.position,
        stage.name,
        stage_rubric
            .map(|s| format!(" ({})", s.duration_label()))
            .unwrap_or_default()
    );
    let mut blocks = vec![header(&title)];
    blocks.push(fields(&[
        format!(
            "*Interviewer{}*\n{}",
            if stage.interviewers.len() == 1 {
                ""
            } else {
                "s"
            },
            mentions(&stage.interviewers, ":warning: not assigned yet")
        ),
        format!("*When*\n{}", stage_when(stage)),
    ]));
    if let Some(sr) = stage_rubric {
        blocks.extend(rubric_body(sr));
    }
    let submitted: Vec<String> = progress
        .stage(stage.position)
        .map(|(u, _)| u.to_string())
        .collect();
    if !submitted.is_empty() {
        blocks.push(context(&format!(
            ":white_check_mark: Scorecard submitted by {}",
            mentions(&submitted, "")
        )));
    }
    // After the decision scorecards are final: no button invites a change.
    if l.decision.is_none() {
        blocks.push(json!({
            "type": "actions",
            "block_id": format!("stage_actions:{}", stage.position),
            "elements": [scorecard_button(l, stage, progress)],
        }));
    }
    let due = duration_words(feedback_due);
    blocks.push(context(&format!(
        "Scorecard due {due} after the interview ends. Rate each criterion 1–4 (no middle option). Your scores stay hidden from other interviewers until they have submitted theirs."
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

fn rubric_body(sr: &StageRubric) -> Vec<Value> {
    let mut blocks = vec![section(&format!(
        "*The one question:* {}\n{}",
        sr.question, sr.format
    ))];
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
    blocks
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
