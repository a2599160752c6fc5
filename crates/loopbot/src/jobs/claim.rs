//! The claim: the next due job this process may run, most urgent first, only when its Slack
//! budget has room, with that budget's slot reserved in the same transaction (so a job is never
//! claimed only to be put back, and a slot given is kept however late the job comes for it).

use crate::db;
use crate::db::jobs::ClaimedJob;
use crate::metrics::label;
use crate::slack::pacer::{BudgetOp, IN_JOB_WAIT_MS};
use crate::slack::tiers::budgets_spent;
use crate::state::AppState;

/// How long a claimed job is reserved for its worker without a renewal; after that another
/// worker may take it.
pub const LEASE_MS: i64 = 20 * 1000;

/// Claims the next due job for this process, unless outbound work is paused. The pause is read
/// from the database each time, so a pause (or resume) by another replica holds here too.
pub async fn claim(state: &AppState) -> anyhow::Result<Option<ClaimedJob>> {
    let paused = db::flags::get(&state.db, db::flags::OUTBOUND_PAUSED).await?;
    state
        .paused
        .store(paused.is_some(), std::sync::atomic::Ordering::SeqCst);
    if paused.is_some() {
        return Ok(None);
    }
    let now = state.clock.now_ms();
    // A candidate found by a look and gone by the time it is confirmed (a rare race): look
    // again, a few times.
    for _ in 0..3 {
        match try_claim(state, now).await? {
            Attempt::Claimed(claimed) => {
                state
                    .metrics
                    .inc("loopbot_jobs_claimed_total", label("kind", &claimed.kind));
                return Ok(Some(claimed));
            }
            Attempt::Nothing => return Ok(None),
            Attempt::Gone => {}
        }
    }
    Ok(None)
}

enum Attempt {
    Claimed(ClaimedJob),
    Nothing,
    /// Found by the look, no longer claimable when confirmed.
    Gone,
}

async fn try_claim(state: &AppState, now: i64) -> anyhow::Result<Attempt> {
    let paced = state.slack.pacer().is_some();
    let backend = db::Backend::of(&state.db);
    let worker = state.worker.as_str();
    // Look without a transaction first, and begin one only to confirm and claim what was
    // found: most looks under load find nothing (every due job's budget closed), and a look
    // scans the due jobs. SQLite has one writer, which requests wait for; on PostgreSQL a
    // transaction is three round trips where a look is one.
    let Some(peeked) =
        db::jobs::peek_candidate(&state.db, now, worker, paced, IN_JOB_WAIT_MS).await?
    else {
        return Ok(Attempt::Nothing);
    };
    let mut tx = db::jobs::begin_claim(&state.db).await?;
    let candidate = match backend {
        db::Backend::Sqlite => {
            db::jobs::confirm_candidate(&mut tx, peeked.id, now, worker, paced, IN_JOB_WAIT_MS)
                .await?
        }
        // Rows are locked as they are chosen, and a busy loop passed over: choose again.
        db::Backend::Postgres => {
            db::jobs::next_candidate(&mut tx, backend, now, worker, paced, IN_JOB_WAIT_MS).await?
        }
    };
    let Some(candidate) = candidate else {
        tx.commit().await?;
        return Ok(Attempt::Gone);
    };
    // The job's budget slot is reserved in the claim's own transaction: a job is claimed only
    // when Slack would take its call, and the slot is its own however late it comes.
    let slot = match (&candidate.budget, paced) {
        (Some(budget), true) => {
            let op = BudgetOp::Reserve {
                horizon_ms: IN_JOB_WAIT_MS,
            };
            // A post spends its channel's budget and the workspace's: both reserved.
            let keys = budgets_spent(budget);
            match crate::jobs::budgets::apply_in(&mut tx, backend, &keys, &op, now).await? {
                Ok(slot) => Some(slot),
                // Another replica took the room first: nothing claimed, nothing changed.
                Err(_) => {
                    tx.rollback().await?;
                    return Ok(Attempt::Nothing);
                }
            }
        }
        _ => None,
    };
    let claimed =
        db::jobs::mark_claimed(&mut tx, candidate.id, now, LEASE_MS, worker, slot).await?;
    tx.commit().await?;
    Ok(Attempt::Claimed(claimed))
}
