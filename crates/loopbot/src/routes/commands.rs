//! `POST /slack/commands`: parse the form body, dispatch, and answer with the ephemeral reply
//! (a use case's refusal or failure becomes that reply, worded for the person). The part
//! after parsing, [`answer`], is shared with Socket Mode.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::response::Response;
use serde_json::json;

use super::Answer;
use crate::services::commands;
use crate::slack::CommandReply;
use crate::slack::payloads::{SlashCommand, is_ssl_check, parse_command};
use crate::state::{AppState, Receipt};

pub async fn handle(
    State(state): State<AppState>,
    Extension(receipt): Extension<Arc<Receipt>>,
    body: Bytes,
) -> Response {
    let state = state.for_request(receipt);
    if is_ssl_check(&body) {
        return super::respond(&state, Answer::Empty);
    }
    let answer = match parse_command(&body) {
        Ok(command) => answer(&state, command).await,
        Err(problem) => Answer::Malformed(format!("malformed slash command: {problem}")),
    };
    super::respond(&state, answer)
}

/// A parsed slash command's answer: its work is committed when this returns.
pub(super) async fn answer(state: &AppState, command: SlashCommand) -> Answer {
    // Services keep within Slack's 3 s (see routes::interactions).
    let reply = commands::handle(state, command).await.unwrap_or_else(|e| {
        super::log_failure(state, &e, "a slash command");
        CommandReply::say(e.message())
    });
    match reply {
        CommandReply::Empty => Answer::Empty,
        CommandReply::Modal(modal) => Answer::Modal(modal),
        CommandReply::Ephemeral(message) => Answer::Json(json!({
            "response_type": "ephemeral",
            "text": message.text,
            "blocks": message.blocks,
        })),
    }
}
