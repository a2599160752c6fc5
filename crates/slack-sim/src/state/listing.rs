//! Read methods: `conversations.info`, and with cursor pagination `conversations.list`,
//! `conversations.members`, `conversations.history`, and a thread's `conversations.replies`.
//!
//! Cursors are opaque to clients (hex of `team:<channel>`, `user_id:<user>`,
//! `next_ts:<ts>` — the first item of the next page); the last page has `next_cursor: ""`.

use serde_json::{Value, json};

use super::{ApiError, Args, MethodResult, SimState, err, ok_body};
use crate::{APP_ID, BOT_ID, BOT_USER_ID, SimChannel, SimMessage, TEAM_ID};

const LIST_LIMIT_MAX: usize = 999;
const MEMBERS_LIMIT_MAX: usize = 1000;
const HISTORY_LIMIT_MAX: usize = 999;
const DEFAULT_LIMIT: usize = 100;

impl SimState {
    /// A channel whose contents the bot may read: `channel_not_found` for unknown ids and for
    /// private channels the bot is not in (they are invisible to it); `not_in_channel` for
    /// public ones when `needs_membership`.
    fn readable_channel(
        &self,
        args: &Args<'_>,
        needs_membership: bool,
    ) -> Result<&SimChannel, ApiError> {
        let id = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        let channel = self.channel(&id).ok_or_else(|| err("channel_not_found"))?;
        if !channel.members.iter().any(|m| m == BOT_USER_ID) {
            if channel.is_private {
                return Err(err("channel_not_found"));
            }
            if needs_membership {
                return Err(err("not_in_channel"));
            }
        }
        Ok(channel)
    }

    /// `types` (default `public_channel`): public channels of the workspace, private channels
    /// the bot is a member of, the bot's DMs (`im`); `exclude_archived`; `limit`, `cursor`.
    pub(super) fn conversations_list(&self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let mut types = args.list("types");
        if types.is_empty() {
            types.push("public_channel".to_string());
        }
        let wants = |t: &str| types.iter().any(|x| x == t);
        let exclude_archived = args.bool("exclude_archived");
        let limit = args.limit("limit", DEFAULT_LIMIT, LIST_LIMIT_MAX)?;
        let listed: Vec<&SimChannel> = self
            .channels
            .iter()
            .filter(|c| !(exclude_archived && c.is_archived))
            .filter(|c| {
                let member = c.members.iter().any(|m| m == BOT_USER_ID);
                if c.is_im {
                    wants("im")
                } else if c.is_private {
                    wants("private_channel") && member
                } else {
                    wants("public_channel")
                }
            })
            .collect();
        let (page, next) = paginate(&listed, args, "team", |c| c.id.clone(), limit)?;
        let channels: Vec<Value> = page
            .iter()
            .map(|c| self.list_channel_json(c, now_ms))
            .collect();
        ok_body(json!({
            "channels": channels,
            "response_metadata": { "next_cursor": next },
        }))
    }

    /// A conversation object as `conversations.list` shows it (no `last_read`; `num_members`).
    fn list_channel_json(&self, channel: &SimChannel, now_ms: i64) -> Value {
        if channel.is_im {
            let user = channel
                .members
                .iter()
                .find(|m| *m != BOT_USER_ID)
                .cloned()
                .unwrap_or_default();
            let deleted = self.user(&user).is_some_and(|u| u.deleted);
            return json!({
                "id": channel.id,
                "created": channel.created,
                "is_archived": channel.is_archived,
                "is_im": true,
                "is_org_shared": false,
                "context_team_id": TEAM_ID,
                "updated": now_ms,
                "user": user,
                "is_user_deleted": deleted,
                "priority": 0,
            });
        }
        let mut value = self.channel_json(channel, now_ms);
        if let Some(fields) = value.as_object_mut() {
            fields.remove("last_read");
            fields.insert("num_members".into(), json!(channel.members.len()));
        }
        value
    }

    /// One conversation: `channel_not_found` for an unknown id or a private channel the bot is
    /// not in; a public one can be read without being a member.
    pub(super) fn conversations_info(&self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let channel = self.readable_channel(args, false)?;
        ok_body(json!({ "channel": self.channel_json(channel, now_ms) }))
    }

    /// Member ids in join order; `limit`, `cursor`. Public channels can be read without being
    /// a member.
    pub(super) fn conversations_members(&self, args: &Args<'_>) -> MethodResult {
        let channel = self.readable_channel(args, false)?;
        let limit = args.limit("limit", DEFAULT_LIMIT, MEMBERS_LIMIT_MAX)?;
        let members: Vec<&String> = channel.members.iter().collect();
        let (page, next) = paginate(&members, args, "user_id", |m| (*m).clone(), limit)?;
        ok_body(json!({
            "members": page,
            "response_metadata": { "next_cursor": next },
        }))
    }

    /// Top-level messages (thread replies are left out), newest first; `limit` (default 100,
    /// at most 999), `cursor`, `oldest`/`latest` (exclusive unless `inclusive`),
    /// `include_all_metadata`. `response_metadata.next_cursor` only when `has_more`.
    pub(super) fn conversations_history(&self, args: &Args<'_>) -> MethodResult {
        let channel = self.readable_channel(args, true)?;
        let limit = args.limit("limit", DEFAULT_LIMIT, HISTORY_LIMIT_MAX)?;
        let bound = |key: &str, code: &str| match args.str(key) {
            None => Ok(None),
            Some(raw) => parse_ts(&raw).map(Some).ok_or_else(|| err(code)),
        };
        let oldest = bound("oldest", "invalid_ts_oldest")?;
        let latest = bound("latest", "invalid_ts_latest")?;
        let inclusive = args.bool("inclusive");
        let with_metadata = args.bool("include_all_metadata");
        let all = self
            .messages
            .get(&channel.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut top: Vec<(Ts, &SimMessage)> = all
            .iter()
            .filter(|m| m.thread_ts.as_ref().is_none_or(|t| *t == m.ts))
            .filter_map(|m| parse_ts(&m.ts).map(|ts| (ts, m)))
            .filter(|(ts, _)| match oldest {
                Some(o) if inclusive => *ts >= o,
                Some(o) => *ts > o,
                None => true,
            })
            .filter(|(ts, _)| match latest {
                Some(l) if inclusive => *ts <= l,
                Some(l) => *ts < l,
                None => true,
            })
            .collect();
        top.sort_by_key(|(ts, _)| std::cmp::Reverse(*ts));
        if let Some(raw) = args.str("cursor") {
            let from = decode_cursor(&raw, "next_ts")
                .and_then(|ts| parse_ts(&ts))
                .ok_or_else(|| err("invalid_cursor"))?;
            top.retain(|(ts, _)| *ts <= from);
        }
        let has_more = top.len() > limit;
        let messages: Vec<Value> = top
            .iter()
            .take(limit)
            .map(|(_, m)| history_message_json(m, all, with_metadata))
            .collect();
        let pin_count = self.pins.get(&channel.id).map_or(0, Vec::len);
        let mut body = json!({
            "messages": messages,
            "has_more": has_more,
            "pin_count": pin_count,
            "channel_actions_ts": null,
            "channel_actions_count": 0,
        });
        if let Some((_, next)) = top.get(limit).filter(|_| has_more) {
            body["response_metadata"] =
                json!({ "next_cursor": encode_cursor("next_ts", &next.ts) });
        }
        ok_body(body)
    }
}

impl SimState {
    /// A thread: its parent first, then the replies oldest first; `ts` (the parent's, or any
    /// reply's), `limit` (default 100, at most 999), `cursor`, `include_all_metadata`.
    /// `thread_not_found` when no message has that `ts`. A page after the first goes on where
    /// the one before stopped; `response_metadata.next_cursor` only when `has_more`.
    pub(super) fn conversations_replies(&self, args: &Args<'_>) -> MethodResult {
        let channel = self.readable_channel(args, true)?;
        let limit = args.limit("limit", DEFAULT_LIMIT, HISTORY_LIMIT_MAX)?;
        let with_metadata = args.bool("include_all_metadata");
        let ts = args.str("ts").ok_or_else(|| err("thread_not_found"))?;
        let all = self
            .messages
            .get(&channel.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let found = all
            .iter()
            .find(|m| m.ts == ts)
            .ok_or_else(|| err("thread_not_found"))?;
        let parent_ts = found.thread_ts.clone().unwrap_or_else(|| found.ts.clone());
        let mut thread: Vec<(Ts, &SimMessage)> = all
            .iter()
            .filter(|m| m.ts == parent_ts || m.thread_ts.as_deref() == Some(parent_ts.as_str()))
            .filter_map(|m| parse_ts(&m.ts).map(|t| (t, m)))
            .collect();
        thread.sort_by_key(|(t, _)| *t);
        if let Some(raw) = args.str("cursor") {
            let from = decode_cursor(&raw, "next_ts")
                .and_then(|ts| parse_ts(&ts))
                .ok_or_else(|| err("invalid_cursor"))?;
            thread.retain(|(t, _)| *t >= from);
        }
        let parent_user = all
            .iter()
            .find(|m| m.ts == parent_ts)
            .map(|m| m.user.clone())
            .unwrap_or_default();
        let has_more = thread.len() > limit;
        let messages: Vec<Value> = thread
            .iter()
            .take(limit)
            .map(|(_, m)| {
                let mut value = history_message_json(m, all, with_metadata);
                value["thread_ts"] = json!(parent_ts);
                if m.ts != parent_ts {
                    value["parent_user_id"] = json!(parent_user);
                }
                value
            })
            .collect();
        let mut body = json!({ "messages": messages, "has_more": has_more });
        if let Some((_, next)) = thread.get(limit).filter(|_| has_more) {
            body["response_metadata"] =
                json!({ "next_cursor": encode_cursor("next_ts", &next.ts) });
        }
        ok_body(body)
    }
}

/// A message as `conversations.history` shows it. Thread parents carry their reply summary.
fn history_message_json(message: &SimMessage, all: &[SimMessage], with_metadata: bool) -> Value {
    let mut m = json!({
        "type": "message",
        "user": message.user,
        "text": message.text,
        "ts": message.ts,
        "team": TEAM_ID,
    });
    if message.user == BOT_USER_ID {
        m["bot_id"] = json!(BOT_ID);
        m["app_id"] = json!(APP_ID);
    }
    if !message.blocks.is_null() {
        m["blocks"] = message.blocks.clone();
    }
    if with_metadata && !message.metadata.is_null() {
        m["metadata"] = message.metadata.clone();
    }
    let replies: Vec<&SimMessage> = all
        .iter()
        .filter(|r| r.ts != message.ts && r.thread_ts.as_deref() == Some(message.ts.as_str()))
        .collect();
    if let Some(last) = replies.last() {
        let mut users: Vec<&str> = Vec::new();
        for r in &replies {
            if !users.contains(&r.user.as_str()) {
                users.push(&r.user);
            }
        }
        m["thread_ts"] = json!(message.ts);
        m["reply_count"] = json!(replies.len());
        m["reply_users_count"] = json!(users.len());
        m["reply_users"] = json!(users);
        m["latest_reply"] = json!(last.ts);
    }
    m
}

/// A message timestamp as (seconds, microseconds), for ordering and bounds.
type Ts = (i64, u32);

fn parse_ts(raw: &str) -> Option<Ts> {
    let (secs, frac) = raw.trim().split_once('.').unwrap_or((raw.trim(), ""));
    if frac.len() > 6 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let secs = secs.parse::<i64>().ok()?;
    let micros = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse::<u32>().ok()?
    };
    Some((secs, micros))
}

fn encode_cursor(kind: &str, key: &str) -> String {
    hex::encode(format!("{kind}:{key}"))
}

fn decode_cursor(raw: &str, kind: &str) -> Option<String> {
    let bytes = hex::decode(raw.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(&format!("{kind}:")).map(str::to_string)
}

/// One page of `items` from the `cursor` argument on (the first page without one), and the
/// cursor of the next page ("" on the last). A cursor naming no item: `invalid_cursor`.
fn paginate<'a, T>(
    items: &'a [T],
    args: &Args<'_>,
    kind: &str,
    key: impl Fn(&T) -> String,
    limit: usize,
) -> Result<(&'a [T], String), ApiError> {
    let start = match args.str("cursor") {
        None => 0,
        Some(raw) => {
            let wanted = decode_cursor(&raw, kind).ok_or_else(|| err("invalid_cursor"))?;
            items
                .iter()
                .position(|i| key(i) == wanted)
                .ok_or_else(|| err("invalid_cursor"))?
        }
    };
    let end = (start + limit).min(items.len());
    let next = items
        .get(end)
        .map(|i| encode_cursor(kind, &key(i)))
        .unwrap_or_default();
    Ok((&items[start..end], next))
}
