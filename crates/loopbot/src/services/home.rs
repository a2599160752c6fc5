//! The App Home: published when someone opens it, and kept current while they use it.

use sqlx::AnyConnection;

use crate::clock::UnixMillis;
use crate::db;
use crate::db::trip::Trip;
use crate::domain::interview_loop::{InterviewLoop, LoopId};
use crate::domain::progress::LoopProgress;
use crate::jobs::Job;
use crate::jobs::JobError;
use crate::slack::views::{Owed, home_view};
use crate::state::AppState;

/// `app_home_opened`: remember the person and publish their view.
pub async fn opened(tx: &mut AnyConnection, user: &str, now: UnixMillis) -> sqlx::Result<()> {
    db::reminders::add_home_viewer(&mut *tx, user, now).await?;
    Job::PublishHome {
        user: user.to_string(),
    }
    .enqueue(&mut *tx, now)
    .await
}

/// In the caller's transaction: re-publish the Home of everyone in the loop who uses it
/// (as the loop stands in this transaction).
pub async fn refresh_for(
    tx: &mut AnyConnection,
    loop_id: LoopId,
    now: UnixMillis,
) -> sqlx::Result<()> {
    refresh_for_each(tx, &[loop_id], now).await
}

/// [`refresh_for`] for several loops, each person once. A person's Home job is shared by all
/// their loops, so on PostgreSQL two changes may both want it: every change takes these rows
/// in one batch and in the same order (by user id, as Rust orders strings), and then never
/// waits for another such row, so two changes never each hold a Home the other waits for.
/// Call it once per change.
pub async fn refresh_for_each(
    tx: &mut AnyConnection,
    loop_ids: &[LoopId],
    now: UnixMillis,
) -> sqlx::Result<()> {
    let homes: Vec<_> = refreshes_for_each(tx, loop_ids)
        .await?
        .into_iter()
        .map(|job| (job, now))
        .collect();
    Job::enqueue_all(tx, &homes, now).await
}

/// The Home refreshes for `loop_ids`, each person once, in user id order: every loop's
/// viewers read in one trip.
async fn refreshes_for_each(tx: &mut AnyConnection, loop_ids: &[LoopId]) -> sqlx::Result<Vec<Job>> {
    let mut trip = Trip::new();
    let reads: Vec<_> = loop_ids
        .iter()
        .map(|&loop_id| db::reminders::home_viewers_of_loop_into(&mut trip, loop_id))
        .collect();
    let mut answers = trip.run(tx).await?;
    let mut users = Vec::new();
    for read in reads {
        users.extend(read.take(&mut answers)?);
    }
    Ok(refreshes_of(users))
}

/// The Home refreshes of `users`, each once, in user id order.
pub fn refreshes_of(users: impl IntoIterator<Item = String>) -> Vec<Job> {
    let users: std::collections::BTreeSet<String> = users.into_iter().collect();
    users
        .into_iter()
        .map(|user| Job::PublishHome { user })
        .collect()
}

pub async fn publish(state: &AppState, user: &str) -> Result<(), JobError> {
    let mut loops: Vec<(InterviewLoop, LoopProgress)> = Vec::new();
    for id in db::loops::open_loop_ids_for(&state.db, user).await? {
        loops.push(
            state
                .progress(id)
                .await?
                .ok_or_else(|| JobError::loop_gone(id))?,
        );
    }
    let mut owed: Vec<Owed<'_>> = Vec::new();
    for (l, progress) in &loops {
        for stage in l
            .stages
            .iter()
            .filter(|s| s.interviewers.iter().any(|u| u == user))
        {
            if progress.has_submitted(stage.position, user) || l.skip_of(stage.position).is_some() {
                continue;
            }
            let due_at = progress.due_at(stage.position, user);
            owed.push(Owed {
                l,
                stage,
                due_at,
                overdue: progress.is_overdue(stage.position),
            });
        }
    }
    owed.sort_by_key(|o| (!o.overdue, o.due_at.unwrap_or(i64::MAX)));
    let mut running: Vec<(&InterviewLoop, &LoopProgress)> = loops
        .iter()
        .filter(|(l, _)| l.is_owner(user))
        .map(|(l, p)| (l, p))
        .collect();
    running.sort_by_key(|(l, p)| {
        (
            !l.stages.iter().any(|s| p.is_overdue(s.position)),
            -l.created_at,
        )
    });
    state
        .slack
        .publish_home(user, home_view(&owed, &running))
        .await?;
    Ok(())
}
