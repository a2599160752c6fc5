//! `POST /slack/interactions`: parse the payload, dispatch, and answer: an empty 200, or a
//! `response_action` body (a submission's refusal or failure shown next to its field).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::services::interactions;
use crate::slack::InteractionReply;
use crate::slack::payloads::parse_interaction;
use crate::slack::views;
use crate::state::AppState;

pub async fn handle(State(state): State<AppState>, body: Bytes) -> Response {
    let interaction = match parse_interaction(&body) {
        Ok(interaction) => interaction,
        Err(problem) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("malformed interaction: {problem}"),
            )
                .into_response();
        }
    };
    // Services keep within Slack's 3 s: database work is local and fast, and the only Slack
    // calls made inline (views.open / views.update) use a 2-second client.
    let reply = interactions::handle(&state, interaction)
        .await
        .unwrap_or_else(|e| {
            e.log("an interaction");
            // A submission's problem goes next to its field; the modal stays open.
            match e.field() {
                Some(field) => {
                    InteractionReply::Json(views::errors(&[(field, e.message().to_string())]))
                }
                None => InteractionReply::Ack,
            }
        });
    match reply {
        InteractionReply::Ack => StatusCode::OK.into_response(),
        InteractionReply::Modal(modal) => super::ack_then_open(&state, modal),
        InteractionReply::Json(body) => Json(body).into_response(),
    }
}
