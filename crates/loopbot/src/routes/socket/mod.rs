//! Socket Mode: Loopbot opens an outbound WebSocket to Slack (`apps.connections.open` with
//! the app-level token) and receives slash commands, interactions and events over it, so it
//! needs no public URL. Each envelope is answered by the HTTP routes' own answer functions
//! ([`dispatch`]) and acknowledged on its connection ([`connection`]).
//!
//! The supervisor here keeps one connection up: when Slack asks for a refresh it opens a
//! second one and closes the first only once the second is greeted and the first has
//! acknowledged what it holds; a dropped connection is reopened with backoff and jitter;
//! `link_disabled` stops reconnecting. On shutdown every connection acknowledges the envelopes
//! in hand, then closes cleanly.

mod connection;
mod dispatch;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use crate::metrics::label;
use crate::slack::socket::DisconnectReason;
use crate::slack::{SlackApi, SlackError};
use crate::state::AppState;
use connection::Connection;
use dispatch::Dispatcher;

const CONNECTED: &str = "loopbot_socket_connected";
const RECONNECTS: &str = "loopbot_socket_reconnects_total";

/// How a connection should wind down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drain {
    /// Replaced by a newer connection: answer whatever still arrives, close when quiet.
    Refresh,
    /// The process stops: answer what is in hand, take nothing new, close.
    Shutdown,
}

/// How a connection ended.
#[derive(Debug)]
enum Ended {
    OpenFailed(SlackError),
    Dropped(String),
    ClosedBySlack,
    ClosedByUs,
}

/// What connections tell the supervisor.
#[derive(Debug)]
enum Event {
    Ready(u64),
    Disconnect(u64, DisconnectReason),
    Closed(u64, Ended),
}

struct Live {
    drain: Option<oneshot::Sender<Drain>>,
    ready: bool,
    /// Slack asked for it to be replaced.
    retiring: bool,
    task: tokio::task::JoinHandle<()>,
}

/// Socket Mode, built and checked at start-up, run by `startup`.
pub struct SocketMode {
    api: SlackApi,
    /// The URL opened when the token was checked, used for the first connection.
    first_url: Option<String>,
}

impl SocketMode {
    /// Opens a first URL with the app-level token. A token Slack refuses stops start-up with
    /// one line naming `SLACK_APP_TOKEN`; Slack being unreachable does not (Loopbot keeps
    /// trying, as after any drop).
    pub async fn check(state: &AppState) -> anyhow::Result<SocketMode> {
        let token = state
            .settings
            .app_token
            .clone()
            .ok_or_else(|| anyhow::anyhow!("SLACK_APP_TOKEN: missing"))?;
        let api = SlackApi::new(
            &state.settings.slack_api_url,
            token,
            Duration::from_secs(10),
            state.clock.clone(),
            None,
        )?;
        state.metrics.set(CONNECTED, "", 0);
        let first_url = match api.open_socket_url().await {
            Ok(url) => Some(url),
            Err(SlackError::Api { code, .. }) => {
                return Err(crate::settings::SettingsError {
                    variable: "SLACK_APP_TOKEN",
                    problem: format!(
                        "Slack refused the app-level token (`{code}`); create one with the connections:write scope under Basic Information → App-Level Tokens, and turn Socket Mode on"
                    ),
                }
                .into());
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a Socket Mode connection yet; retrying");
                None
            }
        };
        Ok(SocketMode { api, first_url })
    }

    /// Keeps a connection up until `stop`, then drains and closes every connection.
    pub async fn run(self, state: AppState, mut stop: watch::Receiver<bool>) {
        let dispatcher = Arc::new(Dispatcher::default());
        let (events_tx, mut events) = mpsc::unbounded_channel::<Event>();
        let mut live: BTreeMap<u64, Live> = BTreeMap::new();
        let mut next_id = 0u64;
        let mut backoff = Backoff::default();
        let mut disabled = false;
        let mut reconnect: Option<(Instant, &'static str)> = None;
        let mut first_url = self.first_url.clone();

        let mut open = |live: &mut BTreeMap<u64, Live>, url: Option<String>| {
            next_id += 1;
            let (drain, drained) = oneshot::channel();
            let connection = Connection {
                id: next_id,
                state: state.clone(),
                api: self.api.clone(),
                dispatcher: Arc::clone(&dispatcher),
                events: events_tx.clone(),
            };
            let task = tokio::spawn(connection.run(url, drained));
            live.insert(
                next_id,
                Live {
                    drain: Some(drain),
                    ready: false,
                    retiring: false,
                    task,
                },
            );
        };
        open(&mut live, first_url.take());

        loop {
            let wake = reconnect.map(|(at, _)| at);
            tokio::select! {
                _ = stop.wait_for(|stop| *stop) => break,
                Some(event) = events.recv() => match event {
                    Event::Ready(id) => {
                        backoff.reset();
                        if let Some(c) = live.get_mut(&id) {
                            c.ready = true;
                        }
                        // The replacement is greeted: the connections it replaces wind down.
                        for c in live.values_mut().filter(|c| c.retiring) {
                            if let Some(drain) = c.drain.take() {
                                let _ = drain.send(Drain::Refresh);
                            }
                        }
                    }
                    Event::Disconnect(id, DisconnectReason::LinkDisabled) => {
                        tracing::error!(connection = id, "Slack turned Socket Mode off for this app (link_disabled): no more envelopes arrive. Turn Socket Mode back on in the app's settings and restart Loopbot, or run it with LOOPBOT_MODE=http");
                        disabled = true;
                        reconnect = None;
                        for c in live.values_mut() {
                            if let Some(drain) = c.drain.take() {
                                let _ = drain.send(Drain::Refresh);
                            }
                        }
                    }
                    Event::Disconnect(id, reason) => {
                        if let Some(c) = live.get_mut(&id) {
                            c.retiring = true;
                        }
                        if !disabled && !live.values().any(|c| !c.retiring) {
                            let label_value = match reason {
                                DisconnectReason::RefreshRequested => "refresh_requested",
                                DisconnectReason::Warning => "warning",
                                _ => "disconnect",
                            };
                            state.metrics.inc(RECONNECTS, label("reason", label_value));
                            open(&mut live, None);
                        }
                    }
                    Event::Closed(id, ended) => {
                        live.remove(&id);
                        match &ended {
                            Ended::OpenFailed(e) => tracing::warn!(connection = id, error = %e, "apps.connections.open failed"),
                            Ended::Dropped(why) => tracing::warn!(connection = id, why, "Socket Mode connection lost"),
                            Ended::ClosedBySlack => tracing::info!(connection = id, "Slack closed a Socket Mode connection"),
                            Ended::ClosedByUs => tracing::info!(connection = id, "Socket Mode connection closed"),
                        }
                        if !disabled && reconnect.is_none() && !live.values().any(|c| !c.retiring) {
                            let delay = backoff.next();
                            tracing::info!(delay_ms = delay.as_millis() as u64, "reconnecting to Slack");
                            reconnect = Some((Instant::now() + delay, "dropped"));
                        }
                    }
                },
                _ = sleep_until(wake), if wake.is_some() => {
                    if let Some((_, reason)) = reconnect.take() {
                        state.metrics.inc(RECONNECTS, label("reason", reason));
                        open(&mut live, None);
                    }
                }
            }
            let connected = live.values().filter(|c| c.ready).count();
            state.metrics.set(CONNECTED, "", connected as i64);
        }

        // Shutdown: every connection acknowledges what it holds, then closes.
        for c in live.values_mut() {
            if let Some(drain) = c.drain.take() {
                let _ = drain.send(Drain::Shutdown);
            }
        }
        let tasks: Vec<_> = live.into_values().map(|c| c.task).collect();
        let all = async {
            for task in tasks {
                let _ = task.await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(8), all)
            .await
            .is_err()
        {
            tracing::warn!("a Socket Mode connection did not close in time");
        }
        state.metrics.set(CONNECTED, "", 0);
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Exponential backoff with jitter: 250 ms, 500 ms, 1 s … up to 30 s, each drawn between
/// half and all of that, so many instances do not come back in step.
#[derive(Debug, Default)]
struct Backoff {
    failures: u32,
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let ceiling = 250u64
            .saturating_mul(1u64 << self.failures.min(7))
            .min(30_000);
        self.failures += 1;
        Duration::from_millis(fastrand::u64(ceiling / 2..=ceiling))
    }

    fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_up_to_thirty_seconds_and_resets() {
        let mut b = Backoff::default();
        let first = b.next();
        assert!(first >= Duration::from_millis(125) && first <= Duration::from_millis(250));
        let second = b.next();
        assert!(second >= Duration::from_millis(250) && second <= Duration::from_millis(500));
        for _ in 0..20 {
            assert!(b.next() <= Duration::from_secs(30));
        }
        assert!(b.next() >= Duration::from_secs(15));
        b.reset();
        assert!(b.next() <= Duration::from_millis(250));
    }
}
