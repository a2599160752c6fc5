//! `/loop start`: open the form (inline, the trigger dies in 3 s), then store the loop and
//! queue its provisioning in one transaction.

use crate::db;
use crate::domain::interview_loop::Stage;
use crate::domain::start_form::{self, Field, FieldError};
use crate::jobs::Job;
use crate::services::SOMETHING_WENT_WRONG;
use crate::services::commands::CommandReply;
use crate::services::interactions::InteractionReply;
use crate::services::reminders;
use crate::slack::Message;
use crate::slack::payloads::{SlashCommand, SubmittedView};
use crate::slack::views::{self, StartMetadata};
use crate::state::AppState;

pub async fn open_form(
    state: &AppState,
    command: &SlashCommand,
    candidate: Option<&str>,
) -> CommandReply {
    let rubric = state.rubrics.default_rubric();
    let metadata = StartMetadata {
        origin_channel: Some(command.channel_id.clone()),
        rubric: rubric.id.clone(),
    };
    let view = views::start_modal(&state.rubrics, rubric, candidate, &metadata);
    match state
        .slack_inline
        .open_view(&command.trigger_id, &view)
        .await
    {
        Ok(_) => CommandReply::Empty,
        Err(e) => {
            tracing::warn!(error = %e, "could not open the start form");
            let text = match e.code() {
                Some("expired_trigger_id" | "exchanged_trigger_id" | "invalid_trigger_id") => {
                    "Slack took too long to hand over the form, so it could not open. Please run `/loop start` again."
                }
                _ => {
                    "The form could not be opened because Slack did not answer in time. Please run `/loop start` again in a moment."
                }
            };
            CommandReply::Ephemeral(Message::plain(text))
        }
    }
}

/// The rubric menu changed: rebuild the stage fields for that rubric (entered values stay,
/// because block ids are stable).
pub async fn change_rubric(
    state: &AppState,
    view: &SubmittedView,
    rubric_id: &str,
) -> InteractionReply {
    let Some(rubric) = state.rubrics.get(rubric_id) else {
        return InteractionReply::Ack;
    };
    let mut metadata: StartMetadata =
        serde_json::from_str(&view.private_metadata).unwrap_or_default();
    metadata.rubric = rubric.id.clone();
    let input = views::read_start(&view.values, rubric);
    let prefill = (!input.candidate.is_empty()).then_some(input.candidate.as_str());
    let new_view = views::start_modal(&state.rubrics, rubric, prefill, &metadata);
    if let Err(e) = state
        .slack_inline
        .update_view(&view.id, Some(&view.hash), &new_view)
        .await
    {
        tracing::warn!(error = %e, "could not switch the start form to another rubric");
    }
    InteractionReply::Ack
}

pub async fn submit(state: &AppState, user_id: &str, view: &SubmittedView) -> InteractionReply {
    let metadata: StartMetadata = match serde_json::from_str(&view.private_metadata) {
        Ok(m) => m,
        Err(_) => {
            return field_error(
                Field::Candidate,
                "This form is out of date. Close it and run `/loop start` again.",
            );
        }
    };
    let Some(rubric) = state.rubrics.get(&metadata.rubric) else {
        return field_error(
            Field::Rubric,
            "This rubric is no longer available. Choose another one.",
        );
    };
    let input = views::read_start(&view.values, rubric);
    let other_rubric = input.rubric_id.as_deref().filter(|id| *id != rubric.id);
    if other_rubric.is_some_and(|id| state.rubrics.get(id).is_some()) {
        return field_error(
            Field::Rubric,
            "The stages below are from another rubric. Choose the rubric again to refresh them.",
        );
    }
    let new =
        match start_form::validate(&input, rubric, user_id, metadata.origin_channel.as_deref()) {
            Ok(new) => new,
            Err(errors) => return InteractionReply::Json(views::errors_response(&errors)),
        };
    match store(state, &new, &view.id).await {
        Ok(_) => InteractionReply::Ack,
        Err(e) => {
            tracing::error!(error = %e, "could not store a new loop");
            field_error(Field::Candidate, SOMETHING_WENT_WRONG)
        }
    }
}

/// Stores the loop and its provisioning job together. A second submission of the same form
/// (a retry or a double click) finds the loop already stored and does nothing.
async fn store(
    state: &AppState,
    new: &start_form::NewLoop,
    view_id: &str,
) -> anyhow::Result<Option<i64>> {
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    let Some(loop_id) = db::loops::insert(&mut tx, new, view_id, now).await? else {
        tracing::info!(
            view_id,
            "start form submitted again; the loop already exists"
        );
        return Ok(None);
    };
    Job::ProvisionLoop { loop_id }
        .enqueue(&mut *tx, now)
        .await?;
    let stages: Vec<Stage> = new
        .stages
        .iter()
        .map(|s| Stage {
            position: s.position,
            key: s.key.clone(),
            name: s.name.clone(),
            interview_at: s.interview_at,
            interviewers: s.interviewers.clone(),
            rubric_ts: None,
        })
        .collect();
    reminders::sync(&mut tx, state, loop_id, &new.rubric_id, &stages).await?;
    crate::services::home::refresh_for(&mut tx, loop_id, now).await?;
    let detail = format!("candidate={} rubric={}", new.candidate_name, new.rubric_id);
    db::audit::record(
        &mut *tx,
        loop_id,
        &new.coordinator_id,
        "loop_started",
        &detail,
        now,
    )
    .await?;
    tx.commit().await?;
    state.metrics.inc("loopbot_loops_started_total", "");
    state.wake.notify_one();
    tracing::info!(loop_id, rubric = %new.rubric_id, "loop stored; provisioning queued");
    Ok(Some(loop_id))
}

fn field_error(field: Field, message: &str) -> InteractionReply {
    InteractionReply::Json(views::errors_response(&[FieldError {
        field,
        message: message.to_string(),
    }]))
}
