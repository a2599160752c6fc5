//! Polling each ATS that is on (`LOOPBOT_ATS_POLL`, default every 2 minutes): the way in for
//! Socket Mode installs without a public URL, for Greenhouse (which has no webhook for a
//! scheduled or moved interview), and the catch-up for a webhook that never arrived. A poll asks
//! the ATS what changed since the stored cursor and queues an [`Job::AtsSync`] per changed
//! application; the cursor moves on in the same transaction.

use crate::ats::{Ats, AtsKind, Changes};
use crate::db;
use crate::jobs::{Job, JobError};
use crate::state::AppState;

/// First poll of Greenhouse: interviews updated in the last day (not the whole history).
const GREENHOUSE_FIRST_LOOK_BACK_MS: i64 = 24 * 3_600_000;

/// Called with every sweep: queues each ATS's poll when it is due.
pub async fn queue_due_polls(state: &AppState) -> anyhow::Result<()> {
    let Some(every) = state.settings.ats.poll else {
        return Ok(());
    };
    let every_ms = i64::try_from(every.as_millis()).unwrap_or(i64::MAX);
    let on = [
        (AtsKind::Ashby, state.ats.ashby.is_some()),
        (AtsKind::Greenhouse, state.ats.greenhouse.is_some()),
    ];
    for (kind, _) in on.into_iter().filter(|(_, on)| *on) {
        let now = state.clock.now_ms();
        let mut tx = state.begin().await?;
        if db::ats::claim_due_poll(&mut tx, kind.as_str(), now, every_ms).await? {
            Job::AtsPoll {
                ats: kind.as_str().to_string(),
            }
            .enqueue(&mut *tx, now)
            .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// The [`Job::AtsPoll`] job.
pub async fn poll(state: &AppState, ats: &str) -> Result<(), JobError> {
    let kind =
        AtsKind::parse(ats).ok_or_else(|| JobError::Permanent(format!("unknown ATS `{ats}`")))?;
    let cursor = db::ats::poll_cursor(&state.db, kind.as_str()).await?;
    let now = state.clock.now_ms();
    let changes = match kind {
        AtsKind::Ashby => match &state.ats.ashby {
            Some(client) => client.changes_since(cursor.as_deref()).await,
            None => return Err(JobError::Permanent("the Ashby adapter is off".into())),
        },
        AtsKind::Greenhouse => match &state.ats.greenhouse {
            Some(client) => {
                let since = cursor.clone().unwrap_or_else(|| {
                    crate::ats::format_time(now - GREENHOUSE_FIRST_LOOK_BACK_MS)
                });
                client.changes_since(Some(&since)).await
            }
            None => return Err(JobError::Permanent("the Greenhouse adapter is off".into())),
        },
    };
    let Changes {
        application_ids,
        cursor: next,
    } = changes.map_err(JobError::Ats)?;
    let mut tx = state.begin().await?;
    for application_id in &application_ids {
        Job::AtsSync {
            ats: kind.as_str().to_string(),
            application_id: application_id.clone(),
        }
        .enqueue(&mut *tx, now)
        .await?;
    }
    db::ats::set_poll_cursor(&mut *tx, kind.as_str(), next.as_deref(), now).await?;
    tx.commit().await?;
    tracing::info!(ats, changed = application_ids.len(), "ATS polled");
    Ok(())
}
