//! Slack's side over Socket Mode, for the demo (`loopbot demo --socket`) and the tests: the
//! [`Transport`] that delivers what [`SlackUser`] does (commands, button presses,
//! submissions, events) as envelopes over the app's WebSocket, answered by acknowledgements.

use std::time::Duration;

use serde_json::{Map, Value};

use super::Simulator;
use super::client::{Delivery, SlackUser, Transport};
use super::socket::SimAck;
use crate::clock::SharedClock;

/// How long a delivery waits for its acknowledgement (real time).
const ACK_WITHIN: Duration = Duration::from_secs(5);

/// An envelope delivered, and its acknowledgement if one came.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub envelope_id: String,
    pub ack: Option<SimAck>,
}

impl Delivered {
    pub fn acked(&self) -> bool {
        self.ack.is_some()
    }

    /// The ack's payload: what an HTTP response body would have been.
    pub fn payload(&self) -> Option<&Value> {
        self.ack.as_ref().and_then(|a| a.payload.as_ref())
    }

    /// The payload as text, `""` when the ack had none.
    pub fn text(&self) -> String {
        self.payload().map(Value::to_string).unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        self.payload().cloned().unwrap_or(Value::Null)
    }
}

/// Slack's side of Socket Mode: envelopes through the simulator's WebSocket server.
#[derive(Clone)]
pub struct Socket {
    sim: Simulator,
}

/// Slack's side over Socket Mode.
pub type SocketSide = SlackUser<Socket>;

impl Socket {
    pub fn new(sim: Simulator) -> Self {
        Socket { sim }
    }

    /// Delivers an envelope and waits for its acknowledgement.
    pub async fn deliver_envelope(
        &self,
        kind: &str,
        payload: Value,
        accepts_payload: bool,
    ) -> Delivered {
        let envelope_id = self.sim.socket_deliver(kind, payload, accepts_payload);
        let ack = self.sim.wait_for_ack(&envelope_id, ACK_WITHIN).await;
        Delivered { envelope_id, ack }
    }
}

/// A slash command's envelope payload: its form fields as a JSON object.
fn form_as_object(body: &str) -> Value {
    let fields: Map<String, Value> = url::form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect();
    Value::Object(fields)
}

impl Transport for Socket {
    type Reply = Delivered;

    async fn deliver(&self, delivery: Delivery) -> Delivered {
        match delivery {
            Delivery::Command(body) => {
                self.deliver_envelope("slash_commands", form_as_object(&body), true)
                    .await
            }
            // Only a submission may be answered with a payload (`response_action`).
            Delivery::Interaction(payload) => {
                let answerable = payload["type"] == "view_submission";
                self.deliver_envelope("interactive", payload, answerable)
                    .await
            }
            Delivery::Event(body) => self.deliver_envelope("events_api", body, false).await,
        }
    }

    /// After an empty acknowledgement the app may be opening a modal: at most the trigger's
    /// life.
    fn opens_modal_within(&self, delivered: &Delivered) -> Option<Duration> {
        (delivered.acked() && delivered.payload().is_none()).then_some(Duration::from_secs(3))
    }
}

impl SlackUser<Socket> {
    pub fn new(clock: SharedClock, sim: Simulator) -> Self {
        SlackUser::over(Socket::new(sim.clone()), clock, sim)
    }

    /// Delivers an envelope and waits for its acknowledgement.
    pub async fn deliver(&self, kind: &str, payload: Value, accepts_payload: bool) -> Delivered {
        self.transport()
            .deliver_envelope(kind, payload, accepts_payload)
            .await
    }

    /// A slash command's envelope payload: its form fields as a JSON object.
    pub fn command_payload(&self, user: &str, channel: &str, text: &str) -> Value {
        form_as_object(&self.command_body(user, channel, text))
    }

    /// The Events API body of an `event_callback` (the `events_api` envelope's payload).
    pub fn event_payload(&self, event_id: &str, event: Value) -> Value {
        self.event_body(event_id, event)
    }
}
