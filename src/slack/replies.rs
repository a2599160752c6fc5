//! What Loopbot answers to a request from Slack, before the HTTP (or socket) layer turns it into
//! the body Slack expects.

use serde_json::Value;

use crate::slack::Message;

/// The answer to a slash command.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandReply {
    /// A modal opened; nothing to say.
    Empty,
    /// Seen only by the person who typed the command.
    Ephemeral(Message),
}

impl CommandReply {
    /// A plain ephemeral answer.
    pub fn say(text: impl Into<String>) -> CommandReply {
        CommandReply::Ephemeral(Message::plain(text))
    }
}

/// The answer to an interaction (button, menu, modal submission).
#[derive(Debug, Clone, PartialEq)]
pub enum InteractionReply {
    /// Empty 200: closes a submitted modal.
    Ack,
    /// A `response_action` body, such as field errors.
    Json(Value),
}
