//! The HTTP listeners' accept loop, on hyper's HTTP/1 server rather than `axum::serve`, so that
//! a client cannot hold a connection without sending anything useful:
//!
//! - **Headers in time.** A request's headers must be in within `LOOPBOT_HEADER_TIMEOUT` (hyper's
//!   header read timeout); an idle keep-alive connection is closed after as long.
//! - **Body in time.** A request's body must be in within `LOOPBOT_BODY_TIMEOUT` of its
//!   headers; reading it then fails with [`BodyTimedOut`], which Slack's routes answer `408`.
//! - **A bound on connections.** At most `LOOPBOT_MAX_CONNECTIONS` are open at once, which keeps
//!   the process below its file limit (raised at start by [`raise_file_limit`]).
//!
//! What happens at the bound decides whether `/healthz` and Slack still get answers when a
//! thousand stalled connections are open. Refusing or queueing newcomers would not do: a new
//! connection would wait for a stalled one to time out. So a newcomer is always let in, and
//! room is made for it by closing the connection that has been **waiting on its client** the
//! longest: one still sending its headers or body, idle between requests, or not reading its
//! answer. A connection whose request is being worked on is never closed that way. Stalled
//! connections are the ones that wait, so they are the ones shed, oldest first, while a real
//! client, which sends its request at once, is answered within milliseconds of connecting. Only
//! when every connection is busy answering does a newcomer wait (in the kernel's backlog) for
//! one to finish.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot, watch};
use tower_service::Service;

use crate::metrics::{Metrics, label};

/// A listener's limits (from the settings).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

/// How often a newcomer at the bound looks again for a connection to shed, while every one is
/// busy answering.
const LOOK_AGAIN: Duration = Duration::from_millis(50);
/// The pause after a failed `accept` (out of file descriptors, most likely).
const ACCEPT_PAUSE: Duration = Duration::from_millis(50);
/// When stopping, how long a client still sending its request has to finish it.
const STOP_GRACE: Duration = Duration::from_secs(1);
/// A failing `accept` is logged at most this often.
const WARN_EVERY: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `stop` turns true, then stops accepting, lets requests
/// in flight finish, closes idle connections, and returns when every connection has ended.
/// `name` labels this listener's metrics (`main`, `metrics`).
pub async fn serve(
    name: &'static str,
    listener: TcpListener,
    router: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    mut stop: watch::Receiver<bool>,
) {
    let open = Arc::new(Open::new(name, metrics));
    let places = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let mut warned: Option<Instant> = None;
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    accept_failed(e, &open, &mut warned).await;
                    continue;
                }
            },
            _ = stopped(&mut stop) => break,
        };
        let place = match Arc::clone(&places).try_acquire_owned() {
            Ok(place) => place,
            Err(_) => match make_room(&places, &open, &mut stop).await {
                Some(place) => place,
                None => break,
            },
        };
        let (handle, shed) = open.add();
        tokio::spawn(connection(
            http.clone(),
            stream,
            router.clone(),
            handle,
            shed,
            stop.clone(),
            place,
            limits.body_timeout,
        ));
    }
    drop(listener);
    // Every place back: every connection has ended.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = places.acquire_many(all).await;
}

/// Resolves once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// At the bound: sheds the connection waiting longest on its client, then waits for a place
/// (the shed one's, or any other that ends). `None` when stopping.
async fn make_room(
    places: &Arc<Semaphore>,
    open: &Open,
    stop: &mut watch::Receiver<bool>,
) -> Option<OwnedSemaphorePermit> {
    loop {
        open.shed_longest_waiting();
        tokio::select! {
            place = Arc::clone(places).acquire_owned() => return place.ok(),
            // Every connection was busy answering: one may be waiting on its client by now.
            _ = tokio::time::sleep(LOOK_AGAIN) => {}
            _ = stopped(stop) => return None,
        }
    }
}

/// A failed `accept`. A connection the client gave up on is nothing; anything else is most
/// likely the file limit (EMFILE, ENFILE): shed a waiting connection to give a descriptor
/// back, and pause rather than spin.
async fn accept_failed(e: io::Error, open: &Open, warned: &mut Option<Instant>) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    ) {
        return;
    }
    if warned.is_none_or(|at| at.elapsed() >= WARN_EVERY) {
        *warned = Some(Instant::now());
        tracing::warn!(listener = open.name, error = %e, "cannot accept connections; closing the one waiting longest on its client");
    }
    open.shed_longest_waiting();
    tokio::time::sleep(ACCEPT_PAUSE).await;
}

/// One connection, until it ends, is shed, or (when stopping) has finished its request.
#[allow(clippy::too_many_arguments)]
async fn connection(
    http: http1::Builder,
    stream: TcpStream,
    router: Router,
    handle: Arc<Handle>,
    mut shed: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
    _place: OwnedSemaphorePermit,
    body_timeout: Duration,
) {
    let service = {
        let handle = Arc::clone(&handle);
        hyper::service::service_fn(move |request| {
            answer(router.clone(), Arc::clone(&handle), body_timeout, request)
        })
    };
    let conn = http.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let mut stopping = false;
    let mut look_at: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    if e.is_timeout() {
                        handle.open.dropped("header_timeout");
                    } else {
                        tracing::debug!(error = %e, "an HTTP connection ended with an error");
                    }
                }
                break;
            }
            // Dropping the connection closes its socket.
            _ = &mut shed => break,
            // Stopping: an idle connection closes now, a request being worked on is finished,
            // and a client still sending has STOP_GRACE to finish its request before it is
            // closed (rather than when its header or body timeout ends).
            _ = stopped(&mut stop), if !stopping => {
                stopping = true;
                conn.as_mut().graceful_shutdown();
                look_at = Some(tokio::time::Instant::now() + STOP_GRACE);
            }
            _ = tokio::time::sleep_until(look_at.unwrap_or_else(tokio::time::Instant::now)), if look_at.is_some() => {
                if handle.is_waiting() {
                    break;
                }
                look_at = Some(tokio::time::Instant::now() + LOOK_AGAIN);
            }
        }
    }
}

/// One request through the router, with the connection marked busy while Loopbot works on it
/// and waiting while it waits on the client (for the body, or after the answer).
async fn answer(
    mut router: Router,
    handle: Arc<Handle>,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let request = if request.body().is_end_stream() {
        handle.busy();
        request.map(Body::new)
    } else {
        handle.waiting();
        let deadline = tokio::time::Instant::now() + body_timeout;
        let handle = Arc::clone(&handle);
        request.map(move |body| {
            Body::new(TimedBody {
                body,
                deadline: Box::pin(tokio::time::sleep_until(deadline)),
                limit: body_timeout,
                handle,
            })
        })
    };
    std::future::poll_fn(|cx| Service::<Request<Body>>::poll_ready(&mut router, cx)).await?;
    let response = router.call(request).await;
    handle.waiting();
    response
}

/// Reading a request's body took longer than `LOOPBOT_BODY_TIMEOUT`.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
pub struct BodyTimedOut(Duration);

impl BodyTimedOut {
    /// Whether `error`, or anything that caused it, is a body read timeout.
    pub fn caused(error: &(dyn std::error::Error + 'static)) -> bool {
        let mut cause = Some(error);
        while let Some(e) = cause {
            if e.is::<BodyTimedOut>() {
                return true;
            }
            cause = e.source();
        }
        false
    }
}

/// A request body that must be in by a deadline; the connection is busy once it is.
struct TimedBody {
    body: Incoming,
    deadline: Pin<Box<tokio::time::Sleep>>,
    limit: Duration,
    handle: Arc<Handle>,
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(None) => {
                this.handle.busy();
                Poll::Ready(None)
            }
            Poll::Ready(Some(Ok(frame))) => {
                if this.body.is_end_stream() {
                    this.handle.busy();
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    this.handle.open.dropped("body_timeout");
                    Poll::Ready(Some(Err(BodyTimedOut(this.limit).into())))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The open connections of one listener.
struct Open {
    name: &'static str,
    metrics: Arc<Metrics>,
    slots: Mutex<Slots>,
}

#[derive(Default)]
struct Slots {
    next: u64,
    by_id: HashMap<u64, Slot>,
}

struct Slot {
    /// Since when the connection has been waiting on its client; `None` while a request is
    /// being worked on.
    waiting_since: Option<Instant>,
    shed: oneshot::Sender<()>,
}

impl Open {
    fn new(name: &'static str, metrics: Arc<Metrics>) -> Open {
        metrics.set("loopbot_http_connections", label("listener", name), 0);
        Open {
            name,
            metrics,
            slots: Mutex::default(),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new connection, waiting for its first request; the receiver hears when it is shed.
    fn add(self: &Arc<Self>) -> (Arc<Handle>, oneshot::Receiver<()>) {
        let (shed, shed_rx) = oneshot::channel();
        let mut slots = self.slots();
        let id = slots.next;
        slots.next += 1;
        slots.by_id.insert(
            id,
            Slot {
                waiting_since: Some(Instant::now()),
                shed,
            },
        );
        self.count(slots.by_id.len());
        let handle = Handle {
            open: Arc::clone(self),
            id,
        };
        (Arc::new(handle), shed_rx)
    }

    /// Closes the connection that has waited longest on its client; false when every one is
    /// busy answering.
    fn shed_longest_waiting(&self) -> bool {
        let mut slots = self.slots();
        let Some((_, id)) = slots
            .by_id
            .iter()
            .filter_map(|(id, slot)| Some((slot.waiting_since?, *id)))
            .min()
        else {
            return false;
        };
        if let Some(slot) = slots.by_id.remove(&id) {
            let _ = slot.shed.send(());
        }
        self.count(slots.by_id.len());
        drop(slots);
        self.dropped("shed");
        true
    }

    /// A connection waiting on its client keeps the time it began to (headers, then body, is
    /// one wait); a busy one has none.
    fn mark(&self, id: u64, waiting: bool) {
        if let Some(slot) = self.slots().by_id.get_mut(&id) {
            slot.waiting_since = match waiting {
                true => Some(slot.waiting_since.unwrap_or_else(Instant::now)),
                false => None,
            };
        }
    }

    fn count(&self, open: usize) {
        self.metrics.set(
            "loopbot_http_connections",
            label("listener", self.name),
            i64::try_from(open).unwrap_or(i64::MAX),
        );
    }

    fn dropped(&self, reason: &str) {
        self.metrics.inc(
            "loopbot_http_connections_dropped_total",
            label("listener", self.name).and("reason", reason),
        );
    }
}

/// A connection's place among the open ones; dropped with the connection.
struct Handle {
    open: Arc<Open>,
    id: u64,
}

impl Handle {
    /// Whether the connection waits on its client (or has been shed).
    fn is_waiting(&self) -> bool {
        self.open
            .slots()
            .by_id
            .get(&self.id)
            .is_none_or(|slot| slot.waiting_since.is_some())
    }

    fn waiting(&self) {
        self.open.mark(self.id, true);
    }

    fn busy(&self) {
        self.open.mark(self.id, false);
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let mut slots = self.open.slots();
        slots.by_id.remove(&self.id);
        self.open.count(slots.by_id.len());
    }
}

/// File descriptors a process needs besides its HTTP connections: the database pool, Slack
/// clients, the Socket Mode WebSocket, `/metrics`' own listener, logs, the runtime.
pub const RESERVED_FILES: u64 = 128;

/// Raises the soft limit on open files to the hard limit, once per process, and logs it once.
/// Returns the soft limit in force (`None` where it cannot be read).
pub fn raise_file_limit() -> Option<u64> {
    static LIMIT: OnceLock<Option<u64>> = OnceLock::new();
    *LIMIT.get_or_init(|| {
        let before = rlimit::getrlimit(rlimit::Resource::NOFILE).ok();
        match rlimit::increase_nofile_limit(u64::MAX) {
            Ok(now) => {
                let (soft, hard) = before.unwrap_or((now, now));
                if now > soft {
                    tracing::info!(from = soft, to = now, hard, "raised the open file limit");
                } else {
                    tracing::info!(limit = now, hard, "open file limit");
                }
                Some(now)
            }
            Err(e) => {
                let soft = before.map(|(soft, _)| soft);
                tracing::warn!(error = %e, limit = soft, "could not raise the open file limit");
                soft
            }
        }
    })
}

/// `wanted` connections, or fewer when the file limit would not hold them besides
/// [`RESERVED_FILES`]; the second value tells whether it was lowered.
pub fn fit_to_file_limit(wanted: usize, file_limit: Option<u64>) -> (usize, bool) {
    let Some(limit) = file_limit else {
        return (wanted, false);
    };
    let room = usize::try_from(limit.saturating_sub(RESERVED_FILES)).unwrap_or(usize::MAX);
    if wanted <= room {
        (wanted, false)
    } else {
        (room.max(1), true)
    }
}

#[cfg(test)]
mod tests;
