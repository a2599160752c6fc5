//! HTTP glue: every `/slack/*` request is size-limited and signature-checked before anything
//! else, then parsed and handed to a service; answers always come within Slack's 3 seconds.
//! In Socket Mode the `/slack/*` routes are off and [`socket`] takes Slack's deliveries from
//! the WebSocket instead; both transports share each route's [`Answer`] function.

mod ats;
mod commands;
mod events;
mod health;
mod interactions;
pub mod replay;
pub mod socket;

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::Value;

use crate::error::AppError;
use crate::listener::BodyTimedOut;
use crate::metrics::label;
use crate::settings::Transport;
use crate::slack::Modal;
use crate::slack::verify;
use crate::state::{AppState, Receipt};
use replay::SeenSignatures;

/// Set on an acknowledgement after which a modal is being opened (for logs and test clients).
pub const OPENING_HEADER: &str = "x-loopbot-modal";

/// What Loopbot answers to one of Slack's deliveries, whichever transport brought it. Any
/// work it implies is committed before it is returned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// Acknowledge with nothing more (closes a submitted modal).
    Empty,
    /// Acknowledge with this body: the HTTP response body, or the envelope's ack payload.
    Json(Value),
    /// Acknowledge, then open this modal.
    Modal(Modal),
    /// Not a delivery Loopbot can read (HTTP 400). Redelivering it would not help.
    Malformed(String),
    /// Could not be handled now and nothing was kept: Slack should deliver it again (HTTP
    /// 500; over the socket, no acknowledgement).
    Retry,
}

/// Whether the request turned out to be one received before: its change failed on its
/// receipt (see [`replay`]).
fn is_repeat(state: &AppState) -> bool {
    state.receipt.as_ref().is_some_and(|r| r.repeated())
}

/// Logs a use case's failure, unless the failure is a repeated delivery's receipt (that is
/// logged once, as a refusal).
fn log_failure(state: &AppState, error: &AppError, during: &str) {
    if !is_repeat(state) {
        error.log(during);
    }
}

/// The HTTP response for an answer. A request whose change found its receipt already written
/// is refused instead, whatever its use case answered, and no modal opens for it.
fn respond(state: &AppState, answer: Answer) -> Response {
    if is_repeat(state) {
        // Logged and counted by `verify_slack_request` (HTTP) or the dispatcher (socket).
        return refusal(verify::Rejection::Replayed);
    }
    match answer {
        Answer::Empty => StatusCode::OK.into_response(),
        Answer::Json(body) => axum::Json(body).into_response(),
        Answer::Modal(modal) => ack_then_open(state, modal),
        Answer::Malformed(problem) => (StatusCode::BAD_REQUEST, problem).into_response(),
        Answer::Retry => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The empty acknowledgement, then the modal opened right after it, within the trigger's 3
/// seconds (as Slack's frameworks do).
fn ack_then_open(state: &AppState, modal: Modal) -> Response {
    let state = state.clone();
    tokio::spawn(async move { open_modal(&state, modal).await });
    (StatusCode::OK, [(OPENING_HEADER, "opening")]).into_response()
}

/// Opens a modal after its acknowledgement was sent. If Slack does not open it, the person
/// is told through the `response_url`, when there is one; not when Slack says the trigger was
/// used already: a form did open for it (this is a copy of a request answered before).
async fn open_modal(state: &AppState, modal: Modal) {
    let Modal {
        trigger_id,
        view,
        response_url,
        if_not_opened,
    } = modal;
    let Err(e) = state.slack_inline.open_view(&trigger_id, view).await else {
        return;
    };
    if e.code() == Some("exchanged_trigger_id") {
        tracing::info!("a modal's trigger was used before: a repeated request opens nothing");
        return;
    }
    tracing::warn!(error = %e, "Slack did not open a modal");
    let Some(url) = &response_url else {
        return;
    };
    if let Err(e) = state.slack_inline.respond(url, &if_not_opened).await {
        tracing::warn!(error = %e, "could not say that the modal did not open");
    }
}

/// Slack's payloads are small; a modal submission with every field filled is a few kB.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// `/healthz` and `/readyz` always, `/metrics` unless it has a listener of its own
/// (`LOOPBOT_METRICS_LISTEN`); the `/slack/*` routes only over HTTP (in Socket Mode nothing is
/// signed, so they would be an open door). Every request gets a span and its time to answer
/// is measured, by route.
pub fn router(state: AppState) -> Router {
    let mut health = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if state.settings.metrics_listen.is_none() {
        health = health.route("/metrics", get(health::metrics));
    }
    let observe = middleware::from_fn_with_state(state.clone(), observe_request);
    // ATS webhooks come from the ATS, not Slack: on in either transport, each while its
    // secret is set (404 otherwise).
    let ats = Router::new()
        .route("/ats/ashby", post(ats::ashby))
        .route("/ats/greenhouse", post(ats::greenhouse))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let health = health.merge(ats);
    if state.settings.transport == Transport::Socket {
        return health.layer(observe).with_state(state);
    }
    let seen = Arc::new(SeenSignatures::default());
    let slack = Router::new()
        .route("/slack/commands", post(commands::handle))
        .route("/slack/interactions", post(interactions::handle))
        .route("/slack/events", post(events::handle))
        .layer(middleware::from_fn_with_state(
            (state.clone(), seen),
            verify_slack_request,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    Router::new()
        .merge(slack)
        .merge(health)
        .layer(observe)
        .with_state(state)
}

/// `/metrics` alone, for `LOOPBOT_METRICS_LISTEN`.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(health::metrics))
        .with_state(state)
}

/// The route a request is counted under: its path when it is one of ours, else `other`
/// (arbitrary paths would make a label per path).
fn route_label(path: &str) -> &'static str {
    const ROUTES: [&str; 6] = [
        "/slack/commands",
        "/slack/interactions",
        "/slack/events",
        "/healthz",
        "/readyz",
        "/metrics",
    ];
    ROUTES.into_iter().find(|r| *r == path).unwrap_or("other")
}

/// A span per request (method, route, then status), and the time to answer it in
/// `loopbot_ack_duration_seconds`.
async fn observe_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    use tracing::Instrument;
    let route = route_label(request.uri().path());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        route,
        status = tracing::field::Empty
    );
    let started = std::time::Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    span.record("status", response.status().as_u16());
    state.metrics.observe(
        "loopbot_ack_duration_seconds",
        label("route", route),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Refuses a Slack request: logged, counted by reason, answered 401.
fn refuse(state: &AppState, path: &str, rejection: verify::Rejection) -> Response {
    log_refusal(state, path, rejection);
    refusal(rejection)
}

fn log_refusal(state: &AppState, path: &str, rejection: verify::Rejection) {
    tracing::warn!(path, reason = rejection.label(), "refused a Slack request");
    state.metrics.inc(
        "loopbot_slack_requests_rejected_total",
        label("reason", rejection.label()),
    );
}

fn refusal(rejection: verify::Rejection) -> Response {
    (StatusCode::UNAUTHORIZED, rejection.to_string()).into_response()
}

/// When the window of a signed request closes: its timestamp (checked by
/// [`verify::verify`]) plus Slack's five minutes.
fn window_closes(headers: &axum::http::HeaderMap, now: i64) -> i64 {
    headers
        .get(verify::TIMESTAMP_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(now)
        .saturating_add(verify::MAX_AGE_SECS)
}

/// Reads the body (bounded), checks the v0 signature, the 5-minute window and replays to this
/// process, and only then passes the request on with its body intact and its [`Receipt`],
/// which the use case's change records (see [`replay`]). Nothing is written here: Slack signs
/// every delivery afresh, so its own retries are not affected; they have one effect by their
/// own keys (event id, view id).
async fn verify_slack_request(
    State((state, seen)): State<(AppState, Arc<SeenSignatures>)>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    state
        .metrics
        .inc("loopbot_http_requests_total", label("route", &path));
    let (mut parts, body) = request.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(e) if BodyTimedOut::caused(&e) => {
            state.metrics.inc(
                "loopbot_slack_requests_rejected_total",
                label("reason", "body_timeout"),
            );
            // The rest of the body is not read: the connection cannot carry another request.
            return (
                StatusCode::REQUEST_TIMEOUT,
                [(axum::http::header::CONNECTION, "close")],
                e.to_string(),
            )
                .into_response();
        }
        Err(_) => {
            state.metrics.inc(
                "loopbot_slack_requests_rejected_total",
                label("reason", "too_large"),
            );
            return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
        }
    };
    let now = state.clock.now_secs();
    let signature = match verify::verify(
        state.settings.signing_secret.expose(),
        &parts.headers,
        &bytes,
        now,
    ) {
        Ok(signature) => signature.to_string(),
        Err(rejection) => return refuse(&state, &path, rejection),
    };
    if !seen.first_time(&signature, window_closes(&parts.headers, now), now) {
        return refuse(&state, &path, verify::Rejection::Replayed);
    }
    let receipt = Receipt::new(format!("sig:{signature}"), state.clock.now_ms());
    parts.extensions.insert(Arc::clone(&receipt));
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if receipt.repeated() {
        // Another replica (or this process before a restart) took these bytes, and its change
        // committed with their receipt: this copy's change was rolled back.
        log_refusal(&state, &path, verify::Rejection::Replayed);
    }
    response
}
