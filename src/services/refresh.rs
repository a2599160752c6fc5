//! Jobs that bring a Slack message in line with the current state: the pinned summary, a
//! stage's rubric message, and the channel note on a submission.

use crate::db;
use crate::domain::interview_loop::{InterviewLoop, LoopId};
use crate::domain::progress::LoopProgress;
use crate::slack::messages::{self, rubric_message, summary_message};
use crate::startup::AppState;
use crate::worker::retry::JobError;

/// The loop and where it stands, as stored now.
pub async fn current_state(
    state: &AppState,
    loop_id: LoopId,
) -> Result<(InterviewLoop, LoopProgress), JobError> {
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::Permanent(format!("loop {loop_id} no longer exists")))?;
    let cards = db::scorecards::latest_for_loop(&state.db, loop_id).await?;
    Ok((l, LoopProgress::from_scorecards(&cards)))
}

/// Edits the pinned summary to show the current state. Before provisioning has posted it,
/// there is nothing to edit: provisioning posts it from the current state.
pub async fn summary(state: &AppState, loop_id: LoopId) -> Result<(), JobError> {
    let (l, progress) = current_state(state, loop_id).await?;
    let (Some(channel), Some(ts)) = (&l.channel_id, &l.summary_ts) else {
        return Ok(());
    };
    let message = summary_message(&l, state.rubrics.get(&l.rubric_id), &progress);
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

pub async fn scorecard_note(
    state: &AppState,
    loop_id: LoopId,
    scorecard_id: i64,
) -> Result<(), JobError> {
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::Permanent(format!("loop {loop_id} no longer exists")))?;
    let card: Option<(u32, String, i64)> =
        db::scorecards::identity(&state.db, scorecard_id).await?;
    let (Some((position, user, version)), Some(channel)) = (card, &l.channel_id) else {
        return Ok(());
    };
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    state
        .slack
        .post_message(channel, &messages::scorecard_note(stage, &user, version))
        .await?;
    Ok(())
}
