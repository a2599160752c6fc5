//! The worker: claims due jobs, runs several at once (`LOOPBOT_CONCURRENCY`, a loop's own jobs
//! one at a time and in order), and records each outcome. A short lease, renewed while a job
//! runs, lets another process take over the work of one that died within [`LEASE_MS`]; a
//! process that restarts takes back its own work at once ([`take_back_own_work`]).
//!
//! Waiting is never failing: a rate limit (Slack's 429, or a budget with no room) and working
//! hours put a job back without counting an attempt. Tests and the demo call [`run_due_jobs`]
//! directly instead of running the loop.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::db;
use crate::jobs::claim::claim;
use crate::jobs::pacing::IN_JOB_WAIT_MS;
use crate::jobs::run::{Outcome, run_claimed, run_one};
use crate::metrics::label;
use crate::services::{purge, reminders};
use crate::state::AppState;
use crate::worker_id::is_gone_from_this_host;

pub use crate::jobs::claim::LEASE_MS;
/// How often a worker renews the leases of the jobs it runs.
const RENEW_EVERY: Duration = Duration::from_secs(5);

/// After a look for work that found nothing, a commit wakes the worker no sooner than this:
/// a look scans the due jobs, and under load every request commits (most of their jobs wait
/// for a budget that is closed). Each look in a row that finds nothing doubles the gap, up to
/// [`LOOK_GAP_MAX`]; a look that finds work sets it back. Work that comes due by the clock,
/// and a loop's next job when one finishes, are not held back.
const LOOK_GAP: Duration = Duration::from_millis(10);
const LOOK_GAP_MAX: Duration = Duration::from_millis(100);

/// The gap after `looks` looks in a row that found nothing.
fn look_gap(looks: u32) -> Duration {
    (LOOK_GAP * 2u32.saturating_pow(looks.saturating_sub(1))).min(LOOK_GAP_MAX)
}

/// Sweeps for due reminders, then runs every job that is due now (by the app's clock), one
/// after another; returns how many jobs ran.
pub async fn run_due_jobs(state: &AppState) -> anyhow::Result<usize> {
    reminders::sweep(state).await?;
    crate::services::ats_poll::queue_due_polls(state).await?;
    let mut ran = 0;
    while run_one(state).await? == Outcome::Ran {
        ran += 1;
    }
    Ok(ran)
}

/// At start-up: jobs still held by an earlier run of this process (same host, a process that
/// is gone) go back to the queue at once instead of waiting for their lease to run out. Their
/// interrupted runs stay counted, so the next run looks before posting ([`may_repeat`]).
pub async fn take_back_own_work(state: &AppState) -> anyhow::Result<u64> {
    let now = state.clock.now_ms();
    let mut taken = 0;
    for holder in db::jobs::lease_holders(&state.db).await? {
        if holder != state.worker.as_str() && is_gone_from_this_host(&holder) {
            taken += db::jobs::release_held_by(&state.db, &holder, now).await?;
        }
    }
    if taken > 0 {
        tracing::info!(
            jobs = taken,
            "took back work an earlier run of Loopbot was doing"
        );
        state.wake.notify_one();
    }
    Ok(taken)
}

/// Who the audit log names for a purge by `LOOPBOT_RETAIN`.
pub const RETENTION_ACTOR: &str = "loopbot-retention";

/// Forgets what is no longer needed: event receipts older than Slack's longest retry horizon
/// (delayed events: 24 h), finished jobs older than a week, and, with `LOOPBOT_RETAIN`, the
/// candidate data of loops decided longer ago than that (as `loopbot purge` does, free pages
/// included; with `LOOPBOT_RETAIN_SLACK=delete`, as `loopbot purge --slack`).
pub async fn housekeeping(state: &AppState) -> sqlx::Result<()> {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let now = state.clock.now_ms();
    db::receipts::prune(&state.db, now - 2 * DAY_MS).await?;
    db::receipts::prune_signatures(&state.db, now - 15 * 60 * 1000).await?;
    db::jobs::prune_done(&state.db, now - 7 * DAY_MS).await?;
    if let Some(retain) = state.settings.retain {
        let retain_ms = i64::try_from(retain.as_millis()).unwrap_or(i64::MAX / 2);
        let due = db::purge::due(&state.db, now.saturating_sub(retain_ms)).await?;
        if !due.is_empty() {
            // LOOPBOT_RETAIN_SLACK=delete (the default): what Loopbot posted about them in
            // Slack goes too, as with `loopbot purge --slack`.
            let slack: &[_] = if state.settings.retain_slack {
                &due
            } else {
                &[]
            };
            let purged = purge::purge(&state.db, &due, slack, RETENTION_ACTOR, now).await?;
            db::scrub_free_pages(&state.db).await?;
            for _ in 0..purged.loops {
                state
                    .metrics
                    .inc("loopbot_loops_purged_total", label("by", "retention"));
            }
            if purged.slack_jobs > 0 {
                state.wake.notify_one();
            }
            tracing::info!(
                loops = purged.loops,
                slack_jobs = purged.slack_jobs,
                retain = %humantime::format_duration(retain),
                "purged the candidate data of loops decided longer ago than LOOPBOT_RETAIN"
            );
        }
    }
    if let Some(pacer) = state.slack.pacer() {
        pacer.prune();
    }
    db::budgets::prune(&state.db, now - 3600 * 1000).await?;
    Ok(())
}

/// Whether the worker may start another job: fewer than `LOOPBOT_CONCURRENCY` are working
/// (jobs waiting for their reserved Slack slot are not), and fewer than four times that are
/// running in all, so waits cannot pile up without bound.
fn has_room(state: &AppState, running: usize) -> bool {
    room_for_one_more(
        state.settings.concurrency,
        running,
        state.slack.slot_waits().now(),
    )
}

fn room_for_one_more(concurrency: usize, running: usize, waiting: usize) -> bool {
    running - waiting.min(running) < concurrency && running < concurrency * 4
}

/// The background loop: keeps up to `LOOPBOT_CONCURRENCY` jobs working, renews their leases,
/// and sleeps until woken, a job finishes, the next job is due, or the tick passes. Once
/// `stop` turns true it claims nothing more and waits for the running jobs.
pub async fn run_until_stopped(state: AppState, mut stop: watch::Receiver<bool>) {
    tracing::info!(concurrency = state.settings.concurrency, "worker started");
    // On PostgreSQL, work another replica queues wakes this worker too.
    let listener = db::listen_for_work(&state.settings.database_url, Arc::clone(&state.wake));
    let mut running: JoinSet<()> = JoinSet::new();
    let mut last_sweep: Option<tokio::time::Instant> = None;
    let mut found_nothing_at: Option<tokio::time::Instant> = None;
    let mut looks_in_vain: u32 = 0;
    let mut renew = tokio::time::interval(RENEW_EVERY);
    renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !*stop.borrow() {
        // Every LOOPBOT_TICK, even under load: look for due reminders.
        if last_sweep.is_none_or(|at| at.elapsed() >= state.settings.tick) {
            if let Err(e) = reminders::sweep(&state).await {
                tracing::error!(
                    error = format!("{e:#}"),
                    "the reminder sweep failed; it runs again next tick"
                );
            }
            if let Err(e) = crate::services::ats_poll::queue_due_polls(&state).await {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "queueing the ATS polls failed; it runs again next tick"
                );
            }
            if let Err(e) = housekeeping(&state).await {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "housekeeping failed; it runs again next tick"
                );
            }
            last_sweep = Some(tokio::time::Instant::now());
        }
        while has_room(&state, running.len()) {
            let found = claim(&state).await;
            match found {
                Ok(None) => {
                    found_nothing_at = Some(tokio::time::Instant::now());
                    looks_in_vain = looks_in_vain.saturating_add(1);
                }
                Ok(Some(_)) => looks_in_vain = 0,
                Err(_) => {}
            }
            match found {
                Ok(Some(claimed)) => {
                    let state = state.clone();
                    running.spawn(async move {
                        if let Err(e) = run_claimed(&state, claimed).await {
                            tracing::error!(
                                error = format!("{e:#}"),
                                "could not record a job's outcome"
                            );
                        }
                    });
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::error!(
                        error = format!("{e:#}"),
                        "worker could not read the jobs table"
                    );
                    break;
                }
            }
        }
        let mut wait = state.settings.tick;
        if has_room(&state, running.len())
            && let Ok(Some(due)) = db::jobs::next_due_at(
                &state.db,
                state.clock.now_ms(),
                state.slack.pacer().is_some(),
                IN_JOB_WAIT_MS,
            )
            .await
        {
            // Due but not claimable (its loop has a job running): a finishing job wakes us.
            let until = due - state.clock.now_ms();
            wait = wait.min(match u64::try_from(until) {
                Ok(ms) if ms > 0 => Duration::from_millis(ms),
                _ => Duration::from_secs(1),
            });
        }
        let (renew_now, committed) = tokio::select! {
            _ = tokio::time::sleep(wait.max(Duration::from_millis(5))) => (false, false),
            _ = state.wake.notified() => (false, true),
            _ = state.slack.slot_waits().started() => (false, false),
            Some(_) = running.join_next(), if !running.is_empty() => (false, false),
            _ = renew.tick() => (true, false),
            _ = stop.changed() => (false, false),
        };
        if renew_now {
            renew_leases(&state).await;
        }
        if committed
            && let Some(gap) =
                found_nothing_at.and_then(|at| look_gap(looks_in_vain).checked_sub(at.elapsed()))
        {
            tokio::select! {
                _ = tokio::time::sleep(gap) => {}
                _ = stop.changed() => {}
            }
        }
    }
    tracing::info!(
        running = running.len(),
        "worker stopping: finishing the jobs it runs"
    );
    loop {
        let renew_now = tokio::select! {
            next = running.join_next() => match next {
                None => break,
                Some(_) => false,
            },
            _ = renew.tick() => true,
        };
        if renew_now {
            renew_leases(&state).await;
        }
    }
    if let Some(listener) = listener {
        listener.abort();
    }
    tracing::info!("worker stopped");
}

async fn renew_leases(state: &AppState) {
    let now = state.clock.now_ms();
    if let Err(e) = db::jobs::renew_leases(&state.db, state.worker.as_str(), now, LEASE_MS).await {
        tracing::warn!(error = %e, "could not renew job leases");
    }
}

#[cfg(test)]
mod tests {
    use super::{look_gap, room_for_one_more};
    use std::time::Duration;

    #[test]
    fn looks_in_vain_in_a_row_wait_longer_for_a_commit_up_to_a_tenth_of_a_second() {
        let ms = |looks| look_gap(looks).as_millis();
        assert_eq!(
            [0, 1, 2, 3, 4, 5, 40].map(ms),
            [10, 10, 20, 40, 80, 100, 100]
        );
        assert_eq!(look_gap(u32::MAX), Duration::from_millis(100));
    }

    #[test]
    fn jobs_waiting_for_their_slack_slot_leave_room_for_others_up_to_four_times_over() {
        assert!(room_for_one_more(2, 1, 0));
        assert!(!room_for_one_more(2, 2, 0), "two working of two");
        assert!(
            room_for_one_more(2, 2, 1),
            "one of them only waits for its slot"
        );
        assert!(room_for_one_more(2, 7, 6));
        assert!(
            !room_for_one_more(2, 8, 8),
            "never more than four times the setting"
        );
        assert!(
            room_for_one_more(2, 3, 9),
            "a count taken mid-change never underflows"
        );
    }
}
