//! The interaction dispatcher: buttons, menus and modal submissions go to their use case.
//!
//! A submission's refusal or failure is returned as an [`AppError`] placed next to a field of
//! its form (the route turns it into `response_action: errors`). A button's answer is a modal
//! opened with its single-use trigger right after the acknowledgement, so a button's refusal
//! or failure becomes a notice modal here.

use crate::error::AppResult;
use crate::services::{
    decide, notice, nudges, panel, reminders, scorecards, screen_gate, skips, start_loop,
};
use crate::slack::ids::{
    self, CANDIDATE_BLOCK, DECIDE_CALLBACK, EVIDENCE_BLOCK, PANEL_CALLBACK, RATIONALE_BLOCK,
    RUBRIC_SELECT_ACTION, SCORECARD_CALLBACK, SKIP_CALLBACK, SKIP_REASON_BLOCK, START_CALLBACK,
};
use crate::slack::payloads::Interaction;
use crate::slack::{InteractionReply, Modal};
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
                let value = action.value.as_deref().unwrap_or_default();
                let user = user_id.as_str();
                // Paging inside the scorecards modal: the same modal shows the other page.
                if action.action_id == ids::SCORECARDS_PAGE {
                    let (Some(view), Some((l, page))) = (&view, ids::parse_stage_value(value))
                    else {
                        return Ok(InteractionReply::Ack);
                    };
                    if let Err(e) =
                        scorecards::turn_page(state, user, &view.id, l, page as usize).await
                    {
                        e.log("a page of scorecards");
                    }
                    return Ok(InteractionReply::Ack);
                }
                if let Some(trigger) = trigger_id.as_deref() {
                    let stage = ids::parse_stage_value(value);
                    let loop_id = ids::parse_loop_value(value);
                    let text = |r: AppResult<String>| r.map(Answer::Text);
                    let form = |r: AppResult<Option<Modal>>| r.map(Answer::Form);
                    let answered = match (action.action_id.as_str(), stage, loop_id) {
                        (ids::SCORECARD_OPEN, Some((l, p)), _) => Some((
                            "Scorecard",
                            form(scorecards::open(state, user, trigger, l, p).await),
                        )),
                        (ids::STAGE_SKIP, Some((l, p)), _) => Some((
                            "Skip a stage",
                            form(skips::open_skip_form(state, user, trigger, l, p).await),
                        )),
                        (ids::STAGE_REMIND, Some((l, p)), _) => Some((
                            "Remind",
                            text(nudges::remind_stage(state, user, l, p).await),
                        )),
                        (ids::NOT_RUN, Some((l, p)), _) => Some((
                            "Reminders",
                            text(reminders::not_run(state, user, l, p).await),
                        )),
                        (ids::PANEL_OPEN, _, Some(l)) => Some((
                            "Change the panel",
                            form(panel::open_from_button(state, user, trigger, l).await),
                        )),
                        (ids::SCORECARDS_VIEW, _, Some(l)) => Some((
                            "Scorecards",
                            form(scorecards::view(state, user, trigger, l).await),
                        )),
                        (ids::SCREEN_CONTINUE, _, Some(l)) => Some((
                            "Continue the loop",
                            text(screen_gate::continue_loop(state, user, l).await),
                        )),
                        (ids::SCREEN_STOP | ids::DECIDE_OPEN, _, Some(l)) => Some((
                            "Record the decision",
                            form(decide::open_from_button(state, user, trigger, l).await),
                        )),
                        (
                            ids::SCORECARD_OPEN
                            | ids::SCREEN_CONTINUE
                            | ids::SCREEN_STOP
                            | ids::DECIDE_OPEN
                            | ids::STAGE_SKIP
                            | ids::STAGE_REMIND
                            | ids::NOT_RUN
                            | ids::PANEL_OPEN
                            | ids::SCORECARDS_VIEW,
                            _,
                            _,
                        ) => return Ok(InteractionReply::Ack),
                        _ => None,
                    };
                    if let Some((title, result)) = answered {
                        return Ok(show(trigger, response_url.as_deref(), title, result));
                    }
                }
                if let (RUBRIC_SELECT_ACTION, Some(view), Some(rubric)) =
                    (action.action_id.as_str(), &view, &action.selected_option)
                {
                    return start_loop::change_rubric(state, view, rubric).await;
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

/// What a button leads to: a form, nothing, or a few words in a notice.
enum Answer {
    Form(Option<Modal>),
    Text(String),
}

/// A button's outcome, opened right after the acknowledgement: its form, or the text (or the
/// refusal) in a notice.
fn show(
    trigger: &str,
    response_url: Option<&str>,
    title: &str,
    result: AppResult<Answer>,
) -> InteractionReply {
    let text = match result {
        Ok(Answer::Form(None)) => return InteractionReply::Ack,
        Ok(Answer::Form(Some(modal))) => {
            return InteractionReply::Modal(Modal {
                response_url: response_url.map(str::to_string),
                ..modal
            });
        }
        Ok(Answer::Text(text)) => text,
        Err(e) => {
            e.log(title);
            e.message().to_string()
        }
    };
    InteractionReply::Modal(Modal {
        response_url: response_url.map(str::to_string),
        ..notice(trigger, title, &text)
    })
}
