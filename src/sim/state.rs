//! Simulator state and the Web API methods as plain functions over it (no HTTP, no clock reads:
//! the time is passed in).

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};

use super::blockkit::{self, MAX_VIEW_BYTES, Surface};
use super::{
    APP_ID, BOT_ID, BOT_USER_ID, Fault, SimCall, SimChannel, SimEdit, SimEphemeral, SimMessage,
    SimUser, SimView, TEAM_ID,
};

const TRIGGER_LIFE_MS: i64 = 3_000;
const POST_TEXT_MAX: usize = 40_000;
const UPDATE_TEXT_MAX: usize = 4_000;
const TOPIC_MAX: usize = 250;

/// What the simulator answers: an HTTP status, an optional `Retry-After`, and a body.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: AnswerBody,
    /// How long the HTTP server waits before answering (timeout faults).
    pub delay_ms: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AnswerBody {
    Json(Value),
    Text(String),
}

impl Answer {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            retry_after: None,
            body: AnswerBody::Json(body),
            delay_ms: 0,
        }
    }

    /// The JSON body, if any.
    pub fn json_body(&self) -> Option<&Value> {
        match &self.body {
            AnswerBody::Json(v) => Some(v),
            AnswerBody::Text(_) => None,
        }
    }

    pub fn ok(&self) -> bool {
        self.json_body()
            .and_then(|b| b.get("ok"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub fn error(&self) -> Option<String> {
        match &self.body {
            AnswerBody::Json(v) => v.get("error").and_then(Value::as_str).map(str::to_string),
            AnswerBody::Text(_) => Some(format!("http_{}", self.status)),
        }
    }
}

/// A Slack `ok:false` answer: an error code plus extra top-level fields.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub error: String,
    pub extra: Map<String, Value>,
}

impl ApiError {
    pub fn new(code: &str) -> Self {
        Self {
            error: code.to_string(),
            extra: Map::new(),
        }
    }

    /// An error with `response_metadata.messages`.
    pub fn with_messages(code: &str, messages: Vec<String>) -> Self {
        let mut e = Self::new(code);
        e.extra
            .insert("response_metadata".into(), json!({ "messages": messages }));
        e
    }

    fn into_body(self) -> Value {
        let mut body = Map::new();
        body.insert("ok".into(), Value::Bool(false));
        body.insert("error".into(), Value::String(self.error));
        body.extend(self.extra);
        Value::Object(body)
    }
}

fn err(code: &str) -> ApiError {
    ApiError::new(code)
}

pub type MethodResult = Result<Map<String, Value>, ApiError>;

fn ok_body(pairs: Value) -> MethodResult {
    match pairs {
        Value::Object(map) => Ok(map),
        _ => Ok(Map::new()),
    }
}

/// Read access to call arguments, whatever their wire form (JSON or form strings).
pub struct Args<'a>(&'a Map<String, Value>);

impl<'a> Args<'a> {
    /// A non-empty string argument (numbers and booleans are stringified).
    pub fn str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) if !s.is_empty() => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A string argument that may be present but empty.
    pub fn raw_str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            _ => self.str(key),
        }
    }

    pub fn bool(&self, key: &str) -> bool {
        match self.0.get(key) {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s == "true" || s == "1",
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        }
    }

    /// A structured argument: given as JSON, or as a JSON-encoded string (form bodies).
    /// `Ok(None)` when absent; `Err` when a string does not parse.
    pub fn json(&self, key: &str) -> Result<Option<Value>, String> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s)
                .map(Some)
                .map_err(|e| format!("invalid JSON in `{key}`: {e}")),
            Some(other) => Ok(Some(other.clone())),
        }
    }

    /// A list of ids: JSON array, JSON-array string, or comma-separated string.
    pub fn list(&self, key: &str) -> Vec<String> {
        let from_array = |items: &Vec<Value>| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(|s| s.trim().to_string()))
                .filter(|s| !s.is_empty())
                .collect()
        };
        match self.0.get(key) {
            Some(Value::Array(items)) => from_array(items),
            Some(Value::String(s)) if s.trim_start().starts_with('[') => {
                match serde_json::from_str::<Value>(s) {
                    Ok(Value::Array(items)) => from_array(&items),
                    _ => Vec::new(),
                }
            }
            Some(Value::String(s)) => s
                .split(',')
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Clone, Debug)]
struct Trigger {
    issued_ms: i64,
    user: Option<String>,
    used: bool,
}

#[derive(Clone, Debug, Default)]
struct TopicMeta {
    creator: String,
    last_set: i64,
}

/// The whole simulated workspace.
#[derive(Debug)]
pub struct SimState {
    pub bot_token: String,
    pub token_revoked: bool,
    pub users: Vec<SimUser>,
    pub channels: Vec<SimChannel>,
    pub messages: HashMap<String, Vec<SimMessage>>,
    pub pins: HashMap<String, Vec<String>>,
    pub ephemerals: Vec<SimEphemeral>,
    pub dms: HashMap<String, String>,
    pub views: Vec<SimView>,
    /// user → (published home view, hash)
    pub homes: HashMap<String, (Value, String)>,
    pub faults: VecDeque<(String, Fault)>,
    pub calls: Vec<SimCall>,
    triggers: HashMap<String, Trigger>,
    topics: HashMap<String, TopicMeta>,
    previous_names: HashMap<String, Vec<String>>,
    counter: u64,
}

/// Methods the simulator implements.
pub const METHODS: &[&str] = &[
    "auth.test",
    "users.info",
    "conversations.create",
    "conversations.invite",
    "conversations.setTopic",
    "conversations.open",
    "conversations.archive",
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "pins.add",
    "views.open",
    "views.update",
    "views.publish",
];

impl SimState {
    pub fn new(bot_token: String) -> Self {
        let mut bot = SimUser::new(
            BOT_USER_ID,
            "loopbot",
            "Loopbot",
            "America/Los_Angeles",
            -28_800,
        );
        bot.is_bot = true;
        Self {
            bot_token,
            token_revoked: false,
            users: vec![bot],
            channels: Vec::new(),
            messages: HashMap::new(),
            pins: HashMap::new(),
            ephemerals: Vec::new(),
            dms: HashMap::new(),
            views: Vec::new(),
            homes: HashMap::new(),
            faults: VecDeque::new(),
            calls: Vec::new(),
            triggers: HashMap::new(),
            topics: HashMap::new(),
            previous_names: HashMap::new(),
            counter: 0,
        }
    }

    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    /// A unique, increasing message timestamp: clock seconds + a 6-digit counter.
    fn next_ts(&mut self, now_ms: i64) -> String {
        let n = self.next() % 1_000_000;
        format!("{}.{:06}", now_ms.div_euclid(1000), n)
    }

    fn next_id(&mut self, prefix: char) -> String {
        let n = self.next();
        format!("{prefix}{n:08X}")
    }

    pub fn add_user(&mut self, user: SimUser) {
        match self.users.iter_mut().find(|u| u.id == user.id) {
            Some(existing) => *existing = user,
            None => self.users.push(user),
        }
    }

    pub fn user(&self, id: &str) -> Option<&SimUser> {
        self.users.iter().find(|u| u.id == id)
    }

    pub fn channel(&self, id: &str) -> Option<&SimChannel> {
        self.channels.iter().find(|c| c.id == id)
    }

    pub fn channel_mut(&mut self, id: &str) -> Option<&mut SimChannel> {
        self.channels.iter_mut().find(|c| c.id == id)
    }

    pub fn message(&self, channel: &str, ts: &str) -> Option<&SimMessage> {
        self.messages.get(channel)?.iter().find(|m| m.ts == ts)
    }

    pub fn rename_channel(&mut self, channel: &str, new_name: &str) {
        let Some(c) = self.channel_mut(channel) else {
            return;
        };
        let old = std::mem::replace(&mut c.name, new_name.to_string());
        self.previous_names
            .entry(channel.to_string())
            .or_default()
            .push(old);
    }

    /// A channel created by a person (the bot is a member only if listed in `members`).
    pub fn create_channel_by_user(
        &mut self,
        now_ms: i64,
        name: &str,
        creator: &str,
        members: &[&str],
        is_private: bool,
    ) -> String {
        let id = self.next_id('C');
        self.channels.push(SimChannel {
            id: id.clone(),
            name: name.to_string(),
            is_private,
            is_archived: false,
            is_im: false,
            members: members.iter().map(|m| m.to_string()).collect(),
            topic: String::new(),
            creator: creator.to_string(),
            created: now_ms.div_euclid(1000),
        });
        id
    }

    /// A message posted by a person; returns its ts.
    pub fn post_message_by_user(
        &mut self,
        now_ms: i64,
        channel: &str,
        user: &str,
        text: &str,
    ) -> String {
        let ts = self.next_ts(now_ms);
        self.messages
            .entry(channel.to_string())
            .or_default()
            .push(SimMessage {
                channel: channel.to_string(),
                ts: ts.clone(),
                user: user.to_string(),
                text: text.to_string(),
                blocks: Value::Null,
                thread_ts: None,
                edits: Vec::new(),
            });
        ts
    }

    pub fn issue_trigger(&mut self, now_ms: i64, user: Option<String>) -> String {
        let n = self.next();
        let id = format!(
            "{}.{}.{:032x}",
            now_ms.div_euclid(1000),
            n,
            fastrand::u128(..)
        );
        self.triggers.insert(
            id.clone(),
            Trigger {
                issued_ms: now_ms,
                user,
                used: false,
            },
        );
        id
    }

    /// Answers one call and records it. Order: fault, unknown method, token, method rules.
    pub fn handle(
        &mut self,
        now_ms: i64,
        method: &str,
        token: Option<&str>,
        params: Value,
    ) -> Answer {
        let params = match params {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        let answer = self.answer(now_ms, method, token, &params);
        self.calls.push(SimCall {
            method: method.to_string(),
            at_ms: now_ms,
            http_status: answer.status,
            ok: answer.ok(),
            error: if answer.ok() { None } else { answer.error() },
            params: Value::Object(params),
        });
        answer
    }

    /// Records a request that could not be parsed (e.g. a malformed JSON body).
    pub fn reject(&mut self, now_ms: i64, method: &str, code: &str) -> Answer {
        let answer = Answer::json(200, err(code).into_body());
        self.calls.push(SimCall {
            method: method.to_string(),
            at_ms: now_ms,
            http_status: 200,
            ok: false,
            error: Some(code.to_string()),
            params: Value::Null,
        });
        answer
    }

    fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let pos = self
            .faults
            .iter()
            .position(|(m, _)| m == method || m == "*")?;
        self.faults.remove(pos).map(|(_, f)| f)
    }

    fn answer(
        &mut self,
        now_ms: i64,
        method: &str,
        token: Option<&str>,
        params: &Map<String, Value>,
    ) -> Answer {
        if let Some(fault) = self.take_fault(method) {
            return fault_answer(fault);
        }
        if !METHODS.contains(&method) {
            return Answer::json(200, err("unknown_method").into_body());
        }
        if let Err(e) = self.check_token(token) {
            return Answer::json(200, e.into_body());
        }
        let result = self.dispatch(now_ms, method, &Args(params));
        let body = match result {
            Ok(mut map) => {
                let mut body = Map::new();
                body.insert("ok".into(), Value::Bool(true));
                body.append(&mut map);
                Value::Object(body)
            }
            Err(e) => e.into_body(),
        };
        Answer::json(200, body)
    }

    fn check_token(&self, token: Option<&str>) -> Result<(), ApiError> {
        match token.map(str::trim) {
            None | Some("") => Err(err("not_authed")),
            Some(t) if t != self.bot_token => Err(err("invalid_auth")),
            Some(_) if self.token_revoked => Err(err("token_revoked")),
            Some(_) => Ok(()),
        }
    }

    /// Runs a method's rules against the state. Public for unit tests of single methods.
    pub fn dispatch(&mut self, now_ms: i64, method: &str, args: &Args<'_>) -> MethodResult {
        match method {
            "auth.test" => auth_test(),
            "users.info" => self.users_info(now_ms, args),
            "conversations.create" => self.conversations_create(now_ms, args),
            "conversations.invite" => self.conversations_invite(now_ms, args),
            "conversations.setTopic" => self.conversations_set_topic(now_ms, args),
            "conversations.open" => self.conversations_open(now_ms, args),
            "conversations.archive" => self.conversations_archive(args),
            "chat.postMessage" => self.chat_post_message(now_ms, args),
            "chat.update" => self.chat_update(now_ms, args),
            "chat.postEphemeral" => self.chat_post_ephemeral(now_ms, args),
            "pins.add" => self.pins_add(args),
            "views.open" => self.views_open(now_ms, args),
            "views.update" => self.views_update(now_ms, args),
            "views.publish" => self.views_publish(now_ms, args),
            _ => Err(err("unknown_method")),
        }
    }

    // ---- users ----

    fn users_info(&self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let id = args.str("user").ok_or_else(|| err("user_not_found"))?;
        let user = self.user(&id).ok_or_else(|| err("user_not_found"))?;
        ok_body(json!({ "user": user_json(user, now_ms) }))
    }

    // ---- conversations ----

    /// A channel usable by the bot: exists, bot is a member, not archived.
    fn writable_channel(&self, id: &str) -> Result<&SimChannel, ApiError> {
        let channel = self.channel(id).ok_or_else(|| err("channel_not_found"))?;
        if !channel.members.iter().any(|m| m == BOT_USER_ID) {
            return Err(err("not_in_channel"));
        }
        if channel.is_archived {
            return Err(err("is_archived"));
        }
        Ok(channel)
    }

    fn channel_json(&self, channel: &SimChannel, now_ms: i64) -> Value {
        let topic = self.topics.get(&channel.id).cloned().unwrap_or_default();
        let previous = self
            .previous_names
            .get(&channel.id)
            .cloned()
            .unwrap_or_default();
        json!({
            "id": channel.id,
            "name": channel.name,
            "is_channel": !channel.is_im,
            "is_group": false,
            "is_im": channel.is_im,
            "is_mpim": false,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_archived": channel.is_archived,
            "is_general": false,
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": false,
            "is_ext_shared": false,
            "is_org_shared": false,
            "is_pending_ext_shared": false,
            "pending_shared": [],
            "pending_connected_team_ids": [],
            "shared_team_ids": [TEAM_ID],
            "context_team_id": TEAM_ID,
            "creator": channel.creator,
            "is_member": channel.members.iter().any(|m| m == BOT_USER_ID),
            "last_read": "0000000000.000000",
            "topic": { "value": channel.topic, "creator": topic.creator, "last_set": topic.last_set },
            "purpose": { "value": "", "creator": "", "last_set": 0 },
            "previous_names": previous,
            "updated": now_ms,
        })
    }

    fn conversations_create(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let name = args.raw_str("name").unwrap_or_default();
        validate_channel_name(&name).map_err(err)?;
        let taken = self.channels.iter().any(|c| !c.is_im && c.name == name)
            || self.previous_names.values().flatten().any(|n| *n == name);
        if taken {
            return Err(err("name_taken"));
        }
        let channel = SimChannel {
            id: self.next_id('C'),
            name,
            is_private: args.bool("is_private"),
            is_archived: false,
            is_im: false,
            members: vec![BOT_USER_ID.to_string()],
            topic: String::new(),
            creator: BOT_USER_ID.to_string(),
            created: now_ms.div_euclid(1000),
        };
        let body = json!({ "channel": self.channel_json(&channel, now_ms) });
        self.channels.push(channel);
        ok_body(body)
    }

    fn conversations_invite(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let id = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        if self.writable_channel(&id)?.is_im {
            return Err(err("method_not_supported_for_channel_type"));
        }
        let users = args.list("users");
        if users.is_empty() {
            return Err(err("no_user"));
        }
        if users.len() > 1000 {
            return Err(err("too_many_users"));
        }
        let mut errors = Vec::new();
        let mut added = Vec::new();
        for user in users {
            match self.invite_check(&id, &user, &added) {
                Ok(()) => added.push(user),
                Err(code) => errors.push(json!({ "user": user, "ok": false, "error": code })),
            }
        }
        if let Some(c) = self.channel_mut(&id) {
            c.members.extend(added);
        }
        if let Some(first) = errors.first() {
            let code = first["error"].as_str().unwrap_or("cant_invite").to_string();
            let mut e = err(&code);
            e.extra.insert("errors".into(), Value::Array(errors));
            return Err(e);
        }
        let channel = self
            .channel(&id)
            .cloned()
            .ok_or_else(|| err("channel_not_found"))?;
        ok_body(json!({ "channel": self.channel_json(&channel, now_ms) }))
    }

    fn invite_check(
        &self,
        channel: &str,
        user: &str,
        added: &[String],
    ) -> Result<(), &'static str> {
        if user == BOT_USER_ID {
            return Err("cant_invite_self");
        }
        let Some(u) = self.user(user) else {
            return Err("user_not_found");
        };
        if u.deleted {
            return Err("cant_invite");
        }
        let member = self
            .channel(channel)
            .is_some_and(|c| c.members.iter().any(|m| m == user));
        if member || added.iter().any(|a| a == user) {
            return Err("already_in_channel");
        }
        Ok(())
    }

    fn conversations_set_topic(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let id = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        self.writable_channel(&id)?;
        let topic = args.raw_str("topic").unwrap_or_default();
        if topic.chars().count() > TOPIC_MAX {
            return Err(err("too_long"));
        }
        if let Some(c) = self.channel_mut(&id) {
            c.topic = topic;
        }
        self.topics.insert(
            id.clone(),
            TopicMeta {
                creator: BOT_USER_ID.to_string(),
                last_set: now_ms.div_euclid(1000),
            },
        );
        let channel = self
            .channel(&id)
            .cloned()
            .ok_or_else(|| err("channel_not_found"))?;
        ok_body(json!({ "channel": self.channel_json(&channel, now_ms) }))
    }

    fn conversations_archive(&mut self, args: &Args<'_>) -> MethodResult {
        let id = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        let channel = self.channel(&id).ok_or_else(|| err("channel_not_found"))?;
        if channel.is_im {
            return Err(err("method_not_supported_for_channel_type"));
        }
        if channel.is_archived {
            return Err(err("already_archived"));
        }
        if !channel.members.iter().any(|m| m == BOT_USER_ID) {
            return Err(err("not_in_channel"));
        }
        if let Some(c) = self.channel_mut(&id) {
            c.is_archived = true;
        }
        ok_body(json!({}))
    }

    /// The DM channel with `user`, created on first use. Returns (id, already existed).
    fn open_dm(&mut self, now_ms: i64, user: &str) -> Result<(String, bool), ApiError> {
        if user == BOT_USER_ID {
            return Err(err("cannot_dm_bot"));
        }
        let u = self.user(user).ok_or_else(|| err("user_not_found"))?;
        if u.deleted {
            return Err(err("user_disabled"));
        }
        if let Some(id) = self.dms.get(user) {
            return Ok((id.clone(), true));
        }
        let id = self.next_id('D');
        self.channels.push(SimChannel {
            id: id.clone(),
            name: user.to_string(),
            is_private: true,
            is_archived: false,
            is_im: true,
            members: vec![BOT_USER_ID.to_string(), user.to_string()],
            topic: String::new(),
            creator: BOT_USER_ID.to_string(),
            created: now_ms.div_euclid(1000),
        });
        self.dms.insert(user.to_string(), id.clone());
        Ok((id, false))
    }

    fn conversations_open(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let users = args.list("users");
        match users.len() {
            0 => return Err(err("users_list_not_supplied")),
            1 => {}
            9.. => return Err(err("too_many_users")),
            _ => {
                return Err(ApiError::with_messages(
                    "invalid_arguments",
                    vec!["the simulator supports only one-to-one DMs".into()],
                ));
            }
        }
        let (id, existed) = self.open_dm(now_ms, &users[0])?;
        let mut body = json!({ "channel": { "id": id } });
        if existed {
            body["no_op"] = json!(true);
            body["already_open"] = json!(true);
        }
        ok_body(body)
    }

    // ---- chat ----

    /// Resolves a `channel` argument for posting: C/G/D id, or a user id (→ that user's DM).
    fn post_target(&mut self, now_ms: i64, channel: &str) -> Result<String, ApiError> {
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

    fn chat_post_message(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
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
        ok_body(json!({ "channel": channel, "ts": ts, "message": msg_json }))
    }

    fn chat_update(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
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
        let text = args.raw_str("text");
        if text
            .as_ref()
            .is_some_and(|t| t.chars().count() > UPDATE_TEXT_MAX)
        {
            return Err(err("msg_too_long"));
        }
        let blocks_arg = args
            .json("blocks")
            .map_err(|m| ApiError::with_messages("invalid_blocks_format", vec![m]))?;
        if let Some(b) = &blocks_arg {
            blockkit::validate_blocks(b, Surface::Message)
                .map_err(|m| ApiError::with_messages("invalid_blocks", vec![m]))?;
        }
        let messages = self
            .messages
            .get_mut(&channel)
            .ok_or_else(|| err("message_not_found"))?;
        let message = messages
            .iter_mut()
            .find(|m| m.ts == ts)
            .ok_or_else(|| err("message_not_found"))?;
        message.edits.push(SimEdit {
            text: message.text.clone(),
            blocks: message.blocks.clone(),
            replaced_at_ms: now_ms,
        });
        match (&text, blocks_arg) {
            (_, Some(b)) => message.blocks = non_empty_blocks(b),
            (Some(_), None) => message.blocks = Value::Null,
            (None, None) => {}
        }
        if let Some(t) = text {
            message.text = t;
        }
        let msg_json = message_json(message);
        let text = message.text.clone();
        ok_body(json!({ "channel": channel, "ts": ts, "text": text, "message": msg_json }))
    }

    fn chat_post_ephemeral(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
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

    // ---- pins ----

    fn pins_add(&mut self, args: &Args<'_>) -> MethodResult {
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

    // ---- views ----

    fn check_trigger(&self, now_ms: i64, trigger_id: &str) -> Result<(), ApiError> {
        let trigger = self
            .triggers
            .get(trigger_id)
            .ok_or_else(|| err("invalid_trigger_id"))?;
        if trigger.used {
            return Err(err("exchanged_trigger_id"));
        }
        if now_ms - trigger.issued_ms > TRIGGER_LIFE_MS {
            return Err(err("expired_trigger_id"));
        }
        Ok(())
    }

    fn next_hash(&mut self, now_ms: i64) -> String {
        let n = self.next();
        format!(
            "{}.{:08x}",
            now_ms.div_euclid(1000),
            n.wrapping_mul(2_654_435_761)
        )
    }

    fn views_open(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let trigger_id = args.str("trigger_id").ok_or_else(|| {
            ApiError::with_messages(
                "invalid_arguments",
                vec!["missing required field: trigger_id".into()],
            )
        })?;
        self.check_trigger(now_ms, &trigger_id)?;
        let view = view_arg(args, blockkit::validate_modal)?;
        let user = match self.triggers.get_mut(&trigger_id) {
            Some(t) => {
                t.used = true;
                t.user.clone().unwrap_or_default()
            }
            None => String::new(),
        };
        let id = self.next_id('V');
        let hash = self.next_hash(now_ms);
        let body = json!({ "view": view_json(&view, &id, &hash) });
        self.views.push(SimView {
            id,
            user,
            view,
            hash,
            history: Vec::new(),
        });
        ok_body(body)
    }

    fn views_update(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let view_id = args.str("view_id");
        let external_id = args.str("external_id");
        if view_id.is_none() && external_id.is_none() {
            return Err(ApiError::with_messages(
                "invalid_arguments",
                vec!["either view_id or external_id is required".into()],
            ));
        }
        let pos = self
            .views
            .iter()
            .position(|v| match (&view_id, &external_id) {
                (Some(id), _) => v.id == *id,
                (None, Some(ext)) => v.view.get("external_id").and_then(Value::as_str) == Some(ext),
                (None, None) => false,
            })
            .ok_or_else(|| err("not_found"))?;
        if let Some(hash) = args.str("hash")
            && hash != self.views[pos].hash
        {
            return Err(err("hash_conflict"));
        }
        let view = view_arg(args, blockkit::validate_modal)?;
        let hash = self.next_hash(now_ms);
        let entry = &mut self.views[pos];
        let previous = std::mem::replace(&mut entry.view, view);
        entry.history.push(previous);
        entry.hash = hash;
        let body = json!({ "view": view_json(&entry.view, &entry.id, &entry.hash) });
        ok_body(body)
    }

    fn views_publish(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let user = args.str("user_id").ok_or_else(|| err("user_not_found"))?;
        if self.user(&user).is_none() {
            return Err(err("user_not_found"));
        }
        if let (Some(hash), Some((_, current))) = (args.str("hash"), self.homes.get(&user))
            && hash != *current
        {
            return Err(err("hash_conflict"));
        }
        let view = view_arg(args, blockkit::validate_home)?;
        let id = self.next_id('V');
        let hash = self.next_hash(now_ms);
        let body = json!({ "view": view_json(&view, &id, &hash) });
        self.homes.insert(user, (view, hash));
        ok_body(body)
    }
}

fn auth_test() -> MethodResult {
    ok_body(json!({
        "url": "https://loopbot-sim.slack.com/",
        "team": "Loopbot Simulated Workspace",
        "user": "loopbot",
        "team_id": TEAM_ID,
        "user_id": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "is_enterprise_install": false,
    }))
}

fn fault_answer(fault: Fault) -> Answer {
    match fault {
        Fault::RateLimited { retry_after_secs } => Answer {
            status: 429,
            retry_after: Some(retry_after_secs),
            body: AnswerBody::Json(err("ratelimited").into_body()),
            delay_ms: 0,
        },
        Fault::Http(status) => Answer {
            status,
            retry_after: None,
            body: AnswerBody::Text(format!("upstream error: HTTP {status}\n")),
            delay_ms: 0,
        },
        Fault::Timeout { after_ms } => Answer {
            status: 504,
            retry_after: None,
            body: AnswerBody::Text("upstream request timeout\n".into()),
            delay_ms: after_ms,
        },
        Fault::Error(code) => Answer::json(200, err(&code).into_body()),
    }
}

/// Slack's channel-name rules for `conversations.create`.
pub fn validate_channel_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("invalid_name_required");
    }
    if name.chars().count() > 80 {
        return Err("invalid_name_maxlength");
    }
    if name.chars().all(|c| c.is_ascii_punctuation()) {
        return Err("invalid_name_punctuation");
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if !name.chars().all(allowed) {
        return Err("invalid_name_specials");
    }
    Ok(())
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

fn non_empty_blocks(blocks: Value) -> Value {
    match blocks {
        Value::Array(items) if items.is_empty() => Value::Null,
        other => other,
    }
}

/// The `view` argument, size-checked and validated by `validate`.
fn view_arg(
    args: &Args<'_>,
    validate: fn(&Value) -> Result<(), String>,
) -> Result<Value, ApiError> {
    let view = args
        .json("view")
        .map_err(|m| ApiError::with_messages("invalid_arguments", vec![m]))?
        .ok_or_else(|| {
            ApiError::with_messages(
                "invalid_arguments",
                vec!["missing required field: view".into()],
            )
        })?;
    if view.to_string().len() > MAX_VIEW_BYTES {
        return Err(err("view_too_large"));
    }
    validate(&view).map_err(|m| ApiError::with_messages("invalid_arguments", vec![m]))?;
    Ok(view)
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
    m
}

fn view_json(view: &Value, id: &str, hash: &str) -> Value {
    let field = |k: &str, default: Value| view.get(k).cloned().unwrap_or(default);
    let mut v = json!({
        "id": id,
        "team_id": TEAM_ID,
        "type": field("type", json!("modal")),
        "blocks": field("blocks", json!([])),
        "private_metadata": field("private_metadata", json!("")),
        "callback_id": field("callback_id", json!("")),
        "external_id": field("external_id", json!("")),
        "state": { "values": {} },
        "hash": hash,
        "clear_on_close": field("clear_on_close", json!(false)),
        "notify_on_close": field("notify_on_close", json!(false)),
        "root_view_id": id,
        "previous_view_id": null,
        "app_id": APP_ID,
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    });
    for key in ["title", "submit", "close"] {
        if let Some(t) = view.get(key).filter(|t| !t.is_null()) {
            v[key] = t.clone();
        }
    }
    v
}

fn tz_label(tz: &str, now_ms: i64) -> String {
    let Ok(zone) = jiff::tz::TimeZone::get(tz) else {
        return tz.to_string();
    };
    match jiff::Timestamp::from_millisecond(now_ms) {
        Ok(ts) => zone.to_offset_info(ts).abbreviation().to_string(),
        Err(_) => tz.to_string(),
    }
}

fn user_json(user: &SimUser, now_ms: i64) -> Value {
    let mut profile = json!({
        "real_name": user.real_name,
        "real_name_normalized": user.real_name,
        "display_name": user.name,
        "display_name_normalized": user.name,
        "team": TEAM_ID,
    });
    if user.is_bot {
        profile["bot_id"] = json!(BOT_ID);
        profile["api_app_id"] = json!(APP_ID);
    }
    json!({
        "id": user.id,
        "team_id": TEAM_ID,
        "name": user.name,
        "deleted": user.deleted,
        "real_name": user.real_name,
        "tz": user.tz,
        "tz_label": tz_label(&user.tz, now_ms),
        "tz_offset": user.tz_offset,
        "profile": profile,
        "is_admin": false,
        "is_owner": false,
        "is_primary_owner": false,
        "is_restricted": false,
        "is_ultra_restricted": false,
        "is_bot": user.is_bot,
        "is_app_user": false,
        "updated": now_ms.div_euclid(1000),
    })
}

#[cfg(test)]
mod tests;
