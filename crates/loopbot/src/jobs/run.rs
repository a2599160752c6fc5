//! One job run and its outcome: done, waiting (working hours, a budget, a 429, a paused token:
//! put back without counting an attempt), retried with a backoff, or given up for good.

use std::time::Duration;

use crate::db;
use crate::db::jobs::{Attempts, ClaimedJob};
use crate::jobs::claim::claim;
use crate::jobs::handlers::execute;
use crate::jobs::retry::{Next, next_step};
use crate::jobs::{Job, JobError};
use crate::metrics::label;
use crate::services::events;
use crate::slack::{Reservation, SlackError};
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ran,
    Idle,
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
pub async fn run_claimed(state: &AppState, claimed: ClaimedJob) -> anyhow::Result<()> {
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
        (Some(budget), Some(slot)) => Some(Reservation {
            budget: budget.clone(),
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
        async move {
            let mut write = db::single_write(&db).await?;
            db::jobs::requeue(&mut *write, id, run_at, &why, now, attempts).await
        }
    };
    match result {
        Ok(()) => {
            let gap = job.as_ref().map(Job::rerun_gap_ms).unwrap_or(0);
            let mut write = db::single_write(&state.db).await?;
            db::jobs::complete(&mut *write, claimed.id, now, gap).await?;
            drop(write);
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

/// Records a job as failed. A loop whose setup failed, or whose write back to the ATS was
/// refused, tells its coordinator, in the same transaction, what failed and how to retry.
async fn given_up(
    state: &AppState,
    claimed: &ClaimedJob,
    job: Option<&Job>,
    error: &str,
) -> anyhow::Result<()> {
    let now = state.clock.now_ms();
    let mut tx = state.begin().await?;
    db::jobs::give_up(&mut *tx, claimed.id, error, now).await?;
    match job {
        Some(Job::ProvisionLoop { loop_id }) => {
            Job::SetupFailedNotice {
                loop_id: *loop_id,
                job_id: claimed.id,
            }
            .enqueue(&mut *tx, now)
            .await?;
        }
        // A write the ATS refused (or that cannot be made) is told to the coordinator.
        Some(Job::AtsWriteScorecard {
            loop_id,
            position,
            user,
        }) => {
            Job::AtsWriteRefused {
                loop_id: *loop_id,
                job_id: claimed.id,
                position: *position,
                user: user.clone(),
            }
            .enqueue(&mut *tx, now)
            .await?;
        }
        Some(Job::AtsWriteDecision { loop_id, .. }) => {
            Job::AtsWriteRefused {
                loop_id: *loop_id,
                job_id: claimed.id,
                position: 0,
                user: String::new(),
            }
            .enqueue(&mut *tx, now)
            .await?;
        }
        _ => {}
    }
    tx.commit().await?;
    Ok(())
}
