//! Provisioning a loop in Slack, one recorded step at a time: each step stores what it
//! produced before the next runs, so a retried or restarted job picks up where it stopped
//! and never makes a second channel, message or pin.

use crate::db;
use crate::db::loops::Provisioned;
use crate::domain::channel_name::{base_channel_name, channel_name_attempt};
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus};
use crate::domain::progress::LoopProgress;
use crate::jobs::JobError;
use crate::services::refresh;
use crate::slack::messages::{loop_ready, rubric_message, summary_message, topic};
use crate::state::AppState;

/// Channel names tried before giving up (`name`, `name-2`, … `name-50`).
const MAX_NAME_ATTEMPTS: u32 = 50;

pub async fn provision_loop(state: &AppState, loop_id: LoopId) -> Result<(), JobError> {
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::loop_gone(loop_id))?;
    if l.status == LoopStatus::Closed {
        return Ok(());
    }
    let slack = &state.slack;

    let channel = match &l.channel_id {
        Some(channel) => channel.clone(),
        None => create_channel(state, &l).await?,
    };
    if !l.members_invited {
        let outcome = slack.invite(&channel, &l.members()).await?;
        for (user, reason) in &outcome.refused {
            tracing::warn!(
                loop_id,
                user,
                reason,
                "Slack refused to invite a panel member"
            );
        }
        record(state, loop_id, Provisioned::MembersInvited).await?;
    }
    if !l.topic_set {
        slack.set_topic(&channel, &topic(&l)).await?;
        record(state, loop_id, Provisioned::TopicSet).await?;
    }
    let rubric = state.rubrics.get(&l.rubric_id);
    let due = rubric
        .and_then(|r| r.feedback_deadline)
        .unwrap_or(state.settings.feedback_due);
    for stage in l.stages.iter().filter(|s| s.rubric_ts.is_none()) {
        let message = match rubric {
            Some(rubric) => rubric_message(&l, stage, rubric, due, &LoopProgress::default()),
            None => {
                return Err(JobError::Permanent(format!(
                    "rubric `{}` is not loaded",
                    l.rubric_id
                )));
            }
        };
        let ts = slack.post_message(&channel, &message).await?;
        record(
            state,
            loop_id,
            Provisioned::RubricPosted {
                position: stage.position,
                ts: &ts,
            },
        )
        .await?;
    }
    let summary_ts = match &l.summary_ts {
        Some(ts) => ts.clone(),
        None => {
            // Rendered from the state as it is now: a scorecard may already be in.
            let (current, progress) = refresh::current_state(state, loop_id).await?;
            let ts = slack
                .post_message(&channel, &summary_message(&current, rubric, &progress))
                .await?;
            record(state, loop_id, Provisioned::SummaryPosted { ts: &ts }).await?;
            ts
        }
    };
    if !l.summary_pinned {
        slack.pin(&channel, &summary_ts).await?;
        record(state, loop_id, Provisioned::SummaryPinned).await?;
    }
    if !l.confirmation_sent {
        let mut ready = l.clone();
        ready.channel_id = Some(channel.clone());
        confirm(state, &ready).await?;
        record(state, loop_id, Provisioned::ConfirmationSent).await?;
        db::audit::record(
            &state.db,
            loop_id,
            "loopbot",
            "loop_provisioned",
            &channel,
            state.clock.now_ms(),
        )
        .await?;
    }
    Ok(())
}

async fn record(state: &AppState, loop_id: LoopId, step: Provisioned<'_>) -> Result<(), JobError> {
    Ok(db::loops::record_step(&state.db, loop_id, step, state.clock.now_ms()).await?)
}

/// Creates the private channel under the first free name and stores it at once.
async fn create_channel(state: &AppState, l: &InterviewLoop) -> Result<String, JobError> {
    let base = base_channel_name(
        &l.candidate_name,
        &l.rubric_id,
        state.settings.channel_naming,
    );
    for attempt in 1..=MAX_NAME_ATTEMPTS {
        let name = channel_name_attempt(&base, attempt);
        match state.slack.create_private_channel(&name).await {
            Ok(id) => {
                db::loops::record_step(
                    &state.db,
                    l.id,
                    Provisioned::Channel {
                        id: &id,
                        name: &name,
                    },
                    state.clock.now_ms(),
                )
                .await?;
                tracing::info!(loop_id = l.id, channel = %id, "candidate channel created");
                return Ok(id);
            }
            Err(e) if e.code() == Some("name_taken") => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(JobError::Permanent(format!(
        "no free channel name: {base} and {MAX_NAME_ATTEMPTS} numbered variants are taken"
    )))
}

/// Tells the coordinator, where they typed the command; if Loopbot cannot post there (a DM
/// with someone else, a channel it is not in), by direct message instead.
async fn confirm(state: &AppState, l: &InterviewLoop) -> Result<(), JobError> {
    let message = loop_ready(l);
    if let Some(origin) = &l.origin_channel_id {
        match state
            .slack
            .post_ephemeral(origin, &l.coordinator_id, &message)
            .await
        {
            Ok(()) => return Ok(()),
            Err(e) if e.is_transient() => return Err(e.into()),
            Err(e) => {
                tracing::info!(error = %e, "ephemeral confirmation not possible there; sending a DM")
            }
        }
    }
    let dm = state.slack.open_dm(&l.coordinator_id).await?;
    state.slack.post_message(&dm, &message).await?;
    Ok(())
}
