//! Simulator state and the Web API methods as plain functions over it (no HTTP, no clock reads:
//! the time is passed in).

use std::collections::{HashMap, VecDeque};

use serde_json::{Map, Value, json};

use super::contract::Violation;
use super::rules::rule_of;
use super::{
    APP_ID, BOT_ID, BOT_USER_ID, Fault, SimCall, SimChannel, SimEphemeral, SimMessage, SimUser,
    TEAM_ID,
};

mod chat;
mod conversations;
mod listing;
mod rate;
mod views;

pub use conversations::validate_channel_name;

/// What the simulator answers: an HTTP status, an optional `Retry-After`, and a body.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub body: AnswerBody,
    /// How long the HTTP server waits before answering (timeout faults). Latency set with
    /// [`crate::Simulator::set_latency`] comes on top.
    pub delay_ms: u64,
    /// The body's `view`, already written as JSON from the text the app sent: the HTTP answer
    /// puts it in as it is rather than writing a tree of some kB out again. The same object as
    /// `body["view"]`.
    pub view_json: Option<String>,
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
            view_json: None,
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

    /// A page size: `default` when absent, empty or 0, at most `max`; `invalid_limit` when
    /// not a number or negative.
    pub fn limit(&self, key: &str, default: usize, max: usize) -> Result<usize, ApiError> {
        let Some(raw) = self.str(key) else {
            return Ok(default);
        };
        match raw.trim().parse::<i64>() {
            Ok(0) => Ok(default),
            Ok(n) if n > 0 => Ok(usize::try_from(n).unwrap_or(max).min(max)),
            _ => Err(err("invalid_limit")),
        }
    }

    /// Whether the argument was given: present, not `null`, not an empty string.
    pub fn given(&self, key: &str) -> bool {
        match self.0.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.is_empty(),
            Some(_) => true,
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
    pub(crate) views: Vec<views::KeptView>,
    /// A `view` argument given as a JSON object, taken out of the call's arguments so that
    /// the method owns it (no copy of a tree of some kB), with its text as sent if known.
    given_view: Option<(Value, Option<String>)>,
    /// The text of the next call's `view` object as it came over HTTP ([`SimState::handle`]).
    pub(crate) sent_view_text: Option<String>,
    /// The answer's `view` as JSON text, written by the `views.*` method that answered
    /// ([`Answer::view_json`]).
    answer_view: Option<String>,
    /// The `view` argument of the call being answered, as JSON text, for its record.
    view_text: Option<String>,
    /// user → (published home view, hash)
    pub homes: HashMap<String, (Value, String)>,
    pub faults: VecDeque<(String, Fault)>,
    /// Faults waiting for a later call: (method, calls of it still to let through, fault).
    pub later_faults: Vec<(String, usize, Fault)>,
    /// An outage: while set, every call gets this fault (queued faults wait until it ends).
    pub outage: Option<Fault>,
    /// Where answers posted to `response_url`s land: (the URL's id, the JSON body).
    pub responses: Vec<(String, Value)>,
    /// The base of the `response_url`s handed out, once the simulator serves HTTP.
    pub response_base: Option<String>,
    pub calls: Vec<SimCall>,
    /// Real-time delay before each HTTP answer.
    pub latency: std::time::Duration,
    enforce_tiers: bool,
    /// method → times (ms) of the calls counted in its window, oldest first.
    tier_calls: HashMap<String, VecDeque<i64>>,
    /// channel → when its `chat.postMessage` bucket is next full again (ms).
    channel_posts: HashMap<String, i64>,
    /// Every way a call received over HTTP broke Slack's contract, oldest first.
    pub violations: Vec<Violation>,
    triggers: HashMap<String, Trigger>,
    topics: HashMap<String, TopicMeta>,
    previous_names: HashMap<String, Vec<String>>,
    counter: u64,
    /// Socket Mode: the app-level token, connections, envelopes and acknowledgements.
    pub socket: super::socket::SocketState,
}

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
            given_view: None,
            sent_view_text: None,
            answer_view: None,
            view_text: None,
            homes: HashMap::new(),
            faults: VecDeque::new(),
            later_faults: Vec::new(),
            outage: None,
            responses: Vec::new(),
            response_base: None,
            calls: Vec::new(),
            latency: std::time::Duration::ZERO,
            enforce_tiers: false,
            tier_calls: HashMap::new(),
            channel_posts: HashMap::new(),
            violations: Vec::new(),
            triggers: HashMap::new(),
            topics: HashMap::new(),
            previous_names: HashMap::new(),
            counter: 0,
            socket: Default::default(),
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
                metadata: Value::Null,
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

    /// Answers one call and records it. Order: fault, unknown method, rate tier, token,
    /// required arguments, method rules. A [`Fault::LoseAnswer`] or [`Fault::HoldAnswer`] lets
    /// the call run through all of them, then replaces the answer. An outage comes before
    /// queued faults.
    pub fn handle(
        &mut self,
        now_ms: i64,
        method: &str,
        token: Option<&str>,
        params: Value,
        warnings: &[&str],
    ) -> Answer {
        let mut params = match params {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        // (A view read by a method called outside `handle`, as unit tests do, is not this
        // call's.)
        self.view_text = None;
        self.answer_view = None;
        let sent_text = self.sent_view_text.take();
        if let Some(Value::Object(_)) = params.get("view") {
            self.given_view = params.remove("view").map(|view| (view, sent_text));
        }
        let mut answer = self.answer(now_ms, method, token, &params);
        // The record keeps a view the method read as its JSON text: the view itself is kept
        // once (`Simulator::views_of`), and a parsed copy per call takes ten times the memory.
        // One the method did not read is put back as it came.
        if let Some(text) = self.view_text.take() {
            params.insert("view".into(), Value::String(text));
        }
        if let Some((view, _)) = self.given_view.take() {
            params.insert("view".into(), view);
        }
        // Non-fatal problems with the request: `warning` and `response_metadata.warnings`,
        // as Slack adds them to an `ok: true` answer.
        let warnings = if answer.ok() { warnings } else { &[] };
        if !warnings.is_empty()
            && let AnswerBody::Json(Value::Object(body)) = &mut answer.body
        {
            body.insert("warning".into(), Value::String(warnings.join(",")));
            let metadata = body
                .entry("response_metadata")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(metadata) = metadata {
                metadata.insert("warnings".into(), serde_json::json!(warnings));
            }
        }
        self.calls.push(SimCall {
            method: method.to_string(),
            at_ms: now_ms,
            http_status: answer.status,
            ok: answer.ok(),
            error: if answer.ok() { None } else { answer.error() },
            params: Value::Object(params),
            warnings: warnings.iter().map(|w| w.to_string()).collect(),
            wire: None,
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
            warnings: Vec::new(),
            wire: None,
        });
        answer
    }

    fn take_fault(&mut self, method: &str) -> Option<Fault> {
        let matches = |m: &str| m == method || m == "*";
        // Every later fault of this method counts the call; the first to reach zero fires.
        let mut fired = None;
        for (i, (m, left, _)) in self.later_faults.iter_mut().enumerate() {
            if matches(m) {
                *left = left.saturating_sub(1);
                if *left == 0 && fired.is_none() {
                    fired = Some(i);
                }
            }
        }
        let later = fired.map(|i| self.later_faults.remove(i).2);
        let pos = self.faults.iter().position(|(m, _)| matches(m));
        match (pos, later) {
            (Some(pos), later) => {
                if let Some(fault) = later {
                    // Both due on this call: the queued one fires now, the later one next.
                    self.later_faults.push((method.to_string(), 1, fault));
                }
                self.faults.remove(pos).map(|(_, f)| f)
            }
            (None, later) => later,
        }
    }

    fn answer(
        &mut self,
        now_ms: i64,
        method: &str,
        token: Option<&str>,
        params: &Map<String, Value>,
    ) -> Answer {
        let fault = match &self.outage {
            Some(fault) => Some(fault.clone()),
            None => self.take_fault(method),
        };
        let lost = match fault {
            Some(Fault::LoseAnswer { status }) => Some(lost_answer(status)),
            Some(Fault::HoldAnswer { after_ms }) => Some(held_answer(after_ms)),
            Some(fault) => return fault_answer(fault),
            None => None,
        };
        let answer = self.perform(now_ms, method, token, params);
        lost.unwrap_or(answer)
    }

    fn perform(
        &mut self,
        now_ms: i64,
        method: &str,
        token: Option<&str>,
        params: &Map<String, Value>,
    ) -> Answer {
        let Some(rule) = rule_of(method) else {
            return Answer::json(200, err("unknown_method").into_body());
        };
        if let Err(retry_after_secs) = self.take_tier_slot(now_ms, rule, &Args(params)) {
            return rate_limited(retry_after_secs);
        }
        // The one method that takes the app-level token rather than the bot token.
        let result = if method == "apps.connections.open" {
            self.socket.open_url(token).map_err(err)
        } else {
            if let Err(e) = self.check_token(token) {
                return Answer::json(200, e.into_body());
            }
            if let Err(e) = required_given(rule.required, &Args(params)) {
                return Answer::json(200, e.into_body());
            }
            self.dispatch(now_ms, method, &Args(params))
        };
        let body = match result {
            Ok(mut map) => {
                let mut body = Map::new();
                body.insert("ok".into(), Value::Bool(true));
                body.append(&mut map);
                Value::Object(body)
            }
            Err(e) => e.into_body(),
        };
        Answer {
            view_json: self.answer_view.take(),
            ..Answer::json(200, body)
        }
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
            "users.lookupByEmail" => self.users_lookup_by_email(now_ms, args),
            "conversations.create" => self.conversations_create(now_ms, args),
            "conversations.invite" => self.conversations_invite(now_ms, args),
            "conversations.setTopic" => self.conversations_set_topic(now_ms, args),
            "conversations.open" => self.conversations_open(now_ms, args),
            "conversations.archive" => self.conversations_archive(args),
            "conversations.list" => self.conversations_list(now_ms, args),
            "conversations.members" => self.conversations_members(args),
            "conversations.history" => self.conversations_history(args),
            "conversations.replies" => self.conversations_replies(args),
            "conversations.info" => self.conversations_info(now_ms, args),
            "conversations.rename" => self.conversations_rename(now_ms, args),
            "chat.postMessage" => self.chat_post_message(now_ms, args),
            "chat.update" => self.chat_update(now_ms, args),
            "chat.delete" => self.chat_delete(args),
            "chat.postEphemeral" => self.chat_post_ephemeral(now_ms, args),
            "pins.add" => self.pins_add(args),
            "views.open" => self.views_open(now_ms, args),
            "views.update" => self.views_update(now_ms, args),
            "views.publish" => self.views_publish(now_ms, args),
            _ => Err(err("unknown_method")),
        }
    }

    /// Slack's rules: an exact address (case aside) of a member who is not deactivated, else
    /// `users_not_found`; bots have no address to find.
    fn users_lookup_by_email(&self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let email = args.str("email").ok_or_else(|| err("users_not_found"))?;
        let user = self
            .users
            .iter()
            .find(|u| {
                !u.deleted
                    && !u.is_bot
                    && u.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email.trim()))
            })
            .ok_or_else(|| err("users_not_found"))?;
        ok_body(json!({ "user": user_json(user, now_ms) }))
    }

    fn users_info(&self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let id = args.str("user").ok_or_else(|| err("user_not_found"))?;
        let user = self.user(&id).ok_or_else(|| err("user_not_found"))?;
        ok_body(json!({ "user": user_json(user, now_ms) }))
    }
}

/// `invalid_arguments`, `[ERROR] missing required field: <name>` for each required argument
/// not given (absent, `null` or empty), as Slack answers a call whose arguments it could not
/// read (a JSON body sent to a method that reads only form arguments, for one).
fn required_given(required: &[&str], args: &Args<'_>) -> Result<(), ApiError> {
    let missing: Vec<String> = required
        .iter()
        .filter(|name| !args.given(name))
        .map(|name| format!("[ERROR] missing required field: {name}"))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::with_messages("invalid_arguments", missing))
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

/// HTTP 429, `Retry-After`, `{"ok":false,"error":"ratelimited"}`.
fn rate_limited(retry_after_secs: u64) -> Answer {
    Answer {
        status: 429,
        retry_after: Some(retry_after_secs),
        body: AnswerBody::Json(err("ratelimited").into_body()),
        delay_ms: 0,
        view_json: None,
    }
}

/// That HTTP status with a short non-JSON body, as an upstream proxy would send.
fn lost_answer(status: u16) -> Answer {
    Answer {
        status,
        retry_after: None,
        body: AnswerBody::Text(format!("upstream error: HTTP {status}\n")),
        delay_ms: 0,
        view_json: None,
    }
}

/// An HTTP 504 with a non-JSON body, sent `after_ms` (real time) after the call came in.
fn held_answer(after_ms: u64) -> Answer {
    Answer {
        status: 504,
        retry_after: None,
        body: AnswerBody::Text("upstream request timeout\n".into()),
        delay_ms: after_ms,
        view_json: None,
    }
}

fn fault_answer(fault: Fault) -> Answer {
    match fault {
        Fault::RateLimited { retry_after_secs } => rate_limited(retry_after_secs),
        Fault::Http(status) | Fault::LoseAnswer { status } => lost_answer(status),
        Fault::Timeout { after_ms } | Fault::HoldAnswer { after_ms } => held_answer(after_ms),
        Fault::Error(code) => Answer::json(200, err(&code).into_body()),
    }
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
    if let Some(email) = &user.email {
        profile["email"] = json!(email);
    }
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
