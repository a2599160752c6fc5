//! Provisioning a loop in Slack, one recorded step at a time: each step stores what it
//! produced before the next runs, so a retried or restarted job picks up where it stopped
//! and never makes a second channel, message or pin. Where Slack may have acted without
//! Loopbot hearing of it (a crash before the commit, an answer lost in a timeout or a 5xx),
//! the retry looks first: the intended channel name is stored before `conversations.create`
//! and the channel is adopted if it exists; posts carry a key in their metadata and are
//! found in the channel's history (see `SlackApi::post_message`).

use crate::db;
use crate::db::loops::Provisioned;
use crate::domain::channel_name::{base_channel_name, channel_name_attempt};
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus};
use crate::jobs::{Job, JobError};
use crate::slack::messages::{
    self, loop_ready, rubric_message, summary_message, topic, with_ats_outcome,
};
use crate::state::AppState;

/// Channel names tried before giving up (`name`, `name-2`, … `name-50`).
const MAX_NAME_ATTEMPTS: u32 = 50;

/// What makes a new loop usable, most needed first: the channel, the panel in it, the pinned
/// summary and the coordinator told. The topic and the stage posts follow in their own job
/// ([`post_stages`]), behind whatever people are waiting on.
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
        invite(state, loop_id, &channel, &l.members()).await?;
        record(state, loop_id, Provisioned::MembersInvited).await?;
    }
    let rubric = state.rubrics.get(&l.rubric_id);
    let summary_ts = match &l.summary_ts {
        Some(ts) => ts.clone(),
        None => {
            // Rendered from the state as it is now: a scorecard may already be in.
            let (current, progress) = state
                .progress(loop_id)
                .await?
                .ok_or_else(|| JobError::loop_gone(loop_id))?;
            let outcome = db::ats::outcome_of_loop(&state.db, loop_id).await?;
            let message = with_ats_outcome(
                summary_message(&current, rubric, &progress),
                outcome.as_ref(),
            );
            let key = format!("provision:{loop_id}:summary");
            let ts = slack.post_message(&channel, &message, &key).await?;
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
        let now = state.clock.now_ms();
        let mut tx = state.begin_loop(loop_id).await?;
        db::loops::record_step(&mut *tx, loop_id, Provisioned::ConfirmationSent, now).await?;
        db::audit::record(
            &mut *tx,
            loop_id,
            "loopbot",
            "loop_provisioned",
            &channel,
            now,
        )
        .await?;
        Job::PostStages { loop_id }.enqueue(&mut *tx, now).await?;
        tx.commit().await?;
    } else {
        // Set up before the stage posts had a job of their own: queue it (once).
        Job::PostStages { loop_id }
            .enqueue(&state.db, state.clock.now_ms())
            .await?;
    }
    Ok(())
}

/// The rest of a new loop's channel: the topic, then each stage's rubric post, stored
/// together with the job that puts the stage's full rubric in its thread.
pub async fn post_stages(state: &AppState, loop_id: LoopId) -> Result<(), JobError> {
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::loop_gone(loop_id))?;
    let (Some(channel), false) = (&l.channel_id, l.status == LoopStatus::Closed) else {
        return Ok(());
    };
    if !l.topic_set {
        state.slack.set_topic(channel, &topic(&l)).await?;
        record(state, loop_id, Provisioned::TopicSet).await?;
    }
    let Some(rubric) = state.rubrics.get(&l.rubric_id) else {
        return Err(JobError::Permanent(format!(
            "rubric `{}` is not loaded",
            l.rubric_id
        )));
    };
    let due = rubric
        .feedback_deadline
        .unwrap_or(state.settings.feedback_due);
    let progress = match state.progress(loop_id).await? {
        Some((_, progress)) => progress,
        None => return Err(JobError::loop_gone(loop_id)),
    };
    for stage in l.stages.iter().filter(|s| s.rubric_ts.is_none()) {
        let message = rubric_message(&l, stage, rubric, due, &progress);
        let key = format!("provision:{loop_id}:rubric:{}", stage.position);
        let ts = state.slack.post_message(channel, &message, &key).await?;
        let now = state.clock.now_ms();
        let mut tx = state.begin_loop(loop_id).await?;
        db::loops::record_step(
            &mut *tx,
            loop_id,
            Provisioned::RubricPosted {
                position: stage.position,
                ts: &ts,
            },
            now,
        )
        .await?;
        Job::RubricDetail {
            loop_id,
            position: stage.position,
        }
        .enqueue(&mut *tx, now)
        .await?;
        tx.commit().await?;
    }
    Ok(())
}

async fn record(state: &AppState, loop_id: LoopId, step: Provisioned<'_>) -> Result<(), JobError> {
    Ok(db::loops::record_step(&state.db, loop_id, step, state.clock.now_ms()).await?)
}

/// Creates the private channel under the first free name and stores it at once. The name is
/// stored before each `conversations.create`; a later run that finds a stored name first looks
/// for that channel among the bot's own and adopts it, so a channel Slack made whose id never
/// reached the database is not made twice.
async fn create_channel(state: &AppState, l: &InterviewLoop) -> Result<String, JobError> {
    let base = base_channel_name(
        &l.candidate_name,
        &l.rubric_id,
        state.settings.channel_naming,
    );
    let pending = db::loops::pending_channel_name(&state.db, l.id).await?;
    let mut first = 1;
    if let Some(name) = &pending {
        if let Some(id) = state.slack.find_own_private_channel(name).await? {
            tracing::info!(loop_id = l.id, channel = %id, "adopted the channel an earlier run created");
            store_channel(state, l.id, &id, name).await?;
            return Ok(id);
        }
        first = (1..=MAX_NAME_ATTEMPTS)
            .find(|a| channel_name_attempt(&base, *a) == *name)
            .unwrap_or(1);
    }
    for attempt in first..=MAX_NAME_ATTEMPTS {
        let name = channel_name_attempt(&base, attempt);
        record(state, l.id, Provisioned::ChannelIntended { name: &name }).await?;
        match state.slack.create_private_channel(&name).await {
            Ok(id) => {
                store_channel(state, l.id, &id, &name).await?;
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

async fn store_channel(
    state: &AppState,
    loop_id: LoopId,
    id: &str,
    name: &str,
) -> Result<(), JobError> {
    record(state, loop_id, Provisioned::Channel { id, name }).await
}

/// Invites whoever of `people` is not in the channel yet. People Slack refuses (a deactivated
/// account, the bot itself) never keep the others out; the coordinator is told who they are.
pub async fn invite(
    state: &AppState,
    loop_id: LoopId,
    channel: &str,
    people: &[String],
) -> Result<(), JobError> {
    let outcome = state.slack.invite(channel, people).await?;
    if outcome.refused.is_empty() {
        return Ok(());
    }
    for (user, reason) in &outcome.refused {
        tracing::warn!(
            loop_id,
            user,
            reason,
            "Slack refused to invite a panel member"
        );
    }
    let now = state.clock.now_ms();
    let mut tx = state.begin_loop(loop_id).await?;
    Job::InviteRefusedNotice {
        loop_id,
        refused: outcome.refused,
    }
    .enqueue(&mut *tx, now)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The coordinator's DM: these people could not be added to the channel.
pub async fn invite_refused_notice(
    state: &AppState,
    loop_id: LoopId,
    refused: &[(String, String)],
) -> Result<(), JobError> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(());
    };
    let users: Vec<&str> = refused.iter().map(|(u, _)| u.as_str()).collect();
    let key = format!("invite_refused:{loop_id}:{}", users.join(","));
    state
        .slack
        .send_dm(
            &l.coordinator_id,
            &messages::invite_refused(&l, refused),
            &key,
        )
        .await?;
    Ok(())
}

/// The coordinator's DM when setting up the loop failed for good: what failed, and how to
/// have it retried.
pub async fn setup_failed_notice(
    state: &AppState,
    loop_id: LoopId,
    job_id: i64,
) -> Result<(), JobError> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(());
    };
    let reason = db::jobs::last_error(&state.db, job_id)
        .await?
        .unwrap_or_default();
    let key = format!("setup_failed:{loop_id}:{job_id}");
    state
        .slack
        .send_dm(
            &l.coordinator_id,
            &messages::setup_failed(&l, &reason, job_id),
            &key,
        )
        .await?;
    Ok(())
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
    let key = format!("provision:{}:ready", l.id);
    state
        .slack
        .send_dm(&l.coordinator_id, &message, &key)
        .await?;
    Ok(())
}
