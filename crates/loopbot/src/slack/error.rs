//! How a Slack call can fail, sorted into "wait and retry" (rate limits, outages) and "Slack
//! said no" (an error code), with the labels metrics and logs use.

use std::time::Duration;

use crate::clock::UnixMillis;

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
    /// Not sent: the method's (or channel's) rate budget is spent until `until`.
    #[error("waiting for Slack's rate limit")]
    Paced { until: UnixMillis },
}

impl SlackError {
    pub fn code(&self) -> Option<&str> {
        match self {
            SlackError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Worth trying again later (as opposed to an answer that will not change): no answer or
    /// an HTTP error status, a rate limit, and the codes Slack documents for trouble on its
    /// side (`internal_error` and `fatal_error` say the call may have been partly done, so the
    /// next run looks before it posts; `team_added_to_org`: the workspace is being migrated and
    /// the API is "intermittently unavailable").
    pub fn is_transient(&self) -> bool {
        match self {
            SlackError::RateLimited { .. }
            | SlackError::Unavailable(_)
            | SlackError::Paced { .. } => true,
            SlackError::Api { code, .. } => matches!(
                code.as_str(),
                "internal_error"
                    | "fatal_error"
                    | "service_unavailable"
                    | "request_timeout"
                    | "ratelimited"
                    | "rate_limited"
                    | "team_added_to_org"
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

/// The `error` label of a call that got no usable answer.
pub(crate) fn error_label(e: &SlackError) -> String {
    match e {
        SlackError::RateLimited { .. } => "ratelimited".into(),
        SlackError::Api { code, .. } => code.clone(),
        SlackError::Paced { .. } => "paced".into(),
        SlackError::Unavailable(why) if why.starts_with("HTTP ") => {
            format!(
                "http_{}",
                why.trim_start_matches("HTTP ")
                    .split(' ')
                    .next()
                    .unwrap_or("")
            )
        }
        SlackError::Unavailable(why) if why == "timed out" => "timeout".into(),
        SlackError::Unavailable(_) => "unreachable".into(),
    }
}

pub(crate) fn describe_transport_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else {
        "request failed".into()
    }
}
