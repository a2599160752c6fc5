//! Building and running the application: `Application::build` binds (port 0 in tests) and
//! returns; `run_until_stopped` serves HTTP and runs the worker until a shutdown signal, then
//! drains both. The only place that wires the routes and the worker together. In Socket Mode
//! it also runs the Socket Mode client, and HTTP serves only `/healthz` and `/metrics`.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::clock::SharedClock;
use crate::routes::socket::SocketMode;
use crate::settings::{Settings, Transport};
use crate::state::AppState;

pub struct Application {
    listener: TcpListener,
    address: SocketAddr,
    state: AppState,
    socket: Option<SocketMode>,
}

impl Application {
    pub async fn build(settings: Settings, clock: SharedClock) -> anyhow::Result<Application> {
        let listen = settings.listen;
        let state = AppState::new(settings, clock).await?;
        crate::services::events::resume_if_token_works(&state).await;
        // Work an earlier run of this process was doing goes back to the queue now, not when
        // its lease runs out.
        crate::worker::take_back_own_work(&state).await?;
        // A token Slack refuses stops start-up here, before anything listens.
        let socket = match state.settings.transport {
            Transport::Socket => Some(SocketMode::check(&state).await?),
            Transport::Http => None,
        };
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| anyhow::anyhow!("LOOPBOT_LISTEN: cannot listen on {listen}: {e}"))?;
        let address = listener.local_addr()?;
        Ok(Application {
            listener,
            address,
            state,
            socket,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
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
            tokio::spawn(crate::worker::run_until_stopped(
                self.state.clone(),
                stop_rx.clone(),
            ))
        });
        let router = crate::routes::router(self.state.clone());
        let mut server_stop = stop_rx.clone();
        let server = axum::serve(self.listener, router).with_graceful_shutdown(async move {
            let _ = server_stop.wait_for(|stop| *stop).await;
        });
        let server = tokio::spawn(async move { server.await });
        let socket = self
            .socket
            .map(|socket| tokio::spawn(socket.run(self.state.clone(), stop_rx.clone())));
        shutdown.await;
        tracing::info!("shutting down: finishing in-flight requests and the current job");
        let _ = stop_tx.send(true);
        let drain = async {
            let _ = server.await;
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
