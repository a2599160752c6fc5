//! The Slack Web API, as the rest of the app sees it: one typed call per method Loopbot uses,
//! each sent as its method's table says (`wire.rs`), paced (`pacer.rs`), timed and counted.
//! How a call fails is `error.rs`; what the answers say is `answers.rs`.

use std::time::Duration;

use serde_json::{Value, json};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::clock::{SharedClock, UnixMillis};
use crate::metrics::{Metrics, label};
use crate::secret::Secret;
use crate::slack::messages::Message;
use crate::slack::pacer::Pacer;
use crate::slack::wire::{self, Method};

pub use crate::slack::answers::{
    BotIdentity, ChannelInfo, InviteOutcome, ListedMessage, OpenedView, UserInfo,
};
pub use crate::slack::error::SlackError;
use crate::slack::error::{describe_transport_error, error_label};

/// A slot of a Slack budget that the job claim reserved for a job's first call of `method`:
/// the call waits for `slot` and spends no other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    pub method: String,
    pub slot: UnixMillis,
}

pub use crate::slack::wire::JSON_CONTENT_TYPE;

/// The `event_type` of the metadata Loopbot tags its own posts with.
pub const POST_EVENT_TYPE: &str = "loopbot_post";

#[derive(Clone)]
pub struct SlackApi {
    http: reqwest::Client,
    base_url: String,
    token: Secret,
    clock: SharedClock,
    /// Paces calls by Slack's tiers; `None` sends at once (the request path's views.open).
    pacer: Option<Arc<Pacer>>,
    /// Successful calls that changed something, made through this handle (one per job run;
    /// see [`SlackApi::for_job`]).
    succeeded: Arc<AtomicU64>,
    /// This job run may repeat an earlier one that Slack acted on: look before posting.
    retrying: bool,
    /// The slot the claim reserved for this job run's first call of its budget's method.
    reserved: Arc<std::sync::Mutex<Option<Reservation>>>,
    /// Where each call's duration and each failure by method and error are counted.
    metrics: Option<Arc<Metrics>>,
    /// The bot's identity, once `auth.test` has answered (shared by every handle).
    identity: Arc<OnceLock<BotIdentity>>,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl SlackApi {
    pub fn new(
        base_url: &str,
        token: Secret,
        timeout: Duration,
        clock: SharedClock,
        pacer: Option<Arc<Pacer>>,
    ) -> anyhow::Result<Self> {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(32)
            .user_agent(concat!("loopbot/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            token,
            clock,
            pacer,
            succeeded: Arc::new(AtomicU64::new(0)),
            retrying: false,
            reserved: Arc::new(std::sync::Mutex::new(None)),
            metrics: None,
            identity: Arc::new(OnceLock::new()),
        })
    }

    /// Counts every call's duration (`loopbot_slack_call_duration_seconds`) and failure
    /// (`loopbot_slack_errors_total`) in `metrics`.
    pub fn with_metrics(self, metrics: Arc<Metrics>) -> SlackApi {
        SlackApi {
            metrics: Some(metrics),
            ..self
        }
    }

    /// A handle for one job run: it counts its own successful calls, when the run may repeat
    /// an earlier one (`retrying`) posts look for the earlier message first, and the first
    /// call of the `reserved` method uses the slot the claim reserved.
    pub fn for_job(&self, retrying: bool, reserved: Option<Reservation>) -> SlackApi {
        SlackApi {
            succeeded: Arc::new(AtomicU64::new(0)),
            retrying,
            reserved: Arc::new(std::sync::Mutex::new(reserved)),
            ..self.clone()
        }
    }

    /// Whether a call through this handle has succeeded (the run made progress).
    pub fn made_progress(&self) -> bool {
        self.succeeded.load(Ordering::Relaxed) > 0
    }

    pub fn pacer(&self) -> Option<&Arc<Pacer>> {
        self.pacer.as_ref()
    }

    /// Calls `method` with `args` (a JSON object), encoded as the method's row of
    /// [`wire`] says; returns the whole `ok:true` answer.
    pub async fn call(&self, method: Method, args: &Value) -> Result<Value, SlackError> {
        api_result(self.call_raw(method, args).await?)
    }

    /// Calls `method`; returns Slack's answer whether `ok` is true or false.
    async fn call_raw(&self, method: Method, args: &Value) -> Result<Value, SlackError> {
        let name = method.name();
        let channel = args.get("channel").and_then(Value::as_str);
        self.pace(name, channel).await?;
        let (content_type, body) = wire::encode(method, args);
        let request = self
            .http
            .post(format!("{}/{name}", self.base_url))
            .bearer_auth(self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body);
        self.send(method, channel, request).await
    }

    /// Waits for this call's slot: the one the claim reserved for it, or one reserved now if
    /// it comes within a couple of seconds; otherwise the job goes back to the queue
    /// ([`SlackError::Paced`]) until the budget has room.
    async fn pace(&self, method: &str, channel: Option<&str>) -> Result<(), SlackError> {
        let Some(pacer) = &self.pacer else {
            return Ok(());
        };
        let reserved = {
            let mut held = self.reserved.lock().unwrap_or_else(|e| e.into_inner());
            match held.as_ref() {
                Some(r) if r.method == method => held.take().map(|r| r.slot),
                _ => None,
            }
        };
        let slot = match reserved {
            Some(slot) => slot,
            None => pacer
                .reserve(method, channel)
                .await
                .map_err(|until| SlackError::Paced { until })?,
        };
        if slot > self.clock.now_ms() {
            self.clock.sleep_until(slot).await;
        }
        Ok(())
    }

    /// Sends a request; returns Slack's JSON answer whether `ok` is true or false. A 429
    /// closes the method's (or channel's) budget for everyone until `Retry-After`.
    async fn send(
        &self,
        method: Method,
        channel: Option<&str>,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, SlackError> {
        let started = std::time::Instant::now();
        let result = self.send_timed(method, channel, request).await;
        if let Some(metrics) = &self.metrics {
            metrics.observe(
                "loopbot_slack_call_duration_seconds",
                label("method", method.name()),
                started.elapsed().as_secs_f64(),
            );
            let error = match &result {
                Ok(answer) if answer.get("ok").and_then(Value::as_bool) == Some(true) => None,
                Ok(answer) => Some(
                    answer
                        .get("error")
                        .and_then(Value::as_str)
                        .unwrap_or("unknown_error")
                        .to_string(),
                ),
                Err(e) => Some(error_label(e)),
            };
            if let Some(error) = error {
                metrics.inc(
                    "loopbot_slack_errors_total",
                    label("method", method.name()).and("error", &error),
                );
            }
        }
        if let Ok(answer) = &result
            && let Some(warnings) = answer.pointer("/response_metadata/warnings")
        {
            tracing::warn!(method = method.name(), %warnings, "Slack answered with warnings");
        }
        result
    }

    async fn send_timed(
        &self,
        method: Method,
        channel: Option<&str>,
        request: reqwest::RequestBuilder,
    ) -> Result<Value, SlackError> {
        let response = request
            .send()
            .await
            .map_err(|e| SlackError::Unavailable(describe_transport_error(&e)))?;
        let status = response.status();
        if status.as_u16() == 429 {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .unwrap_or(30);
            let retry_after = Duration::from_secs(retry_after);
            if let Some(pacer) = &self.pacer {
                let until = self.clock.now_ms()
                    + i64::try_from(retry_after.as_millis()).unwrap_or(i64::MAX / 4);
                pacer.close_until(method.name(), channel, until).await;
            }
            return Err(SlackError::RateLimited { retry_after });
        }
        if !status.is_success() {
            return Err(SlackError::Unavailable(format!("HTTP {status}")));
        }
        let answer: Value = response
            .json()
            .await
            .map_err(|_| SlackError::Unavailable("the answer was not JSON".into()))?;
        if answer.get("ok").and_then(Value::as_bool) == Some(true) && !is_lookup(method) {
            self.succeeded.fetch_add(1, Ordering::Relaxed);
        }
        Ok(answer)
    }

    /// `auth.test`; a successful answer also keeps the bot's identity ([`Self::bot_identity`]).
    pub async fn auth_test(&self) -> Result<Value, SlackError> {
        let answer = self.call(Method::AuthTest, &json!({})).await?;
        if let (Ok(user_id), Ok(bot_id)) = (
            string_at(&answer, "/user_id"),
            string_at(&answer, "/bot_id"),
        ) {
            let _ = self.identity.set(BotIdentity { user_id, bot_id });
        }
        Ok(answer)
    }

    /// Who the bot is: kept from the `auth.test` made at start-up, else asked now.
    pub async fn bot_identity(&self) -> Result<BotIdentity, SlackError> {
        if let Some(known) = self.identity.get() {
            return Ok(known.clone());
        }
        let answer = self.auth_test().await?;
        self.identity.get().cloned().ok_or_else(|| {
            SlackError::Unavailable(format!(
                "auth.test named no user_id and bot_id: {}",
                answer.get("error").unwrap_or(&Value::Null)
            ))
        })
    }

    /// The channel's name and whether it is archived. Needs `groups:read` for private channels.
    pub async fn channel_info(&self, channel: &str) -> Result<ChannelInfo, SlackError> {
        let answer = self
            .call(Method::ConversationsInfo, &json!({ "channel": channel }))
            .await?;
        Ok(ChannelInfo {
            name: string_at(&answer, "/channel/name")?,
            is_archived: answer
                .pointer("/channel/is_archived")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// Renames a channel (only its creator, here the bot, may); returns the name Slack gave it.
    /// Needs `groups:write` for private channels.
    pub async fn rename_channel(&self, channel: &str, name: &str) -> Result<String, SlackError> {
        let answer = self
            .call(
                Method::ConversationsRename,
                &json!({ "channel": channel, "name": name }),
            )
            .await?;
        Ok(string_at(&answer, "/channel/name").unwrap_or_else(|_| name.to_string()))
    }

    /// Every top-level message of a conversation since `oldest` (a `ts`; `None`: all), newest
    /// first, page by page. Needs `groups:history` (private channels) or `im:history` (DMs).
    pub async fn history(
        &self,
        channel: &str,
        oldest: Option<&str>,
    ) -> Result<Vec<ListedMessage>, SlackError> {
        let mut messages = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut body = json!({ "channel": channel, "limit": 200,
                                   "include_all_metadata": true });
            if let Some(oldest) = oldest {
                body["oldest"] = json!(oldest);
            }
            if !cursor.is_empty() {
                body["cursor"] = json!(cursor);
            }
            let answer = self.call(Method::ConversationsHistory, &body).await?;
            messages.extend(listed(&answer));
            cursor = next_cursor(&answer);
            let more = answer.get("has_more").and_then(Value::as_bool) == Some(true);
            if cursor.is_empty() || !more {
                return Ok(messages);
            }
        }
    }

    /// The replies in the thread of `parent` (the parent itself left out), oldest first, page
    /// by page.
    pub async fn thread_replies(
        &self,
        channel: &str,
        parent: &str,
    ) -> Result<Vec<ListedMessage>, SlackError> {
        let mut messages = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut body = json!({ "channel": channel, "ts": parent, "limit": 200,
                                   "include_all_metadata": true });
            if !cursor.is_empty() {
                body["cursor"] = json!(cursor);
            }
            let answer = self.call(Method::ConversationsReplies, &body).await?;
            messages.extend(listed(&answer).filter(|m| m.ts != parent));
            cursor = next_cursor(&answer);
            let more = answer.get("has_more").and_then(Value::as_bool) == Some(true);
            if cursor.is_empty() || !more {
                return Ok(messages);
            }
        }
    }

    /// Deletes one of the bot's own messages. `Ok(false)` when Slack no longer has it
    /// (`message_not_found`: deleted already, by an earlier run or by a person), which is as
    /// good as done.
    pub async fn delete_message(&self, channel: &str, ts: &str) -> Result<bool, SlackError> {
        match self
            .call(Method::ChatDelete, &json!({ "channel": channel, "ts": ts }))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("message_not_found") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Creates a private channel; `Err(Api { code: "name_taken" })` when the name is used.
    pub async fn create_private_channel(&self, name: &str) -> Result<String, SlackError> {
        let answer = self
            .call(
                Method::ConversationsCreate,
                &json!({ "name": name, "is_private": true }),
            )
            .await?;
        string_at(&answer, "/channel/id")
    }

    /// The id of the bot's own private channel named `name`, if it has one (a channel it
    /// created but whose id was lost with Slack's answer or a crash). Needs `groups:read`.
    pub async fn find_own_private_channel(&self, name: &str) -> Result<Option<String>, SlackError> {
        let mut cursor = String::new();
        loop {
            let answer = self
                .call(
                    Method::ConversationsList,
                    &json!({ "types": "private_channel", "exclude_archived": true,
                             "limit": 200, "cursor": cursor }),
                )
                .await?;
            let found = answer
                .get("channels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
                .and_then(|c| c.get("id").and_then(Value::as_str).map(str::to_string));
            if found.is_some() {
                return Ok(found);
            }
            cursor = next_cursor(&answer);
            if cursor.is_empty() {
                return Ok(None);
            }
        }
    }

    /// Everyone in a channel. Needs `groups:read` for private channels.
    pub async fn members(&self, channel: &str) -> Result<Vec<String>, SlackError> {
        let mut members = Vec::new();
        let mut cursor = String::new();
        loop {
            let answer = self
                .call(
                    Method::ConversationsMembers,
                    &json!({ "channel": channel, "limit": 200, "cursor": cursor }),
                )
                .await?;
            members.extend(
                answer
                    .get("members")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string),
            );
            cursor = next_cursor(&answer);
            if cursor.is_empty() {
                return Ok(members);
            }
        }
    }

    /// Invites the people of `users` who are not in the channel yet. Slack fails the whole
    /// call when any listed person cannot be invited, unless `force` is set; with it, the
    /// others are invited and the refused ones are reported (a deactivated account, the bot
    /// itself), never fatal.
    pub async fn invite(
        &self,
        channel: &str,
        users: &[String],
    ) -> Result<InviteOutcome, SlackError> {
        if users.is_empty() {
            return Ok(InviteOutcome::default());
        }
        let present = self.members(channel).await?;
        let missing: Vec<&str> = users
            .iter()
            .map(String::as_str)
            .filter(|u| !present.iter().any(|p| p == u))
            .collect();
        if missing.is_empty() {
            return Ok(InviteOutcome::default());
        }
        let body = json!({ "channel": channel, "users": missing.join(","), "force": true });
        let answer = self.call_raw(Method::ConversationsInvite, &body).await?;
        if answer.get("ok").and_then(Value::as_bool) == Some(true) && answer.get("errors").is_none()
        {
            return Ok(InviteOutcome::default());
        }
        let per_user: Vec<(String, String)> = answer
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| {
                        Some((
                            e.get("user")?.as_str()?.to_string(),
                            e.get("error")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if per_user.is_empty() {
            return api_result(answer).map(|_| InviteOutcome::default());
        }
        Ok(InviteOutcome {
            refused: per_user
                .into_iter()
                .filter(|(_, e)| e != "already_in_channel")
                .collect(),
        })
    }

    pub async fn set_topic(&self, channel: &str, topic: &str) -> Result<(), SlackError> {
        self.call(
            Method::ConversationsSetTopic,
            &json!({ "channel": channel, "topic": topic }),
        )
        .await
        .map(drop)
    }

    /// Archiving an archived channel is not an error.
    pub async fn archive(&self, channel: &str) -> Result<(), SlackError> {
        match self
            .call(Method::ConversationsArchive, &json!({ "channel": channel }))
            .await
        {
            Err(e) if e.code() == Some("already_archived") => Ok(()),
            other => other.map(drop),
        }
    }

    /// The DM channel with a user (the same one every time).
    pub async fn open_dm(&self, user: &str) -> Result<String, SlackError> {
        let answer = self
            .call(Method::ConversationsOpen, &json!({ "users": user }))
            .await?;
        string_at(&answer, "/channel/id")
    }

    /// Posts a message tagged with `key` (message metadata), exactly once: when this run may
    /// repeat one that Slack acted on (a crash before the answer was stored, or an answer
    /// lost in a timeout or a 5xx), the channel's recent history is searched for a message
    /// with the same key first, and its `ts` is returned instead of posting again. Reading
    /// the history needs `groups:history` (loop channels) and `im:history` (direct messages).
    pub async fn post_message(
        &self,
        channel: &str,
        message: &Message,
        key: &str,
    ) -> Result<String, SlackError> {
        self.post(channel, None, message, key).await
    }

    /// Posts a reply in the thread of `parent`, exactly once (a retry looks in the thread's
    /// replies, which `conversations.history` does not list).
    pub async fn post_reply(
        &self,
        channel: &str,
        parent: &str,
        message: &Message,
        key: &str,
    ) -> Result<String, SlackError> {
        self.post(channel, Some(parent), message, key).await
    }

    async fn post(
        &self,
        channel: &str,
        thread: Option<&str>,
        message: &Message,
        key: &str,
    ) -> Result<String, SlackError> {
        if self.retrying
            && let Some(ts) = self
                .find_posted(channel, thread, key)
                .await
                .map_err(undecided)?
        {
            tracing::info!(channel, key, "found the message an earlier run posted");
            return Ok(ts);
        }
        let metadata = json!({ "event_type": POST_EVENT_TYPE, "event_payload": { "key": key } });
        let mut body = json!({ "channel": channel, "text": message.text, "blocks": message.blocks,
                               "metadata": metadata });
        if let Some(parent) = thread {
            body["thread_ts"] = json!(parent);
        }
        let answer = self.call(Method::ChatPostMessage, &body).await?;
        string_at(&answer, "/ts")
    }

    /// Posts a direct message to `user`, exactly once (see [`SlackApi::post_message`]).
    pub async fn send_dm(
        &self,
        user: &str,
        message: &Message,
        key: &str,
    ) -> Result<String, SlackError> {
        let dm = self.open_dm(user).await?;
        self.post_message(&dm, message, key).await
    }

    /// The `ts` of the bot's recent message in `channel` tagged with `key`, if any.
    async fn find_posted(
        &self,
        channel: &str,
        thread: Option<&str>,
        key: &str,
    ) -> Result<Option<String>, SlackError> {
        let answer = match thread {
            None => {
                self.call(
                    Method::ConversationsHistory,
                    &json!({ "channel": channel, "limit": 100, "include_all_metadata": true }),
                )
                .await?
            }
            Some(parent) => {
                self.call(
                    Method::ConversationsReplies,
                    &json!({ "channel": channel, "ts": parent, "limit": 200,
                             "include_all_metadata": true }),
                )
                .await?
            }
        };
        Ok(answer
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|m| {
                m.pointer("/metadata/event_type").and_then(Value::as_str) == Some(POST_EVENT_TYPE)
                    && m.pointer("/metadata/event_payload/key")
                        .and_then(Value::as_str)
                        == Some(key)
            })
            .and_then(|m| m.get("ts").and_then(Value::as_str).map(str::to_string)))
    }

    pub async fn update_message(
        &self,
        channel: &str,
        ts: &str,
        message: &Message,
    ) -> Result<(), SlackError> {
        self.call(
            Method::ChatUpdate,
            &json!({ "channel": channel, "ts": ts, "text": message.text, "blocks": message.blocks }),
        )
        .await
        .map(drop)
    }

    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        message: &Message,
    ) -> Result<(), SlackError> {
        self.call(
            Method::ChatPostEphemeral,
            &json!({ "channel": channel, "user": user, "text": message.text, "blocks": message.blocks }),
        )
        .await
        .map(drop)
    }

    /// Pinning a pinned message is not an error.
    pub async fn pin(&self, channel: &str, ts: &str) -> Result<(), SlackError> {
        match self
            .call(
                Method::PinsAdd,
                &json!({ "channel": channel, "timestamp": ts }),
            )
            .await
        {
            Err(e) if e.code() == Some("already_pinned") => Ok(()),
            other => other.map(drop),
        }
    }

    pub async fn open_view(
        &self,
        trigger_id: &str,
        view: &Value,
    ) -> Result<OpenedView, SlackError> {
        let answer = self
            .call(
                Method::ViewsOpen,
                &json!({ "trigger_id": trigger_id, "view": view }),
            )
            .await?;
        opened_view(&answer)
    }

    /// `apps.connections.open` (with an app-level token): a fresh Socket Mode WebSocket URL.
    pub async fn open_socket_url(&self) -> Result<String, SlackError> {
        let answer = self.call(Method::AppsConnectionsOpen, &json!({})).await?;
        answer
            .get("url")
            .and_then(Value::as_str)
            .filter(|url| !url.is_empty())
            .map(str::to_string)
            .ok_or_else(|| SlackError::Unavailable("apps.connections.open gave no url".into()))
    }

    /// Answers through a `response_url` (a command's or a message button's): an ephemeral
    /// message only the person sees. It needs no token; the URL itself is the credential.
    pub async fn respond(&self, response_url: &str, text: &str) -> Result<(), SlackError> {
        let body = json!({ "response_type": "ephemeral", "replace_original": false, "text": text });
        let response = self
            .http
            .post(response_url)
            .header(reqwest::header::CONTENT_TYPE, JSON_CONTENT_TYPE)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| SlackError::Unavailable(describe_transport_error(&e)))?;
        if !response.status().is_success() {
            return Err(SlackError::Unavailable(format!(
                "HTTP {}",
                response.status()
            )));
        }
        Ok(())
    }

    pub async fn update_view(
        &self,
        view_id: &str,
        hash: Option<&str>,
        view: &Value,
    ) -> Result<OpenedView, SlackError> {
        let mut body = json!({ "view_id": view_id, "view": view });
        if let Some(hash) = hash {
            body["hash"] = json!(hash);
        }
        let answer = self.call(Method::ViewsUpdate, &body).await?;
        opened_view(&answer)
    }

    pub async fn publish_home(&self, user: &str, view: &Value) -> Result<(), SlackError> {
        self.call(
            Method::ViewsPublish,
            &json!({ "user_id": user, "view": view }),
        )
        .await
        .map(drop)
    }

    /// The Slack user with this email address (`users.lookupByEmail`), or `None` when Slack
    /// has nobody active with it (`users_not_found`).
    pub async fn lookup_by_email(&self, email: &str) -> Result<Option<String>, SlackError> {
        match self
            .call(Method::UsersLookupByEmail, &json!({ "email": email }))
            .await
        {
            Ok(answer) => Ok(answer["user"]["id"].as_str().map(str::to_string)),
            Err(SlackError::Api { code, .. }) if code == "users_not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn user_info(&self, user: &str) -> Result<UserInfo, SlackError> {
        let answer = self
            .call(Method::UsersInfo, &json!({ "user": user }))
            .await?;
        let u = answer.get("user").cloned().unwrap_or(Value::Null);
        let text = |key: &str| {
            u.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(UserInfo {
            id: text("id"),
            real_name: text("real_name"),
            tz: text("tz"),
            tz_offset_secs: u.get("tz_offset").and_then(Value::as_i64).unwrap_or(0) as i32,
            is_bot: u.get("is_bot").and_then(Value::as_bool).unwrap_or(false),
        })
    }
}

/// What a failed look for an earlier copy means for the post it guards. Where Slack says the
/// conversation is out of reach, the post would be refused the same way: that answer stands
/// (permanent, or a refused token). Any other refusal (a malformed or unreadable request, a
/// missing `*:history` scope, a code we do not know) says nothing about the post: posting could
/// make a second copy and giving up could lose the only one, so the post waits and is tried
/// again, like an outage, with the refusal in its error for the operator.
fn undecided(e: SlackError) -> SlackError {
    match &e {
        SlackError::Api { code, .. }
            if !e.is_transient() && !e.is_auth_failure() && !conversation_out_of_reach(code) =>
        {
            SlackError::Unavailable(format!(
                "could not look for an earlier copy of the post: Slack answered `{code}`"
            ))
        }
        _ => e,
    }
}

/// Codes by which a history or replies lookup says the conversation or thread cannot be
/// posted to either.
fn conversation_out_of_reach(code: &str) -> bool {
    matches!(
        code,
        "channel_not_found" | "not_in_channel" | "is_archived" | "thread_not_found"
    )
}

/// An `ok:true` answer, or its error code (with Slack's detail messages, if any).
fn api_result(body: Value) -> Result<Value, SlackError> {
    if body.get("ok").and_then(Value::as_bool) == Some(true) {
        return Ok(body);
    }
    let code = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("unknown_error")
        .to_string();
    let detail = body
        .pointer("/response_metadata/messages")
        .and_then(Value::as_array)
        .map(|m| {
            m.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; ")
        });
    Err(SlackError::Api { code, detail })
}

fn opened_view(answer: &Value) -> Result<OpenedView, SlackError> {
    Ok(OpenedView {
        id: string_at(answer, "/view/id")?,
        hash: string_at(answer, "/view/hash").unwrap_or_default(),
    })
}

fn string_at(answer: &Value, pointer: &str) -> Result<String, SlackError> {
    answer
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| SlackError::Unavailable(format!("Slack's answer had no {pointer}")))
}

/// Calls that only read (or, like `conversations.open`, give the same answer every time): a
/// run that only made these has made no progress.
fn is_lookup(method: Method) -> bool {
    matches!(
        method,
        Method::AuthTest
            | Method::AppsConnectionsOpen
            | Method::UsersInfo
            | Method::ConversationsList
            | Method::ConversationsMembers
            | Method::ConversationsHistory
            | Method::ConversationsReplies
            | Method::ConversationsInfo
            | Method::ConversationsOpen
    )
}

/// The messages of a history or replies answer.
fn listed(answer: &Value) -> impl Iterator<Item = ListedMessage> + '_ {
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

fn next_cursor(answer: &Value) -> String {
    answer
        .pointer("/response_metadata/next_cursor")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
