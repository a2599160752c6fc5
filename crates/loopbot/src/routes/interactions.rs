//! `POST /slack/interactions`: parse the payload, dispatch, and answer: an empty 200, or a
//! `response_action` body (a submission's refusal or failure shown next to its field). The
//! part after parsing, [`answer`], is shared with Socket Mode.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::Response;

use super::Answer;
use crate::services::interactions;
use crate::slack::InteractionReply;
use crate::slack::payloads::{Interaction, parse_interaction};
use crate::slack::views;
use crate::state::{AppState, Receipt};

pub async fn handle(
    State(state): State<AppState>,
    Extension(receipt): Extension<Arc<Receipt>>,
    body: Bytes,
) -> Response {
    let state = state.for_request(receipt);
    let answer = match parse_interaction(&body) {
        Ok(interaction) => answer(&state, interaction).await,
        Err(problem) => Answer::Malformed(format!("malformed interaction: {problem}")),
    };
    super::respond(&state, answer)
}

/// A parsed interaction's answer: its work is committed when this returns.
pub(super) async fn answer(state: &AppState, interaction: Interaction) -> Answer {
    // Services keep within Slack's 3 s: database work is local and fast, and the only Slack
    // calls made inline (views.open / views.update) use a 2-second client.
    let reply = interactions::handle(state, interaction)
        .await
        .unwrap_or_else(|e| {
            super::log_failure(state, &e, "an interaction");
            // A submission's problem goes next to its field; the modal stays open.
            match e.field() {
                Some(field) => {
                    InteractionReply::Json(views::errors(&[(field, e.message().to_string())]))
                }
                None => InteractionReply::Ack,
            }
        });
    match reply {
        InteractionReply::Ack => Answer::Empty,
        InteractionReply::Modal(modal) => Answer::Modal(modal),
        InteractionReply::Json(body) => Answer::Json(body),
    }
}
