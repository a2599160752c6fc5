//! Notes in a loop's channel and its stage threads: a completed stage, a stage's full rubric,
//! a missing or skipped stage, the decision, a reopening.

use crate::db;
use crate::domain::interview_loop::{LoopId, Outcome};
use crate::jobs::handlers::edits::live_loop;
use crate::jobs::{Job, JobError};
use crate::slack::messages::{self};
use crate::state::AppState;

/// The submission note: a thread reply under the stage's post.
pub async fn scorecard_note(
    state: &AppState,
    loop_id: LoopId,
    scorecard_id: i64,
) -> Result<(), JobError> {
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::loop_gone(loop_id))?;
    let card: Option<(u32, String, i64)> =
        db::scorecards::identity(&state.db, scorecard_id).await?;
    let (Some((position, _user, version)), Some(channel)) = (card, &l.channel_id) else {
        return Ok(());
    };
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    let Some(parent) = &stage.rubric_ts else {
        return Ok(());
    };
    let cards = db::scorecards::latest_for_loop(&state.db, loop_id).await?;
    let submitted = cards.iter().filter(|c| c.position == position).count();
    state
        .slack
        .post_reply(
            channel,
            parent,
            &messages::scorecard_note(stage, version, submitted),
            &Job::ScorecardNote {
                loop_id,
                scorecard_id,
            }
            .dedupe_key(),
        )
        .await?;
    Ok(())
}

/// The full rubric of a stage, as the thread reply under its post.
pub async fn rubric_detail(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
) -> Result<(), JobError> {
    let Some((l, channel)) = live_loop(state, loop_id).await? else {
        return Ok(());
    };
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    let (Some(parent), Some(sr)) = (
        &stage.rubric_ts,
        state
            .rubrics
            .get(&l.rubric_id)
            .and_then(|r| r.stage(&stage.key)),
    ) else {
        return Ok(());
    };
    let key = Job::RubricDetail { loop_id, position }.dedupe_key();
    state
        .slack
        .post_reply(&channel, parent, &messages::rubric_detail(stage, sr), &key)
        .await?;
    Ok(())
}

pub async fn skip_warning(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
) -> Result<(), JobError> {
    let Some((l, channel)) = live_loop(state, loop_id).await? else {
        return Ok(());
    };
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    let cause = db::loops::warning_cause(&state.db, loop_id, position)
        .await?
        .unwrap_or_else(|| "out_of_order".into());
    let message = messages::skip_warning(&l, stage, state.rubrics.get(&l.rubric_id), &cause);
    let key = Job::SkipWarning { loop_id, position }.dedupe_key();
    state.slack.post_message(&channel, &message, &key).await?;
    Ok(())
}

pub async fn skip_note(state: &AppState, loop_id: LoopId, position: u32) -> Result<(), JobError> {
    let Some((l, channel)) = live_loop(state, loop_id).await? else {
        return Ok(());
    };
    let (Some(stage), Some(skip)) = (l.stage_at(position), l.skip_of(position)) else {
        return Ok(());
    };
    state
        .slack
        .post_message(
            &channel,
            &messages::skip_note(stage, skip),
            &Job::SkipNote { loop_id, position }.dedupe_key(),
        )
        .await?;
    Ok(())
}

pub async fn decision_message(state: &AppState, loop_id: LoopId, at: i64) -> Result<(), JobError> {
    let Some((l, channel)) = live_loop(state, loop_id).await? else {
        return Ok(());
    };
    // Only the decision it was queued for (a reopening may have cleared it since).
    let Some(decision) = l
        .decision
        .as_ref()
        .filter(|d| at == 0 || d.decided_at == at)
    else {
        return Ok(());
    };
    let message = messages::decision_message(&l, decision, state.settings.archive_after);
    let key = Job::DecisionMessage { loop_id, at }.dedupe_key();
    state.slack.post_message(&channel, &message, &key).await?;
    Ok(())
}

/// Tells the channel the loop was reopened, by whom and why (from the audit log).
pub async fn reopen_note(state: &AppState, loop_id: LoopId, cycle: i64) -> Result<(), JobError> {
    let Some((_, channel)) = live_loop(state, loop_id).await? else {
        return Ok(());
    };
    let Some((who, detail)) = db::audit::latest(&state.db, loop_id, "reopened").await? else {
        return Ok(());
    };
    let (from, reason) = detail
        .strip_prefix("from=")
        .and_then(|d| d.split_once(" reason="))
        .unwrap_or(("", detail.as_str()));
    let message = messages::reopen_note(&who, Outcome::parse(from), reason);
    let key = Job::ReopenNote { loop_id, cycle }.dedupe_key();
    state.slack.post_message(&channel, &message, &key).await?;
    Ok(())
}
