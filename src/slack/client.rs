//! The Slack Web API, as the rest of the app sees it: typed calls, and errors sorted into
//! "wait and retry" (rate limits, outages) and "Slack said no" (an error code).

use std::time::Duration;

use serde_json::{Value, json};

use crate::secret::Secret;
use crate::slack::messages::Message;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlackError {
    #[error("rate limited by Slack (retry after {}s)", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("Slack answered `{code}`")]
    Api {
        code: String,
        detail: Option<String>,
    },
    #[error("Slack could not be reached: {0}")]
    Unavailable(String),
}

impl SlackError {
    pub fn code(&self) -> Option<&str> {
        match self {
            SlackError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Worth trying again later (as opposed to an answer that will not change).
    pub fn is_transient(&self) -> bool {
        match self {
            SlackError::RateLimited { .. } | SlackError::Unavailable(_) => true,
            SlackError::Api { code, .. } => matches!(
                code.as_str(),
                "internal_error"
                    | "fatal_error"
                    | "service_unavailable"
                    | "request_timeout"
                    | "ratelimited"
                    | "rate_limited"
            ),
        }
    }

    /// The token no longer works: outbound work should stop rather than retry.
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self.code(),
            Some(
                "invalid_auth"
                    | "not_authed"
                    | "token_revoked"
                    | "token_expired"
                    | "account_inactive"
                    | "app_uninstalled"
            )
        )
    }
}

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

#[derive(Clone)]
pub struct SlackApi {
    http: reqwest::Client,
    base_url: String,
    token: Secret,
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl SlackApi {
    pub fn new(base_url: &str, token: Secret, timeout: Duration) -> anyhow::Result<Self> {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            .pool_max_idle_per_host(8)
            .user_agent(concat!("loopbot/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            token,
        })
    }

    /// Calls `method` with a JSON body; returns the whole `ok:true` answer.
    pub async fn call(&self, method: &str, body: &Value) -> Result<Value, SlackError> {
        let request = self
            .http
            .post(format!("{}/{method}", self.base_url))
            .bearer_auth(self.token.expose())
            .json(body);
        self.send(request).await
    }

    async fn call_form(&self, method: &str, form: &[(&str, &str)]) -> Result<Value, SlackError> {
        let request = self
            .http
            .post(format!("{}/{method}", self.base_url))
            .bearer_auth(self.token.expose())
            .form(form);
        self.send(request).await
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Value, SlackError> {
        api_result(self.send_raw(request).await?)
    }

    /// Sends a request; returns Slack's JSON answer whether `ok` is true or false.
    async fn send_raw(&self, request: reqwest::RequestBuilder) -> Result<Value, SlackError> {
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
            return Err(SlackError::RateLimited {
                retry_after: Duration::from_secs(retry_after),
            });
        }
        if !status.is_success() {
            return Err(SlackError::Unavailable(format!("HTTP {status}")));
        }
        response
            .json()
            .await
            .map_err(|_| SlackError::Unavailable("the answer was not JSON".into()))
    }

    pub async fn auth_test(&self) -> Result<Value, SlackError> {
        self.call("auth.test", &json!({})).await
    }

    /// Creates a private channel; `Err(Api { code: "name_taken" })` when the name is used.
    pub async fn create_private_channel(&self, name: &str) -> Result<String, SlackError> {
        let answer = self
            .call(
                "conversations.create",
                &json!({ "name": name, "is_private": true }),
            )
            .await?;
        string_at(&answer, "/channel/id")
    }

    /// Invites users; people already in the channel count as invited, and people Slack
    /// refuses individually (deactivated, external) are reported, not fatal.
    pub async fn invite(
        &self,
        channel: &str,
        users: &[String],
    ) -> Result<InviteOutcome, SlackError> {
        if users.is_empty() {
            return Ok(InviteOutcome::default());
        }
        let body = json!({ "channel": channel, "users": users.join(",") });
        let request = self
            .http
            .post(format!("{}/conversations.invite", self.base_url))
            .bearer_auth(self.token.expose())
            .json(&body);
        let answer = self.send_raw(request).await?;
        if answer.get("ok").and_then(Value::as_bool) == Some(true) {
            return Ok(InviteOutcome::default());
        }
        let code = answer
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("unknown_error");
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
        const PER_USER: &[&str] = &[
            "already_in_channel",
            "cant_invite_self",
            "user_not_found",
            "cant_invite",
            "user_is_restricted",
            "ura_max_channels",
            "user_is_deleted",
        ];
        if code == "already_in_channel" && per_user.is_empty() {
            return Ok(InviteOutcome::default());
        }
        if !per_user.is_empty() && per_user.iter().all(|(_, e)| PER_USER.contains(&e.as_str())) {
            return Ok(InviteOutcome {
                refused: per_user
                    .into_iter()
                    .filter(|(_, e)| e != "already_in_channel" && e != "cant_invite_self")
                    .collect(),
            });
        }
        api_result(answer).map(|_| InviteOutcome::default())
    }

    pub async fn set_topic(&self, channel: &str, topic: &str) -> Result<(), SlackError> {
        self.call(
            "conversations.setTopic",
            &json!({ "channel": channel, "topic": topic }),
        )
        .await
        .map(drop)
    }

    /// Archiving an archived channel is not an error.
    pub async fn archive(&self, channel: &str) -> Result<(), SlackError> {
        match self
            .call("conversations.archive", &json!({ "channel": channel }))
            .await
        {
            Err(e) if e.code() == Some("already_archived") => Ok(()),
            other => other.map(drop),
        }
    }

    /// The DM channel with a user (the same one every time).
    pub async fn open_dm(&self, user: &str) -> Result<String, SlackError> {
        let answer = self
            .call("conversations.open", &json!({ "users": user }))
            .await?;
        string_at(&answer, "/channel/id")
    }

    /// Posts a message; returns its `ts`.
    pub async fn post_message(
        &self,
        channel: &str,
        message: &Message,
    ) -> Result<String, SlackError> {
        let answer = self
            .call(
                "chat.postMessage",
                &json!({ "channel": channel, "text": message.text, "blocks": message.blocks }),
            )
            .await?;
        string_at(&answer, "/ts")
    }

    pub async fn update_message(
        &self,
        channel: &str,
        ts: &str,
        message: &Message,
    ) -> Result<(), SlackError> {
        self.call(
            "chat.update",
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
            "chat.postEphemeral",
            &json!({ "channel": channel, "user": user, "text": message.text, "blocks": message.blocks }),
        )
        .await
        .map(drop)
    }

    /// Pinning a pinned message is not an error.
    pub async fn pin(&self, channel: &str, ts: &str) -> Result<(), SlackError> {
        match self
            .call("pins.add", &json!({ "channel": channel, "timestamp": ts }))
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
                "views.open",
                &json!({ "trigger_id": trigger_id, "view": view }),
            )
            .await?;
        opened_view(&answer)
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
        let answer = self.call("views.update", &body).await?;
        opened_view(&answer)
    }

    pub async fn publish_home(&self, user: &str, view: &Value) -> Result<(), SlackError> {
        self.call("views.publish", &json!({ "user_id": user, "view": view }))
            .await
            .map(drop)
    }

    pub async fn user_info(&self, user: &str) -> Result<UserInfo, SlackError> {
        let answer = self.call_form("users.info", &[("user", user)]).await?;
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

fn describe_transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}
