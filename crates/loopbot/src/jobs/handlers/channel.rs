//! The channel itself and its people: archiving it after the decision, inviting a changed
//! panel, and the owner's nudge to one interviewer.

use crate::db;
use crate::domain::interview_loop::{LoopId, LoopStatus};
use crate::jobs::handlers::edits::live_loop;
use crate::jobs::{Job, JobError};
use crate::slack::messages::{self};
use crate::state::AppState;

pub async fn archive_channel(state: &AppState, loop_id: LoopId) -> Result<(), JobError> {
    let Some((l, channel)) = live_loop(state, loop_id).await? else {
        return Ok(());
    };
    if l.archived_at.is_some() {
        return Ok(());
    }
    state.slack.archive(&channel).await?;
    let now = state.clock.now_ms();
    db::loops::set_archived(&state.db, loop_id, Some(now), now).await?;
    db::audit::record(
        &state.db,
        loop_id,
        "loopbot",
        "channel_archived",
        &channel,
        now,
    )
    .await?;
    Ok(())
}

pub async fn invite_members(state: &AppState, loop_id: LoopId) -> Result<(), JobError> {
    let Some((l, channel)) = live_loop(state, loop_id).await? else {
        return Ok(());
    };
    crate::services::provision::invite(state, loop_id, &channel, &l.members()).await
}

pub async fn nudge(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
    asked_at: i64,
) -> Result<(), JobError> {
    let Some((l, _)) = live_loop(state, loop_id).await? else {
        return Ok(());
    };
    if l.status == LoopStatus::Decided {
        return Ok(());
    }
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    if db::scorecards::latest(&state.db, loop_id, position, user)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let dm = state.slack.open_dm(user).await?;
    state
        .slack
        .post_message(
            &dm,
            &messages::nudge(&l, stage, None),
            &Job::Nudge {
                loop_id,
                position,
                user: user.to_string(),
                asked_at,
            }
            .dedupe_key(),
        )
        .await?;
    Ok(())
}
