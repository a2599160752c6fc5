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

pub async fn metrics(State(state): State<AppState>) -> Response {
    let jobs = db::jobs::count_by_state(&state.db)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(s, n)| (label("state", &s), n))
        .collect();
    let paused = i64::from(state.paused.load(std::sync::atomic::Ordering::SeqCst));
    let body = state.metrics.render(&[
        (
            "loopbot_jobs",
            "Outbound jobs in the database, by state.",
            jobs,
        ),
        (
            "loopbot_outbound_paused",
            "1 while outbound Slack work is paused (app uninstalled or token revoked).",
            vec![(label("reason", "token"), paused)],
        ),
    ]);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}
