//! Buttons, menus and modal submissions.

use serde_json::Value;

use crate::services::start_loop;
use crate::slack::payloads::Interaction;
use crate::slack::views::{RUBRIC_SELECT_ACTION, START_CALLBACK};
use crate::startup::AppState;

#[derive(Debug, Clone, PartialEq)]
pub enum InteractionReply {
    /// Empty 200: closes a submitted modal.
    Ack,
    /// A `response_action` body, such as field errors.
    Json(Value),
}

pub async fn handle(state: &AppState, interaction: Interaction) -> InteractionReply {
    match interaction {
        Interaction::ViewSubmission { user_id, view } => match view.callback_id.as_str() {
            START_CALLBACK => start_loop::submit(state, &user_id, &view).await,
            other => {
                tracing::warn!(callback_id = other, "submission of an unknown form");
                InteractionReply::Ack
            }
        },
        Interaction::BlockActions { view, actions, .. } => {
            for action in &actions {
                if let (RUBRIC_SELECT_ACTION, Some(view), Some(rubric)) =
                    (action.action_id.as_str(), &view, &action.selected_option)
                {
                    return start_loop::change_rubric(state, view, rubric).await;
                }
            }
            InteractionReply::Ack
        }
        Interaction::ViewClosed { .. } | Interaction::Other { .. } => InteractionReply::Ack,
    }
}
