//! Events API callbacks. Each `event_id` has one effect, however often Slack delivers it.
//! Loopbot notices its channels being archived, renamed or deleted, and stops outbound work
//! when the app is uninstalled or its token revoked.

use std::sync::atomic::Ordering;

use crate::db;
use crate::db::flags::OUTBOUND_PAUSED;
use crate::services::{home, stop_chasing};
use crate::slack::events::AppEvent;
use crate::state::AppState;

pub async fn handle(state: &AppState, event_id: &str, event: AppEvent) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let channel_of = |event: &AppEvent| match event {
        AppEvent::ChannelArchived { channel }
        | AppEvent::ChannelUnarchived { channel }
        | AppEvent::ChannelRenamed { channel, .. }
        | AppEvent::ChannelDeleted { channel } => Some(channel.clone()),
        _ => None,
    };
    // A channel's loop never changes, so it is looked up before the change that locks it.
    let loop_id = match channel_of(&event) {
        Some(channel) => db::loops::id_by_channel(&state.db, &channel).await?,
        None => None,
    };
    let mut tx = match loop_id {
        Some(id) => state.begin_loop(id).await?,
        None => state.begin().await?,
    };
    if !db::receipts::record_once(&mut *tx, &format!("event:{event_id}"), now).await? {
        tracing::debug!(event_id, "duplicate event delivery ignored");
        return Ok(());
    }
    let mut pause = false;
    match (&event, loop_id) {
        (AppEvent::ChannelArchived { channel }, Some(id)) => {
            db::loops::set_archived(&mut *tx, id, Some(now), now).await?;
            stop_chasing::stop(&mut tx, id, None, None, "closed").await?;
            home::refresh_for(&mut tx, id, now).await?;
            db::audit::record(&mut *tx, id, "slack", "channel_archived", channel, now).await?;
        }
        (AppEvent::ChannelUnarchived { channel }, Some(id)) => {
            db::loops::set_archived(&mut *tx, id, None, now).await?;
            db::audit::record(&mut *tx, id, "slack", "channel_unarchived", channel, now).await?;
        }
        (AppEvent::ChannelRenamed { name, .. }, Some(id)) => {
            db::loops::set_channel_name(&mut *tx, id, name, now).await?;
            db::audit::record(&mut *tx, id, "slack", "channel_renamed", name, now).await?;
        }
        (AppEvent::ChannelDeleted { channel }, Some(id)) => {
            db::loops::set_archived(&mut *tx, id, Some(now), now).await?;
            stop_chasing::stop(&mut tx, id, None, None, "closed").await?;
            home::refresh_for(&mut tx, id, now).await?;
            db::loops::set_status(
                &mut *tx,
                id,
                crate::domain::interview_loop::LoopStatus::Closed,
                now,
            )
            .await?;
            db::audit::record(&mut *tx, id, "slack", "channel_deleted", channel, now).await?;
        }
        (AppEvent::AppUninstalled | AppEvent::TokensRevoked, _) => {
            let reason = if event == AppEvent::AppUninstalled {
                "app_uninstalled"
            } else {
                "tokens_revoked"
            };
            db::flags::set(&mut *tx, OUTBOUND_PAUSED, reason, now).await?;
            pause = true;
        }
        (AppEvent::AppHomeOpened { user, tab }, _) if tab == "home" => {
            home::opened(&mut tx, user, now).await?;
        }
        (AppEvent::Other { kind }, _) => tracing::debug!(kind, "event not used by Loopbot"),
        (other, _) => tracing::debug!(event = ?other, "event for a channel that is not a loop"),
    }
    tx.commit().await?;
    if pause {
        state.paused.store(true, Ordering::SeqCst);
        tracing::warn!(
            "Loopbot was uninstalled or its token revoked: outbound Slack work is paused and kept queued until it works again"
        );
    }
    Ok(())
}

/// Pauses outbound work after Slack refused the token (no storm of failing calls).
pub async fn pause_outbound(state: &AppState, reason: &str) {
    let now = state.clock.now_ms();
    if let Err(e) = db::flags::set(&state.db, OUTBOUND_PAUSED, reason, now).await {
        tracing::error!(error = %e, "could not record the outbound pause");
    }
    if !state.paused.swap(true, Ordering::SeqCst) {
        tracing::warn!(
            reason,
            "Slack refused Loopbot's token: outbound work is paused and kept queued"
        );
    }
}

/// What Slack said about the bot token (`auth.test`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    Works,
    /// Slack refused it (`invalid_auth`, `token_revoked`, …): it will not start working.
    Refused(String),
    /// Slack could not be asked; try again later.
    Unreachable(String),
}

/// Asks Slack whether the bot token works. When it does, `/readyz` may say ready, and
/// outbound work that was paused (a reinstall gives a new token) resumes.
pub async fn check_token(state: &AppState) -> TokenCheck {
    match state.slack.auth_test().await {
        Ok(_) => {
            state.token_ok.store(true, Ordering::SeqCst);
            state.metrics.set("loopbot_slack_token_ok", "", 1);
            if state.paused.load(Ordering::SeqCst)
                && db::flags::clear(&state.db, OUTBOUND_PAUSED).await.is_ok()
            {
                state.paused.store(false, Ordering::SeqCst);
                state.wake.notify_one();
                tracing::info!("the Slack token works again: outbound work resumes");
            }
            TokenCheck::Works
        }
        Err(e) if e.is_auth_failure() || e.code().is_some() && !e.is_transient() => {
            state.token_ok.store(false, Ordering::SeqCst);
            state.metrics.set("loopbot_slack_token_ok", "", 0);
            TokenCheck::Refused(e.code().unwrap_or("refused").to_string())
        }
        Err(e) => {
            state.metrics.set("loopbot_slack_token_ok", "", 0);
            TokenCheck::Unreachable(e.to_string())
        }
    }
}
