//! Slack's side over Socket Mode, for the demo (`loopbot demo --socket`) and the tests: the
//! same commands, button presses, submissions and events as [`super::client::SlackSide`],
//! delivered as envelopes over the app's WebSocket, answered by acknowledgements.

use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::Simulator;
use super::client::{FormValues, SlackSide};
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

#[derive(Clone)]
pub struct SocketSide {
    /// Builds payloads exactly as over HTTP.
    payloads: SlackSide,
    pub sim: Simulator,
}

impl SocketSide {
    pub fn new(clock: SharedClock, sim: Simulator) -> Self {
        SocketSide {
            payloads: SlackSide::new("http://socket-mode.invalid", "", clock, sim.clone()),
            sim,
        }
    }

    /// Delivers an envelope and waits for its acknowledgement.
    pub async fn deliver(&self, kind: &str, payload: Value, accepts_payload: bool) -> Delivered {
        let envelope_id = self.sim.socket_deliver(kind, payload, accepts_payload);
        let ack = self.sim.wait_for_ack(&envelope_id, ACK_WITHIN).await;
        Delivered { envelope_id, ack }
    }

    /// A slash command's envelope payload: its form fields as a JSON object.
    pub fn command_payload(&self, user: &str, channel: &str, text: &str) -> Value {
        let body = self.payloads.command_body(user, channel, text);
        let fields: Map<String, Value> = url::form_urlencoded::parse(body.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        Value::Object(fields)
    }

    /// `user` types `/loop <text>` in `channel`.
    pub async fn command(&self, user: &str, channel: &str, text: &str) -> Delivered {
        let payload = self.command_payload(user, channel, text);
        let trigger = payload["trigger_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let delivered = self.deliver("slash_commands", payload, true).await;
        self.settle(&delivered, &trigger).await;
        delivered
    }

    /// After an empty acknowledgement the app may be opening a modal: waits (a little real
    /// time, at most the trigger's life) until it has called `views.open` with the trigger.
    pub async fn settle(&self, delivered: &Delivered, trigger: &str) {
        if !delivered.acked() || delivered.payload().is_some() {
            return;
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        while !self.sim.trigger_tried(trigger) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// `user` presses the submit button of modal `view_id`.
    pub async fn submit_view(&self, user: &str, view_id: &str, values: &FormValues) -> Delivered {
        let payload = self.payloads.submission_payload(user, view_id, values);
        self.deliver("interactive", payload, true).await
    }

    /// `user` presses a button in a channel message.
    pub async fn press_button(
        &self,
        user: &str,
        channel: &str,
        message_ts: &str,
        action_id: &str,
        value: &str,
    ) -> Delivered {
        let (payload, trigger) = self
            .payloads
            .button_payload(user, channel, message_ts, action_id, value);
        let delivered = self.deliver("interactive", payload, false).await;
        self.settle(&delivered, &trigger).await;
        delivered
    }

    /// `user` picks an option in a modal's dispatch-action menu.
    pub async fn pick_in_view(
        &self,
        user: &str,
        view_id: &str,
        block: &str,
        action_id: &str,
        value: &str,
    ) -> Delivered {
        let payload = self
            .payloads
            .pick_payload(user, view_id, block, action_id, value);
        self.deliver("interactive", payload, false).await
    }

    /// `user` cancels modal `view_id`.
    pub async fn close_view(&self, user: &str, view_id: &str) -> Delivered {
        let payload = self
            .payloads
            .closed_payload(user, view_id, &FormValues::new());
        self.deliver("interactive", payload, false).await
    }

    /// The Events API body of an `event_callback` (the `events_api` envelope's payload).
    pub fn event_payload(&self, event_id: &str, event: Value) -> Value {
        self.payloads.event_body(event_id, event)
    }

    /// Slack delivers an Events API callback.
    pub async fn event(&self, event_id: &str, event: Value) -> Delivered {
        let payload = self.event_payload(event_id, event);
        self.deliver("events_api", payload, false).await
    }

    /// The `view_submission` payload for modal `view_id` as `user` filled it in.
    pub fn submission_payload(&self, user: &str, view_id: &str, values: &FormValues) -> Value {
        self.payloads.submission_payload(user, view_id, values)
    }
}
