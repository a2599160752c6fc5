//! Channel notes: missing-stage warnings, skips, decisions, submissions, and the confirmation
//! that a loop is ready.

use crate::domain::interview_loop::{Decision, Outcome, Skip};
use crate::domain::interview_loop::{InterviewLoop, Stage};
use crate::domain::rubric::Rubric;
use crate::slack::mrkdwn::{date_time, duration_words, escape, mention, mentions};
use serde_json::json;

use super::*;
use crate::slack::ids::*;

/// Why a loop needs a stage: its one question, and how the stages depend on each other.
fn why_needed(stage: &Stage, rubric: Option<&Rubric>) -> String {
    let question = rubric
        .and_then(|r| r.stage(&stage.key))
        .map(|s| format!("It is the stage that answers: _{}_ ", s.question))
        .unwrap_or_default();
    let linked = rubric
        .map(|r| r.summary.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "Each stage checks something the others cannot.".into());
    format!("{question}{linked}")
}

/// The quiet note that the panel runs out of the rubric's order (`timed`: the scheduled
/// stages by interview time). Information, not a warning.
pub fn order_note(timed: &[&Stage]) -> Message {
    let order: Vec<String> = timed
        .iter()
        .map(|s| {
            let when = s.interview_at.map(date_time).unwrap_or_default();
            format!("{} ({when})", s.name)
        })
        .collect();
    let text = format!(
        ":information_source: The interviews run in this order: {}. That is fine: no stage is flagged before its own feedback is due.",
        order.join(" → ")
    );
    Message {
        text: "The interviews run out of the rubric's order".into(),
        blocks: vec![context(&text)],
    }
}

/// The once-per-stage warning that a stage has no feedback.
pub fn skip_warning(
    l: &InterviewLoop,
    stage: &Stage,
    rubric: Option<&Rubric>,
    cause: &str,
) -> Message {
    let what = match cause {
        "decision" => format!(
            ":rotating_light: *A decision was asked for while {} has no feedback.*",
            stage.name
        ),
        _ => format!(
            ":rotating_light: *{} has no feedback, but a later stage does: the loop has moved on without it.*",
            stage.name
        ),
    };
    let people = if stage.interviewers.is_empty() {
        "Nobody is assigned to it.".to_string()
    } else {
        format!("Assigned: {}.", mentions(&stage.interviewers, ""))
    };
    let text = format!(
        "{what}\n{} {people}\nThe hiring manager or the coordinator can remind the interviewers, or skip the stage with a reason so the record shows why.",
        why_needed(stage, rubric)
    );
    let value = stage_value(l.id, stage.position);
    Message {
        text: format!("{} has no feedback", stage.name),
        blocks: vec![
            section(&text),
            json!({
                "type": "actions",
                "block_id": format!("warning_actions:{}", stage.position),
                "elements": [
                    button(STAGE_REMIND, "Remind interviewers", &value, Some("primary")),
                    button(STAGE_SKIP, "Skip with a reason", &value, None),
                ],
            }),
        ],
    }
}

/// The channel note on a deliberate skip.
pub fn skip_note(stage: &Stage, skip: &Skip) -> Message {
    Message::plain(format!(
        ":fast_forward: {} skipped *{}*. Reason: _{}_",
        mention(&skip.skipped_by),
        stage.name,
        escape(&skip.reason)
    ))
}

/// The decision, posted in the channel.
pub fn decision_message(
    l: &InterviewLoop,
    decision: &Decision,
    archive_after: Option<std::time::Duration>,
) -> Message {
    let mut blocks = vec![
        header(&format!(
            "Decision: {} · {}",
            decision.outcome.label(),
            l.candidate_name
        )),
        section(&format!(
            "Recorded by {} on {}.\n*Rationale:* {}",
            mention(&decision.decided_by),
            date_time(decision.decided_at),
            escape(&decision.rationale)
        )),
    ];
    let skipped: Vec<String> = l
        .skips
        .iter()
        .filter_map(|s| {
            l.stage_at(s.position)
                .map(|st| format!("{} (skipped: {})", st.name, escape(&s.reason)))
        })
        .collect();
    if !skipped.is_empty() {
        blocks.push(context(&format!(
            ":fast_forward: Skipped on purpose: {}",
            skipped.join("; ")
        )));
    }
    if let Some(without) = super::decided_without(l) {
        blocks.push(context(&format!(":warning: {without}")));
    }
    let after = if decision.outcome.is_final() {
        let archive = match archive_after {
            Some(after) => format!(
                "This channel will be archived in {}.",
                duration_words(after)
            ),
            None => "This channel stays open.".to_string(),
        };
        format!("Scorecards are final; reminders have stopped. {archive}")
    } else {
        "On hold: the loop stays open, scorecards can still change and nothing is archived. Record the final decision with `/loop decide`.".to_string()
    };
    blocks.push(context(&after));
    Message {
        text: format!(
            "Decision for {}: {}",
            escape(&l.candidate_name),
            decision.outcome.label()
        ),
        blocks,
    }
}

/// The channel note on a submission: who, which stage, never the ratings.
/// The thread reply under a stage's post when a scorecard comes in: how many of the panel
/// are in, never who (the channel stays quiet) and never the scores.
pub fn scorecard_note(stage: &Stage, version: i64, submitted: usize) -> Message {
    let of = stage.interviewers.len().max(submitted);
    if version > 1 {
        Message::plain(format!(":pencil2: A {} scorecard was updated.", stage.name))
    } else if submitted >= of {
        Message::plain(format!(
            ":white_check_mark: {}: {submitted} of {of} scorecards in.",
            stage.name
        ))
    } else {
        Message::plain(format!(
            ":white_check_mark: Scorecard in: {submitted} of {of} for {}.",
            stage.name
        ))
    }
}

/// The channel note that a decided loop was reopened: by whom, from which decision, and why.
pub fn reopen_note(who: &str, from: Option<Outcome>, reason: &str) -> Message {
    let from = from
        .map(|o| format!(" (it was *{}*)", o.label()))
        .unwrap_or_default();
    Message::plain(format!(
        ":arrows_counterclockwise: {} reopened the loop{from}. Reason: _{}_\nScorecards can change again and the decision is to be recorded anew.",
        mention(who),
        escape(reason)
    ))
}

/// The coordinator's confirmation once the channel is ready.
pub fn loop_ready(l: &InterviewLoop) -> Message {
    let channel = l
        .channel_id
        .as_deref()
        .map(crate::slack::mrkdwn::channel_link)
        .unwrap_or_else(|| "the candidate channel".into());
    let mut text = format!(
        ":white_check_mark: The loop for *{}* is ready in {channel}: panel invited, summary pinned; each stage's rubric follows in a few seconds.",
        escape(&l.candidate_name)
    );
    let unstaffed: Vec<&str> = l.unstaffed_stages().map(|s| s.name.as_str()).collect();
    if !unstaffed.is_empty() {
        text.push_str(&format!(
            "\n:warning: Still without an interviewer: {}.",
            unstaffed.join(", ")
        ));
    }
    Message::plain(text)
}
