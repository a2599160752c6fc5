//! `chat.*` and `pins.*` methods.

use serde_json::{Value, json};

use super::{ApiError, Args, MethodResult, SimState, err, ok_body};
use crate::blockkit::{self, Surface};
use crate::{APP_ID, BOT_ID, BOT_USER_ID, SimEdit, SimEphemeral, SimMessage, TEAM_ID};

const POST_TEXT_MAX: usize = 40_000;
const UPDATE_TEXT_MAX: usize = 4_000;

impl SimState {
    /// Resolves a `channel` argument for posting: C/G/D id, or a user id (→ that user's DM).
    pub(super) fn post_target(&mut self, now_ms: i64, channel: &str) -> Result<String, ApiError> {
        if self.channel(channel).is_some() {
            return Ok(channel.to_string());
        }
        if self.user(channel).is_some() && channel != BOT_USER_ID {
            return self
                .open_dm(now_ms, channel)
                .map(|(id, _)| id)
                .map_err(|_| err("channel_not_found"));
        }
        Err(err("channel_not_found"))
    }

    pub(super) fn chat_post_message(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let requested = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        if self.channel(&requested).is_none() && self.user(&requested).is_none() {
            return Err(err("channel_not_found"));
        }
        if let Some(c) = self.channel(&requested) {
            self.writable_channel(&c.id.clone())?;
        }
        let blocks = message_blocks(args)?;
        let (metadata, warning) = message_metadata(args)?;
        let mut text = args.raw_str("text").unwrap_or_default();
        if text.is_empty() && blocks.is_null() {
            return Err(err("no_text"));
        }
        if text.chars().count() > POST_TEXT_MAX {
            text = text.chars().take(POST_TEXT_MAX).collect();
        }
        let channel = self.post_target(now_ms, &requested)?;
        let ts = self.next_ts(now_ms);
        let message = SimMessage {
            channel: channel.clone(),
            ts: ts.clone(),
            user: BOT_USER_ID.to_string(),
            text,
            blocks,
            thread_ts: args.str("thread_ts"),
            edits: Vec::new(),
            metadata,
        };
        let mut msg_json = message_json(&message);
        msg_json["ts"] = json!(ts);
        if let Some(parent) = &message.thread_ts {
            msg_json["thread_ts"] = json!(parent);
        }
        self.messages
            .entry(channel.clone())
            .or_default()
            .push(message);
        // (The message is moved in: `json!` would copy its blocks.)
        let mut body = json!({ "channel": channel, "ts": ts });
        body["message"] = msg_json;
        if let Some(w) = warning {
            body["warning"] = json!(w);
            body["response_metadata"] = json!({ "warnings": [w] });
        }
        ok_body(body)
    }

    pub(super) fn chat_update(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let channel = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        if self.channel(&channel).is_none() {
            return Err(err("channel_not_found"));
        }
        let ts = args.str("ts").ok_or_else(|| err("message_not_found"))?;
        let existing = self
            .message(&channel, &ts)
            .ok_or_else(|| err("message_not_found"))?;
        if existing.user != BOT_USER_ID {
            return Err(err("cant_update_message"));
        }
        let (text, blocks) = update_content(args)?;
        let message = self
            .messages
            .get_mut(&channel)
            .and_then(|m| m.iter_mut().find(|m| m.ts == ts))
            .ok_or_else(|| err("message_not_found"))?;
        apply_edit(message, text, blocks, now_ms);
        let msg_json = message_json(message);
        let text = message.text.clone();
        let mut body = json!({ "channel": channel, "ts": ts, "text": text });
        body["message"] = msg_json;
        ok_body(body)
    }

    /// Slack's `chat.delete` with a bot token: only the bot's own messages
    /// (`cant_delete_message` otherwise); `message_not_found` for a `ts` the channel does not
    /// hold (deleted already, or never there); `channel_not_found` for an unknown channel or a
    /// private one the bot is not in. Archived channels are not refused: Slack documents no
    /// such error for this method. A deleted message leaves the pins; a thread parent's
    /// replies stay where they are (reachable with `conversations.replies`).
    pub(super) fn chat_delete(&mut self, args: &Args<'_>) -> MethodResult {
        let channel = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        let c = self
            .channel(&channel)
            .ok_or_else(|| err("channel_not_found"))?;
        if c.is_private && !c.is_im && !c.members.iter().any(|m| m == BOT_USER_ID) {
            return Err(err("channel_not_found"));
        }
        let ts = args.str("ts").ok_or_else(|| err("message_not_found"))?;
        let message = self
            .message(&channel, &ts)
            .ok_or_else(|| err("message_not_found"))?;
        if message.user != BOT_USER_ID {
            return Err(err("cant_delete_message"));
        }
        if let Some(messages) = self.messages.get_mut(&channel) {
            messages.retain(|m| m.ts != ts);
        }
        if let Some(pins) = self.pins.get_mut(&channel) {
            pins.retain(|p| *p != ts);
        }
        ok_body(json!({ "channel": channel, "ts": ts }))
    }

    pub(super) fn chat_post_ephemeral(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let channel = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        let c = self.writable_channel(&channel)?;
        let user = args.str("user").ok_or_else(|| err("user_not_in_channel"))?;
        if self.user(&user).is_none() {
            return Err(err("user_not_found"));
        }
        if !c.members.contains(&user) {
            return Err(err("user_not_in_channel"));
        }
        let blocks = message_blocks(args)?;
        let text = args.raw_str("text").unwrap_or_default();
        if text.is_empty() && blocks.is_null() {
            return Err(err("no_text"));
        }
        let ts = self.next_ts(now_ms);
        self.ephemerals.push(SimEphemeral {
            channel,
            user,
            text,
            blocks,
            ts: ts.clone(),
        });
        ok_body(json!({ "message_ts": ts }))
    }

    pub(super) fn pins_add(&mut self, args: &Args<'_>) -> MethodResult {
        let channel = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        let ts = args
            .str("timestamp")
            .ok_or_else(|| err("no_item_specified"))?;
        let c = self
            .channel(&channel)
            .ok_or_else(|| err("channel_not_found"))?;
        if !c.members.iter().any(|m| m == BOT_USER_ID) {
            return Err(err("not_in_channel"));
        }
        if self.message(&channel, &ts).is_none() {
            return Err(err("message_not_found"));
        }
        let pins = self.pins.entry(channel).or_default();
        if pins.contains(&ts) {
            return Err(err("already_pinned"));
        }
        pins.push(ts);
        ok_body(json!({}))
    }
}

/// The validated `text` and `blocks` of a `chat.update` call (`None` = omitted).
fn update_content(args: &Args<'_>) -> Result<(Option<String>, Option<Value>), ApiError> {
    let text = args.raw_str("text");
    if text
        .as_ref()
        .is_some_and(|t| t.chars().count() > UPDATE_TEXT_MAX)
    {
        return Err(err("msg_too_long"));
    }
    let blocks = args
        .json("blocks")
        .map_err(|m| ApiError::with_messages("invalid_blocks_format", vec![m]))?;
    if let Some(b) = &blocks {
        blockkit::validate_blocks(b, Surface::Message)
            .map_err(|m| ApiError::with_messages("invalid_blocks", vec![m]))?;
    }
    Ok((text, blocks))
}

/// Slack's update semantics: blocks given → replaced (`[]` removes them); text without blocks
/// → blocks removed; neither → blocks kept. The previous version goes to `edits`.
fn apply_edit(message: &mut SimMessage, text: Option<String>, blocks: Option<Value>, now_ms: i64) {
    message.edits.push(SimEdit {
        text: message.text.clone(),
        blocks: message.blocks.clone(),
        replaced_at_ms: now_ms,
    });
    match (&text, blocks) {
        (_, Some(b)) => message.blocks = non_empty_blocks(b),
        (Some(_), None) => message.blocks = Value::Null,
        (None, None) => {}
    }
    if let Some(t) = text {
        message.text = t;
    }
}

/// The `blocks` argument for posting: `Null` when absent or empty, validated otherwise.
fn message_blocks(args: &Args<'_>) -> Result<Value, ApiError> {
    let blocks = args
        .json("blocks")
        .map_err(|m| ApiError::with_messages("invalid_blocks_format", vec![m]))?;
    let Some(blocks) = blocks else {
        return Ok(Value::Null);
    };
    blockkit::validate_blocks(&blocks, Surface::Message)
        .map_err(|m| ApiError::with_messages("invalid_blocks", vec![m]))?;
    Ok(non_empty_blocks(blocks))
}

/// The `metadata` argument for posting (`Null` when absent), and a warning. Not JSON or not
/// an object: `invalid_metadata_format`. An object without a valid `event_type` (letters,
/// digits, `_`, `-`) or without an object `event_payload`: the message is posted without
/// metadata and the answer carries the warning `invalid_metadata_schema`, as Slack's
/// message-metadata guide describes.
fn message_metadata(args: &Args<'_>) -> Result<(Value, Option<&'static str>), ApiError> {
    let metadata = args
        .json("metadata")
        .map_err(|m| ApiError::with_messages("invalid_metadata_format", vec![m]))?;
    let Some(metadata) = metadata else {
        return Ok((Value::Null, None));
    };
    let Value::Object(fields) = &metadata else {
        return Err(err("invalid_metadata_format"));
    };
    let event_type_ok = fields
        .get("event_type")
        .and_then(Value::as_str)
        .is_some_and(|t| {
            !t.is_empty()
                && t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    let payload_ok = fields.get("event_payload").is_some_and(Value::is_object);
    if !event_type_ok || !payload_ok {
        return Ok((Value::Null, Some("invalid_metadata_schema")));
    }
    Ok((metadata, None))
}

fn non_empty_blocks(blocks: Value) -> Value {
    match blocks {
        Value::Array(items) if items.is_empty() => Value::Null,
        other => other,
    }
}

fn message_json(message: &SimMessage) -> Value {
    let mut m = json!({
        "type": "message",
        "user": message.user,
        "text": message.text,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": TEAM_ID,
    });
    if !message.blocks.is_null() {
        m["blocks"] = message.blocks.clone();
    }
    if !message.metadata.is_null() {
        m["metadata"] = message.metadata.clone();
    }
    m
}
