//! Channel messages and ephemeral replies, rendered from domain values into Block Kit JSON.
//! Pure functions: no I/O.

use serde_json::{Value, json};

use crate::domain::interview_loop::{Decision, Skip};
use crate::domain::interview_loop::{InterviewLoop, Stage};
use crate::domain::progress::{LoopProgress, StageStatus};
use crate::domain::rubric::{Rubric, StageRubric};
use crate::slack::actions::{
    NOT_RUN, PANEL_OPEN, SCORECARD_OPEN, SCORECARDS_VIEW, STAGE_REMIND, STAGE_SKIP, stage_value,
};
use crate::slack::mrkdwn::{clip, date_time, duration_words, escape, mention, mentions};

/// A message: blocks, and the plain text Slack shows in notifications.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Value>,
}

impl Message {
    pub fn plain(text: impl Into<String>) -> Self {
        let text = text.into();
        Message {
            blocks: vec![section(&text)],
            text,
        }
    }
}

pub const SECTION_MAX: usize = 3000;
pub const HEADER_MAX: usize = 150;

pub fn header(text: &str) -> Value {
    json!({ "type": "header", "text": { "type": "plain_text", "text": clip(text, HEADER_MAX), "emoji": true } })
}

pub fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": clip(text, SECTION_MAX) } })
}

pub fn fields(items: &[String]) -> Value {
    let fields: Vec<Value> = items
        .iter()
        .take(10)
        .map(|t| json!({ "type": "mrkdwn", "text": clip(t, 2000) }))
        .collect();
    json!({ "type": "section", "fields": fields })
}

pub fn context(text: &str) -> Value {
    json!({ "type": "context", "elements": [ { "type": "mrkdwn", "text": clip(text, SECTION_MAX) } ] })
}

pub fn divider() -> Value {
    json!({ "type": "divider" })
}

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

fn stage_when(stage: &Stage) -> String {
    match stage.interview_at {
        Some(at) => date_time(at),
        None => "not scheduled yet".to_string(),
    }
}

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
fn scorecard_button(l: &InterviewLoop, stage: &Stage, progress: &LoopProgress) -> Value {
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

fn status_text(status: &StageStatus) -> String {
    match status {
        StageStatus::Skipped { reason } => format!(":fast_forward: skipped: _{}_", escape(reason)),
        StageStatus::Missing => {
            ":rotating_light: *missing*: no feedback, and the loop moved on".into()
        }
        StageStatus::Submitted => ":white_check_mark: submitted".into(),
        StageStatus::Pending { submitted: 0, .. } => ":hourglass_flowing_sand: pending".into(),
        StageStatus::Pending { submitted, of } => {
            format!(":hourglass_flowing_sand: {submitted} of {of} submitted")
        }
        StageStatus::Unscheduled => ":calendar: unscheduled".into(),
        StageStatus::Due => ":alarm_clock: due: reminders are going out".into(),
        StageStatus::Overdue => ":red_circle: *overdue*: the hiring manager has been told".into(),
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
        let mut text = format!(
            "*{}. {}*{duration}\n{} · {} · {}",
            stage.position,
            stage.name,
            mentions(&stage.interviewers, "nobody assigned"),
            stage_when(stage),
            status_text(&progress.status(l, stage)),
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

fn button(action_id: &str, label: &str, value: &str, style: Option<&str>) -> Value {
    let mut b = json!({
        "type": "button",
        "action_id": action_id,
        "text": { "type": "plain_text", "text": label },
        "value": value,
    });
    if let Some(style) = style {
        b["style"] = json!(style);
    }
    b
}

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
    let archive = match archive_after {
        Some(after) => format!(
            "This channel will be archived in {}.",
            duration_words(after)
        ),
        None => "This channel stays open.".to_string(),
    };
    blocks.push(context(&format!(
        "Scorecards are now final and every recommendation is shown on the pinned summary. Reminders have stopped. {archive}"
    )));
    Message {
        text: format!(
            "Decision for {}: {}",
            escape(&l.candidate_name),
            decision.outcome.label()
        ),
        blocks,
    }
}

/// A direct message asking an interviewer for their scorecard.
pub fn nudge(l: &InterviewLoop, stage: &Stage, asked_by: Option<&str>) -> Message {
    let who = asked_by
        .map(|u| format!("{} asks: ", mention(u)))
        .unwrap_or_default();
    let text = format!(
        ":wave: {who}your scorecard for *{}* ({}) is still missing. It only takes a few minutes while the interview is fresh.",
        stage.name,
        escape(&l.candidate_name)
    );
    Message {
        text: format!("Your scorecard for {} is missing", stage.name),
        blocks: vec![
            section(&text),
            json!({
                "type": "actions",
                "block_id": "nudge_actions",
                "elements": [button(SCORECARD_OPEN, "Submit scorecard", &stage_value(l.id, stage.position), Some("primary"))],
            }),
        ],
    }
}

/// A reminder by direct message: the scorecard button, and a way out for someone who did not
/// run the interview.
pub fn reminder(
    l: &InterviewLoop,
    stage: &Stage,
    due_at: crate::clock::UnixMillis,
    seq: i64,
) -> Message {
    let again = if seq > 1 {
        format!(" (reminder {seq})")
    } else {
        String::new()
    };
    let text = format!(
        ":alarm_clock: Your scorecard for *{}* with *{}* was due {}{again}. Feedback written while the interview is fresh is the feedback the hiring decision can rely on.",
        stage.name,
        escape(&l.candidate_name),
        date_time(due_at)
    );
    let value = stage_value(l.id, stage.position);
    Message {
        text: format!("Your scorecard for {} is overdue", stage.name),
        blocks: vec![
            section(&text),
            json!({
                "type": "actions",
                "block_id": "reminder_actions",
                "elements": [
                    button(SCORECARD_OPEN, "Submit scorecard", &value, Some("primary")),
                    button(NOT_RUN, "I didn't run this interview", &value, None),
                ],
            }),
        ],
    }
}

/// The one escalation to the hiring manager.
pub fn escalation(
    l: &InterviewLoop,
    stage: &Stage,
    user: &str,
    due_at: crate::clock::UnixMillis,
    sent: i64,
) -> Message {
    let channel = l
        .channel_id
        .as_deref()
        .map(crate::slack::mrkdwn::channel_link)
        .unwrap_or_default();
    Message::plain(format!(
        ":red_circle: {}'s scorecard for *{}* with *{}* was due {} and is still missing after {sent} reminder{}. The stage is marked overdue on the summary in {channel}.",
        mention(user),
        stage.name,
        escape(&l.candidate_name),
        date_time(due_at),
        if sent == 1 { "" } else { "s" }
    ))
}

/// Tells the coordinator someone says they did not run an interview.
pub fn not_run_notice(l: &InterviewLoop, stage: &Stage, user: &str) -> Message {
    let text = format!(
        ":information_source: {} says they did not run the *{}* interview with *{}*. Reminders to them have stopped. Change the panel so the right person is asked for the scorecard.",
        mention(user),
        stage.name,
        escape(&l.candidate_name)
    );
    Message {
        text: format!("{} did not run {}", user, stage.name),
        blocks: vec![
            section(&text),
            json!({
                "type": "actions",
                "block_id": "not_run_actions",
                "elements": [button(PANEL_OPEN, "Change the panel", &l.id.to_string(), Some("primary"))],
            }),
        ],
    }
}

/// The channel note on a submission: who, which stage, never the ratings.
pub fn scorecard_note(stage: &Stage, user: &str, version: i64) -> Message {
    if version > 1 {
        Message::plain(format!(
            ":pencil2: {} updated their scorecard for *{}*.",
            mention(user),
            stage.name
        ))
    } else {
        Message::plain(format!(
            ":white_check_mark: {} submitted a scorecard for *{}*.",
            mention(user),
            stage.name
        ))
    }
}

/// The coordinator's confirmation once the channel is ready.
pub fn loop_ready(l: &InterviewLoop) -> Message {
    let channel = l
        .channel_id
        .as_deref()
        .map(crate::slack::mrkdwn::channel_link)
        .unwrap_or_else(|| "the candidate channel".into());
    let mut text = format!(
        ":white_check_mark: The loop for *{}* is ready in {channel}: panel invited, rubric posted for each stage, summary pinned.",
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

pub const HELP_COMMANDS: &[(&str, &str)] = &[
    (
        "/loop start [candidate name]",
        "open a new interview loop, e.g. `/loop start Ada Lovelace`",
    ),
    (
        "/loop status",
        "in a loop channel: the summary, to you alone; elsewhere: your open loops and what you owe",
    ),
    (
        "/loop skip <stage> <reason>",
        "hiring manager or coordinator, in the loop channel: skip a stage on purpose, e.g. `/loop skip coding Candidate withdrew before the coding round`",
    ),
    (
        "/loop decide",
        "hiring manager or coordinator, in the loop channel: record hire, no hire or hold",
    ),
    (
        "/loop panel",
        "hiring manager or coordinator, in the loop channel: change a stage's interviewers or time",
    ),
    (
        "/loop remind",
        "hiring manager or coordinator, in the loop channel: nudge everyone who owes a scorecard now",
    ),
    ("/loop help", "show this list"),
];

/// The command list, optionally after a note (such as why the input was not understood).
pub fn help(note: Option<&str>) -> Message {
    let mut lines = Vec::new();
    if let Some(note) = note {
        lines.push(note.to_string());
        lines.push(String::new());
    }
    lines.push("*Loopbot runs structured interview loops.* Commands:".to_string());
    for (usage, what) in HELP_COMMANDS {
        lines.push(format!("• `{usage}` — {what}"));
    }
    Message::plain(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interview_loop::fixtures::sample_loop;
    use crate::domain::rubric::RubricSet;
    use std::time::Duration;

    fn text_of(m: &Message) -> String {
        serde_json::to_string(&m.blocks).unwrap()
    }

    #[test]
    fn rubric_message_names_interviewers_time_and_criteria() {
        let rubrics = RubricSet::builtin();
        let rubric = rubrics.default_rubric();
        let mut l = sample_loop();
        l.stages[1].interview_at = Some(1_795_000_000_000);
        let m = rubric_message(
            &l,
            &l.stages[1],
            rubric,
            Duration::from_secs(86400),
            &LoopProgress::default(),
        );
        let body = text_of(&m);
        assert!(body.contains("Stage 2 of 4"));
        assert!(body.contains("<@UB>, <@UHM>"));
        assert!(body.contains("<!date^1795000000^"));
        for c in &rubric.stages[1].criteria {
            assert!(body.contains(&c.name), "{}", c.name);
        }
        assert!(body.contains("due 24 hours after"));
        assert!(m.blocks.len() <= 50);
    }

    #[test]
    fn unstaffed_stage_is_flagged_in_rubric_and_summary() {
        let rubrics = RubricSet::builtin();
        let l = sample_loop();
        let m = rubric_message(
            &l,
            &l.stages[2],
            rubrics.default_rubric(),
            Duration::from_secs(3600),
            &LoopProgress::default(),
        );
        assert!(text_of(&m).contains("not assigned yet"));
        let s = summary_message(&l, Some(rubrics.default_rubric()), &LoopProgress::default());
        assert!(text_of(&s).contains("No interviewer yet for: Coding"));
    }

    #[test]
    fn summary_shows_people_and_every_stage_but_no_scores() {
        let rubrics = RubricSet::builtin();
        let s = summary_message(
            &sample_loop(),
            Some(rubrics.default_rubric()),
            &LoopProgress::default(),
        );
        let body = text_of(&s);
        for needle in [
            "Ada Lovelace",
            "<@UHM>",
            "<@UCOORD>",
            "1. Technical screen",
            "4. Values and collaboration",
            "not recorded yet",
        ] {
            assert!(body.contains(needle), "{needle}");
        }
        assert!(s.blocks.len() <= 50);
    }

    #[test]
    fn candidate_names_cannot_break_mrkdwn() {
        let mut l = sample_loop();
        l.candidate_name = "<!here> Eve".into();
        let m = loop_ready(&l);
        assert!(m.text.contains("&lt;!here&gt; Eve"));
    }
}
