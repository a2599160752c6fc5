//! What Slack says of the people picked in a form (see [`crate::domain::people`]), asked while
//! the submission waits for its answer: every id at once, within a budget well inside Slack's
//! 3 seconds. Someone whose time zone is cached was found by users.info lately and is not asked
//! about again; a person found has their time zone cached for the reminders. An id Slack does
//! not answer for in time is left out, and so let through.

use std::time::Duration;

use futures_util::future::join_all;

use crate::db;
use crate::domain::people::{Directory, Person};
use crate::services::working_hours::{TZ_FRESH_MS, remember_tz};
use crate::state::AppState;

/// How long a submission waits for Slack's answers about its people.
const LOOKUP_BUDGET: Duration = Duration::from_millis(1_500);

/// Slack's answers to users.info for someone it does not know in this workspace.
const NOT_FOUND: [&str; 2] = ["user_not_found", "user_not_visible"];

/// What is known of `ids`, starting from `known`.
pub async fn look_up(state: &AppState, ids: Vec<String>, mut known: Directory) -> Directory {
    let now = state.clock.now_ms();
    let mut ask = Vec::new();
    for id in ids {
        match db::reminders::cached_tz(&state.db, &id, now - TZ_FRESH_MS).await {
            Ok(Some(_)) => {
                known.insert(id, Person::Member);
            }
            _ => ask.push(id),
        }
    }
    if ask.is_empty() {
        return known;
    }
    let deadline = tokio::time::Instant::now() + LOOKUP_BUDGET;
    let answers = join_all(ask.into_iter().map(|id| async move {
        let answer = tokio::time::timeout_at(deadline, state.slack_inline.user_info(&id)).await;
        (id, answer)
    }))
    .await;
    for (id, answer) in answers {
        match answer {
            Ok(Ok(info)) if info.is_bot => {
                known.insert(id, Person::Bot);
            }
            Ok(Ok(info)) => {
                if let Err(e) = remember_tz(state, &id, &info, now).await {
                    tracing::warn!(error = %e, "could not cache a time zone");
                }
                known.insert(id, Person::Member);
            }
            Ok(Err(e)) if e.code().is_some_and(|code| NOT_FOUND.contains(&code)) => {
                known.insert(id, Person::Unknown);
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "could not look up someone picked in a form; let through");
            }
            Err(_) => {
                tracing::warn!(
                    "Slack did not say in time who someone picked in a form is; let through"
                );
            }
        }
    }
    known
}
