//! What Slack's answers say, as the rest of the app reads them: a user, a channel, a listed
//! message, an opened view, the bot's own identity, an invite's refusals.

use serde_json::Value;

use crate::slack::error::SlackError;
use crate::slack::wire::Method;

/// A view Slack has opened, for later `views.update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedView {
    pub id: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub id: String,
    pub real_name: String,
    pub tz: String,
    pub tz_offset_secs: i32,
    pub is_bot: bool,
}

/// Per-user results of an invite that Slack partly refused (e.g. a deactivated account).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InviteOutcome {
    pub refused: Vec<(String, String)>,
}

/// Who the bot token speaks for, as `auth.test` says: the bot's user id (`U…`, the `user` of
/// its messages) and its bot id (`B…`, their `bot_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub user_id: String,
    pub bot_id: String,
}

/// A message as `conversations.history` or `conversations.replies` lists it, with what a
/// clean-up needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedMessage {
    pub ts: String,
    /// The poster's user id ("" when none, e.g. some app or workflow messages).
    pub user: String,
    /// The posting app's bot id ("" for people).
    pub bot_id: String,
    /// The key Loopbot tagged the message with (its metadata), if any.
    pub key: Option<String>,
    /// Replies in its thread (0 when it has none or is itself a reply).
    pub reply_count: u64,
}

impl ListedMessage {
    /// Posted by this bot (its user id, or its bot id).
    pub fn is_by(&self, bot: &BotIdentity) -> bool {
        (!self.user.is_empty() && self.user == bot.user_id)
            || (!self.bot_id.is_empty() && self.bot_id == bot.bot_id)
    }
}

/// What `conversations.info` says about a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    pub name: String,
    pub is_archived: bool,
}

/// The `event_type` of the metadata Loopbot tags its own posts with.
pub const POST_EVENT_TYPE: &str = "loopbot_post";

/// Reads Slack's answer to `method`. A view method's answer repeats the whole view, blocks
/// and all; only what Loopbot reads of it is kept (`ok`, `error`, `warning`,
/// `response_metadata`, and the view's `id` and `hash`), so a form opened costs no second copy
/// of its blocks.
pub(crate) fn read_answer(method: Method, bytes: &[u8]) -> serde_json::Result<Value> {
    if !matches!(
        method,
        Method::ViewsOpen | Method::ViewsUpdate | Method::ViewsPublish
    ) {
        return serde_json::from_slice(bytes);
    }
    #[derive(serde::Deserialize, serde::Serialize)]
    struct ViewIds {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        hash: Option<String>,
    }
    #[derive(serde::Deserialize, serde::Serialize)]
    struct ViewAnswer {
        #[serde(skip_serializing_if = "Option::is_none")]
        ok: Option<bool>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        warning: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        response_metadata: Option<Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        view: Option<ViewIds>,
    }
    let slim: ViewAnswer = serde_json::from_slice(bytes)?;
    serde_json::to_value(slim)
}

pub(crate) fn opened_view(answer: &Value) -> Result<OpenedView, SlackError> {
    Ok(OpenedView {
        id: string_at(answer, "/view/id")?,
        hash: string_at(answer, "/view/hash").unwrap_or_default(),
    })
}

pub(crate) fn string_at(answer: &Value, pointer: &str) -> Result<String, SlackError> {
    answer
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| SlackError::Unavailable(format!("Slack's answer had no {pointer}")))
}

/// The messages of a history or replies answer.
pub(crate) fn listed(answer: &Value) -> impl Iterator<Item = ListedMessage> + '_ {
    let text = |m: &Value, key: &str| {
        m.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    answer
        .get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| m.get("ts").and_then(Value::as_str).is_some())
        .map(move |m| ListedMessage {
            ts: text(m, "ts"),
            user: text(m, "user"),
            bot_id: text(m, "bot_id"),
            key: (m.pointer("/metadata/event_type").and_then(Value::as_str)
                == Some(POST_EVENT_TYPE))
            .then(|| {
                m.pointer("/metadata/event_payload/key")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .flatten(),
            reply_count: m.get("reply_count").and_then(Value::as_u64).unwrap_or(0),
        })
}

pub(crate) fn next_cursor(answer: &Value) -> String {
    answer
        .pointer("/response_metadata/next_cursor")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_view_answer_keeps_what_loopbot_reads_and_drops_the_blocks() {
        let answer = json!({
            "ok": true,
            "view": { "id": "V1", "hash": "h1", "blocks": [{ "type": "divider" }],
                      "state": { "values": {} } },
            "response_metadata": { "warnings": ["superfluous_charset"] },
        });
        let read = read_answer(Method::ViewsOpen, answer.to_string().as_bytes()).unwrap();
        assert_eq!(
            read,
            json!({ "ok": true, "view": { "id": "V1", "hash": "h1" },
                    "response_metadata": { "warnings": ["superfluous_charset"] } })
        );
        let refused = json!({ "ok": false, "error": "expired_trigger_id" });
        assert_eq!(
            read_answer(Method::ViewsOpen, refused.to_string().as_bytes()).unwrap(),
            refused
        );
        // Every other method's answer is read whole.
        let posted = json!({ "ok": true, "ts": "1.2", "message": { "blocks": [] } });
        assert_eq!(
            read_answer(Method::ChatPostMessage, posted.to_string().as_bytes()).unwrap(),
            posted
        );
        assert!(read_answer(Method::ViewsOpen, b"<html>").is_err());
    }
}
