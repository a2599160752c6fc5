//! One envelope in, one acknowledgement out: the envelope's payload goes to the same answer
//! function as the HTTP route for its kind, so both transports give the same answers and
//! commit their work before answering.
//!
//! Slack delivers at least once. An envelope id is acknowledged at most once, and a delivery
//! Slack sends again (`retry_attempt` > 0, or the same payload on a second connection during
//! a refresh) has one effect:
//! - an Events API callback goes through `services::events`, which records its `event_id` in
//!   the receipts table in the same transaction as its effect (as over HTTP, where Slack's
//!   retries carry `X-Slack-Retry-Num`);
//! - a command or interaction is known by its single-use `trigger_id`: a second delivery
//!   while the first is in hand waits for it, and then gets the first one's answer again.
//!   One that changed something left its receipt (`socket:…`) in the receipts table, written
//!   in the transaction of its change, so after a restart, or on another replica, its
//!   redelivery changes nothing and is acknowledged empty. One that changed nothing (opening
//!   a form, a status reply) writes nothing, and is answered again: Slack refuses a trigger
//!   it has seen, so no second form opens (see `routes::replay`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::metrics::label;
use crate::routes::{Answer, commands, events, interactions};
use crate::slack::Modal;
use crate::slack::payloads::{command_from_fields, interaction_from_value};
use crate::slack::socket::{Envelope, EnvelopeKind, command_fields};
use crate::state::{AppState, Receipt};

/// How long an envelope id or an answer is remembered: longer than Slack's redeliveries.
const REMEMBER: Duration = Duration::from_secs(15 * 60);
/// Beyond this many remembered deliveries, the oldest are forgotten first.
const CAP: usize = 50_000;

/// What to send back for an envelope: the ack's payload, and a modal to open after it.
#[derive(Debug, Default)]
pub(super) struct Reply {
    pub payload: Option<Value>,
    pub modal: Option<Modal>,
}

#[derive(Debug)]
enum Slot {
    InHand,
    Answered(Option<Value>),
}

#[derive(Debug, Default)]
struct Memory {
    /// Envelope ids already taken, with when.
    envelopes: HashMap<String, Instant>,
    /// Deliveries by what they are (not by envelope), with when.
    deliveries: HashMap<String, (Slot, Instant)>,
}

impl Memory {
    fn prune(&mut self, now: Instant) {
        if self.envelopes.len() + self.deliveries.len() < CAP {
            return;
        }
        self.envelopes
            .retain(|_, at| now.duration_since(*at) < REMEMBER);
        self.deliveries
            .retain(|_, (_, at)| now.duration_since(*at) < REMEMBER);
        if self.envelopes.len() >= CAP / 2 {
            self.envelopes.clear();
        }
        if self.deliveries.len() >= CAP / 2 {
            self.deliveries
                .retain(|_, (slot, _)| matches!(slot, Slot::InHand));
        }
    }
}

enum Claim {
    Mine,
    Wait,
    Answered(Option<Value>),
}

/// Shared by every connection of the process, so a delivery repeated on another connection
/// (during a refresh, or after a drop) is recognised.
#[derive(Debug, Default)]
pub(super) struct Dispatcher {
    memory: Mutex<Memory>,
}

impl Dispatcher {
    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The envelope's reply, or `None` when it must not be acknowledged: an envelope id
    /// already taken, or work that failed and should be delivered again.
    pub(super) async fn reply(&self, state: &AppState, envelope: Envelope) -> Option<Reply> {
        let now = Instant::now();
        {
            let mut memory = self.memory();
            memory.prune(now);
            if memory
                .envelopes
                .insert(envelope.envelope_id.clone(), now)
                .is_some()
            {
                tracing::warn!(
                    envelope_id = envelope.envelope_id,
                    "an envelope came twice; it is acknowledged once"
                );
                return None;
            }
        }
        let kind = envelope.kind.label();
        state
            .metrics
            .inc("loopbot_socket_envelopes_total", label("type", kind));
        let key = delivery_key(&envelope);
        let deadline = now + Duration::from_secs(3);
        loop {
            match self.claim(&key) {
                Claim::Mine => break,
                Claim::Answered(payload) => {
                    return Some(self.repeated(state, &envelope, payload));
                }
                // The first delivery is still in hand (a redelivery raced it): its answer is
                // this one's too.
                Claim::Wait if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Claim::Wait => return None,
            }
        }
        // After a restart the memory is empty; the receipts table is not. A change made for
        // this delivery records its receipt (an event its `event_id`, in `services::events`).
        let receipt = (envelope.kind != EnvelopeKind::EventsApi)
            .then(|| Receipt::new(format!("socket:{key}"), state.clock.now_ms()));
        let request_state = match &receipt {
            Some(receipt) => state.for_request(Arc::clone(receipt)),
            None => state.clone(),
        };
        let answer = answer(&request_state, &envelope).await;
        if receipt.as_ref().is_some_and(|r| r.repeated()) {
            self.settle(&key, None);
            return Some(self.repeated(state, &envelope, None));
        }
        let reply = match answer {
            Answer::Empty => Reply::default(),
            Answer::Json(body) => Reply {
                payload: Some(body),
                modal: None,
            },
            Answer::Modal(modal) => Reply {
                payload: None,
                modal: Some(modal),
            },
            Answer::Malformed(problem) => {
                // Acknowledged all the same: a redelivery would not read any better.
                tracing::warn!(
                    envelope_id = envelope.envelope_id,
                    kind,
                    problem,
                    "an envelope Loopbot cannot read"
                );
                Reply::default()
            }
            Answer::Retry => {
                self.forget(&key);
                return None;
            }
        };
        self.settle(&key, reply.payload.clone());
        Some(reply)
    }

    fn claim(&self, key: &str) -> Claim {
        let mut memory = self.memory();
        match memory.deliveries.get(key) {
            Some((Slot::InHand, _)) => Claim::Wait,
            Some((Slot::Answered(payload), _)) => Claim::Answered(payload.clone()),
            None => {
                memory
                    .deliveries
                    .insert(key.to_string(), (Slot::InHand, Instant::now()));
                Claim::Mine
            }
        }
    }

    fn settle(&self, key: &str, payload: Option<Value>) {
        self.memory()
            .deliveries
            .insert(key.to_string(), (Slot::Answered(payload), Instant::now()));
    }

    fn forget(&self, key: &str) {
        self.memory().deliveries.remove(key);
    }

    fn repeated(&self, state: &AppState, envelope: &Envelope, payload: Option<Value>) -> Reply {
        tracing::info!(
            envelope_id = envelope.envelope_id,
            retry_attempt = envelope.retry_attempt,
            retry_reason = envelope.retry_reason,
            "Slack delivered this again: acknowledged, with no second effect"
        );
        state.metrics.inc(
            "loopbot_socket_duplicates_total",
            label("type", envelope.kind.label()),
        );
        Reply {
            payload,
            modal: None,
        }
    }
}

/// What a delivery is, whichever envelope carries it.
fn delivery_key(envelope: &Envelope) -> String {
    let text = |key: &str| {
        envelope
            .payload
            .get(key)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    match envelope.kind {
        EnvelopeKind::EventsApi => match text("event_id") {
            Some(id) => format!("event:{id}"),
            None => format!("event:{}", digest(&envelope.payload)),
        },
        EnvelopeKind::SlashCommands => match text("trigger_id") {
            Some(id) => format!("command:{id}"),
            None => format!("command:{}", digest(&envelope.payload)),
        },
        EnvelopeKind::Interactive => match text("trigger_id") {
            Some(id) => format!("interaction:{id}"),
            None => format!("interaction:{}", digest(&envelope.payload)),
        },
    }
}

fn digest(payload: &Value) -> String {
    hex::encode(Sha256::digest(payload.to_string().as_bytes()))
}

/// The HTTP route's answer function for the envelope's kind.
async fn answer(state: &AppState, envelope: &Envelope) -> Answer {
    match envelope.kind {
        EnvelopeKind::SlashCommands => {
            let fields = command_fields(&envelope.payload).into_iter().collect();
            match command_from_fields(fields) {
                Ok(command) => commands::answer(state, command).await,
                Err(problem) => Answer::Malformed(format!("malformed slash command: {problem}")),
            }
        }
        EnvelopeKind::Interactive => match interaction_from_value(envelope.payload.clone()) {
            Ok(interaction) => interactions::answer(state, interaction).await,
            Err(problem) => Answer::Malformed(format!("malformed interaction: {problem}")),
        },
        EnvelopeKind::EventsApi => {
            let body = serde_json::to_vec(&envelope.payload).unwrap_or_default();
            events::answer(state, &body).await
        }
    }
}
