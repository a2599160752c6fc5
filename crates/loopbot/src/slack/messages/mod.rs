//! Channel messages, direct messages and ephemeral replies, rendered from domain values, one
//! file per kind: the rubric posts, the pinned summary, channel notes, direct messages, help.
//! This file holds the message type and the Block Kit pieces they share.

use serde_json::{Value, json};

use crate::domain::interview_loop::Stage;
use crate::slack::mrkdwn::{clip, date_time};

mod ats;
mod dm;
mod help;
mod notes;
mod rubric;
mod summary;

pub use ats::*;
pub use dm::*;
pub use help::*;
pub use notes::*;
pub use rubric::*;
pub use summary::*;

/// A message: blocks, and the plain text Slack shows in notifications.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub text: String,
    pub blocks: Vec<Value>,
}

impl Message {
    /// One section of `body`, with `fallback` as the notification's text.
    pub fn section(fallback: impl Into<String>, body: &str) -> Self {
        Message {
            text: fallback.into(),
            blocks: vec![section(body)],
        }
    }

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

pub(crate) fn button(action_id: &str, label: &str, value: &str, style: Option<&str>) -> Value {
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

pub(crate) fn stage_when(stage: &Stage) -> String {
    match stage.interview_at {
        Some(at) => date_time(at),
        None => "not scheduled yet".to_string(),
    }
}

#[cfg(test)]
mod tests;
