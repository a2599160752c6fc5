//! A stateful, strict, in-process fake of the Slack Web API.
//!
//! [`Simulator`] holds the workspace state (users, channels, messages, views ...) behind a mutex and
//! answers Web API calls either in-process (see [`state`]) or over HTTP ([`Simulator::serve`]).
//! It enforces Slack's rules (tokens, channel names, membership, single-use triggers with a
//! 3-second life, Block Kit limits) and records every call for inspection.
//!
//! Slack's rules are the simulator's own, written from Slack's docs and spec, never imported
//! from Loopbot's client (its wire table, pacing, tiers or signing): [`rules`] holds each
//! method's rate tier and required arguments, [`contract`] checks every call received over
//! HTTP against Slack's OpenAPI spec (content types, argument names and types), and
//! [`signing`] signs what Slack sends. A double that shared the client's assumptions could not
//! find the client's mistakes.
//!
//! [`client`] is the other direction: Slack calling the app, written once.
//! [`client::SlackUser`] types slash commands, presses buttons, submits modals
//! ([`client::FormValues`]) and causes events, with trigger ids issued by the simulator, over a
//! [`client::Transport`]: [`client::Http`] (signed requests to the app's HTTP endpoints;
//! [`client::SlackSide`]) or [`socket_side::Socket`] (envelopes; [`socket_side::SocketSide`]).
//!
//! [`socket`] is Socket Mode, Slack's side: `apps.connections.open` and the WebSocket server
//! that delivers envelopes and checks acknowledgements.

pub mod ats;
pub mod blockkit;
pub mod client;
pub mod contract;
mod http;
pub mod render;
pub mod rules;
pub mod signing;
pub mod socket;
pub mod socket_side;
pub mod state;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::Value;

use crate::clock::SharedClock;

/// The clock the simulator shares with the app it talks to (its own crate, so that the
/// simulator never depends on the service).
pub use loopbot_clock as clock;

pub use contract::{Violation, WireCall};
pub use render::{render_blocks, render_message, render_view};
pub use state::{Answer, AnswerBody, ApiError, SimState};

pub const BOT_USER_ID: &str = "U0LOOPBOT";
pub const BOT_ID: &str = "B0LOOPBOT";
pub const TEAM_ID: &str = "T0LOOPBOT";
pub const APP_ID: &str = "A0LOOPBOT";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimUser {
    pub id: String,
    pub name: String,
    pub real_name: String,
    /// IANA zone name, e.g. "Europe/Berlin".
    pub tz: String,
    /// Seconds east of UTC.
    pub tz_offset: i32,
    pub is_bot: bool,
    pub deleted: bool,
    /// `profile.email` (with the `users:read.email` scope); what `users.lookupByEmail` finds.
    pub email: Option<String>,
}

impl SimUser {
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        real_name: impl Into<String>,
        tz: impl Into<String>,
        tz_offset: i32,
    ) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            real_name: real_name.into(),
            tz: tz.into(),
            tz_offset,
            is_bot: false,
            deleted: false,
            email: None,
        }
    }

    pub fn with_email(self, email: impl Into<String>) -> Self {
        Self {
            email: Some(email.into()),
            ..self
        }
    }
}

/// A failure injected in front of the next matching call. The faulted call changes nothing,
/// except with [`Fault::LoseAnswer`] and [`Fault::HoldAnswer`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// HTTP 429, `Retry-After: N`, body `{"ok":false,"error":"ratelimited"}`.
    RateLimited { retry_after_secs: u64 },
    /// That HTTP status with a short non-JSON body, as an upstream proxy would send.
    Http(u16),
    /// HTTP 200 `{"ok":false,"error":<code>}`.
    Error(String),
    /// Over HTTP the server waits `after_ms` (real time) before answering 504 with a non-JSON
    /// body, so a client with a shorter timeout sees a timeout. In-process: an immediate 504.
    Timeout { after_ms: u64 },
    /// The call is performed and its effects are kept (channel created, message posted …),
    /// then the answer is lost: the client gets HTTP `status` with a non-JSON body, as when a
    /// proxy or the connection fails after Slack acted. The call counts against rate tiers.
    LoseAnswer { status: u16 },
    /// The call is performed and its effects are kept, then the answer is held back `after_ms`
    /// (real time, over HTTP) and lost (HTTP 504, non-JSON): Slack acted while the client still
    /// waits, so a client that dies meanwhile (`kill -9`) never hears of it.
    HoldAnswer { after_ms: u64 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimChannel {
    pub id: String,
    pub name: String,
    pub is_private: bool,
    pub is_archived: bool,
    pub is_im: bool,
    pub members: Vec<String>,
    pub topic: String,
    pub creator: String,
    /// Unix seconds.
    pub created: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimMessage {
    pub channel: String,
    pub ts: String,
    /// The poster's user id.
    pub user: String,
    pub text: String,
    /// Array of blocks, or `Null` when the message has none.
    pub blocks: Value,
    /// Thread parent, when posted as a reply.
    pub thread_ts: Option<String>,
    /// Previous versions, oldest first.
    pub edits: Vec<SimEdit>,
    /// Message metadata (`{"event_type", "event_payload"}`), or `Null` when none.
    pub metadata: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimEdit {
    pub text: String,
    pub blocks: Value,
    pub replaced_at_ms: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimEphemeral {
    pub channel: String,
    pub user: String,
    pub text: String,
    pub blocks: Value,
    pub ts: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimView {
    pub id: String,
    /// The user the modal was opened for ("" when the trigger named no user).
    pub user: String,
    /// The latest view, as the app sent it.
    pub view: Value,
    pub hash: String,
    /// Previous versions, oldest first.
    pub history: Vec<Value>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SimCall {
    pub method: String,
    pub at_ms: i64,
    pub http_status: u16,
    pub ok: bool,
    pub error: Option<String>,
    /// Arguments as received (token removed; JSON-string arguments decoded, but a `view`
    /// kept as its JSON text: the view itself is in [`Simulator::views_of`]).
    pub params: Value,
    /// Warnings added to the answer, as Slack adds them (`missing_charset` for a JSON body
    /// sent without `charset=utf-8`).
    pub warnings: Vec<String>,
    /// How the call came over HTTP (content type, arguments and their JSON types); `None`
    /// for calls made in-process with [`Simulator::handle`].
    pub wire: Option<WireCall>,
}

/// Handle to the simulated workspace. Cheap to clone; all clones share state.
#[derive(Clone)]
pub struct Simulator {
    state: Arc<Mutex<SimState>>,
    clock: SharedClock,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator").finish_non_exhaustive()
    }
}

/// A running HTTP simulator. Shuts down when dropped, and then fails the test (panics) if a
/// call it received broke Slack's contract ([`Simulator::contract_violations`]), the way
/// mock servers verify their expectations on drop: no test can pass having sent Slack what
/// Slack would not read. A test that breaks the contract on purpose takes the violations
/// ([`Simulator::take_contract_violations`]) and checks them itself.
pub struct SimServer {
    /// e.g. "http://127.0.0.1:PORT/api"
    pub base_url: String,
    pub addr: SocketAddr,
    /// Where the Socket Mode WebSocket server listens (`ws://` URLs come from
    /// `apps.connections.open`).
    pub socket_addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    socket_task: tokio::task::JoinHandle<()>,
    sim: Simulator,
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.abort();
        self.socket_task.abort();
        let violations = self.sim.contract_violations();
        if !violations.is_empty() && !std::thread::panicking() {
            let list: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
            panic!(
                "the simulator received calls that break Slack's contract:\n{}",
                list.join("\n")
            );
        }
    }
}

impl Simulator {
    pub fn new(clock: SharedClock, bot_token: impl Into<String>) -> Self {
        Self {
            state: Arc::new(Mutex::new(SimState::new(bot_token.into()))),
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic while holding the lock must not take the whole simulator down.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Answers one Web API call. `token` is the bearer or `token` argument, if any.
    pub fn handle(&self, method: &str, token: Option<&str>, params: Value) -> Answer {
        self.handle_warning(method, token, params, &[])
    }

    /// [`Simulator::handle`], with warnings about the request added to the answer.
    pub fn handle_warning(
        &self,
        method: &str,
        token: Option<&str>,
        params: Value,
        warnings: &[&str],
    ) -> Answer {
        let now = self.now_ms();
        self.lock().handle(now, method, token, params, warnings)
    }

    /// [`Simulator::handle_warning`] for a call that came over HTTP: records how it came
    /// (`wire`) and how it broke Slack's contract, if it did (`violations`). `view_text` is
    /// the text of a `view` object in `params` as it came, for a `views.*` method to keep and
    /// answer with.
    #[allow(clippy::too_many_arguments)]
    pub fn handle_wire(
        &self,
        method: &str,
        token: Option<&str>,
        params: Value,
        view_text: Option<String>,
        warnings: &[&str],
        wire: WireCall,
        violations: Vec<Violation>,
    ) -> Answer {
        let now = self.now_ms();
        let mut state = self.lock();
        state.sent_view_text = view_text;
        let answer = state.handle(now, method, token, params, warnings);
        if let Some(call) = state.calls.last_mut() {
            call.wire = Some(wire);
        }
        state.violations.extend(violations);
        answer
    }

    /// Keeps contract violations found outside [`Simulator::handle_wire`].
    pub fn note_violations(&self, violations: Vec<Violation>) {
        self.lock().violations.extend(violations);
    }

    /// Every way a call received over HTTP broke Slack's contract (see [`contract`]), oldest
    /// first.
    pub fn contract_violations(&self) -> Vec<Violation> {
        self.lock().violations.clone()
    }

    /// [`Simulator::contract_violations`], forgetting them: for tests that break the contract
    /// on purpose (a [`SimServer`] fails its test when dropped with violations kept).
    pub fn take_contract_violations(&self) -> Vec<Violation> {
        std::mem::take(&mut self.lock().violations)
    }

    /// Records a call whose request could not be parsed and answers `{"ok":false,"error":code}`.
    pub fn reject(&self, method: &str, code: &str) -> Answer {
        let now = self.now_ms();
        self.lock().reject(now, method, code)
    }

    /// Axum router serving `POST` and `GET /api/{method}`.
    pub fn router(&self) -> axum::Router {
        http::router(self.clone())
    }

    /// Binds 127.0.0.1:0 and serves the router on a spawned task.
    pub async fn serve(&self) -> std::io::Result<SimServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = self.router();
        let task = tokio::spawn(async move {
            let shutdown = async move {
                let _ = rx.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::warn!(error = %e, "simulator server stopped");
            }
        });
        let socket_listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let socket_addr = socket_listener.local_addr()?;
        let socket_task = tokio::spawn(socket::serve(socket_listener, self.clone()));
        {
            let mut state = self.lock();
            state.response_base = Some(format!("http://{addr}/respond"));
            state.socket.base = Some(format!("ws://{socket_addr}"));
        }
        Ok(SimServer {
            base_url: format!("http://{addr}/api"),
            addr,
            socket_addr,
            shutdown: Some(tx),
            task,
            socket_task,
            sim: self.clone(),
        })
    }

    pub fn add_user(&self, user: SimUser) {
        self.lock().add_user(user);
    }

    pub fn bot_user_id(&self) -> String {
        BOT_USER_ID.to_string()
    }

    /// A trigger for no particular user; valid 3 s by the clock, single use.
    pub fn issue_trigger_id(&self) -> String {
        let now = self.now_ms();
        self.lock().issue_trigger(now, None)
    }

    /// A trigger belonging to `user` (as if that user clicked something).
    pub fn issue_trigger_id_for(&self, user: &str) -> String {
        let now = self.now_ms();
        self.lock().issue_trigger(now, Some(user.to_string()))
    }

    /// Queues a fault for the next call of `method` ("*" = any method). FIFO.
    pub fn inject_fault(&self, method: &str, fault: Fault) {
        self.lock().faults.push_back((method.to_string(), fault));
    }

    /// Queues a fault for the `nth` next call of `method` (1 = the next one, as
    /// [`Simulator::inject_fault`]); the calls before it are answered normally. Lets a test
    /// fail a job part of the way through.
    pub fn inject_fault_on_call(&self, method: &str, nth: usize, fault: Fault) {
        self.lock()
            .later_faults
            .push((method.to_string(), nth.max(1), fault));
    }

    /// Starts an outage: from now on every call, of any method, gets `fault` (an HTTP 5xx, a
    /// lost or held answer …) until [`Simulator::end_outage`]. Queued faults wait for its end.
    pub fn start_outage(&self, fault: Fault) {
        self.lock().outage = Some(fault);
    }

    /// Slack is back: calls are answered normally again.
    pub fn end_outage(&self) {
        self.lock().outage = None;
    }

    /// Enforces Slack's rate tiers from now on, from the simulator's own table ([`rules`]):
    /// per method per workspace, a sliding window of the tier's published per-minute floor,
    /// and for `chat.postMessage` also per channel, a short burst refilled at one a second.
    /// A call over a limit gets HTTP 429 with `Retry-After` and changes nothing.
    /// Off by default; switching it (on or off) forgets the calls counted so far.
    pub fn enforce_tiers(&self, on: bool) {
        self.lock().set_enforce_tiers(on);
    }

    /// Number of HTTP 429 answers sent (by the rate tiers or by injected faults).
    pub fn rate_limited_count(&self) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.http_status == 429)
            .count()
    }

    /// Over HTTP, the server waits this long (real time) before answering each Web API call
    /// (after performing it). In-process calls are not delayed. Zero by default.
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.lock().latency = latency;
    }

    pub fn latency(&self) -> std::time::Duration {
        self.lock().latency
    }

    /// Later calls with the bot token fail with `token_revoked`.
    pub fn revoke_token(&self) {
        self.lock().token_revoked = true;
    }

    /// The app was reinstalled: the token works again.
    pub fn restore_token(&self) {
        self.lock().token_revoked = false;
    }

    pub fn archive_channel_by_user(&self, channel: &str) {
        if let Some(c) = self.lock().channel_mut(channel) {
            c.is_archived = true;
        }
    }

    /// A person creates a channel; the bot is in it only if `members` lists it. Returns the id.
    /// Handy for `not_in_channel` cases.
    pub fn create_channel_by_user(
        &self,
        name: &str,
        creator: &str,
        members: &[&str],
        is_private: bool,
    ) -> String {
        let now = self.now_ms();
        self.lock()
            .create_channel_by_user(now, name, creator, members, is_private)
    }

    /// A person posts a message (no membership checks). Returns its ts.
    pub fn post_message_by_user(&self, channel: &str, user: &str, text: &str) -> String {
        let now = self.now_ms();
        self.lock().post_message_by_user(now, channel, user, text)
    }

    /// A person replies in the thread of `parent` (no membership checks). Returns its ts.
    pub fn reply_by_user(&self, channel: &str, parent: &str, user: &str, text: &str) -> String {
        let now = self.now_ms();
        let mut state = self.lock();
        let ts = state.post_message_by_user(now, channel, user, text);
        if let Some(m) = state
            .messages
            .get_mut(channel)
            .and_then(|m| m.iter_mut().find(|m| m.ts == ts))
        {
            m.thread_ts = Some(parent.to_string());
        }
        ts
    }

    /// A person adds someone to a channel (e.g. the bot to a channel it was not in).
    pub fn add_member_by_user(&self, channel: &str, user: &str) {
        if let Some(c) = self.lock().channel_mut(channel)
            && !c.members.iter().any(|m| m == user)
        {
            c.members.push(user.to_string());
        }
    }

    pub fn rename_channel_by_user(&self, channel: &str, new_name: &str) {
        self.lock().rename_channel(channel, new_name);
    }

    pub fn users(&self) -> Vec<SimUser> {
        self.lock().users.clone()
    }

    pub fn user(&self, id: &str) -> Option<SimUser> {
        self.lock().user(id).cloned()
    }

    pub fn channels(&self) -> Vec<SimChannel> {
        self.lock().channels.clone()
    }

    pub fn channel(&self, id: &str) -> Option<SimChannel> {
        self.lock().channel(id).cloned()
    }

    pub fn channel_named(&self, name: &str) -> Option<SimChannel> {
        self.lock()
            .channels
            .iter()
            .find(|c| c.name == name && !c.is_im)
            .cloned()
    }

    /// The channel as people see it: its top-level messages in post order (thread replies
    /// are under their parents: [`Simulator::replies`]).
    pub fn messages(&self, channel: &str) -> Vec<SimMessage> {
        self.all_messages(channel)
            .into_iter()
            .filter(|m| m.thread_ts.as_ref().is_none_or(|t| *t == m.ts))
            .collect()
    }

    /// Every message of a channel, thread replies included, in post order.
    pub fn all_messages(&self, channel: &str) -> Vec<SimMessage> {
        self.lock()
            .messages
            .get(channel)
            .cloned()
            .unwrap_or_default()
    }

    /// The replies in the thread of `parent`, in post order.
    pub fn replies(&self, channel: &str, parent: &str) -> Vec<SimMessage> {
        self.all_messages(channel)
            .into_iter()
            .filter(|m| m.ts != parent && m.thread_ts.as_deref() == Some(parent))
            .collect()
    }

    pub fn message(&self, channel: &str, ts: &str) -> Option<SimMessage> {
        self.lock().message(channel, ts).cloned()
    }

    /// Timestamps of pinned messages, in pin order.
    pub fn pins(&self, channel: &str) -> Vec<String> {
        self.lock().pins.get(channel).cloned().unwrap_or_default()
    }

    pub fn ephemerals_for(&self, user: &str) -> Vec<SimEphemeral> {
        self.lock()
            .ephemerals
            .iter()
            .filter(|e| e.user == user)
            .cloned()
            .collect()
    }

    pub fn dm_channel_of(&self, user: &str) -> Option<String> {
        self.lock().dms.get(user).cloned()
    }

    /// Bot messages in the user's DM, in post order.
    pub fn dms_to(&self, user: &str) -> Vec<SimMessage> {
        let state = self.lock();
        let Some(dm) = state.dms.get(user) else {
            return Vec::new();
        };
        state
            .messages
            .get(dm)
            .map(|m| {
                m.iter()
                    .filter(|m| m.user == BOT_USER_ID)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Modals opened for the user (latest state of each), in open order.
    pub fn views_of(&self, user: &str) -> Vec<SimView> {
        self.lock()
            .views
            .iter()
            .filter(|v| v.user == user)
            .map(|v| v.to_sim_view())
            .collect()
    }

    /// The App Home view last published for the user.
    pub fn home_of(&self, user: &str) -> Option<Value> {
        self.lock().homes.get(user).map(|(view, _)| view.clone())
    }

    /// A `response_url` for a command or a button: served by this simulator once it serves
    /// HTTP (what is posted there is kept, see [`Simulator::responses`]), else Slack's form.
    pub fn response_url(&self, id: &str) -> String {
        match &self.lock().response_base {
            Some(base) => format!("{base}/{id}"),
            None => format!("https://hooks.slack.com/commands/{TEAM_ID}/{id}"),
        }
    }

    /// What the app posted to `response_url`s: (the URL's id, the JSON body), oldest first.
    pub fn responses(&self) -> Vec<(String, Value)> {
        self.lock().responses.clone()
    }

    /// Whether the app has called `views.open` with `trigger_id` (successfully or not).
    pub fn trigger_tried(&self, trigger_id: &str) -> bool {
        self.lock()
            .calls
            .iter()
            .any(|c| c.method == "views.open" && c.params["trigger_id"] == trigger_id)
    }

    pub fn calls(&self) -> Vec<SimCall> {
        self.lock().calls.clone()
    }

    /// Number of successful (ok:true) calls of `method`.
    pub fn call_count(&self, method: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|c| c.ok && c.method == method)
            .count()
    }
}

/// rustls needs one process-wide crypto provider; reqwest is built without one. Safe to call
/// more than once.
pub(crate) fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[cfg(test)]
mod http_tests;

/// A simulator for the module's own tests: a manual clock and two people, Ada (Berlin) and
/// Bob (New York).
#[cfg(test)]
pub(crate) fn test_sim(token: &str) -> (Simulator, std::sync::Arc<crate::clock::ManualClock>) {
    let clock = crate::clock::ManualClock::starting_at(1_795_000_000_000);
    let sim = Simulator::new(clock.clone(), token);
    sim.add_user(SimUser::new(
        "U1",
        "ada",
        "Ada Lovelace",
        "Europe/Berlin",
        3600,
    ));
    sim.add_user(SimUser::new(
        "U2",
        "bob",
        "Bob Builder",
        "America/New_York",
        -18000,
    ));
    (sim, clock)
}
