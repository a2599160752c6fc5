//! Direct messages: nudges, reminders, the escalation, and the not-run notice.

use crate::domain::interview_loop::{InterviewLoop, Stage};
use crate::slack::mrkdwn::{date_time, escape, mention};
use serde_json::{Value, json};

use super::*;
use crate::slack::ids::*;

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
    let text = format!(
        ":red_circle: {}'s scorecard for *{}* with *{}* was due {} and is still missing after {sent} reminder{}. The stage is marked overdue on the summary in {channel}.",
        mention(user),
        stage.name,
        escape(&l.candidate_name),
        date_time(due_at),
        if sent == 1 { "" } else { "s" }
    );
    Message {
        blocks: vec![section(&text), owner_actions(l, stage)],
        text,
    }
}

/// What an owner can do about a missing scorecard: remind again, change the panel, skip.
fn owner_actions(l: &InterviewLoop, stage: &Stage) -> Value {
    let value = stage_value(l.id, stage.position);
    json!({
        "type": "actions",
        "block_id": "owner_actions",
        "elements": [
            button(STAGE_REMIND, "Remind again", &value, Some("primary")),
            button(PANEL_OPEN, "Change the panel", &l.id.to_string(), None),
            button(STAGE_SKIP, "Skip the stage", &value, None),
        ],
    })
}

/// Tells an owner that someone has had every reminder and is no longer chased.
pub fn chase_ended(l: &InterviewLoop, stage: &Stage, user: &str, sent: i64) -> Message {
    let text = format!(
        ":no_bell: {} has had {sent} reminders for the *{}* scorecard with *{}* and is no longer chased. Remind once more, change the panel, or skip the stage.",
        mention(user),
        stage.name,
        escape(&l.candidate_name)
    );
    Message {
        blocks: vec![section(&text), owner_actions(l, stage)],
        text,
    }
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

fn refusal_words(code: &str) -> &'static str {
    match code {
        "cant_invite_self" => "that is Loopbot itself",
        "cant_invite" | "user_is_deleted" | "account_inactive" => "the account is deactivated",
        "user_not_found" => "Slack does not know this person",
        "user_is_restricted" | "ura_max_channels" => "a guest account that cannot join",
        _ => "Slack refused",
    }
}

/// Tells the coordinator whom Slack would not add to the loop's channel.
pub fn invite_refused(l: &InterviewLoop, refused: &[(String, String)]) -> Message {
    let who: Vec<String> = refused
        .iter()
        .map(|(u, code)| format!("{} ({})", mention(u), refusal_words(code)))
        .collect();
    let text = format!(
        ":warning: Slack would not add {} to the channel of *{}*. Everyone else is in. Fix the panel with `/loop panel` in the channel.",
        who.join(", "),
        escape(&l.candidate_name)
    );
    Message::section(
        format!(
            "Some people could not be added to the loop of {}",
            escape(&l.candidate_name)
        ),
        &text,
    )
}

/// Tells the coordinator that setting up a loop failed for good, and how to retry.
pub fn setup_failed(l: &InterviewLoop, reason: &str, job_id: i64) -> Message {
    let text = format!(
        ":x: Loopbot could not finish setting up the channel for *{}*: {}. Nothing is lost; ask your Loopbot admin to run `loopbot jobs retry {job_id}` once the cause is fixed.",
        escape(&l.candidate_name),
        escape(&crate::slack::mrkdwn::clip(reason, 200))
    );
    Message::section(
        format!(
            "The loop of {} could not be set up",
            escape(&l.candidate_name)
        ),
        &text,
    )
}

/// Tells the coordinator that the ATS refused a write back (`what`: e.g. "<@U1>'s *Coding*
/// scorecard", or "the decision"), with the ATS's reason and how to retry.
pub fn ats_write_refused(
    l: &InterviewLoop,
    ats: &str,
    what: &str,
    reason: &str,
    job_id: i64,
) -> Message {
    let text = format!(
        ":warning: {ats} did not take {what} for *{}*: {}. Everything is still in Slack. Once the cause is fixed, ask your Loopbot admin to run `loopbot jobs retry {job_id}`.",
        escape(&l.candidate_name),
        escape(&crate::slack::mrkdwn::clip(reason, 200))
    );
    Message::section(
        format!(
            "{ats} did not take a write for {}",
            escape(&l.candidate_name)
        ),
        &text,
    )
}

/// The interviewer's brief before the interview: who, what, when, the question, the criteria
/// with what to listen for, the red flags, the channel, and notes from earlier stages.
pub fn brief(
    l: &InterviewLoop,
    stage: &Stage,
    sr: &crate::domain::rubric::StageRubric,
    hand_offs: &[crate::domain::scorecard::HandOff],
) -> Message {
    let when = stage
        .interview_at
        .map(date_time)
        .unwrap_or_else(|| "not scheduled".into());
    let channel = l
        .channel_id
        .as_deref()
        .map(crate::slack::mrkdwn::channel_link)
        .unwrap_or_default();
    let mut blocks = vec![section(&format!(
        ":calendar: *{}* with *{}* · {when} · {}\n*Ask:* {}",
        stage.name,
        escape(&l.candidate_name),
        sr.duration_label(),
        sr.question
    ))];
    let criteria: Vec<String> = sr
        .criteria
        .iter()
        .map(|c| format!("• *{}*: {}", c.name, c.listen_for))
        .collect();
    blocks.push(section(&format!("*Listen for*\n{}", criteria.join("\n"))));
    if !sr.red_flags.is_empty() {
        let flags: Vec<String> = sr.red_flags.iter().map(|f| format!("• {f}")).collect();
        blocks.push(section(&format!(
            ":triangular_flag_on_post: *Red flags*\n{}",
            flags.join("\n")
        )));
    }
    if let Some(notes) = hand_off_text(hand_offs) {
        blocks.push(section(&notes));
    }
    blocks.push(context(&format!(
        "The scorecard opens when the interview starts. Full rubric in {channel}."
    )));
    Message {
        text: format!(
            "Your {} interview with {} is coming up",
            stage.name,
            escape(&l.candidate_name)
        ),
        blocks,
    }
}

/// "From earlier stages": each hand-off note on one line, short enough for a section.
pub(crate) fn hand_off_text(hand_offs: &[crate::domain::scorecard::HandOff]) -> Option<String> {
    if hand_offs.is_empty() {
        return None;
    }
    let notes: Vec<String> = hand_offs
        .iter()
        .take(8)
        .map(|h| {
            format!(
                "• _{}:_ {}",
                h.stage,
                escape(&crate::slack::mrkdwn::clip(&h.note, 300))
            )
        })
        .collect();
    Some(crate::slack::mrkdwn::clip(
        &format!(":handshake: *From earlier stages*\n{}", notes.join("\n")),
        3000,
    ))
}

/// One friendly nudge after the interview, before anything is due.
pub fn interview_nudge(l: &InterviewLoop, stage: &Stage, due_at: Option<i64>) -> Message {
    let due = due_at
        .map(|d| format!(" It is due {}.", date_time(d)))
        .unwrap_or_default();
    let text = format!(
        ":pencil: How did the *{}* interview with *{}* go? Writing the scorecard now, while it is fresh, takes ten minutes.{due}",
        stage.name,
        escape(&l.candidate_name)
    );
    Message {
        text: format!("Your scorecard for {}", stage.name),
        blocks: vec![
            section(&text),
            json!({
                "type": "actions",
                "block_id": "interview_nudge_actions",
                "elements": [button(SCORECARD_OPEN, "Submit scorecard", &stage_value(l.id, stage.position), Some("primary"))],
            }),
        ],
    }
}

/// To the hiring manager and the coordinator once the screen is in: is the candidate worth the
/// full loop? `ratings` are the screen's recommendations when blindness allows this person to
/// see them; `next` is the next stage still to run.
pub fn screen_gate(
    l: &InterviewLoop,
    screen: &Stage,
    ratings: Option<&[(String, crate::domain::scorecard::Rating)]>,
    next: Option<&Stage>,
) -> Message {
    let ratings = match ratings {
        Some(ratings) => {
            let lines: Vec<String> = ratings
                .iter()
                .map(|(u, r)| format!("{}: *{}*", mention(u), r.recommendation_display()))
                .collect();
            lines.join(" · ")
        }
        None => {
            "You are on the panel too: the ratings show once your own scorecards are in.".into()
        }
    };
    let next = next
        .map(|s| {
            let when = s
                .interview_at
                .map(|at| format!(", {}", date_time(at)))
                .unwrap_or_default();
            format!(" Next: *{}*{when}.", s.name)
        })
        .unwrap_or_default();
    let text = format!(
        ":vertical_traffic_light: *The {} for {} is in.*\n{ratings}\nWorth the full loop? Continue and the next interviews go ahead as planned, or stop here and record the decision.{next}",
        screen.name.to_lowercase(),
        escape(&l.candidate_name),
    );
    let value = l.id.to_string();
    Message {
        text: format!(
            "The {} for {} is in",
            screen.name.to_lowercase(),
            escape(&l.candidate_name)
        ),
        blocks: vec![
            section(&text),
            json!({
                "type": "actions",
                "block_id": "screen_gate_actions",
                "elements": [
                    button(SCREEN_CONTINUE, "Continue the loop", &value, Some("primary")),
                    button(SCREEN_STOP, "Stop here", &value, None),
                ],
            }),
        ],
    }
}

fn record_button(l: &InterviewLoop) -> Value {
    json!({
        "type": "actions",
        "block_id": "decide_actions",
        "elements": [button(DECIDE_OPEN, "Record the decision", &l.id.to_string(), Some("primary"))],
    })
}

/// To the hiring manager once every stage is in or skipped: the debrief and the button.
pub fn ready_to_decide(l: &InterviewLoop, debrief: &[Value]) -> Message {
    let mut blocks = vec![section(&format!(
        ":ballot_box_with_check: *Every stage is in for {}.* The panel's debrief is below; record the decision when you are ready.",
        escape(&l.candidate_name)
    ))];
    blocks.extend(debrief.iter().take(45).cloned());
    blocks.push(record_button(l));
    Message {
        text: format!(
            "Every stage is in for {}: ready to decide",
            escape(&l.candidate_name)
        ),
        blocks,
    }
}

/// The one reminder to the hiring manager when no decision followed.
pub fn decide_reminder(l: &InterviewLoop, ready_at: crate::clock::UnixMillis) -> Message {
    let text = format!(
        ":hourglass: Every stage for *{}* has been in since {}, and no decision is recorded yet. The candidate is waiting to hear.",
        escape(&l.candidate_name),
        date_time(ready_at)
    );
    Message {
        blocks: vec![section(&text), record_button(l)],
        text,
    }
}

/// To the coordinator when no decision followed.
pub fn decide_overdue_notice(l: &InterviewLoop, ready_at: crate::clock::UnixMillis) -> Message {
    Message::plain(format!(
        ":hourglass: {} has not recorded a decision for *{}*; every stage has been in since {}. They were reminded once.",
        mention(&l.hiring_manager_id),
        escape(&l.candidate_name),
        date_time(ready_at)
    ))
}
