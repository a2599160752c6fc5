//! `/loop start`: open the form (inline, the trigger dies in 3 s), then store the loop and
//! queue its provisioning in one transaction.

use anyhow::Context;

use crate::db;
use crate::domain::interview_loop::Stage;
use crate::domain::people::Directory;
use crate::domain::start_form::{self, Field};
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::services::{home, people, reminders};
use crate::slack::payloads::{SlashCommand, SubmittedView};
use crate::slack::views::{self, StartMetadata, start_block_for};
use crate::slack::{CommandReply, InteractionReply, Modal, View};
use crate::state::AppState;

/// `/loop start`: the form, opened right after the acknowledgement.
pub fn open_form(
    state: &AppState,
    command: &SlashCommand,
    candidate: Option<&str>,
) -> CommandReply {
    let rubric = state.rubrics.default_rubric();
    let metadata = StartMetadata {
        origin_channel: Some(command.channel_id.clone()),
        rubric: rubric.id.clone(),
    };
    CommandReply::Modal(Modal {
        trigger_id: command.trigger_id.clone(),
        view: View::Text(views::start_modal_text(
            &state.rubrics,
            rubric,
            candidate,
            &metadata,
        )),
        response_url: command.response_url.clone(),
        if_not_opened: "Slack did not open the form in time. Please run `/loop start` again."
            .into(),
    })
}

/// The rubric menu changed: rebuild the stage fields for that rubric (entered values stay,
/// because block ids are stable).
pub async fn change_rubric(
    state: &AppState,
    view: &SubmittedView,
    rubric_id: &str,
) -> AppResult<InteractionReply> {
    let Some(rubric) = state.rubrics.get(rubric_id) else {
        return Ok(InteractionReply::Ack);
    };
    let mut metadata: StartMetadata =
        serde_json::from_str(&view.private_metadata).unwrap_or_default();
    metadata.rubric = rubric.id.clone();
    let input = views::read_start(&view.values, rubric);
    let prefill = (!input.candidate.is_empty()).then_some(input.candidate.as_str());
    let new_view = views::start_modal(&state.rubrics, rubric, prefill, &metadata);
    if let Err(e) = state
        .slack_inline
        .update_view(&view.id, Some(&view.hash), new_view)
        .await
    {
        tracing::warn!(error = %e, "could not switch the start form to another rubric");
    }
    Ok(InteractionReply::Ack)
}

/// The start form was submitted. Refusals show next to the candidate's name unless they belong
/// to another field.
pub async fn submit(
    state: &AppState,
    user_id: &str,
    view: &SubmittedView,
) -> AppResult<InteractionReply> {
    let Ok(metadata) = serde_json::from_str::<StartMetadata>(&view.private_metadata) else {
        return Err(AppError::refused(
            "This form is out of date. Close it and run `/loop start` again.",
        ));
    };
    let rubric_block = start_block_for(&Field::Rubric);
    let Some(rubric) = state.rubrics.get(&metadata.rubric) else {
        return Err(
            AppError::refused("This rubric is no longer available. Choose another one.")
                .at(rubric_block),
        );
    };
    let input = views::read_start(&view.values, rubric);
    let other_rubric = input.rubric_id.as_deref().filter(|id| *id != rubric.id);
    if other_rubric.is_some_and(|id| state.rubrics.get(id).is_some()) {
        return Err(AppError::refused(
            "The stages below are from another rubric. Choose the rubric again to refresh them.",
        )
        .at(rubric_block));
    }
    let ids = start_form::people_to_look_up(&input, rubric);
    let people = people::look_up(state, ids, Directory::new()).await;
    let origin = metadata.origin_channel.as_deref();
    let new = match start_form::validate(&input, rubric, user_id, origin, &people) {
        Ok(new) => new,
        Err(errors) => return Ok(InteractionReply::Json(views::field_errors(&errors))),
    };
    store(state, &new, &view.id)
        .await
        .context("could not store a new loop")?;
    Ok(InteractionReply::Ack)
}

/// Stores the loop and its provisioning job together. A second submission of the same form
/// (a retry or a double click) finds the loop already stored and does nothing. `view_id` is
/// the loop's source key: the start form's view, or `ats:<ats>:<application>` for a loop the
/// ATS started ([`crate::services::ats_sync`]).
pub(crate) async fn store(
    state: &AppState,
    new: &start_form::NewLoop,
    view_id: &str,
) -> anyhow::Result<Option<i64>> {
    let now = state.clock.now_ms();
    let mut tx = state.begin().await?;
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
    home::refresh_for(&mut tx, loop_id, now).await?;
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
    tracing::info!(loop_id, rubric = %new.rubric_id, "loop stored; provisioning queued");
    Ok(Some(loop_id))
}
