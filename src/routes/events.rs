use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::services::events;
use crate::slack::events::{InboundEvent, parse};
use crate::state::AppState;

pub async fn handle(State(state): State<AppState>, body: Bytes) -> Response {
    match parse(&body) {
        Some(InboundEvent::UrlVerification { challenge }) => {
            Json(json!({ "challenge": challenge })).into_response()
        }
        Some(InboundEvent::AppRateLimited) => {
            tracing::warn!("Slack reports that Loopbot's event deliveries are being rate limited");
            StatusCode::OK.into_response()
        }
        Some(InboundEvent::Callback { event_id, event }) => {
            match events::handle(&state, &event_id, event).await {
                Ok(()) => StatusCode::OK.into_response(),
                // Slack will retry; the receipt was not stored, so the retry is not lost.
                Err(e) => {
                    tracing::error!(error = %e, event_id, "could not handle an event");
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
            }
        }
        None => (StatusCode::BAD_REQUEST, "not an Events API body").into_response(),
    }
}
