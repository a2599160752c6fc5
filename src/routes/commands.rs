//! `POST /slack/commands`: parse the form body, dispatch, and answer with the ephemeral reply
//! (a use case's refusal or failure becomes that reply, worded for the person).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::services::commands;
use crate::slack::CommandReply;
use crate::slack::payloads::{is_ssl_check, parse_command};
use crate::state::AppState;

pub async fn handle(State(state): State<AppState>, body: Bytes) -> Response {
    if is_ssl_check(&body) {
        return StatusCode::OK.into_response();
    }
    let command = match parse_command(&body) {
        Ok(command) => command,
        Err(problem) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("malformed slash command: {problem}"),
            )
                .into_response();
        }
    };
    // Services keep within Slack's 3 s (see routes::interactions).
    let reply = commands::handle(&state, command).await.unwrap_or_else(|e| {
        e.log("a slash command");
        CommandReply::say(e.message())
    });
    match reply {
        CommandReply::Empty => StatusCode::OK.into_response(),
        CommandReply::Modal(modal) => super::ack_then_open(&state, modal),
        CommandReply::Ephemeral(message) => Json(json!({
            "response_type": "ephemeral",
            "text": message.text,
            "blocks": message.blocks,
        }))
        .into_response(),
    }
}
