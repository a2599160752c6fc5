//! `/loop …`: every input gets an answer, never silence. Commands that act on a loop are used
//! inside its channel; the loop is found from the channel.

use crate::db;
use crate::domain::command::{Command, parse};
use crate::domain::interview_loop::{InterviewLoop, LoopStatus};
use crate::domain::progress::LoopProgress;
use crate::services::skips::owners_only;
use crate::services::{SOMETHING_WENT_WRONG, decide, panel, skips, start_loop};
use crate::slack::Message;
use crate::slack::messages::{help, summary_message};
use crate::slack::mrkdwn::{channel_link, clip, date_time, escape, mentions};
use crate::slack::payloads::SlashCommand;
use crate::state::AppState;

#[derive(Debug, Clone, PartialEq)]
pub enum CommandReply {
    /// A modal opened; nothing to say.
    Empty,
    /// Seen only by the person who typed the command.
    Ephemeral(Message),
}

fn say(text: impl Into<String>) -> CommandReply {
    CommandReply::Ephemeral(Message::plain(text))
}

pub async fn handle(state: &AppState, command: SlashCommand) -> CommandReply {
    let parsed = parse(&command.text);
    let word = command
        .text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    match parsed {
        Command::Start { candidate } => {
            start_loop::open_form(state, &command, candidate.as_deref()).await
        }
        Command::Help => CommandReply::Ephemeral(help(None)),
        Command::Unknown { text } => CommandReply::Ephemeral(help(Some(&format!(
            "I didn't understand `{}`. Here is what I can do:",
            clip(&text, 100)
        )))),
        Command::Usage { message } => CommandReply::Ephemeral(help(Some(&message))),
        Command::Status => status(state, &command).await,
        other => {
            let l = match db::loops::find_by_channel(&state.db, &command.channel_id).await {
                Ok(Some(l)) => l,
                Ok(None) => {
                    return say(format!(
                        "`/loop {word}` works inside a candidate's loop channel. Open the channel of the loop you mean and run it there."
                    ));
                }
                Err(e) => {
                    tracing::error!(error = %e, "could not look up the loop of a channel");
                    return say(SOMETHING_WENT_WRONG);
                }
            };
            match other {
                Command::Skip { stage, reason } => {
                    skip(state, &l, &command.user_id, &stage, &reason).await
                }
                Command::Decide => {
                    decide::open_form(state, &l, &command.user_id, &command.trigger_id).await
                }
                Command::Panel => {
                    panel::open_form(state, &l, &command.user_id, &command.trigger_id).await
                }
                Command::Remind => remind(state, &l, &command.user_id).await,
                _ => CommandReply::Ephemeral(help(None)),
            }
        }
    }
}

async fn skip(
    state: &AppState,
    l: &InterviewLoop,
    user: &str,
    stage: &str,
    reason: &str,
) -> CommandReply {
    let Some(found) = l.find_stage(stage) else {
        let names: Vec<String> = l.stages.iter().map(|s| format!("`{}`", s.key)).collect();
        return say(format!(
            "There is no stage `{}` in this loop. Use one of {} (or its number).",
            clip(stage, 40),
            names.join(", ")
        ));
    };
    match skips::skip(state, l, found.position, user, reason).await {
        Ok(text) | Err(text) => say(text),
    }
}

/// Nudges everyone who owes feedback now: their interview has ended and they have not
/// submitted. Stages without a time are not chased.
async fn remind(state: &AppState, l: &InterviewLoop, user: &str) -> CommandReply {
    if !l.is_owner(user) {
        return say(owners_only(l, "send reminders"));
    }
    if l.status != LoopStatus::Open {
        return say("This loop is not open any more, so nobody is reminded.");
    }
    let now = state.clock.now_ms();
    let rubric = state.rubrics.get(&l.rubric_id);
    let ended: Vec<u32> = l
        .stages
        .iter()
        .filter(|s| {
            let minutes = rubric
                .and_then(|r| r.stage(&s.key))
                .map(|r| r.planned_minutes())
                .unwrap_or(60);
            s.interview_at
                .is_some_and(|at| at + i64::from(minutes) * 60_000 <= now)
        })
        .map(|s| s.position)
        .collect();
    match skips::nudge_all(state, l, &ended).await {
        Ok(people) if people.is_empty() => say(
            "Nobody owes feedback right now: every interview that has happened has its scorecards, and unscheduled stages are not chased.",
        ),
        Ok(people) => say(format!(
            "Reminded {} by direct message, once.",
            mentions(&people, "")
        )),
        Err(e) => {
            tracing::error!(error = %e, "could not queue reminders");
            say(SOMETHING_WENT_WRONG)
        }
    }
}

/// In a loop channel: the summary, to you alone. Elsewhere: your open loops and what you owe.
async fn status(state: &AppState, command: &SlashCommand) -> CommandReply {
    let result = async {
        if let Some(l) = db::loops::find_by_channel(&state.db, &command.channel_id).await? {
            let cards = db::scorecards::latest_for_loop(&state.db, l.id).await?;
            let progress = LoopProgress::from_scorecards(&cards);
            return Ok::<_, anyhow::Error>(summary_message(
                &l,
                state.rubrics.get(&l.rubric_id),
                &progress,
            ));
        }
        let ids = db::loops::open_loop_ids_for(&state.db, &command.user_id).await?;
        let mut lines = Vec::new();
        for id in ids {
            let Some(l) = db::loops::get(&state.db, id).await? else {
                continue;
            };
            let cards = db::scorecards::latest_for_loop(&state.db, id).await?;
            let progress = LoopProgress::from_scorecards(&cards);
            lines.push(loop_line(&l, &progress, &command.user_id));
        }
        Ok(Message::plain(if lines.is_empty() {
            "You have no open interview loops. Start one with `/loop start [candidate name]`."
                .to_string()
        } else {
            format!("*Your open interview loops*\n{}", lines.join("\n"))
        }))
    }
    .await;
    match result {
        Ok(message) => CommandReply::Ephemeral(message),
        Err(e) => {
            tracing::error!(error = %e, "could not build a status");
            say(SOMETHING_WENT_WRONG)
        }
    }
}

fn loop_line(l: &InterviewLoop, progress: &LoopProgress, user: &str) -> String {
    let mut roles = Vec::new();
    if user == l.coordinator_id {
        roles.push("coordinator");
    }
    if user == l.hiring_manager_id {
        roles.push("hiring manager");
    }
    let owed: Vec<String> = l
        .stages
        .iter()
        .filter(|s| s.interviewers.iter().any(|u| u == user))
        .filter(|s| !progress.has_submitted(s.position, user) && l.skip_of(s.position).is_none())
        .map(|s| match s.interview_at {
            Some(at) => format!("{} (interview {})", s.name, date_time(at)),
            None => format!("{} (not scheduled yet)", s.name),
        })
        .collect();
    if l.stages
        .iter()
        .any(|s| s.interviewers.iter().any(|u| u == user))
    {
        roles.push("interviewer");
    }
    let channel = l
        .channel_id
        .as_deref()
        .map(channel_link)
        .unwrap_or_else(|| "(channel being set up)".into());
    let mut line = format!(
        "• *{}* · {} · {} · you are {}",
        escape(&l.candidate_name),
        escape(&l.role),
        channel,
        roles.join(", ")
    );
    if !owed.is_empty() {
        line.push_str(&format!(
            "\n    You owe a scorecard for: {}",
            owed.join("; ")
        ));
    }
    line
}
