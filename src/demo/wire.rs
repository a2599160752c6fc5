//! How the demo's people reach Loopbot: signed HTTP requests (`loopbot demo`) or envelopes
//! over Socket Mode (`loopbot demo --socket`). Either way an answer reads the same.

use serde_json::Value;

use crate::sim::client::{FormValues, SlackSide};
use crate::sim::socket_side::{Delivered, SocketSide};

pub(super) enum Wire {
    Http(SlackSide),
    Socket(SocketSide),
}

/// Whether Loopbot took a delivery: an HTTP 2xx, or an acknowledgement on the socket.
pub(super) struct Status {
    ok: bool,
    text: String,
}

impl Status {
    pub fn is_success(&self) -> bool {
        self.ok
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Loopbot's answer: the HTTP response body, or the acknowledgement's payload.
pub(super) struct Answer {
    ok: bool,
    status: String,
    body: String,
}

impl Answer {
    async fn from_http(response: reqwest::Response) -> Answer {
        let status = response.status();
        Answer {
            ok: status.is_success(),
            status: status.to_string(),
            body: response.text().await.unwrap_or_default(),
        }
    }

    fn from_socket(delivered: Delivered) -> Answer {
        Answer {
            ok: delivered.acked(),
            status: if delivered.acked() {
                "acknowledged".into()
            } else {
                "not acknowledged within 5 s".into()
            },
            body: delivered.text(),
        }
    }

    pub fn status(&self) -> Status {
        Status {
            ok: self.ok,
            text: self.status.clone(),
        }
    }

    pub async fn text(self) -> Result<String, std::convert::Infallible> {
        Ok(self.body)
    }

    pub async fn json(self) -> Result<Value, serde_json::Error> {
        serde_json::from_str(&self.body)
    }
}

impl Wire {
    pub fn describe(&self) -> &'static str {
        match self {
            Wire::Http(_) => {
                "Every request below is signed and goes through Loopbot's real HTTP endpoints"
            }
            Wire::Socket(_) => {
                "Loopbot runs in Socket Mode: it opened a WebSocket to Slack with its app-level token, and every command, click and event below arrives over it as an envelope that Loopbot acknowledges with its answer"
            }
        }
    }

    pub async fn command(&self, user: &str, channel: &str, text: &str) -> Answer {
        match self {
            Wire::Http(s) => Answer::from_http(s.command(user, channel, text).await).await,
            Wire::Socket(s) => Answer::from_socket(s.command(user, channel, text).await),
        }
    }

    pub async fn submit_view(&self, user: &str, view_id: &str, values: &FormValues) -> Answer {
        match self {
            Wire::Http(s) => Answer::from_http(s.submit_view(user, view_id, values).await).await,
            Wire::Socket(s) => Answer::from_socket(s.submit_view(user, view_id, values).await),
        }
    }

    pub async fn press_button(
        &self,
        user: &str,
        channel: &str,
        message_ts: &str,
        action_id: &str,
        value: &str,
    ) -> Answer {
        match self {
            Wire::Http(s) => {
                Answer::from_http(
                    s.press_button(user, channel, message_ts, action_id, value)
                        .await,
                )
                .await
            }
            Wire::Socket(s) => Answer::from_socket(
                s.press_button(user, channel, message_ts, action_id, value)
                    .await,
            ),
        }
    }

    pub async fn event(&self, event_id: &str, event: Value) -> Answer {
        match self {
            Wire::Http(s) => Answer::from_http(s.event(event_id, event).await).await,
            Wire::Socket(s) => Answer::from_socket(s.event(event_id, event).await),
        }
    }
}
