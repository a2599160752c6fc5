//! When a person may be messaged: their Slack time zone (cached from `users.info`) and the
//! working hours and days Loopbot keeps to. A leaf that every use case sending DMs shares.

use crate::db;
use crate::domain::schedule::next_allowed;
use crate::jobs::JobError;
use crate::slack::client::UserInfo;
use crate::state::AppState;

/// How long a cached time zone is trusted.
pub const TZ_FRESH_MS: i64 = 24 * 3600 * 1000;

/// The person's Slack time zone: cached, else from users.info.
pub async fn tz_of(state: &AppState, user: &str) -> Result<String, JobError> {
    let now = state.clock.now_ms();
    if let Some(tz) = db::reminders::cached_tz(&state.db, user, now - TZ_FRESH_MS).await? {
        return Ok(tz);
    }
    let info = state.slack.user_info(user).await?;
    Ok(remember_tz(state, user, &info, now).await?)
}

/// Caches the time zone users.info gave for a person (UTC when it gave none); returns it.
pub async fn remember_tz(
    state: &AppState,
    user: &str,
    info: &UserInfo,
    now: crate::clock::UnixMillis,
) -> sqlx::Result<String> {
    let tz = if info.tz.is_empty() {
        "UTC".to_string()
    } else {
        info.tz.clone()
    };
    state.cache_tz(user, &tz, now).await?;
    Ok(tz)
}

/// Waits for the recipient's working hours (the job is put back, not counted).
pub async fn within_hours(state: &AppState, user: &str) -> Result<(), JobError> {
    let tz = tz_of(state, user).await?;
    let now = state.clock.now_ms();
    let allowed = next_allowed(
        now,
        &tz,
        state.settings.work_hours,
        state.settings.work_days,
    );
    if allowed > now {
        return Err(JobError::Deferred { until: allowed });
    }
    Ok(())
}
