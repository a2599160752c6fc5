//! The Slack Web API, as the rest of the app sees it: [`SlackApi::call`] sends each method as
//! its table says (`wire.rs`), paced (`pacer.rs`), timed and counted. The typed calls, one per
//! method Loopbot uses, are in `calls/` by family. How a call fails is `error.rs`; what the
//! answers say is `answers.rs`.

use std::time::Duration;

use serde_json::{Value, json};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::clock::{SharedClock, UnixMillis};
use crate::jobs::pacing::Pacer;
use crate::metrics::{Metrics, label};
use crate::secret::Secret;
use crate::slack::wire::{self, Method};

use crate::slack::answers::string_at;
pub use crate::slack::answers::{
    BotIdentity, ChannelInfo, InviteOutcome, ListedMessage, OpenedView, UserInfo,
};
pub use crate::slack::error::SlackError;
use crate::slack::error::{describe_transport_error, error_label};

/// A slot of a Slack budget that the job claim reserved for a job's first call that draws
/// from it: the call waits for `slot` and spends no other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The budget's key (`chat.update`, `chat.postMessage:C123`: see `tiers::budget_key`).
    pub budget: String,
    pub slot: UnixMillis,
}

pub use crate::slack::wire::JSON_CONTENT_TYPE;

pub use crate::slack::answers::POST_EVENT_TYPE;

#[derive(Clone)]
pub struct SlackApi {
    http: reqwest::Client,
    base_url: Arc<str>,
    /// Each method's URL, parsed once (parsing it for every call was 3 % of a `/loop start`).
    urls: Arc<std::collections::HashMap<Method, reqwest::Url>>,
    token: Secret,
    clock: SharedClock,
    /// Paces calls by Slack's tiers; `None` sends at once (the request path's views.open).
    pacer: Option<Arc<Pacer>>,
    /// Successful calls that changed something, made through this handle (one per job run;
    /// see [`SlackApi::for_job`]).
    succeeded: Arc<AtomicU64>,
    /// This job run may repeat an earlier one that Slack acted on: look before posting.
    pub(super) retrying: bool,
    /// The slot the claim reserved for this job run's first call of its budget's method.
    reserved: Arc<std::sync::Mutex<Option<Reservation>>>,
    /// Where each call's duration and each failure by method and error are counted.
    metrics: Option<Arc<Metrics>>,
    /// The bot's identity, once `auth.test` has answered (shared by every handle).
    identity: Arc<OnceLock<BotIdentity>>,
    /// Each person's DM channel with the bot, once `conversations.open` has named it (it
    /// names the same one every time): a DM to someone already written to spends no Tier 3
    /// call. Shared by every handle; see [`DmChannels`].
    pub(super) dms: Arc<DmChannels>,
    /// Calls waiting for their reserved slot, shared by every handle: the worker does not
    /// count their jobs against `LOOPBOT_CONCURRENCY` (see [`SlotWaits`]).
    slot_waits: Arc<SlotWaits>,
}

/// How many calls are waiting for their slot now, and a signal when one starts waiting. A
/// job that waits a second for its channel's next post is not working: the worker runs
/// another job meanwhile, so twelve loops started at once do not queue behind eight waits.
#[derive(Debug, Default)]
pub struct SlotWaits {
    waiting: AtomicU64,
    started: tokio::sync::Notify,
}

impl SlotWaits {
    /// Calls waiting for their slot now.
    pub fn now(&self) -> usize {
        usize::try_from(self.waiting.load(Ordering::Relaxed)).unwrap_or(usize::MAX)
    }

    /// Resolves when a call starts waiting for its slot (or has since the last time).
    pub async fn started(&self) {
        self.started.notified().await
    }

    fn enter(self: &Arc<Self>) -> SlotWait {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        self.started.notify_one();
        SlotWait(Arc::clone(self))
    }
}

/// One call waiting for its slot; counted until dropped.
struct SlotWait(Arc<SlotWaits>);

impl Drop for SlotWait {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Users' DM channel ids, at most [`DmChannels::MOST`] of them (then it starts afresh), so
/// memory stays bounded however many people Loopbot writes to.
#[derive(Debug, Default)]
pub(crate) struct DmChannels(std::sync::Mutex<std::collections::HashMap<String, String>>);

impl DmChannels {
    const MOST: usize = 10_000;

    fn map(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get(&self, user: &str) -> Option<String> {
        self.map().get(user).cloned()
    }

    pub(crate) fn remember(&self, user: &str, channel: &str) {
        let mut map = self.map();
        if map.len() >= Self::MOST {
            map.clear();
        }
        map.insert(user.to_string(), channel.to_string());
    }
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
            base_url: base_url.trim_end_matches('/').into(),
            urls: Arc::new(
                Method::ALL
                    .iter()
                    .filter_map(|m| {
                        let url = format!("{}/{}", base_url.trim_end_matches('/'), m.name());
                        Some((*m, reqwest::Url::parse(&url).ok()?))
                    })
                    .collect(),
            ),
            token,
            clock,
            pacer,
            succeeded: Arc::new(AtomicU64::new(0)),
            retrying: false,
            reserved: Arc::new(std::sync::Mutex::new(None)),
            metrics: None,
            identity: Arc::new(OnceLock::new()),
            dms: Arc::new(DmChannels::default()),
            slot_waits: Arc::new(SlotWaits::default()),
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

    /// The calls waiting for their slot, across every handle of this client.
    pub fn slot_waits(&self) -> &SlotWaits {
        &self.slot_waits
    }

    /// Calls `method` with `args` (a JSON object), encoded as the method's row of
    /// [`wire`] says; returns the whole `ok:true` answer.
    pub async fn call(&self, method: Method, args: &Value) -> Result<Value, SlackError> {
        api_result(self.call_raw(method, args).await?)
    }

    /// Calls `method`; returns Slack's answer whether `ok` is true or false.
    pub(super) async fn call_raw(&self, method: Method, args: &Value) -> Result<Value, SlackError> {
        let name = method.name();
        let channel = args.get("channel").and_then(Value::as_str);
        self.pace(name, channel).await?;
        let (content_type, body) = wire::encode(method, args);
        self.send(method, channel, self.request(method, content_type, body))
            .await
    }

    /// Calls a method that takes JSON with its body already written (a view rendered once
    /// as text); returns the whole `ok:true` answer. No channel: not for posts.
    pub(super) async fn call_text(
        &self,
        method: Method,
        body: String,
    ) -> Result<Value, SlackError> {
        debug_assert_eq!(method.encoding(), wire::Encoding::Json);
        self.pace(method.name(), None).await?;
        let request = self.request(method, JSON_CONTENT_TYPE, body);
        api_result(self.send(method, None, request).await?)
    }

    fn request(&self, method: Method, content_type: &str, body: String) -> reqwest::RequestBuilder {
        let builder = match self.urls.get(&method) {
            Some(url) => self.http.post(url.clone()),
            // Not a URL: the request fails as it always did, in reqwest's words.
            None => self
                .http
                .post(format!("{}/{}", self.base_url, method.name())),
        };
        builder
            .bearer_auth(self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body)
    }

    /// Waits for this call's slot: the one the claim reserved for it, or one reserved now if
    /// it comes within a couple of seconds; otherwise the job goes back to the queue
    /// ([`SlackError::Paced`]) until the budget has room.
    async fn pace(&self, method: &str, channel: Option<&str>) -> Result<(), SlackError> {
        let Some(pacer) = &self.pacer else {
            return Ok(());
        };
        let key = crate::jobs::tiers::budget_key(method, channel);
        let reserved = {
            let mut held = self.reserved.lock().unwrap_or_else(|e| e.into_inner());
            match held.as_ref() {
                // The claim reserved exactly what this call spends.
                Some(r) if r.budget == key => held.take().map(|r| (r.slot, None)),
                // The claim reserved the workspace's part of a post whose channel it could
                // not know (a DM): the channel's part is reserved now.
                Some(r) if r.budget == method && key != method => {
                    held.take().map(|r| (r.slot, Some(key.as_str())))
                }
                _ => None,
            }
        };
        let slot = match reserved {
            Some((slot, None)) => slot,
            // The call goes at the channel's slot, never before the workspace's.
            Some((slot, Some(channel_key))) => pacer
                .reserve_only(channel_key, slot)
                .await
                .map_err(|until| SlackError::Paced { until })?,
            None => pacer
                .reserve(method, channel)
                .await
                .map_err(|until| SlackError::Paced { until })?,
        };
        if slot > self.clock.now_ms() {
            let _counted = self.slot_waits.enter();
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
        let not_json = |_| SlackError::Unavailable("the answer was not JSON".into());
        let bytes = response.bytes().await.map_err(|e| {
            SlackError::Unavailable(format!(
                "the answer was cut off: {}",
                describe_transport_error(&e)
            ))
        })?;
        let answer = crate::slack::answers::read_answer(method, &bytes).map_err(not_json)?;
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
}

/// An `ok:true` answer, or its error code (with Slack's detail messages, if any).
pub(crate) fn api_result(body: Value) -> Result<Value, SlackError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// How many calls spending budget `key` alone the pacer still gives a slot within its
    /// horizon.
    async fn room(pacer: &Pacer, key: &str) -> usize {
        let mut n = 0;
        while n < 1_000 && pacer.reserve_only(key, 0).await.is_ok() {
            n += 1;
        }
        n
    }

    /// A DM job's claim reserved the workspace's part of its post (its channel unknown then):
    /// the post uses that slot and spends only its DM channel's budget besides.
    #[tokio::test]
    async fn a_post_whose_claim_reserved_the_workspaces_part_spends_only_its_channel_besides() {
        let clock: SharedClock = crate::clock::ManualClock::starting_at(1_000_000);
        let pacer = Arc::new(Pacer::new(clock.clone()));
        let api = SlackApi::new(
            "http://127.0.0.1:9",
            Secret::new("xoxb-test"),
            Duration::from_secs(1),
            clock,
            Some(pacer.clone()),
        )
        .unwrap();
        let reserved = Reservation {
            budget: "chat.postMessage".into(),
            slot: 1_000_000,
        };
        let run = api.for_job(false, Some(reserved));
        run.pace("chat.postMessage", Some("D1")).await.unwrap();
        assert_eq!(run.clock.now_ms(), 1_000_000, "no wait for a quiet DM");
        // Used once: the run's next post reserves both parts itself.
        assert!(run.reserved.lock().unwrap().is_none());
        let limit = crate::jobs::tiers::limit_of_key("chat.postMessage").calls as usize;
        assert_eq!(
            room(&pacer, "chat.postMessage").await,
            limit,
            "the workspace's untouched"
        );
        let (dm, fresh) = (
            room(&pacer, "chat.postMessage:D1").await,
            room(&pacer, "chat.postMessage:D2").await,
        );
        assert_eq!(dm + 1, fresh, "one of the DM channel's own spent");
    }

    #[tokio::test]
    async fn a_call_waiting_for_its_slot_is_counted_until_it_goes() {
        let waits = Arc::new(SlotWaits::default());
        assert_eq!(waits.now(), 0);
        let first = waits.enter();
        let second = waits.enter();
        assert_eq!(waits.now(), 2);
        // The worker hears that a wait began, even if it was not listening at that moment.
        tokio::time::timeout(Duration::from_secs(1), waits.started())
            .await
            .expect("told");
        drop(first);
        assert_eq!(waits.now(), 1);
        drop(second);
        assert_eq!(waits.now(), 0);
    }
}
