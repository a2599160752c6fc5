//! What a change locks on PostgreSQL, instead of the whole database.
//!
//! SQLite lets one writer in at a time (`BEGIN IMMEDIATE`, see [`super::begin_write`]), so
//! nothing here does anything there. On PostgreSQL several replicas write at once, every
//! transaction at READ COMMITTED, and what keeps a use case's read, decide and write whole is
//! the row of the loop it changes:
//!
//! - **A change to a loop locks the loop's row first** ([`lock_loop`]) and holds it until it
//!   commits. Two changes to one loop take turns; changes to different loops never wait for
//!   each other. READ COMMITTED gives every statement a fresh snapshot, so each statement after
//!   the lock sees all that the loop's previous holder committed, and the decisions that once
//!   relied on one writer at a time hold per loop: the next scorecard version
//!   (`MAX(version) + 1`), "not decided" before a scorecard is stored, "every stage is in"
//!   before the ready-to-decide message (two last scorecards at once would otherwise each see
//!   only their own), and the missing-stage check against a scorecard that just came in.
//! - **A change to several loops** (the reminder sweep, a purge) locks all of them when it
//!   starts, in ascending id order ([`lock_loops`], [`lock_loops_with_due_work`]): two such
//!   changes can then never each hold a loop the other waits for, and a one-loop change never
//!   waits while holding a second loop.
//! - **`FOR NO KEY UPDATE`, not `FOR UPDATE`**: it shuts out other lockers and writers of the
//!   row just the same, but not the foreign-key checks (`FOR KEY SHARE`) of rows inserted for
//!   the loop elsewhere, such as a worker's audit line, which need not wait.
//! - **Rows shared by loops** are few: a person's App Home job (`home:<user>`, an `ON CONFLICT
//!   … DO UPDATE` that locks the row until commit), `home_viewers`, and `user_profiles` (a time
//!   zone a request learned on its way in). A transaction writes each kind in one batch, in
//!   user order, after its loops are locked: time zones as it opens (`AppState::begin_loop`),
//!   App Homes later (`services::home::refresh_for`, `refresh_for_each`), and after those
//!   nothing but more of its own loops' rows; so two transactions cannot wait for each other
//!   there either. Elsewhere these rows are written by single statements, which hold nothing
//!   while they wait.
//! - **What needs no lock**: unique keys and `ON CONFLICT` (a second insert of a key waits for
//!   the transaction that inserted it, then sees its row: a dedupe key, a receipt, a new
//!   loop's `source_view_id`), counters updated in one statement (`cycle = cycle + 1`, which
//!   PostgreSQL re-evaluates on the newest row), claims guarded by what was read (`WHERE
//!   next_at = $read`), and identity columns.
//!
//! A job claim locks its loop's row too, but never waits for it ([`runs_alone`]): a claim that
//! waited while holding its job's row could deadlock with a change to the loop that updates
//! that job (a refresh asked for again). It passes over that loop instead, as `SKIP LOCKED`
//! passes over a job another claim holds. The one row a claim waits for is its job's Slack
//! budget (`db::budgets`), and whoever holds that (another claim about to commit, the pacer)
//! waits for nothing a claim holds.

use sqlx::AnyConnection;

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;

/// Whether the connection is PostgreSQL's (row locks matter) rather than SQLite's.
fn on_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
}

/// Locks one loop's row until the transaction ends (nothing on SQLite). First in the
/// transaction, before anything of the loop is read or written.
pub async fn lock_loop(conn: &mut AnyConnection, loop_id: LoopId) -> sqlx::Result<()> {
    lock_loops(conn, &[loop_id]).await
}

/// Locks the rows of `loop_ids` until the transaction ends, in ascending id order (nothing on
/// SQLite). Loops that do not exist are passed over.
pub async fn lock_loops(conn: &mut AnyConnection, loop_ids: &[LoopId]) -> sqlx::Result<()> {
    if !on_postgres(conn) || loop_ids.is_empty() {
        return Ok(());
    }
    let mut ids = loop_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    // PostgreSQL sorts before it locks, so the rows are locked in this order; chunks keep
    // the statement's parameters few and the order whole.
    for chunk in ids.chunks(500) {
        let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id FROM loops WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
            placeholders.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        query.fetch_all(&mut *conn).await?;
    }
    Ok(())
}

/// `BEGIN` and [`lock_loops`] as one simple query, for PostgreSQL: one round trip where they
/// were two. `None` for no loops or more than one statement's worth. The ids are integers,
/// written into the text as such.
pub fn begin_locking(loop_ids: &[LoopId]) -> Option<String> {
    let mut ids = loop_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > 500 {
        return None;
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    Some(format!(
        "BEGIN; SELECT id FROM loops WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
        list.join(", ")
    ))
}

/// For the reminder sweep: locks, in ascending id order, every loop with work due by `now`
/// (a reminder whose `next_at` has come, a brief, nudge or clock moment not yet queued), as
/// the sweep's own queries (`db::reminders::due`, `db::interview_dms::due`) find it. Nothing
/// on SQLite.
///
/// A brief that a change commits after this, due at this very `now`, can still be queued by
/// the sweep without its loop locked; queueing it inserts one job under a new key and claims
/// the brief's own row, which needs no lock.
pub async fn lock_loops_with_due_work(
    conn: &mut AnyConnection,
    now: UnixMillis,
) -> sqlx::Result<()> {
    if !on_postgres(conn) {
        return Ok(());
    }
    sqlx::query(
        "SELECT id FROM loops
          WHERE id IN (SELECT loop_id FROM reminders WHERE next_at IS NOT NULL AND next_at <= $1
                       UNION
                       SELECT loop_id FROM interview_dms WHERE queued_at IS NULL AND send_at <= $1)
          ORDER BY id FOR NO KEY UPDATE",
    )
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    Ok(())
}

/// How often a claim tries again when the job it took cannot run yet (see [`runs_alone`]),
/// each time passing over the loops found busy before.
pub(crate) const CLAIM_TRIES: usize = 8;

/// The condition that passes over the jobs of `loop_ids` in a claim's candidates (the loops
/// are bound from parameter `$first` on); nothing when there are none.
pub(crate) fn not_in_loops(loop_ids: &[LoopId], first: usize) -> String {
    if loop_ids.is_empty() {
        return String::new();
    }
    let placeholders: Vec<String> = (first..first + loop_ids.len())
        .map(|i| format!("${i}"))
        .collect();
    format!(
        " AND (j.loop_id IS NULL OR j.loop_id NOT IN ({}))",
        placeholders.join(", ")
    )
}

/// In a job claim on PostgreSQL, right after the claiming UPDATE: whether the claimed job may
/// run. A job of no loop may. A loop's job may if this transaction gets the loop's row without
/// waiting (`SKIP LOCKED`: no change to the loop and no other claim of it is in progress) and,
/// in a statement after that lock, no other job of the loop is running under a live lease.
///
/// The check cannot be part of the claiming UPDATE: that statement's snapshot is taken before
/// it locks anything, so a claim of the same loop committed in between would go unseen. After
/// the lock, the next statement sees every claim of the loop committed before it, and claims
/// of the loop still in progress hold the row (this one then gives up). Either way one claim
/// wins: a loop's jobs still run one at a time, and in order.
///
/// When this returns `false` the caller rolls its claim back and tries again without the
/// loop: a claim never waits for a loop, and a loop that is busy does not hold up the jobs of
/// other loops behind its own.
pub async fn runs_alone(
    conn: &mut AnyConnection,
    job_id: i64,
    loop_id: Option<LoopId>,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    let Some(loop_id) = loop_id else {
        return Ok(true);
    };
    let got: Option<LoopId> =
        sqlx::query_scalar("SELECT id FROM loops WHERE id = $1 FOR NO KEY UPDATE SKIP LOCKED")
            .bind(loop_id)
            .fetch_optional(&mut *conn)
            .await?;
    if got.is_none() {
        // Someone else holds the row, unless there is none: a job's loop exists while the job
        // does (the foreign key cascades), but a row the foreign key does not guard (a test's,
        // an operator's) has nothing to lock and is checked as it is.
        let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM loops WHERE id = $1")
            .bind(loop_id)
            .fetch_one(&mut *conn)
            .await?;
        if exists > 0 {
            return Ok(false);
        }
    }
    let others: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM jobs
          WHERE loop_id = $1 AND id <> $2 AND state = 'running' AND locked_until > $3",
    )
    .bind(loop_id)
    .bind(job_id)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(others == 0)
}

#[cfg(test)]
mod begin_tests {
    use super::*;

    #[test]
    fn the_begin_locks_each_loop_once_in_ascending_order() {
        assert_eq!(
            begin_locking(&[12, 3, 12, 7]).as_deref(),
            Some(
                "BEGIN; SELECT id FROM loops WHERE id IN (3, 7, 12) ORDER BY id FOR NO KEY UPDATE"
            )
        );
        assert_eq!(begin_locking(&[]), None);
        let many: Vec<LoopId> = (1..=501).collect();
        assert_eq!(
            begin_locking(&many),
            None,
            "more than one statement's worth"
        );
    }
}
