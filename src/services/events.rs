//! Events API callbacks. Each `event_id` has one effect, however often Slack delivers it.

use crate::db;
use crate::slack::events::AppEvent;
use crate::startup::AppState;

pub async fn handle(state: &AppState, event_id: &str, event: AppEvent) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let mut tx = state.db.begin().await?;
    if !db::receipts::record_once(&mut *tx, &format!("event:{event_id}"), now).await? {
        tracing::debug!(event_id, "duplicate event delivery ignored");
        return Ok(());
    }
    match &event {
        AppEvent::Other { kind } => tracing::debug!(kind, "event not used by Loopbot"),
        other => tracing::info!(event = ?other, "event received"),
    }
    tx.commit().await?;
    Ok(())
}
