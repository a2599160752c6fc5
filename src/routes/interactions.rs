use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::services::interactions::{self, InteractionReply};
use crate::slack::payloads::parse_interaction;
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
    match interactions::handle(&state, interaction).await {
        InteractionReply::Ack => StatusCode::OK.into_response(),
        InteractionReply::Json(body) => Json(body).into_response(),
    }
}
