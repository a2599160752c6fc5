//! The worker: claims due jobs, runs several at once (`LOOPBOT_CONCURRENCY`, a loop's own jobs
//! one at a time and in order), and records each outcome. A short lease, renewed while a job
//! runs, lets another process take over the work of one that died within [`LEASE_MS`]; a
//! process that restarts takes back its own work at once ([`take_back_own_work`]).
//!
//! Waiting is never failing: a rate limit (Slack's 429, or the pacer's own budget) and working
//! hours put a job back without counting an attempt. Tests and the demo call [`run_due_jobs`]
//! directly instead of running the loop.

pub mod retry;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::db;
use crate::db::jobs::{Attempts, ClaimedJob};
use crate::jobs::{Job, JobError};
use crate::metrics::label;
use crate::services::{
    events, home, interview_dms, panel_order, provision, purge, ready, refresh, reminders,
    screen_gate,
};
use crate::slack::pacer::{BudgetOp, IN_JOB_WAIT_MS};
use crate::slack::{Reservation, SlackError};
use crate::state::AppState;
use crate::worker_id::is_gone_from_this_host;
use retry::{Next, next_step};

/// How long a claimed job is reserved for its worker without a renewal; after that another
/// worker may take it.
pub const LEASE_MS: i64 = 20 * 1000;
/// How often a worker renews the leases of the jobs it runs.
const RENEW_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ran,
    Idle,
}

/// Claims the next due job for this process, unless outbound work is paused. The pause is read
/// from the database each time, so a pause (or resume) by another replica holds here too.
async fn claim(state: &AppState) -> anyhow::Result<Option<ClaimedJob>> {
    let paused = db::flags::get(&state.db, db::flags::OUTBOUND_PAUSED).await?;
    state
        .paused
        .store(paused.is_some(), std::sync::atomic::Ordering::SeqCst);
    if paused.is_some() {
        return Ok(None);
    }
    let now = state.clock.now_ms();
    let paced = state.slack.pacer().is_some();
    let backend = db::Backend::of(&state.db);
    let worker = state.worker.as_str();
    let mut tx = db::jobs::begin_claim(&state.db).await?;
    let Some(candidate) =
        db::jobs::next_candidate(&mut tx, backend, now, worker, paced, IN_JOB_WAIT_MS).await?
    else {
        tx.commit().await?;
        return Ok(None);
    };
    // The job's budget slot is reserved in the claim's own transaction: a job is claimed only
    // when Slack would take its call, and the slot is its own however late it comes.
    let slot = match (&candidate.budget, paced) {
        (Some(budget), true) => {
            let op = BudgetOp::Reserve {
                method: budget.clone(),
                horizon_ms: IN_JOB_WAIT_MS,
            };
            match crate::pacing::apply_in(&mut tx, backend, budget, &op, now).await? {
                Ok(slot) => Some(slot),
                // Another replica took the room first: nothing claimed, nothing changed.
                Err(_) => {
                    tx.rollback().await?;
                    return Ok(None);
                }
            }
        }
        _ => None,
    };
    let claimed =
        db::jobs::mark_claimed(&mut tx, candidate.id, now, LEASE_MS, worker, slot).await?;
    tx.commit().await?;
    state
        .metrics
        .inc("loopbot_jobs_claimed_total", label("kind", &claimed.kind));
    Ok(Some(claimed))
}

/// Claims and runs one due job, if any.
pub async fn run_one(state: &AppState) -> anyhow::Result<Outcome> {
    let Some(claimed) = claim(state).await? else {
        return Ok(Outcome::Idle);
    };
    run_claimed(state, claimed).await?;
    Ok(Outcome::Ran)
}

/// Runs a claimed job and records what happened, in a span naming the job, its kind and its
/// loop (every log line of the run carries them).
async fn run_claimed(state: &AppState, claimed: ClaimedJob) -> anyhow::Result<()> {
    use tracing::Instrument;
    let span = tracing::info_span!(
        "job",
        job = claimed.id,
        kind = %claimed.kind,
        loop_id = claimed.loop_id,
        attempt = claimed.attempts
    );
    run_claimed_in_span(state, claimed).instrument(span).await
}

async fn run_claimed_in_span(state: &AppState, claimed: ClaimedJob) -> anyhow::Result<()> {
    let kind = claimed.kind.clone();
    let job = Job::from_payload(&claimed.payload);
    let reserved = match (&claimed.budget, claimed.slot) {
        (Some(method), Some(slot)) => Some(Reservation {
            method: method.clone(),
            slot,
        }),
        _ => None,
    };
    let run = state.for_job(may_repeat(&claimed), reserved);
    let result = match &job {
        Ok(job) => execute(&run, job).await,
        Err(e) => Err(JobError::Permanent(format!("unreadable job payload: {e}"))),
    };
    let now = state.clock.now_ms();
    let requeue = |run_at: i64, why: String, attempts| {
        let db = state.db.clone();
        let id = claimed.id;
        async move { db::jobs::requeue(&db, id, run_at, &why, now, attempts).await }
    };
    match result {
        Ok(()) => {
            let gap = job.as_ref().map(Job::rerun_gap_ms).unwrap_or(0);
            db::jobs::complete(&state.db, claimed.id, now, gap).await?;
            state
                .metrics
                .inc("loopbot_jobs_completed_total", label("kind", &kind));
        }
        Err(JobError::Deferred { until }) => {
            requeue(
                until,
                "waiting for working hours".into(),
                Attempts::GiveBack,
            )
            .await?;
        }
        Err(JobError::Slack(SlackError::Paced { until })) => {
            requeue(
                until,
                "waiting for Slack's rate limit".into(),
                Attempts::GiveBack,
            )
            .await?;
            state
                .metrics
                .inc("loopbot_jobs_paced_total", label("kind", &kind));
        }
        Err(JobError::Slack(SlackError::RateLimited { retry_after })) => {
            // Slack said when; a little jitter so the jobs it held back do not return at once.
            let wait = retry_after + Duration::from_secs_f64(fastrand::f64());
            let run_at = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 4);
            requeue(run_at, "rate limited by Slack".into(), Attempts::GiveBack).await?;
            state
                .metrics
                .inc("loopbot_jobs_rate_limited_total", label("kind", &kind));
        }
        Err(JobError::Slack(e)) if e.is_auth_failure() => {
            // Not this job's fault: keep it queued, uncounted, and stop sending until the
            // token works again.
            requeue(now + 60_000, e.to_string(), Attempts::GiveBack).await?;
            events::pause_outbound(state, e.code().unwrap_or("auth")).await;
        }
        Err(error) => {
            // A run that got part of the way (a step succeeded) starts the next step's
            // backoff afresh.
            let progressed = run.slack.made_progress();
            let attempts = if progressed { 1 } else { claimed.attempts };
            match next_step(&error, attempts, fastrand::f64()) {
                Next::RetryAfter(wait) => {
                    let run_at = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                    tracing::warn!(job = claimed.id, kind, attempt = attempts, error = %crate::error::chain(&error), retry_in = ?wait, "job failed; will retry");
                    let counted = if progressed {
                        Attempts::RestartAtOne
                    } else {
                        Attempts::Count
                    };
                    requeue(run_at, crate::error::chain(&error), counted).await?;
                    state
                        .metrics
                        .inc("loopbot_jobs_retried_total", label("kind", &kind));
                }
                Next::GiveUp => {
                    tracing::error!(job = claimed.id, kind, attempts, error = %crate::error::chain(&error), "job failed; giving up");
                    given_up(
                        state,
                        &claimed,
                        job.as_ref().ok(),
                        &crate::error::chain(&error),
                    )
                    .await?;
                    state
                        .metrics
                        .inc("loopbot_jobs_failed_total", label("kind", &kind));
                }
            }
        }
    }
    Ok(())
}

/// Whether this run may repeat an earlier run that Slack acted on without Loopbot storing the
/// outcome (an answer lost in a 5xx or a timeout, a crash between Slack's answer and the
/// commit): then its posts look for an earlier copy, by their metadata key, before posting.
///
/// The claim counts every run in `attempts`, and a run that may have reached Slack keeps its
/// count: a failure counts (or restarts the count at one after progress), a crash keeps it (a
/// lease taken over, or work taken back at start-up). Only waits in which Slack acted on
/// nothing give the attempt back (a 429, the pacer, working hours, a refused token). So any
/// earlier attempt still counted means the previous runs may have posted.
fn may_repeat(claimed: &ClaimedJob) -> bool {
    claimed.attempts > 1
}

/// Records a job as failed. A loop whose setup failed tells its coordinator, in the same
/// transaction, what failed and how to retry.
async fn given_up(
    state: &AppState,
    claimed: &ClaimedJob,
    job: Option<&Job>,
    error: &str,
) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let mut tx = state.begin().await?;
    db::jobs::give_up(&mut *tx, claimed.id, error, now).await?;
    if let Some(Job::ProvisionLoop { loop_id }) = job {
        Job::SetupFailedNotice {
            loop_id: *loop_id,
            job_id: claimed.id,
        }
        .enqueue(&mut *tx, now)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn execute(state: &AppState, job: &Job) -> Result<(), JobError> {
    match job {
        Job::ProvisionLoop { loop_id } => provision::provision_loop(state, *loop_id).await,
        Job::PostStages { loop_id } => provision::post_stages(state, *loop_id).await,
        Job::RefreshSummary { loop_id } => refresh::summary(state, *loop_id).await,
        Job::RefreshRubric { loop_id, position } => {
            refresh::rubric(state, *loop_id, *position).await
        }
        Job::ScorecardNote {
            loop_id,
            scorecard_id,
        } => refresh::scorecard_note(state, *loop_id, *scorecard_id).await,
        Job::RubricDetail { loop_id, position } => {
            refresh::rubric_detail(state, *loop_id, *position).await
        }
        Job::SkipWarning { loop_id, position } => {
            refresh::skip_warning(state, *loop_id, *position).await
        }
        Job::SkipNote { loop_id, position } => refresh::skip_note(state, *loop_id, *position).await,
        Job::DecisionMessage { loop_id, at } => {
            refresh::decision_message(state, *loop_id, *at).await
        }
        Job::ReopenNote { loop_id, cycle } => refresh::reopen_note(state, *loop_id, *cycle).await,
        Job::ArchiveChannel { loop_id } => refresh::archive_channel(state, *loop_id).await,
        Job::InviteMembers { loop_id } => refresh::invite_members(state, *loop_id).await,
        Job::Nudge {
            loop_id,
            position,
            user,
            asked_at,
        } => refresh::nudge(state, *loop_id, *position, user, *asked_at).await,
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
        Job::OwnerNotice {
            loop_id,
            position,
            user,
            to,
            what,
        } => reminders::owner_notice(state, *loop_id, *position, user, to, what).await,
        Job::NotRunNotice {
            loop_id,
            position,
            user,
        } => reminders::not_run_notice(state, *loop_id, *position, user).await,
        Job::PublishHome { user } => home::publish(state, user).await,
        Job::Brief {
            loop_id,
            position,
            user,
            interview_at,
        } => interview_dms::brief(state, *loop_id, *position, user, *interview_at).await,
        Job::InterviewNudge {
            loop_id,
            position,
            user,
            interview_at,
        } => interview_dms::nudge(state, *loop_id, *position, user, *interview_at).await,
        Job::SetupFailedNotice { loop_id, job_id } => {
            provision::setup_failed_notice(state, *loop_id, *job_id).await
        }
        Job::InviteRefusedNotice { loop_id, refused } => {
            provision::invite_refused_notice(state, *loop_id, refused).await
        }
        Job::OrderNote { loop_id, order } => panel_order::post_note(state, *loop_id, order).await,
        Job::ScreenGate { loop_id, to } => screen_gate::ask(state, *loop_id, to).await,
        Job::ReadyToDecide { loop_id, cycle } => ready::tell(state, *loop_id, *cycle).await,
        Job::DecideReminder {
            loop_id,
            cycle,
            ready_at,
            to,
        } => ready::remind(state, *loop_id, *cycle, *ready_at, to).await,
        Job::PurgeSlack { loop_id } => purge::purge_slack(state, *loop_id).await,
    }
}

/// Sweeps for due reminders, then runs every job that is due now (by the app's clock), one
/// after another; returns how many jobs ran.
pub async fn run_due_jobs(state: &AppState) -> anyhow::Result<usize> {
    reminders::sweep(state).await?;
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

/// The background loop: keeps up to `LOOPBOT_CONCURRENCY` jobs running, renews their leases,
/// and sleeps until woken, a job finishes, the next job is due, or the tick passes. Once
/// `stop` turns true it claims nothing more and waits for the running jobs.
pub async fn run_until_stopped(state: AppState, mut stop: watch::Receiver<bool>) {
    tracing::info!(concurrency = state.settings.concurrency, "worker started");
    // On PostgreSQL, work another replica queues wakes this worker too.
    let listener = db::listen_for_work(&state.settings.database_url, Arc::clone(&state.wake));
    let mut running: JoinSet<()> = JoinSet::new();
    let mut last_sweep: Option<tokio::time::Instant> = None;
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
            if let Err(e) = housekeeping(&state).await {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "housekeeping failed; it runs again next tick"
                );
            }
            last_sweep = Some(tokio::time::Instant::now());
        }
        while running.len() < state.settings.concurrency {
            match claim(&state).await {
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
        if running.len() < state.settings.concurrency
            && let Ok(Some(due)) =
                db::jobs::next_due_at(&state.db, state.slack.pacer().is_some(), IN_JOB_WAIT_MS)
                    .await
        {
            // Due but not claimable (its loop has a job running): a finishing job wakes us.
            let until = due - state.clock.now_ms();
            wait = wait.min(match u64::try_from(until) {
                Ok(ms) if ms > 0 => Duration::from_millis(ms),
                _ => Duration::from_secs(1),
            });
        }
        let renew_now = tokio::select! {
            _ = tokio::time::sleep(wait.max(Duration::from_millis(5))) => false,
            _ = state.wake.notified() => false,
            Some(_) = running.join_next(), if !running.is_empty() => false,
            _ = renew.tick() => true,
            _ = stop.changed() => false,
        };
        if renew_now {
            renew_leases(&state).await;
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
