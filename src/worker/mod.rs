//! The worker: claims one due job at a time, runs it, and records the outcome. Tests and the
//! demo call [`run_due_jobs`] directly instead of running the loop.

pub mod retry;

use std::time::Duration;

use tokio::sync::watch;

use crate::db;
use crate::jobs::{Job, JobError};
use crate::metrics::label;
use crate::services::{home, provision, refresh, reminders};
use crate::state::AppState;
use retry::{Next, next_step};

/// How long a claimed job is reserved for its worker; after that another worker may take it.
pub const LEASE_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ran,
    Idle,
}

/// Claims and runs one due job, if any.
pub async fn run_one(state: &AppState) -> anyhow::Result<Outcome> {
    if state.paused.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(Outcome::Idle);
    }
    let now = state.clock.now_ms();
    let Some(claimed) = db::jobs::claim_due(&state.db, now, LEASE_MS).await? else {
        return Ok(Outcome::Idle);
    };
    let kind = claimed.kind.clone();
    let job = Job::from_payload(&claimed.payload);
    let result = match &job {
        Ok(job) => execute(state, job).await,
        Err(e) => Err(JobError::Permanent(format!("unreadable job payload: {e}"))),
    };
    let now = state.clock.now_ms();
    match result {
        Ok(()) => {
            let gap = job.as_ref().map(Job::rerun_gap_ms).unwrap_or(0);
            db::jobs::complete(&state.db, claimed.id, now, gap).await?;
            state
                .metrics
                .inc("loopbot_jobs_completed_total", label("kind", &kind));
        }
        Err(JobError::Deferred { until }) => {
            db::jobs::requeue(
                &state.db,
                claimed.id,
                until,
                "waiting for working hours",
                now,
                false,
            )
            .await?;
        }
        Err(JobError::Slack(e)) if e.is_auth_failure() => {
            // Not this job's fault: keep it queued, uncounted, and stop sending until the
            // token works again.
            db::jobs::requeue(
                &state.db,
                claimed.id,
                now + 60_000,
                &e.to_string(),
                now,
                false,
            )
            .await?;
            crate::services::events::pause_outbound(state, e.code().unwrap_or("auth")).await;
        }
        Err(error) => match next_step(&error, claimed.attempts, fastrand::f64()) {
            Next::RetryAfter(wait) => {
                let run_at = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                tracing::warn!(job = claimed.id, kind, attempt = claimed.attempts, error = %error, retry_in = ?wait, "job failed; will retry");
                db::jobs::requeue(&state.db, claimed.id, run_at, &error.to_string(), now, true)
                    .await?;
                state
                    .metrics
                    .inc("loopbot_jobs_retried_total", label("kind", &kind));
            }
            Next::GiveUp => {
                tracing::error!(job = claimed.id, kind, attempts = claimed.attempts, error = %error, "job failed; giving up");
                db::jobs::give_up(&state.db, claimed.id, &error.to_string(), now).await?;
                state
                    .metrics
                    .inc("loopbot_jobs_failed_total", label("kind", &kind));
            }
        },
    }
    Ok(Outcome::Ran)
}

async fn execute(state: &AppState, job: &Job) -> Result<(), JobError> {
    match job {
        Job::ProvisionLoop { loop_id } => provision::provision_loop(state, *loop_id).await,
        Job::RefreshSummary { loop_id } => refresh::summary(state, *loop_id).await,
        Job::RefreshRubric { loop_id, position } => {
            refresh::rubric(state, *loop_id, *position).await
        }
        Job::ScorecardNote {
            loop_id,
            scorecard_id,
        } => refresh::scorecard_note(state, *loop_id, *scorecard_id).await,
        Job::SkipWarning { loop_id, position } => {
            refresh::skip_warning(state, *loop_id, *position).await
        }
        Job::SkipNote { loop_id, position } => refresh::skip_note(state, *loop_id, *position).await,
        Job::DecisionMessage { loop_id } => refresh::decision_message(state, *loop_id).await,
        Job::ArchiveChannel { loop_id } => refresh::archive_channel(state, *loop_id).await,
        Job::InviteMembers { loop_id } => refresh::invite_members(state, *loop_id).await,
        Job::Nudge {
            loop_id,
            position,
            user,
            ..
        } => refresh::nudge(state, *loop_id, *position, user).await,
        Job::Reminder {
            loop_id,
            position,
            user,
            seq,
        } => reminders::remind(state, *loop_id, *position, user, *seq).await,
        Job::Escalation {
            loop_id,
            position,
            user,
        } => reminders::escalate(state, *loop_id, *position, user).await,
        Job::NotRunNotice {
            loop_id,
            position,
            user,
        } => reminders::not_run_notice(state, *loop_id, *position, user).await,
        Job::PublishHome { user } => home::publish(state, user).await,
    }
}

/// Sweeps for due reminders, then runs every job that is due now (by the app's clock);
/// returns how many jobs ran.
pub async fn run_due_jobs(state: &AppState) -> anyhow::Result<usize> {
    reminders::sweep(state).await?;
    let mut ran = 0;
    while run_one(state).await? == Outcome::Ran {
        ran += 1;
    }
    Ok(ran)
}

/// Forgets what is no longer needed: event receipts older than Slack's longest retry horizon
/// (delayed events: 24 h), and finished jobs older than a week.
pub async fn housekeeping(state: &AppState) -> sqlx::Result<()> {
    const DAY_MS: i64 = 24 * 3600 * 1000;
    let now = state.clock.now_ms();
    db::receipts::prune(&state.db, now - 2 * DAY_MS).await?;
    db::jobs::prune_done(&state.db, now - 7 * DAY_MS).await?;
    Ok(())
}

/// The background loop: runs due jobs, then sleeps until woken, the next job is due, or the
/// tick passes. Stops between jobs once `stop` turns true.
pub async fn run_until_stopped(state: AppState, mut stop: watch::Receiver<bool>) {
    tracing::info!("worker started");
    let mut last_sweep: Option<tokio::time::Instant> = None;
    while !*stop.borrow() {
        // Every LOOPBOT_TICK, even under load: look for due reminders.
        if last_sweep.is_none_or(|at| at.elapsed() >= state.settings.tick) {
            if let Err(e) = reminders::sweep(&state).await {
                tracing::error!(error = %e, "the reminder sweep failed; it runs again next tick");
            }
            if let Err(e) = housekeeping(&state).await {
                tracing::warn!(error = %e, "housekeeping failed; it runs again next tick");
            }
            last_sweep = Some(tokio::time::Instant::now());
        }
        match run_one(&state).await {
            Ok(Outcome::Ran) => continue,
            Ok(Outcome::Idle) => {}
            Err(e) => tracing::error!(error = %e, "worker could not read the jobs table"),
        }
        let next_due = db::jobs::next_due_at(&state.db).await.ok().flatten();
        let mut wait = state.settings.tick;
        if let Some(due) = next_due {
            let until = u64::try_from(due - state.clock.now_ms()).unwrap_or(0);
            wait = wait.min(Duration::from_millis(until));
        }
        tokio::select! {
            _ = tokio::time::sleep(wait.max(Duration::from_millis(10))) => {}
            _ = state.wake.notified() => {}
            _ = stop.wait_for(|s| *s) => {}
        }
    }
    tracing::info!("worker stopped");
}
