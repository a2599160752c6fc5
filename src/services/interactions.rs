//! Buttons, menus and modal submissions.

use serde_json::Value;

use crate::services::skips::{self, SKIP_CALLBACK};
use crate::services::{decide, panel, scorecards, start_loop};
use crate::slack::actions;
use crate::slack::loop_views::{DECIDE_CALLBACK, PANEL_CALLBACK};
use crate::slack::payloads::Interaction;
use crate::slack::scorecard_views::SCORECARD_CALLBACK;
use crate::slack::views::{RUBRIC_SELECT_ACTION, START_CALLBACK};
use crate::state::AppState;

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
            SCORECARD_CALLBACK => scorecards::submit(state, &user_id, &view).await,
            DECIDE_CALLBACK => decide::submit(state, &user_id, &view).await,
            PANEL_CALLBACK => panel::submit(state, &user_id, &view).await,
            SKIP_CALLBACK => skips::submit_skip_form(state, &user_id, &view).await,
            other => {
                tracing::warn!(callback_id = other, "submission of an unknown form");
                InteractionReply::Ack
            }
        },
        Interaction::BlockActions {
            user_id,
            trigger_id,
            view,
            actions,
            ..
        } => {
            for action in &actions {
                let value = action.value.as_deref().unwrap_or_default();
                match (action.action_id.as_str(), trigger_id.as_deref()) {
                    (actions::SCORECARD_OPEN, Some(trigger)) => {
                        if let Some((loop_id, position)) = actions::parse_stage_value(value) {
                            scorecards::open(state, &user_id, trigger, loop_id, position).await;
                        }
                        return InteractionReply::Ack;
                    }
                    (actions::STAGE_SKIP, Some(trigger)) => {
                        if let Some((loop_id, position)) = actions::parse_stage_value(value) {
                            skips::open_skip_form(state, &user_id, trigger, loop_id, position)
                                .await;
                        }
                        return InteractionReply::Ack;
                    }
                    (actions::STAGE_REMIND, Some(trigger)) => {
                        if let Some((loop_id, position)) = actions::parse_stage_value(value) {
                            skips::remind_stage(state, &user_id, trigger, loop_id, position).await;
                        }
                        return InteractionReply::Ack;
                    }
                    (actions::NOT_RUN, Some(trigger)) => {
                        if let Some((loop_id, position)) = actions::parse_stage_value(value) {
                            crate::services::reminders::not_run(
                                state, &user_id, trigger, loop_id, position,
                            )
                            .await;
                        }
                        return InteractionReply::Ack;
                    }
                    (actions::PANEL_OPEN, Some(trigger)) => {
                        if let Some(loop_id) = actions::parse_loop_value(value) {
                            panel::open_from_button(state, &user_id, trigger, loop_id).await;
                        }
                        return InteractionReply::Ack;
                    }
                    (actions::SCORECARDS_VIEW, Some(trigger)) => {
                        if let Some(loop_id) = actions::parse_loop_value(value) {
                            scorecards::view(state, &user_id, trigger, loop_id).await;
                        }
                        return InteractionReply::Ack;
                    }
                    _ => {}
                }
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
