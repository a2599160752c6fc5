//! How the demo's people reach Loopbot: signed HTTP requests (`loopbot demo`) or envelopes
//! over Socket Mode (`loopbot demo --socket`), the simulator's two [`Transport`]s. Either way
//! an answer reads the same.

use std::time::Duration;

use serde_json::Value;

use slack_sim::client::{Delivery, Http, SlackUser, Transport};
use slack_sim::socket_side::{Delivered, Socket};

/// The demo's people in Slack, over either transport.
pub(super) type People = SlackUser<Wire>;

#[derive(Clone)]
pub(super) enum Wire {
    Http(Http),
    Socket(Socket),
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
    /// How long the answer says to wait for a modal to open (see [`Transport`]).
    opens_modal_within: Option<Duration>,
}

impl Answer {
    async fn from_http(http: &Http, response: reqwest::Response) -> Answer {
        let status = response.status();
        let opens_modal_within = http.opens_modal_within(&response);
        Answer {
            ok: status.is_success(),
            status: status.to_string(),
            body: response.text().await.unwrap_or_default(),
            opens_modal_within,
        }
    }

    fn from_socket(socket: &Socket, delivered: Delivered) -> Answer {
        Answer {
            ok: delivered.acked(),
            status: if delivered.acked() {
                "acknowledged".into()
            } else {
                "not acknowledged within 5 s".into()
            },
            body: delivered.text(),
            opens_modal_within: socket.opens_modal_within(&delivered),
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
}

impl Transport for Wire {
    type Reply = Answer;

    async fn deliver(&self, delivery: Delivery) -> Answer {
        match self {
            Wire::Http(http) => Answer::from_http(http, http.deliver(delivery).await).await,
            Wire::Socket(socket) => Answer::from_socket(socket, socket.deliver(delivery).await),
        }
    }

    fn opens_modal_within(&self, answer: &Answer) -> Option<Duration> {
        answer.opens_modal_within
    }
}
