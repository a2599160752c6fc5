//! `/loop …`: every input gets an answer, never silence.

use crate::domain::command::{Command, parse};
use crate::services::start_loop;
use crate::slack::Message;
use crate::slack::messages::help;
use crate::slack::payloads::SlashCommand;
use crate::startup::AppState;

#[derive(Debug, Clone, PartialEq)]
pub enum CommandReply {
    /// A modal opened; nothing to say.
    Empty,
    /// Seen only by the person who typed the command.
    Ephemeral(Message),
}

pub async fn handle(state: &AppState, command: SlashCommand) -> CommandReply {
    match parse(&command.text) {
        Command::Start { candidate } => {
            start_loop::open_form(state, &command, candidate.as_deref()).await
        }
        Command::Help => CommandReply::Ephemeral(help(None)),
        Command::Unknown { text } => CommandReply::Ephemeral(help(Some(&format!(
            "I didn't understand `{}`. Here is what I can do:",
            crate::slack::mrkdwn::clip(&text, 100)
        )))),
        Command::Usage { message } => CommandReply::Ephemeral(help(Some(&message))),
        Command::Status
        | Command::Skip { .. }
        | Command::Decide
        | Command::Remind
        | Command::Panel => {
            let word = command
                .text
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_lowercase();
            CommandReply::Ephemeral(help(Some(&format!(
                "`/loop {word}` is not available in this version of Loopbot yet."
            ))))
        }
    }
}
