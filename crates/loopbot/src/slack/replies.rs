//! What Loopbot answers to a request from Slack, before the HTTP (or socket) layer turns it into
//! the body Slack expects.

use serde_json::Value;

use crate::slack::Message;

/// A modal to open right after the acknowledgement, within the trigger's 3 seconds, as
/// Slack's own frameworks do. If Slack refuses it, the person is told through `response_url`.
#[derive(Debug, Clone, PartialEq)]
pub struct Modal {
    pub trigger_id: String,
    pub view: View,
    pub response_url: Option<String>,
    /// What the person reads when the modal could not be opened.
    pub if_not_opened: String,
}

/// A view to open: a JSON tree, or the same JSON already written as text (the `/loop start`
/// form, whose blocks are the same for every command: see `views::start_modal_text`).
#[derive(Debug, Clone, PartialEq)]
pub enum View {
    Tree(Value),
    Text(String),
}

impl From<Value> for View {
    fn from(view: Value) -> View {
        View::Tree(view)
    }
}

/// The answer to a slash command.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandReply {
    /// Nothing to say.
    Empty,
    /// Acknowledge with nothing to say, then open this modal.
    Modal(Modal),
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
    /// Acknowledge, then open this modal (a button's form or notice).
    Modal(Modal),
}
