//! Socket Mode, Slack's side: `apps.connections.open` checks the app-level token and hands
//! out a single-use `ws://` URL; the WebSocket server behind it greets each connection with
//! `hello`, delivers envelopes shaped as Slack's, checks every acknowledgement (a known
//! `envelope_id`, once, on the connection that carried it, within 3 seconds by the
//! simulator's clock) and redelivers what was not acknowledged in time with `retry_attempt`
//! counting up. Tests can ask for a refresh (`disconnect` / `refresh_requested`), turn Socket
//! Mode off (`link_disabled`), drop every connection without a close frame, and hold acks
//! back (as a slow network would) to make them late.
//!
//! [`SocketState`] is plain state inside [`super::SimState`]; the async server is
//! [`serve`].

use std::collections::{HashMap, VecDeque};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{APP_ID, Simulator};

/// Slack's deadline for an acknowledgement.
pub const ACK_DEADLINE_MS: i64 = 3_000;
/// Slack retries an envelope up to three times.
pub const MAX_RETRIES: u32 = 3;

/// What the server task of one connection is told to do.
#[derive(Debug)]
pub(crate) enum Out {
    Text(String),
    Ping,
    /// A close frame (then the client's reply is awaited).
    Close,
    /// Gone without a close frame, as when a network path dies.
    Drop,
}

/// One WebSocket connection, as Slack keeps track of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConnection {
    pub id: u64,
    /// Order of events across connections (opened, greeted, closed), for overlap checks.
    pub opened_seq: u64,
    pub ready_seq: Option<u64>,
    pub closed_seq: Option<u64>,
    /// The client sent a close frame (a clean close), as opposed to a drop.
    pub closed_by_client: bool,
    /// Asked to refresh: no new envelopes unless no other connection is ready.
    pub retiring: bool,
    /// Pongs received for the simulator's pings.
    pub pongs: usize,
}

impl SimConnection {
    pub fn is_open(&self) -> bool {
        self.closed_seq.is_none()
    }
}

/// One delivery of an envelope. A redelivery is a new envelope (new id) with
/// `retry_attempt` one higher and the same payload.
#[derive(Debug, Clone, PartialEq)]
pub struct SimEnvelope {
    pub envelope_id: String,
    /// `slash_commands`, `interactive` or `events_api`.
    pub kind: String,
    pub payload: Value,
    pub accepts_response_payload: bool,
    pub retry_attempt: u32,
    pub retry_reason: String,
    /// The connection it went out on; `None` while it waits for one.
    pub conn: Option<u64>,
    pub sent_at_ms: Option<i64>,
    /// The envelope id of the first delivery.
    pub first_id: String,
    /// A later delivery replaced this one.
    pub redelivered: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimAck {
    pub envelope_id: String,
    /// The ack's `payload` (a command's reply, a submission's `response_action` …).
    pub payload: Option<Value>,
    pub at_ms: i64,
    /// Arrived after the 3-second deadline: Slack treats it as a failure and redelivers.
    pub late: bool,
    pub conn: u64,
}

#[derive(Debug, Default)]
pub struct SocketState {
    /// The app-level token `apps.connections.open` accepts.
    pub app_token: Option<String>,
    /// `ws://127.0.0.1:PORT`, once the server runs.
    pub(crate) base: Option<String>,
    tickets: HashMap<String, bool>,
    connections: Vec<SimConnection>,
    senders: HashMap<u64, mpsc::UnboundedSender<Out>>,
    envelopes: Vec<SimEnvelope>,
    /// Envelope ids waiting for a connection.
    queue: VecDeque<String>,
    acks: Vec<SimAck>,
    violations: Vec<String>,
    hold_acks: bool,
    held: Vec<(u64, String)>,
    opens: usize,
    seq: u64,
    counter: u64,
}

impl SocketState {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// `apps.connections.open`: the app-level token in the Authorization header. `Err` is
    /// Slack's error code.
    pub(crate) fn open_url(
        &mut self,
        token: Option<&str>,
    ) -> Result<Map<String, Value>, &'static str> {
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        let Some(token) = token else {
            return Err("not_authed");
        };
        if self.app_token.as_deref() != Some(token) {
            return Err(
                if token.starts_with("xoxb-") || token.starts_with("xoxp-") {
                    "not_allowed_token_type"
                } else {
                    "invalid_auth"
                },
            );
        }
        // Not served (the simulator is used in-process only).
        let Some(base) = self.base.clone() else {
            return Err("internal_error");
        };
        self.opens += 1;
        let ticket = format!("{:032x}", fastrand::u128(..));
        self.tickets.insert(ticket.clone(), false);
        let mut body = Map::new();
        body.insert(
            "url".into(),
            json!(format!("{base}/link/?ticket={ticket}&app_id={APP_ID}")),
        );
        Ok(body)
    }

    /// A WebSocket handshake with a ticket: single use.
    fn accept(&mut self, ticket: &str) -> Option<(u64, mpsc::UnboundedReceiver<Out>)> {
        match self.tickets.get_mut(ticket) {
            Some(used) if !*used => *used = true,
            _ => return None,
        }
        self.counter += 1;
        let id = self.counter;
        let opened_seq = self.next_seq();
        let (tx, rx) = mpsc::unbounded_channel();
        self.connections.push(SimConnection {
            id,
            opened_seq,
            ready_seq: None,
            closed_seq: None,
            closed_by_client: false,
            retiring: false,
            pongs: 0,
        });
        self.senders.insert(id, tx);
        Some((id, rx))
    }

    /// The ids of the connections still open.
    fn open_ids(&self) -> Vec<u64> {
        self.connections
            .iter()
            .filter(|c| c.is_open())
            .map(|c| c.id)
            .collect()
    }

    fn connection_mut(&mut self, id: u64) -> Option<&mut SimConnection> {
        self.connections.iter_mut().find(|c| c.id == id)
    }

    fn send(&self, id: u64, out: Out) {
        if let Some(tx) = self.senders.get(&id) {
            let _ = tx.send(out);
        }
    }

    /// `hello`, then whatever waited for a connection.
    fn greet(&mut self, id: u64, now_ms: i64) {
        let open = self.connections.iter().filter(|c| c.is_open()).count();
        let hello = json!({
            "type": "hello",
            "num_connections": open,
            "debug_info": { "host": format!("applink-sim-{id}"), "build_number": 1, "approximate_connection_time": 18060 },
            "connection_info": { "app_id": APP_ID },
        });
        self.send(id, Out::Text(hello.to_string()));
        let seq = self.next_seq();
        if let Some(c) = self.connection_mut(id) {
            c.ready_seq = Some(seq);
        }
        let waiting: Vec<String> = self.queue.drain(..).collect();
        for envelope_id in waiting {
            self.route(&envelope_id, now_ms);
        }
    }

    /// The newest greeted connection not asked to refresh; else a refreshing one still open.
    fn target(&self) -> Option<u64> {
        let ready = || {
            self.connections
                .iter()
                .rev()
                .filter(|c| c.is_open() && c.ready_seq.is_some())
        };
        ready()
            .find(|c| !c.retiring)
            .or_else(|| ready().next())
            .map(|c| c.id)
    }

    fn route(&mut self, envelope_id: &str, now_ms: i64) {
        let Some(conn) = self.target() else {
            self.queue.push_back(envelope_id.to_string());
            return;
        };
        let Some(e) = self
            .envelopes
            .iter_mut()
            .find(|e| e.envelope_id == envelope_id)
        else {
            return;
        };
        e.conn = Some(conn);
        e.sent_at_ms = Some(now_ms);
        let frame = json!({
            "envelope_id": e.envelope_id,
            "payload": e.payload,
            "type": e.kind,
            "accepts_response_payload": e.accepts_response_payload,
            "retry_attempt": e.retry_attempt,
            "retry_reason": e.retry_reason,
        });
        self.send(conn, Out::Text(frame.to_string()));
    }

    fn new_envelope_id(&mut self) -> String {
        self.counter += 1;
        format!(
            "{:08x}-sim-{:04x}-{:012x}",
            fastrand::u32(..),
            self.counter,
            fastrand::u64(..) >> 16
        )
    }

    pub(crate) fn deliver(
        &mut self,
        now_ms: i64,
        kind: &str,
        payload: Value,
        accepts_response_payload: bool,
    ) -> String {
        let envelope_id = self.new_envelope_id();
        self.envelopes.push(SimEnvelope {
            envelope_id: envelope_id.clone(),
            kind: kind.to_string(),
            payload,
            accepts_response_payload,
            retry_attempt: 0,
            retry_reason: String::new(),
            conn: None,
            sent_at_ms: None,
            first_id: envelope_id.clone(),
            redelivered: false,
        });
        self.route(&envelope_id, now_ms);
        envelope_id
    }

    /// A text frame from the client: an acknowledgement.
    fn receive(&mut self, conn: u64, text: String, now_ms: i64) {
        if self.hold_acks {
            self.held.push((conn, text));
            return;
        }
        self.record_ack(conn, &text, now_ms);
    }

    fn record_ack(&mut self, conn: u64, text: &str, now_ms: i64) {
        let Ok(Value::Object(frame)) = serde_json::from_str::<Value>(text) else {
            self.violations
                .push(format!("connection {conn}: not JSON: {text}"));
            return;
        };
        let Some(envelope_id) = frame.get("envelope_id").and_then(Value::as_str) else {
            self.violations.push(format!(
                "connection {conn}: an ack without envelope_id: {text}"
            ));
            return;
        };
        let Some(envelope) = self.envelopes.iter().find(|e| e.envelope_id == envelope_id) else {
            self.violations
                .push(format!("an ack for an unknown envelope {envelope_id}"));
            return;
        };
        if self.acks.iter().any(|a| a.envelope_id == envelope_id) {
            self.violations
                .push(format!("envelope {envelope_id} acknowledged twice"));
            return;
        }
        if envelope.conn != Some(conn) {
            self.violations.push(format!(
                "envelope {envelope_id} acknowledged on connection {conn}, sent on {:?}",
                envelope.conn
            ));
        }
        let late = envelope
            .sent_at_ms
            .is_none_or(|sent| now_ms - sent > ACK_DEADLINE_MS);
        self.acks.push(SimAck {
            envelope_id: envelope_id.to_string(),
            payload: frame.get("payload").cloned(),
            at_ms: now_ms,
            late,
            conn,
        });
    }

    fn on_time_ack(&self, envelope_id: &str) -> bool {
        self.acks
            .iter()
            .any(|a| a.envelope_id == envelope_id && !a.late)
    }

    fn closed(&mut self, id: u64, by_client: bool) {
        let seq = self.next_seq();
        if let Some(c) = self.connection_mut(id)
            && c.closed_seq.is_none()
        {
            c.closed_seq = Some(seq);
            c.closed_by_client = by_client;
        }
        self.senders.remove(&id);
        // Acks held back on it are lost with it.
        self.held.retain(|(conn, _)| *conn != id);
    }
}

/// Accepts WebSocket connections on `listener` until dropped (aborting this task ends every
/// connection it serves).
pub(crate) async fn serve(listener: TcpListener, sim: Simulator) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(stream, sim.clone()));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "simulator: Socket Mode accept failed");
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn connection(stream: tokio::net::TcpStream, sim: Simulator) {
    let mut accepted: Option<(u64, mpsc::UnboundedReceiver<Out>)> = None;
    // The Err variant is the handshake's own type (an HTTP response), as the library wants.
    #[allow(clippy::result_large_err)]
    let check = |request: &Request, response: Response| {
        let ticket = request
            .uri()
            .query()
            .and_then(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "ticket")
                    .map(|(_, v)| v.into_owned())
            })
            .unwrap_or_default();
        accepted = sim.lock().socket.accept(&ticket);
        if accepted.is_some() {
            Ok(response)
        } else {
            let mut refused = ErrorResponse::new(Some("invalid or used ticket".into()));
            *refused.status_mut() = StatusCode::UNAUTHORIZED;
            Err(refused)
        }
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, check).await else {
        if let Some((id, _)) = accepted {
            sim.lock().socket.closed(id, false);
        }
        return;
    };
    let Some((id, mut outgoing)) = accepted else {
        return;
    };
    {
        let now = sim.now_ms();
        sim.lock().socket.greet(id, now);
    }
    let mut by_client = false;
    loop {
        tokio::select! {
            out = outgoing.recv() => match out {
                Some(Out::Text(text)) => {
                    if ws.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Out::Ping) => {
                    if ws.send(Message::Ping(Default::default())).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close) => {
                    let frame = CloseFrame { code: CloseCode::Normal, reason: "".into() };
                    let _ = ws.send(Message::Close(Some(frame))).await;
                }
                // The sender went away (the simulator forgot the connection) or a drop.
                Some(Out::Drop) | None => break,
            },
            frame = ws.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let now = sim.now_ms();
                    sim.lock().socket.receive(id, text.to_string(), now);
                }
                Some(Ok(Message::Pong(_))) => {
                    if let Some(c) = sim.lock().socket.connection_mut(id) {
                        c.pongs += 1;
                    }
                }
                Some(Ok(Message::Close(_))) => by_client = true,
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            },
        }
    }
    sim.lock().socket.closed(id, by_client);
}

/// The Socket Mode controls of the simulator.
impl Simulator {
    /// The app-level token (`xapp-…`) that `apps.connections.open` accepts.
    pub fn set_app_token(&self, token: &str) {
        self.lock().socket.app_token = Some(token.to_string());
    }

    /// Delivers an envelope to the newest greeted connection (or queues it until one is
    /// greeted). Returns its envelope id.
    pub fn socket_deliver(
        &self,
        kind: &str,
        payload: Value,
        accepts_response_payload: bool,
    ) -> String {
        let now = self.now_ms();
        self.lock()
            .socket
            .deliver(now, kind, payload, accepts_response_payload)
    }

    pub fn socket_envelopes(&self) -> Vec<SimEnvelope> {
        self.lock().socket.envelopes.clone()
    }

    pub fn socket_acks(&self) -> Vec<SimAck> {
        self.lock().socket.acks.clone()
    }

    pub fn socket_ack(&self, envelope_id: &str) -> Option<SimAck> {
        self.lock()
            .socket
            .acks
            .iter()
            .find(|a| a.envelope_id == envelope_id)
            .cloned()
    }

    /// Waits (real time, up to `within`) for the envelope's acknowledgement.
    pub async fn wait_for_ack(
        &self,
        envelope_id: &str,
        within: std::time::Duration,
    ) -> Option<SimAck> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(ack) = self.socket_ack(envelope_id) {
                return Some(ack);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// Waits (real time, up to `within`) until `ready` holds for the Socket Mode state.
    pub async fn wait_for_socket(
        &self,
        within: std::time::Duration,
        ready: impl Fn(&[SimConnection]) -> bool,
    ) -> bool {
        let deadline = std::time::Instant::now() + within;
        loop {
            if ready(&self.socket_connections()) {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }

    /// Every connection so far, in the order they were opened.
    pub fn socket_connections(&self) -> Vec<SimConnection> {
        self.lock().socket.connections.clone()
    }

    /// Successful `apps.connections.open` calls.
    pub fn socket_urls_opened(&self) -> usize {
        self.lock().socket.opens
    }

    /// What broke Socket Mode's rules: unknown or repeated acks, acks on another connection.
    pub fn socket_violations(&self) -> Vec<String> {
        self.lock().socket.violations.clone()
    }

    /// While on, acknowledgements are received but not looked at (as if the network held
    /// them); [`Simulator::socket_release_acks`] reads them at the clock's time then.
    pub fn socket_hold_acks(&self, on: bool) {
        self.lock().socket.hold_acks = on;
    }

    /// Acknowledgements held back so far.
    pub fn socket_held_acks(&self) -> usize {
        self.lock().socket.held.len()
    }

    /// Reads the held acknowledgements now (late ones are recorded as late), and stops holding.
    pub fn socket_release_acks(&self) {
        let now = self.now_ms();
        let mut state = self.lock();
        state.socket.hold_acks = false;
        let held = std::mem::take(&mut state.socket.held);
        for (conn, text) in held {
            state.socket.record_ack(conn, &text, now);
        }
    }

    /// The held acknowledgements are lost on the way (as on a broken network path), and
    /// acks are read again from now on.
    pub fn socket_lose_held_acks(&self) {
        let mut state = self.lock();
        state.socket.hold_acks = false;
        state.socket.held.clear();
    }

    /// Slack's retry: every envelope whose acknowledgement is missing or came after the
    /// deadline (by the clock) is delivered again with `retry_attempt` one higher, at most
    /// three times. Returns the new envelope ids.
    pub fn socket_redeliver_overdue(&self) -> Vec<String> {
        let now = self.now_ms();
        let mut state = self.lock();
        let socket = &mut state.socket;
        let overdue: Vec<usize> = socket
            .envelopes
            .iter()
            .enumerate()
            .filter(|(_, e)| {
                !e.redelivered
                    && e.retry_attempt < MAX_RETRIES
                    && e.sent_at_ms
                        .is_some_and(|sent| now - sent > ACK_DEADLINE_MS)
                    && !socket.on_time_ack(&e.envelope_id)
            })
            .map(|(i, _)| i)
            .collect();
        let mut fresh = Vec::new();
        for i in overdue {
            socket.envelopes[i].redelivered = true;
            let previous = socket.envelopes[i].clone();
            let envelope_id = socket.new_envelope_id();
            socket.envelopes.push(SimEnvelope {
                envelope_id: envelope_id.clone(),
                retry_attempt: previous.retry_attempt + 1,
                retry_reason: "timeout".into(),
                conn: None,
                sent_at_ms: None,
                redelivered: false,
                ..previous
            });
            socket.route(&envelope_id, now);
            fresh.push(envelope_id);
        }
        fresh
    }

    /// `disconnect` with `refresh_requested` on every open connection: they get no new
    /// envelopes once another connection is greeted.
    pub fn socket_request_refresh(&self) {
        let mut state = self.lock();
        let socket = &mut state.socket;
        let open = socket.open_ids();
        for id in open {
            if let Some(c) = socket.connection_mut(id) {
                c.retiring = true;
            }
            let frame = json!({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": format!("applink-sim-{id}")}});
            socket.send(id, Out::Text(frame.to_string()));
        }
    }

    /// Socket Mode turned off for the app: `disconnect` with `link_disabled`, then a close.
    pub fn socket_link_disabled(&self) {
        let mut state = self.lock();
        let socket = &mut state.socket;
        let open = socket.open_ids();
        for id in open {
            let frame = json!({"type": "disconnect", "reason": "link_disabled", "debug_info": {"host": format!("applink-sim-{id}")}});
            socket.send(id, Out::Text(frame.to_string()));
            socket.send(id, Out::Close);
        }
    }

    /// Every open connection dies without a close frame. Acks held back on them are lost.
    pub fn socket_drop(&self) {
        let mut state = self.lock();
        let socket = &mut state.socket;
        let open = socket.open_ids();
        for id in open {
            socket.send(id, Out::Drop);
            socket.closed(id, false);
        }
    }

    /// A ping on every open connection (the client must answer with a pong).
    pub fn socket_ping(&self) {
        let state = self.lock();
        for c in state.socket.connections.iter().filter(|c| c.is_open()) {
            state.socket.send(c.id, Out::Ping);
        }
    }
}
