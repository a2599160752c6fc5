//! `/loop …`: the slash-command dispatcher. Every input gets an answer, never silence.
//! Commands that act on a loop are used inside its channel; the loop is found from the channel.

use anyhow::Context;

use crate::db;
use crate::domain::command::{Command, parse};
use crate::error::AppResult;
use crate::services::{ats_link, decide, nudges, panel, skips, start_loop, status};
use crate::slack::CommandReply;
use crate::slack::messages::help;
use crate::slack::mrkdwn::clip;
use crate::slack::payloads::SlashCommand;
use crate::state::AppState;

pub async fn handle(state: &AppState, command: SlashCommand) -> AppResult<CommandReply> {
    let parsed = parse(&command.text);
    let word = command
        .text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_lowercase();
    match parsed {
        Command::Start { candidate } => {
            Ok(start_loop::open_form(state, &command, candidate.as_deref()))
        }
        Command::Help => Ok(CommandReply::Ephemeral(help(None))),
        Command::Unknown { text } => Ok(CommandReply::Ephemeral(help(Some(&format!(
            "I didn't understand `{}`. Here is what I can do:",
            clip(&text, 100)
        ))))),
        Command::Usage { message } => Ok(CommandReply::Ephemeral(help(Some(&message)))),
        Command::Status => status::status(state, &command.channel_id, &command.user_id)
            .await
            .map(CommandReply::Ephemeral),
        other => {
            let Some(l) = db::loops::find_by_channel(&state.db, &command.channel_id)
                .await
                .context("could not look up the loop of a channel")?
            else {
                return Ok(CommandReply::say(format!(
                    "`/loop {word}` works inside a candidate's loop channel. Open the channel of the loop you mean and run it there."
                )));
            };
            let user = command.user_id.as_str();
            match other {
                Command::Skip { stage, reason } => {
                    skips::skip_named(state, &l, user, &stage, &reason)
                        .await
                        .map(CommandReply::say)
                }
                Command::Decide => decide::open_form(state, &l, user, &command).await,
                Command::Reopen { reason } => decide::reopen(state, &l, user, &reason)
                    .await
                    .map(CommandReply::say),
                Command::Panel => panel::open_form(
                    &l,
                    user,
                    &command.trigger_id,
                    command.response_url.as_deref(),
                )
                .map(CommandReply::Modal),
                Command::Link { target } => ats_link::request(state, &l, user, &target)
                    .await
                    .map(CommandReply::say),
                Command::Remind => nudges::remind_owed(state, &l, user)
                    .await
                    .map(CommandReply::say),
                _ => Ok(CommandReply::Ephemeral(help(None))),
            }
        }
    }
}
