//! One Socket Mode connection: open a fresh URL, connect, wait for `hello`, then read frames.
//! Each envelope is answered on its own task and acknowledged on this connection; pings keep
//! it honest. Asked to drain, it stops when its envelopes are acknowledged, then closes the
//! WebSocket cleanly.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::dispatch::Dispatcher;
use super::{Drain, Ended, Event};
use crate::metrics::label;
use crate::slack::SlackApi;
use crate::slack::socket::{EnvelopeKind, Frame, ack, parse_frame};
use crate::state::AppState;

/// Slack sends `hello` at once; a connection without one is not used.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
const PING_EVERY: Duration = Duration::from_secs(10);
/// Nothing heard (not even a pong) for this long: the connection is dead.
const SILENT_FOR: Duration = Duration::from_secs(35);
/// A draining connection for a refresh closes once this long has passed with no envelope.
const QUIET: Duration = Duration::from_millis(200);
/// A drain never waits longer than this for envelopes in hand.
const DRAIN_AT_MOST: Duration = Duration::from_secs(5);
/// After our close frame, how long Slack has to answer it.
const CLOSE_WITHIN: Duration = Duration::from_secs(1);

pub(super) struct Connection {
    pub id: u64,
    pub state: AppState,
    pub api: SlackApi,
    pub dispatcher: Arc<Dispatcher>,
    pub events: mpsc::UnboundedSender<Event>,
}

enum Outgoing {
    /// A text frame; `sent` learns whether it was written.
    Text(String, Option<oneshot::Sender<bool>>),
    Ping,
    Close,
}

impl Connection {
    /// Runs until the connection ends, then tells the supervisor how.
    pub async fn run(self, url: Option<String>, drain: oneshot::Receiver<Drain>) {
        let ended = self.serve(url, drain).await;
        let _ = self.events.send(Event::Closed(self.id, ended));
    }

    async fn serve(&self, url: Option<String>, mut drain: oneshot::Receiver<Drain>) -> Ended {
        let url = match url {
            Some(url) => url,
            None => match self.api.open_socket_url().await {
                Ok(url) => url,
                Err(e) => return Ended::OpenFailed(e),
            },
        };
        let socket = match tokio::time::timeout(
            HELLO_WITHIN,
            tokio_tungstenite::connect_async(url.as_str()),
        )
        .await
        {
            Ok(Ok((socket, _))) => socket,
            Ok(Err(e)) => return Ended::Dropped(format!("could not connect: {e}")),
            Err(_) => return Ended::Dropped("connecting took too long".into()),
        };
        let (mut sink, mut stream) = socket.split();
        let (out, mut outgoing) = mpsc::unbounded_channel::<Outgoing>();
        let writer = tokio::spawn(async move {
            while let Some(message) = outgoing.recv().await {
                match message {
                    Outgoing::Text(text, sent) => {
                        let ok = sink.send(Message::text(text)).await.is_ok();
                        if let Some(sent) = sent {
                            let _ = sent.send(ok);
                        }
                        if !ok {
                            break;
                        }
                    }
                    Outgoing::Ping => {
                        if sink.send(Message::Ping(Default::default())).await.is_err() {
                            break;
                        }
                    }
                    Outgoing::Close => {
                        let frame = CloseFrame {
                            code: CloseCode::Normal,
                            reason: "".into(),
                        };
                        let _ = sink.send(Message::Close(Some(frame))).await;
                        break;
                    }
                }
            }
        });

        let started = Instant::now();
        let mut greeted = false;
        let mut last_heard = Instant::now();
        let mut last_envelope = Instant::now();
        let mut draining: Option<(Drain, Instant)> = None;
        let mut close_sent: Option<Instant> = None;
        let mut handlers = JoinSet::new();
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        let mut next_ping = Instant::now() + PING_EVERY;
        let ended = loop {
            tokio::select! {
                frame = stream.next() => {
                    last_heard = Instant::now();
                    let text = match frame {
                        None => break self.lost("the connection closed", close_sent),
                        Some(Err(e)) => break self.lost(&e.to_string(), close_sent),
                        Some(Ok(Message::Close(_))) => break match close_sent {
                            Some(_) => Ended::ClosedByUs,
                            None => Ended::ClosedBySlack,
                        },
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(_)) => continue,
                    };
                    match parse_frame(&text) {
                        Ok(Frame::Hello { num_connections }) => {
                            if !greeted {
                                greeted = true;
                                tracing::info!(connection = self.id, num_connections, "Socket Mode connection ready");
                                let _ = self.events.send(Event::Ready(self.id));
                            }
                        }
                        Ok(Frame::Disconnect { reason }) => {
                            tracing::info!(connection = self.id, reason = reason.label(), "Slack asks Loopbot to reconnect");
                            let _ = self.events.send(Event::Disconnect(self.id, reason));
                        }
                        Ok(Frame::Envelope(envelope)) => {
                            if close_sent.is_some() || matches!(draining, Some((Drain::Shutdown, _))) {
                                // Not acknowledged: Slack delivers it again, to a connection
                                // that stays.
                                tracing::info!(envelope_id = envelope.envelope_id, "left for redelivery: this connection is closing");
                                continue;
                            }
                            last_envelope = Instant::now();
                            handlers.spawn(answer(
                                self.state.clone(),
                                Arc::clone(&self.dispatcher),
                                envelope,
                                out.clone(),
                                last_envelope,
                            ));
                        }
                        Ok(Frame::Other { kind }) => tracing::debug!(kind, "a Socket Mode frame Loopbot does not use"),
                        Err(problem) => tracing::warn!(problem, "an unreadable Socket Mode frame"),
                    }
                }
                Some(done) = handlers.join_next(), if !handlers.is_empty() => {
                    if let Err(e) = done {
                        tracing::error!(error = %e, "an envelope's handler failed");
                    }
                }
                mode = &mut drain, if draining.is_none() => {
                    let mode = mode.unwrap_or(Drain::Shutdown);
                    draining = Some((mode, Instant::now()));
                }
                _ = tick.tick() => {
                    let now = Instant::now();
                    if let Some(sent) = close_sent {
                        if now.duration_since(sent) > CLOSE_WITHIN {
                            break Ended::ClosedByUs;
                        }
                        continue;
                    }
                    if let Some((mode, since)) = draining {
                        let settled = handlers.is_empty()
                            && (mode == Drain::Shutdown || now.duration_since(last_envelope) >= QUIET);
                        if settled || now.duration_since(since) > DRAIN_AT_MOST {
                            let _ = out.send(Outgoing::Close);
                            close_sent = Some(now);
                            continue;
                        }
                    }
                    if !greeted && now.duration_since(started) > HELLO_WITHIN {
                        break Ended::Dropped("Slack sent no hello".into());
                    }
                    if now.duration_since(last_heard) > SILENT_FOR {
                        break Ended::Dropped("no answer to pings".into());
                    }
                    if now >= next_ping {
                        next_ping = now + PING_EVERY;
                        let _ = out.send(Outgoing::Ping);
                    }
                }
            }
        };
        // Envelopes still in hand finish their work (it is committed either way); their acks
        // are lost with the connection, and Slack's redelivery finds the answer remembered.
        drop(out);
        while handlers.join_next().await.is_some() {}
        let _ = writer.await;
        ended
    }

    fn lost(&self, why: &str, close_sent: Option<Instant>) -> Ended {
        match close_sent {
            Some(_) => Ended::ClosedByUs,
            None => Ended::Dropped(why.to_string()),
        }
    }
}

/// Answers one envelope: the ack goes out on this connection, and only then does a modal
/// open (as over HTTP, where the modal opens after the response). The time from the
/// envelope's arrival to its ack being written is measured in `loopbot_ack_duration_seconds`
/// under the route `socket:<type>`.
async fn answer(
    state: AppState,
    dispatcher: Arc<Dispatcher>,
    envelope: crate::slack::socket::Envelope,
    out: mpsc::UnboundedSender<Outgoing>,
    arrived: Instant,
) {
    let envelope_id = envelope.envelope_id.clone();
    let accepts_payload = envelope.accepts_response_payload;
    let route = socket_route(envelope.kind);
    let Some(reply) = dispatcher.reply(&state, envelope).await else {
        return;
    };
    let payload = reply.payload.as_ref().filter(|_| accepts_payload);
    let (sent, written) = oneshot::channel();
    if out
        .send(Outgoing::Text(ack(&envelope_id, payload), Some(sent)))
        .is_err()
        || !written.await.unwrap_or(false)
    {
        tracing::warn!(
            envelope_id,
            "the acknowledgement was not sent: the connection is gone"
        );
    } else {
        state.metrics.observe(
            "loopbot_ack_duration_seconds",
            label("route", route),
            arrived.elapsed().as_secs_f64(),
        );
    }
    if let Some(modal) = reply.modal {
        crate::routes::open_modal(&state, modal).await;
    }
}

/// The `route` an envelope's acknowledgement is counted under, beside the HTTP routes.
fn socket_route(kind: EnvelopeKind) -> &'static str {
    match kind {
        EnvelopeKind::SlashCommands => "socket:slash_commands",
        EnvelopeKind::Interactive => "socket:interactive",
        EnvelopeKind::EventsApi => "socket:events_api",
    }
}
