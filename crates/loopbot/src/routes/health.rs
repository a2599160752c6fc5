//! `/healthz` (liveness: the process and its database answer), `/readyz` (readiness: also the
//! token works and outbound work is not paused) and `/metrics`.

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::db;
use crate::metrics::label;
use crate::state::AppState;

pub async fn healthz(State(state): State<AppState>) -> Response {
    if db::ping(&state.db).await {
        (StatusCode::OK, "ok").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database not answering").into_response()
    }
}

/// 200 only when the database answers, Slack has accepted the bot token and outbound work is
/// not paused; otherwise 503 with every reason, one a line.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let mut problems = Vec::new();
    if !db::ping(&state.db).await {
        problems.push("database not answering");
    }
    if !state.token_ok.load(Ordering::SeqCst) {
        problems.push("Slack has not accepted SLACK_BOT_TOKEN (yet)");
    }
    if state.paused.load(Ordering::SeqCst) {
        problems
            .push("outbound Slack work is paused: the app was uninstalled or its token revoked");
    }
    if problems.is_empty() {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, problems.join("\n")).into_response()
    }
}

/// Job states the `loopbot_jobs` gauge always shows (0 when none is in it).
const JOB_STATES: [&str; 4] = ["queued", "running", "failed", "done"];

pub async fn metrics(State(state): State<AppState>) -> Response {
    let counts = db::jobs::count_by_state(&state.db)
        .await
        .unwrap_or_default();
    for s in JOB_STATES {
        let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
        state.metrics.set("loopbot_jobs", label("state", s), n);
    }
    let now = state.clock.now_ms();
    let oldest = db::jobs::oldest_due_at(&state.db, now)
        .await
        .ok()
        .flatten()
        .map_or(0, |due| (now - due).max(0) / 1000);
    state
        .metrics
        .set("loopbot_oldest_due_job_age_seconds", "", oldest);
    let paused = i64::from(state.paused.load(Ordering::SeqCst));
    state
        .metrics
        .set("loopbot_outbound_paused", label("reason", "token"), paused);
    (
        [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}
