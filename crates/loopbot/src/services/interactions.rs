//! The interaction dispatcher: buttons, menus and modal submissions go to their use case.
//!
//! A submission's refusal or failure is returned as an [`AppError`] placed next to a field of
//! its form (the route turns it into `response_action: errors`). A press of one of Loopbot's
//! buttons is answered by [`buttons`]: always, with its form or a notice.

use crate::error::AppResult;
use crate::services::{buttons, decide, panel, scorecards, skips, start_loop};
use crate::slack::InteractionReply;
use crate::slack::ids::{
    self, CANDIDATE_BLOCK, DECIDE_CALLBACK, EVIDENCE_BLOCK, PANEL_CALLBACK, RATIONALE_BLOCK,
    RUBRIC_SELECT_ACTION, SCORECARD_CALLBACK, SKIP_CALLBACK, SKIP_REASON_BLOCK, START_CALLBACK,
};
use crate::slack::payloads::Interaction;
use crate::state::AppState;

pub async fn handle(state: &AppState, interaction: Interaction) -> AppResult<InteractionReply> {
    match interaction {
        Interaction::ViewSubmission { user_id, view } => {
            let (result, field) = match view.callback_id.as_str() {
                START_CALLBACK => (
                    start_loop::submit(state, &user_id, &view).await,
                    CANDIDATE_BLOCK,
                ),
                SCORECARD_CALLBACK => (
                    scorecards::submit(state, &user_id, &view).await,
                    EVIDENCE_BLOCK,
                ),
                DECIDE_CALLBACK => (
                    decide::submit(state, &user_id, &view).await,
                    RATIONALE_BLOCK,
                ),
                PANEL_CALLBACK => (panel::submit(state, &user_id, &view).await, ""),
                SKIP_CALLBACK => (
                    skips::submit_skip_form(state, &user_id, &view).await,
                    SKIP_REASON_BLOCK,
                ),
                other => {
                    tracing::warn!(callback_id = other, "submission of an unknown form");
                    return Ok(InteractionReply::Ack);
                }
            };
            result.map_err(|e| match e.field() {
                Some(_) => e,
                None => e.at(field),
            })
        }
        Interaction::BlockActions {
            user_id,
            trigger_id,
            response_url,
            view,
            actions,
            ..
        } => {
            // A change inside the scorecard form: saved as a draft, nothing else happens.
            if let Some(form) = view
                .as_ref()
                .filter(|v| v.callback_id == SCORECARD_CALLBACK)
            {
                scorecards::save_draft(state, &user_id, form).await;
                return Ok(InteractionReply::Ack);
            }
            for action in &actions {
                let press = buttons::Press {
                    user: &user_id,
                    action_id: &action.action_id,
                    value: action.value.as_deref().unwrap_or_default(),
                    trigger_id: trigger_id.as_deref(),
                    response_url: response_url.as_deref(),
                    view: view.as_ref(),
                };
                if let Some(kind) = ids::button_kind(&action.action_id) {
                    return Ok(buttons::answer(state, &press, kind).await);
                }
                if let (RUBRIC_SELECT_ACTION, Some(view), Some(rubric)) =
                    (action.action_id.as_str(), &view, &action.selected_option)
                {
                    return start_loop::change_rubric(state, view, rubric).await;
                }
                if let Some(reply) = buttons::retired(&press) {
                    return Ok(reply);
                }
            }
            Ok(InteractionReply::Ack)
        }
        Interaction::ViewClosed { user_id, view } => {
            if let Some(form) = view.filter(|v| v.callback_id == SCORECARD_CALLBACK) {
                scorecards::save_draft(state, &user_id, &form).await;
            }
            Ok(InteractionReply::Ack)
        }
        Interaction::Other { .. } => Ok(InteractionReply::Ack),
    }
}
