//! `POST /slack/events`: Events API callbacks (and the URL check). The part after the
//! signature check, [`answer`], is shared with Socket Mode, whose `events_api` envelopes carry
//! the same body.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::Response;
use serde_json::json;

use super::Answer;
use crate::services::events;
use crate::slack::events::{InboundEvent, parse};
use crate::state::{AppState, Receipt};

pub async fn handle(
    State(state): State<AppState>,
    Extension(receipt): Extension<Arc<Receipt>>,
    body: Bytes,
) -> Response {
    let state = state.for_request(receipt);
    let answer = answer(&state, &body).await;
    super::respond(&state, answer)
}

/// An Events API body's answer: its work is committed when this returns.
pub(super) async fn answer(state: &AppState, body: &[u8]) -> Answer {
    match parse(body) {
        Some(InboundEvent::UrlVerification { challenge }) => {
            Answer::Json(json!({ "challenge": challenge }))
        }
        Some(InboundEvent::AppRateLimited) => {
            tracing::warn!("Slack reports that Loopbot's event deliveries are being rate limited");
            Answer::Empty
        }
        Some(InboundEvent::Callback { event_id, event }) => {
            match events::handle(state, &event_id, event).await {
                Ok(()) => Answer::Empty,
                // Slack will retry; the receipt was not stored, so the retry is not lost.
                Err(e) => {
                    if !super::is_repeat(state) {
                        tracing::error!(error = %e, event_id, "could not handle an event");
                    }
                    Answer::Retry
                }
            }
        }
        None => Answer::Malformed("not an Events API body".into()),
    }
}
