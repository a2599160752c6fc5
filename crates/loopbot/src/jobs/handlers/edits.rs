//! Edits of the messages that track a loop: the pinned summary and each stage's rubric post
//! (`chat.update`, Tier 3: the scarce budget, spent on what people read).

use crate::db;
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus};
use crate::domain::progress::LoopProgress;
use crate::jobs::JobError;
use crate::slack::messages::{rubric_message, summary_message, with_ats_outcome};
use crate::state::AppState;

/// The loop and where it stands, as stored now (see [`db::progress::load`]).
pub async fn current_state(
    state: &AppState,
    loop_id: LoopId,
) -> Result<(InterviewLoop, LoopProgress), JobError> {
    state
        .progress(loop_id)
        .await?
        .ok_or_else(|| JobError::loop_gone(loop_id))
}

/// Edits the pinned summary to show the current state. Before provisioning has posted it,
/// there is nothing to edit: provisioning posts it from the current state.
pub async fn summary(state: &AppState, loop_id: LoopId) -> Result<(), JobError> {
    let (l, progress) = current_state(state, loop_id).await?;
    let (Some(channel), Some(ts), false) =
        (&l.channel_id, &l.summary_ts, l.status == LoopStatus::Closed)
    else {
        return Ok(());
    };
    let message = summary_message(&l, state.rubrics.get(&l.rubric_id), &progress);
    let outcome = db::ats::outcome_of_loop(&state.db, loop_id).await?;
    let message = with_ats_outcome(message, outcome.as_ref());
    state.slack.update_message(channel, ts, &message).await?;
    Ok(())
}

pub async fn rubric(state: &AppState, loop_id: LoopId, position: u32) -> Result<(), JobError> {
    let (l, progress) = current_state(state, loop_id).await?;
    let (Some(channel), Some(stage), Some(rubric)) = (
        &l.channel_id,
        l.stage_at(position),
        state.rubrics.get(&l.rubric_id),
    ) else {
        return Ok(());
    };
    let Some(ts) = &stage.rubric_ts else {
        return Ok(());
    };
    let due = rubric
        .feedback_deadline
        .unwrap_or(state.settings.feedback_due);
    state
        .slack
        .update_message(
            channel,
            ts,
            &rubric_message(&l, stage, rubric, due, &progress),
        )
        .await?;
    Ok(())
}

/// The loop, unless its channel is gone (then there is nothing to post to).
pub async fn live_loop(
    state: &AppState,
    loop_id: LoopId,
) -> Result<Option<(InterviewLoop, String)>, JobError> {
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::loop_gone(loop_id))?;
    if l.status == LoopStatus::Closed {
        return Ok(None);
    }
    Ok(l.channel_id.clone().map(|channel| (l, channel)))
}
