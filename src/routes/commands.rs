use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::services::commands::{self, CommandReply};
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
    match commands::handle(&state, command).await {
        CommandReply::Empty => StatusCode::OK.into_response(),
        CommandReply::Ephemeral(message) => Json(json!({
            "response_type": "ephemeral",
            "text": message.text,
            "blocks": message.blocks,
        }))
        .into_response(),
    }
}
