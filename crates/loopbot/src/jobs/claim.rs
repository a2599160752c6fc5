//! The claim: the next due job this process may run, most urgent first, only when its Slack
//! budget has room, with that budget's slot reserved in the same transaction (so a job is never
//! claimed only to be put back, and a slot given is kept however late the job comes for it).

use crate::db;
use crate::db::jobs::ClaimedJob;
use crate::db::trip::Trip;
use crate::jobs::pacing::{BudgetOp, IN_JOB_WAIT_MS};
use crate::jobs::tiers::budgets_spent;
use crate::metrics::label;
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
    if backend == db::Backend::Sqlite {
        return claim_in_two_trips(state, peeked, now).await;
    }
    let mut tx = db::jobs::begin_claim(&state.db).await?;
    // Rows are locked as they are chosen, and a busy loop passed over: choose again.
    let candidate =
        db::jobs::next_candidate(&mut tx, backend, now, worker, paced, IN_JOB_WAIT_MS).await?;
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

/// SQLite: the claim holds the one writer for two trips. The first begins the transaction (on
/// the kept writer), confirms the candidate and reads its budgets; the second stores the
/// reservation, marks the job claimed and commits.
async fn claim_in_two_trips(
    state: &AppState,
    peeked: db::jobs::Candidate,
    now: i64,
) -> anyhow::Result<Attempt> {
    let paced = state.slack.pacer().is_some();
    let worker = state.worker.as_str();
    let keys = match (&peeked.budget, paced) {
        (Some(budget), true) => budgets_spent(budget),
        _ => Vec::new(),
    };
    let mut trip = Trip::new();
    let confirmed =
        db::jobs::confirm_candidate_into(&mut trip, peeked.id, now, worker, paced, IN_JOB_WAIT_MS);
    let held = (!keys.is_empty())
        .then(|| db::budgets::lock_into(&mut trip, db::Backend::Sqlite, &keys, now));
    let (tx, mut answers) = db::begin_write_with(&state.db, &[], trip)
        .await
        .map_err(|f| f.error)?;
    let Some(candidate) = confirmed.take(&mut answers)? else {
        tx.rollback().await?;
        return Ok(Attempt::Gone);
    };
    let mut trip = Trip::new();
    let slot = match held {
        Some(held) => {
            let texts = db::budgets::texts_in_order(&keys, held.take(&mut answers)?);
            let op = BudgetOp::Reserve {
                horizon_ms: IN_JOB_WAIT_MS,
            };
            let (result, rows) = crate::jobs::budgets::apply_to(&keys, &texts, &op, now);
            let Ok(slot) = result else {
                tx.rollback().await?;
                return Ok(Attempt::Nothing);
            };
            db::budgets::store_into(&mut trip, &rows, now);
            Some(slot)
        }
        None => None,
    };
    let claimed = db::jobs::mark_claimed_into(&mut trip, candidate.id, now, LEASE_MS, worker, slot);
    let mut answers = tx.commit_with(trip).await.map_err(|f| f.error)?;
    Ok(Attempt::Claimed(claimed.take(&mut answers)?))
}
