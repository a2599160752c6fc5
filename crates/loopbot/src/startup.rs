//! Building and running the application: `Application::build` binds (port 0 in tests) and
//! returns; `run_until_stopped` serves HTTP and runs the worker until a shutdown signal, then
//! drains both. The only place that wires the routes and the worker together. In Socket Mode
//! it also runs the Socket Mode client, and HTTP serves only `/healthz`, `/readyz` and
//! `/metrics`. With `LOOPBOT_METRICS_LISTEN`, `/metrics` has a listener of its own.
//!
//! Both listeners run [`crate::listener`]'s accept loop: header and body read timeouts and a
//! bound on connections that sheds stalled clients first. Start-up raises the open file limit
//! to what the system allows and keeps the bound under it.
//!
//! Start-up asks Slack whether the bot token works (`auth.test`): a refused token stops it with
//! one line naming `SLACK_BOT_TOKEN`; Slack out of reach is a warning, and the check is
//! repeated in the background until it answers (`/readyz` says 503 meanwhile).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::clock::SharedClock;
use crate::listener::{self, Limits};
use crate::routes::socket::SocketMode;
use crate::services::events::{TokenCheck, check_token};
use crate::settings::{Settings, SettingsError, Transport};
use crate::state::AppState;

/// How long to wait before asking Slack about the token again when it could not be reached.
const RECHECK_TOKEN_EVERY: Duration = Duration::from_secs(30);
/// `/metrics`' own listener serves a scraper or two: a small bound of its own.
const METRICS_MAX_CONNECTIONS: usize = 32;

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    /// `LOOPBOT_METRICS_LISTEN`'s listener and address.
    metrics: Option<(TcpListener, SocketAddr)>,
    state: AppState,
    socket: Option<SocketMode>,
    /// The main listener's limits (the bound fitted to the file limit).
    limits: Limits,
}

impl Application {
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<Application> {
        let listen = settings.listen;
        let state = AppState::new(settings, clock).await?;
        match check_token(&state).await {
            TokenCheck::Works => {}
            TokenCheck::Refused(code) => {
                return Err(SettingsError {
                    variable: "SLACK_BOT_TOKEN",
                    problem: format!(
                        "Slack refused the bot token (`{code}`); copy the Bot User OAuth Token (xoxb-...) from your app's OAuth & Permissions page (it changes when the app is reinstalled)"
                    ),
                }
                .into());
            }
            TokenCheck::Unreachable(why) => {
                tracing::warn!(error = %why, retry_in = ?RECHECK_TOKEN_EVERY, "cannot check SLACK_BOT_TOKEN with Slack yet; starting anyway and trying again (/readyz answers 503 until it works)");
            }
        }
        // Work an earlier run of this process was doing goes back to the queue now, not when
        // its lease runs out.
        crate::jobs::worker::take_back_own_work(&state).await?;
        // A token Slack refuses stops start-up here, before anything listens.
        let socket = match state.settings.transport {
            Transport::Socket => Some(SocketMode::check(&state).await?),
            Transport::Http => None,
        };
        // After the checks, so that a start-up error stays the one line on stderr.
        let limits = fitted_limits(&state.settings);
        let listener = bind("LOOPBOT_LISTEN", listen).await?;
        let address = listener.local_addr()?;
        let metrics = match state.settings.metrics_listen {
            Some(at) => {
                let listener = bind("LOOPBOT_METRICS_LISTEN", at).await?;
                let address = listener.local_addr()?;
                Some((listener, address))
            }
            None => None,
        };
        Ok(Application {
            listener,
            address,
            metrics,
            state,
            socket,
            limits,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where `/metrics` has its own listener (`LOOPBOT_METRICS_LISTEN`), if it has one.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, address)| *address)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, then stops taking requests, lets in-flight requests
    /// and the current job finish (bounded), and returns.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let worker = self.state.settings.run_worker.then(|| {
            tokio::spawn(crate::jobs::worker::run_until_stopped(
                self.state.clone(),
                stop_rx.clone(),
            ))
        });
        let server = tokio::spawn(listener::serve(
            "main",
            self.listener,
            crate::routes::router(self.state.clone()),
            self.limits,
            self.state.metrics.clone(),
            stop_rx.clone(),
        ));
        let metrics_server = self.metrics.map(|(metrics_listener, _)| {
            let limits = Limits {
                max_connections: METRICS_MAX_CONNECTIONS.min(self.limits.max_connections),
                ..self.limits
            };
            tokio::spawn(listener::serve(
                "metrics",
                metrics_listener,
                crate::routes::metrics_router(self.state.clone()),
                limits,
                self.state.metrics.clone(),
                stop_rx.clone(),
            ))
        });
        let token_check = (!self
            .state
            .token_ok
            .load(std::sync::atomic::Ordering::SeqCst))
        .then(|| tokio::spawn(recheck_token(self.state.clone(), stop_rx.clone())));
        let socket = self
            .socket
            .map(|socket| tokio::spawn(socket.run(self.state.clone(), stop_rx.clone())));
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests and the current job");
        let _ = stop_tx.send(true);
        if let Some(check) = token_check {
            check.abort();
        }
        let drain = async {
            let _ = server.await;
            if let Some(metrics_server) = metrics_server {
                let _ = metrics_server.await;
            }
            // Envelopes in hand are acknowledged before the sockets close.
            if let Some(socket) = socket {
                let _ = socket.await;
            }
            if let Some(worker) = worker {
                let _ = worker.await;
            }
        };
        if tokio::time::timeout(Duration::from_secs(9), drain)
            .await
            .is_err()
        {
            tracing::warn!("shutdown took longer than 9 s; unfinished jobs resume on next start");
        }
        Ok(())
    }
}

/// The listener's limits from the settings, with the open file limit raised first and the
/// bound on connections lowered (with a warning) if the limit would not hold it.
fn fitted_limits(settings: &Settings) -> Limits {
    let file_limit = listener::raise_file_limit();
    let (max_connections, lowered) =
        listener::fit_to_file_limit(settings.max_connections, file_limit);
    if lowered {
        tracing::warn!(
            wanted = settings.max_connections,
            allowed = max_connections,
            file_limit,
            "LOOPBOT_MAX_CONNECTIONS is more than the open file limit holds; raise the limit (LimitNOFILE, ulimit -n) or lower the setting"
        );
    }
    Limits {
        header_timeout: settings.header_timeout,
        body_timeout: settings.body_timeout,
        max_connections,
    }
}

async fn bind(variable: &'static str, at: SocketAddr) -> Result<TcpListener, SettingsError> {
    TcpListener::bind(at).await.map_err(|e| SettingsError {
        variable,
        problem: format!("cannot listen on {at}: {e}"),
    })
}

/// Asks Slack about the token again every [`RECHECK_TOKEN_EVERY`] until it answers.
async fn recheck_token(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(RECHECK_TOKEN_EVERY) => {}
            _ = stop.wait_for(|stop| *stop) => return,
        }
        match check_token(&state).await {
            TokenCheck::Works => {
                tracing::info!("Slack accepted SLACK_BOT_TOKEN: ready");
                return;
            }
            TokenCheck::Refused(code) => {
                tracing::error!(
                    code,
                    "Slack refused SLACK_BOT_TOKEN: not ready; fix the token and restart"
                );
                return;
            }
            TokenCheck::Unreachable(why) => {
                tracing::warn!(error = %why, "still cannot check SLACK_BOT_TOKEN with Slack; trying again");
            }
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C (SIGINT). The handlers are installed when this is called,
/// not when the future is first polled, so call it before the server starts listening.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
