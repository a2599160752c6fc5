//! The durable jobs table. Use cases insert jobs in their own transaction; workers claim due
//! jobs with a single UPDATE (atomic, also across processes), one job per loop at a time. A
//! short lease, renewed while the job runs, lets another worker take over the job of a worker
//! that died.

use sqlx::AnyExecutor;

use super::trip::{Read, Trip, Value, arguments, rows_of};

use crate::clock::UnixMillis;
use crate::db::{Backend, Db};
use crate::domain::interview_loop::LoopId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    pub loop_id: Option<LoopId>,
    pub payload: String,
    /// At most one job with this key exists; enqueueing it again is a no-op.
    pub dedupe_key: Option<String>,
    pub run_at: UnixMillis,
    /// The Slack budget the job's first call spends: a method (`chat.update`), a method in
    /// a channel (`chat.postMessage:C123`), or [`LOOP_CHANNEL_POSTS`], which names the
    /// loop's channel as it is when the job is queued, or the workspace's budget for posts
    /// (`chat.postMessage`) for a post whose channel is known only as the job runs (a DM;
    /// the channel's budget is reserved then). `None` when it calls Slack not at all, or
    /// before anything else waits for an ATS: those are paced inside the job.
    pub budget: Option<String>,
    /// Lower runs first among due jobs.
    pub priority: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub loop_id: Option<LoopId>,
    pub payload: String,
    /// Including this run.
    pub attempts: i64,
    /// The budget the claim reserved a slot of, and the slot.
    pub budget: Option<String>,
    pub slot: Option<UnixMillis>,
}

/// Returns whether a job was inserted (false when its dedupe key already exists).
pub async fn enqueue(
    db: impl AnyExecutor<'_>,
    job: &NewJob,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    Ok(insert_one(db, job, now, None).await? == 1)
}

/// A job's budget that stands for `chat.postMessage` in its loop's channel: the row names
/// `chat.postMessage:<channel>` once queued, or no budget while the loop has no channel.
pub const LOOP_CHANNEL_POSTS: &str = "chat.postMessage:<the loop's channel>";

/// Rows one statement queues at most (each binds [`ROW_PARAMS`] values; SQLite and PostgreSQL
/// take tens of thousands of parameters).
const ROWS_PER_STATEMENT: usize = 200;
/// Values bound per queued row, after the statement's three shared ones.
const ROW_PARAMS: usize = 7;

/// `INSERT INTO jobs … VALUES` for `rows` rows. `$1` is now, `$2` [`LOOP_CHANNEL_POSTS`], `$3`
/// the refresh gap; then each row binds kind, loop, payload, key, run_at, budget, priority.
fn insert_rows(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO jobs (kind, loop_id, payload, dedupe_key, run_at, created_at, updated_at,
                           budget, priority) VALUES ",
    );
    for row in 0..rows {
        let p = |n: usize| 4 + row * ROW_PARAMS + n;
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, $1, $1,
              CASE WHEN ${} = $2
                   THEN (SELECT 'chat.postMessage:' || channel_id FROM loops WHERE id = ${})
                   ELSE ${} END, ${})",
            p(0),
            p(1),
            p(2),
            p(3),
            p(4),
            p(5),
            p(1),
            p(5),
            p(6)
        ));
    }
    sql
}

/// One statement that queues `jobs` (at most [`ROWS_PER_STATEMENT`]), in the order given:
/// `refresh_gap_ms` is `None` for jobs that, queued again, are not queued twice ([`enqueue`]),
/// or the gap of refreshes ([`enqueue_refresh`]).
fn insert_statement(
    jobs: &[&NewJob],
    now: UnixMillis,
    refresh_gap_ms: Option<i64>,
) -> (String, Vec<Value>) {
    let mut sql = insert_rows(jobs.len());
    sql.push_str(match refresh_gap_ms {
        None => " ON CONFLICT (dedupe_key) DO NOTHING",
        Some(_) => REFRESH_CONFLICT,
    });
    let mut values = Vec::with_capacity(3 + jobs.len() * ROW_PARAMS);
    values.extend([
        now.into(),
        LOOP_CHANNEL_POSTS.into(),
        refresh_gap_ms.unwrap_or(0).into(),
    ]);
    for job in jobs {
        values.extend([
            job.kind.as_str().into(),
            job.loop_id.into(),
            job.payload.as_str().into(),
            job.dedupe_key.as_deref().into(),
            job.run_at.into(),
            job.budget.as_deref().into(),
            job.priority.into(),
        ]);
    }
    (sql, values)
}

/// [`insert_statement`] run on its own.
async fn insert_one(
    db: impl AnyExecutor<'_>,
    job: &NewJob,
    now: UnixMillis,
    refresh_gap_ms: Option<i64>,
) -> sqlx::Result<u64> {
    let (sql, values) = insert_statement(&[job], now, refresh_gap_ms);
    let result = sqlx::query_with(sqlx::AssertSqlSafe(sql), arguments(values)?)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Several jobs in one statement per [`ROWS_PER_STATEMENT`], added to `trip` (each statement
/// is a hop to the database, and a change queues its jobs while it holds the writer). Rows
/// keep the order given, so a loop's jobs run in it; a key given twice is queued once, as its
/// first.
pub fn queue_into(trip: &mut Trip, jobs: &[NewJob], now: UnixMillis, refresh_gap_ms: Option<i64>) {
    let mut seen = std::collections::HashSet::new();
    let jobs: Vec<&NewJob> = jobs
        .iter()
        .filter(|j| j.dedupe_key.as_ref().is_none_or(|k| seen.insert(k)))
        .collect();
    for chunk in jobs.chunks(ROWS_PER_STATEMENT) {
        let (sql, values) = insert_statement(chunk, now, refresh_gap_ms);
        trip.push(sql, values);
    }
}

/// [`queue_into`] in a trip of its own. Returns how many rows were inserted or changed.
async fn insert_many(
    conn: &mut sqlx::AnyConnection,
    jobs: &[NewJob],
    now: UnixMillis,
    refresh_gap_ms: Option<i64>,
) -> sqlx::Result<u64> {
    let mut trip = Trip::new();
    queue_into(&mut trip, jobs, now, refresh_gap_ms);
    Ok(trip.run(conn).await?.iter().map(|a| a.changed).sum())
}

/// [`enqueue`] for several jobs, in the order given, in as few statements as can be.
pub async fn enqueue_many(
    conn: &mut sqlx::AnyConnection,
    jobs: &[NewJob],
    now: UnixMillis,
) -> sqlx::Result<u64> {
    insert_many(conn, jobs, now, None).await
}

/// What a refresh queued again does to its row (`$3` is the gap). A refresh still waiting its
/// turn is left as it is, unwritten: an update that changes nothing still rewrites the row and
/// every index holding a column it sets (four pages of the log on SQLite, a dead row on
/// PostgreSQL), and most refreshes a change queues are waiting already.
const REFRESH_CONFLICT: &str = " ON CONFLICT (dedupe_key) DO UPDATE SET
     rerun = CASE WHEN jobs.state = 'running' THEN 1 ELSE jobs.rerun END,
     run_at = CASE WHEN jobs.state IN ('done', 'failed')
                   THEN CASE WHEN excluded.run_at > jobs.updated_at + $3
                              THEN excluded.run_at ELSE jobs.updated_at + $3 END ELSE jobs.run_at END,
     attempts = CASE WHEN jobs.state IN ('done', 'failed') THEN 0 ELSE jobs.attempts END,
     state = CASE WHEN jobs.state IN ('done', 'failed') THEN 'queued' ELSE jobs.state END
     WHERE jobs.state IN ('done', 'failed') OR (jobs.state = 'running' AND jobs.rerun = 0)";

/// Queues a refresh job (re-rendering a message from the current state). If it is queued
/// already, nothing changes: it will render the latest state when it runs. If it is running,
/// it runs once more when done. If it ran before, it is queued again, but not earlier than
/// `min_gap_ms` after its last run, so a burst of changes makes one update per gap.
pub async fn enqueue_refresh(
    db: impl AnyExecutor<'_>,
    job: &NewJob,
    now: UnixMillis,
    min_gap_ms: i64,
) -> sqlx::Result<()> {
    insert_one(db, job, now, Some(min_gap_ms)).await.map(drop)
}

/// [`enqueue_refresh`] for several jobs of one gap, in the order given.
pub async fn enqueue_refresh_many(
    conn: &mut sqlx::AnyConnection,
    jobs: &[NewJob],
    now: UnixMillis,
    min_gap_ms: i64,
) -> sqlx::Result<u64> {
    insert_many(conn, jobs, now, Some(min_gap_ms)).await
}

/// A due job the claim may take, with the budget it spends.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Candidate {
    pub id: i64,
    pub budget: Option<String>,
    pub loop_id: Option<LoopId>,
}

/// Begins a claim's transaction: on SQLite it takes the write lock at once (one claim at a
/// time, across processes too), so what it reads is what it changes. On PostgreSQL it locks
/// nothing by itself: the candidate's row and its loop's row are locked as it is chosen
/// ([`next_candidate`]), so replicas claim jobs of different loops at once.
pub async fn begin_claim(db: &Db) -> sqlx::Result<super::WriteTx> {
    super::begin_write(db).await
}

/// A job's budgets, as `b` (its own) and `w` (the workspace's budget for posts, spent too by a
/// post to a channel: `chat.postMessage:C1`, the one method Slack limits per channel, see
/// `jobs::tiers`).
macro_rules! budgets_joined {
    () => {
        " LEFT JOIN slack_budgets b ON b.budget_key = j.budget
          LEFT JOIN slack_budgets w ON j.budget LIKE 'chat.postMessage:%'
                                   AND w.budget_key = 'chat.postMessage'"
    };
}

/// Whether job `j` may be taken now (`$1` now, `$2` the worker, `$3` paced, `$4` the horizon),
/// but for the jobs of its loop queued before it: due (queued, or running under a lease that
/// lapsed, not this worker's), room in its budgets within the horizon, and no job of its loop
/// running under a live lease.
macro_rules! may_run {
    () => {
        " ((j.state = 'queued' AND j.run_at <= $1)
           OR (j.state = 'running' AND j.locked_until <= $1
               AND j.locked_by IS DISTINCT FROM $2))
          AND ($3 = 0 OR j.budget IS NULL OR b.free_at IS NULL OR b.free_at <= $1 + $4)
          AND ($3 = 0 OR w.free_at IS NULL OR w.free_at <= $1 + $4)
          AND (j.loop_id IS NULL OR NOT EXISTS (
               SELECT 1 FROM jobs r
                WHERE r.loop_id = j.loop_id AND r.state = 'running'
                  AND r.locked_until > $1))"
    };
}

/// Jobs the claim may take now ([`may_run`] and no earlier job of its loop due), as the rules
/// say it, job by job: what confirms one job by id in a claim's transaction
/// ([`confirm_candidate_into`]); choosing among many is [`heads`]'s.
const CANDIDATES: &str = concat!(
    "SELECT j.id, j.budget, j.loop_id FROM jobs j",
    budgets_joined!(),
    " WHERE",
    may_run!(),
    " AND (j.loop_id IS NULL OR NOT EXISTS (
             SELECT 1 FROM jobs e
              WHERE e.loop_id = j.loop_id AND e.id < j.id
                AND ((e.state = 'queued' AND e.run_at <= $1)
                  OR (e.state = 'running' AND e.locked_until <= $1))))"
);

/// Each loop's head: the first of its jobs that is due (queued and due, or running under a
/// lapsed lease), and every due job of no loop, as a table `h` of job ids (`$1` now). A loop's
/// jobs run in order, so only its head may be taken, and under load most due jobs wait behind
/// a head whose budget is closed: asking of every due job whether an earlier one of its loop
/// is due costs far more than one pass over the waiting jobs in the order of `jobs_waiting`,
/// with no sort. `$hint` names that index on SQLite, whose planner would otherwise sort every
/// due job to group them.
macro_rules! heads_table {
    ($hint:literal) => {
        concat!(
            "(SELECT MIN(id) AS id FROM jobs",
            $hint,
            " WHERE state IN ('queued', 'running') AND loop_id IS NOT NULL
                  AND ((state = 'queued' AND run_at <= $1)
                    OR (state = 'running' AND locked_until <= $1))
                GROUP BY loop_id
               UNION ALL
               SELECT id FROM jobs",
            $hint,
            " WHERE state IN ('queued', 'running') AND loop_id IS NULL
                  AND ((state = 'queued' AND run_at <= $1)
                    OR (state = 'running' AND locked_until <= $1))) h"
        )
    };
}

/// [`CANDIDATES`] found a cheaper way, for choosing among many: only the heads of the loops
/// ([`heads_table`]) are checked. The same choice, whatever the queue holds (tested). The
/// head's own row is asked again whether it is due: PostgreSQL checks a row locked `FOR
/// UPDATE` once more as another transaction left it, against the outer conditions only, so a
/// job another replica claimed meanwhile is passed over.
macro_rules! heads {
    ($hint:literal) => {
        concat!(
            "SELECT j.id, j.budget, j.loop_id FROM ",
            heads_table!($hint),
            " JOIN jobs j ON j.id = h.id",
            budgets_joined!(),
            " WHERE",
            may_run!()
        )
    };
}

/// When a job may next be claimable (`$1` now, `$2` paced, `$3` the horizon): the earliest of
/// the heads' times (with `$2`, not before their budgets have room within `$3`), the next
/// queued job to come due, and the next lease to run out. A job behind its loop's head runs
/// after it, so the heads speak for their loops; a job not yet due counts from its `run_at`,
/// its budget unread (it may come due only to wait: the worker looks once more then).
macro_rules! next_due {
    ($hint:literal) => {
        concat!(
            "SELECT MIN(t) FROM (
               SELECT MIN(CASE
                        WHEN $2 = 1 AND w.free_at > b.free_at AND w.free_at - $3 > j.run_at
                        THEN w.free_at - $3
                        WHEN $2 = 1 AND b.free_at - $3 > j.run_at THEN b.free_at - $3
                        WHEN $2 = 1 AND w.free_at - $3 > j.run_at THEN w.free_at - $3
                        ELSE j.run_at END) AS t
                 FROM ",
            heads_table!($hint),
            " JOIN jobs j ON j.id = h.id",
            budgets_joined!(),
            " WHERE j.state = 'queued'
               UNION ALL
               SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at > $1
               UNION ALL
               SELECT MIN(locked_until) FROM jobs WHERE state = 'running') d"
        )
    };
}

/// [`heads`] and [`next_due`] for each backend.
const HEADS_SQLITE: &str = heads!(" INDEXED BY jobs_waiting");
const HEADS_POSTGRES: &str = heads!("");
const NEXT_DUE_SQLITE: &str = next_due!(" INDEXED BY jobs_waiting");
const NEXT_DUE_POSTGRES: &str = next_due!("");

/// [`heads`] for `backend`.
fn heads_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => HEADS_SQLITE,
        Backend::Postgres => HEADS_POSTGRES,
    }
}

/// `sql` followed by `tail`, with the four values of [`may_run`] bound.
fn choose<'q>(
    sql: &str,
    tail: &str,
    now: UnixMillis,
    worker: &'q str,
    paced: bool,
    horizon_ms: i64,
) -> sqlx::query::QueryAs<'q, sqlx::Any, Candidate, sqlx::any::AnyArguments> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{sql}{tail}")))
        .bind(now)
        .bind(worker)
        .bind(i64::from(paced))
        .bind(horizon_ms)
}

/// The most urgent candidate first.
const FIRST: &str = " ORDER BY j.priority, j.run_at, j.id LIMIT 1";

/// The next job to run for `worker`, in the claim's transaction: queued and due, or running
/// with an expired lease (its worker died); among loops, the most urgent first (`priority`),
/// then the oldest. A loop's jobs run one at a time and in the order they were queued: a job
/// waits while its loop has another job running (under a live lease) or an earlier one due, so
/// a channel's messages go out in order. With `paced`, a job whose budget
/// has no room within `horizon_ms` is not a candidate: it stays queued, untouched, until it has.
///
/// On PostgreSQL the candidate's row is locked `FOR UPDATE SKIP LOCKED` (two replicas never
/// take the same job), then its loop's row without waiting, and the loop is checked again
/// ([`super::locks::runs_alone`]): two replicas never run two jobs of one loop. A loop that is
/// busy (being changed, or claimed elsewhere) is passed over for the next candidate.
pub async fn next_candidate(
    tx: &mut crate::db::WriteTx,
    backend: Backend,
    now: UnixMillis,
    worker: &str,
    paced: bool,
    horizon_ms: i64,
) -> sqlx::Result<Option<Candidate>> {
    if backend == Backend::Sqlite {
        return choose(heads_sql(backend), FIRST, now, worker, paced, horizon_ms)
            .fetch_optional(&mut **tx)
            .await;
    }
    // Loops found busy by an earlier try: passed over by the next.
    let mut busy = Vec::new();
    for _ in 0..super::locks::CLAIM_TRIES {
        let passing_over = super::locks::not_in_loops(&busy, 5);
        let mut select = choose(
            heads_sql(backend),
            &format!("{passing_over}{FIRST} FOR UPDATE OF j SKIP LOCKED"),
            now,
            worker,
            paced,
            horizon_ms,
        );
        for loop_id in &busy {
            select = select.bind(*loop_id);
        }
        let Some(candidate) = select.fetch_optional(&mut **tx).await? else {
            return Ok(None);
        };
        if super::locks::runs_alone(tx, candidate.id, candidate.loop_id, now).await? {
            return Ok(Some(candidate));
        }
        // The row of the job passed over stays locked until the claim ends: untouched.
        busy.extend(candidate.loop_id);
    }
    Ok(None)
}

/// [`next_candidate`] without a transaction: it sees the last commit. Looking for work costs a
/// scan of the due jobs, and most looks under load find nothing (every budget closed); the
/// claim begins its transaction only when this finds a candidate. On SQLite that keeps the
/// looks off the one writer, which takes only the confirmation ([`confirm_candidate`]).
pub async fn peek_candidate(
    db: &Db,
    now: UnixMillis,
    worker: &str,
    paced: bool,
    horizon_ms: i64,
) -> sqlx::Result<Option<Candidate>> {
    choose(
        heads_sql(Backend::of(db)),
        FIRST,
        now,
        worker,
        paced,
        horizon_ms,
    )
    .fetch_optional(db)
    .await
}

/// In the claim's transaction: candidate `id` ([`peek_candidate`]) if it still may be taken.
pub async fn confirm_candidate(
    tx: &mut crate::db::WriteTx,
    id: i64,
    now: UnixMillis,
    worker: &str,
    paced: bool,
    horizon_ms: i64,
) -> sqlx::Result<Option<Candidate>> {
    let mut trip = Trip::new();
    let confirmed = confirm_candidate_into(&mut trip, id, now, worker, paced, horizon_ms);
    let mut answers = trip.run(tx).await?;
    confirmed.take(&mut answers)
}

/// [`confirm_candidate`] as a statement of `trip`.
pub fn confirm_candidate_into(
    trip: &mut Trip,
    id: i64,
    now: UnixMillis,
    worker: &str,
    paced: bool,
    horizon_ms: i64,
) -> Read<Option<Candidate>> {
    trip.read(
        format!("{CANDIDATES} AND j.id = $5"),
        vec![
            now.into(),
            worker.into(),
            i64::from(paced).into(),
            horizon_ms.into(),
            id.into(),
        ],
        |rows| Ok(rows_of(rows)?.into_iter().next()),
    )
}

const MARK_CLAIMED: &str = "UPDATE jobs
            SET state = 'running', attempts = attempts + 1, locked_until = $1 + $2,
                locked_by = $3, updated_at = $1, slot = $5
          WHERE id = $4
      RETURNING id, kind, loop_id, payload, attempts, budget, slot";

/// [`mark_claimed`] as a statement of `trip`.
pub fn mark_claimed_into(
    trip: &mut Trip,
    id: i64,
    now: UnixMillis,
    lease_ms: i64,
    worker: &str,
    slot: Option<UnixMillis>,
) -> Read<ClaimedJob> {
    trip.read(
        MARK_CLAIMED,
        vec![
            now.into(),
            lease_ms.into(),
            worker.into(),
            id.into(),
            slot.into(),
        ],
        |rows| {
            rows_of(rows)?
                .into_iter()
                .next()
                .ok_or(sqlx::Error::RowNotFound)
        },
    )
}

/// Marks candidate `id` running for `worker` under a lease, with the budget slot reserved for
/// it, in the claim's transaction.
pub async fn mark_claimed(
    tx: &mut crate::db::WriteTx,
    id: i64,
    now: UnixMillis,
    lease_ms: i64,
    worker: &str,
    slot: Option<UnixMillis>,
) -> sqlx::Result<ClaimedJob> {
    sqlx::query_as(MARK_CLAIMED)
        .bind(now)
        .bind(lease_ms)
        .bind(worker)
        .bind(id)
        .bind(slot)
        .fetch_one(&mut **tx)
        .await
}

/// Claims the next due job for `worker` whatever its budget (see [`next_candidate`]); the
/// worker's own claim also reserves the job's budget (`crate::worker`).
pub async fn claim_due(
    db: &Db,
    now: UnixMillis,
    lease_ms: i64,
    worker: &str,
) -> sqlx::Result<Option<ClaimedJob>> {
    let mut tx = begin_claim(db).await?;
    let claimed = match next_candidate(&mut tx, Backend::of(db), now, worker, false, 0).await? {
        Some(c) => Some(mark_claimed(&mut tx, c.id, now, lease_ms, worker, None).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(claimed)
}

/// Renews the leases of every job `worker` is running: called while they run, so only the
/// jobs of a worker that stopped renewing (it died) expire.
pub async fn renew_leases(
    db: impl AnyExecutor<'_>,
    worker: &str,
    now: UnixMillis,
    lease_ms: i64,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE jobs SET locked_until = $2 + $3
          WHERE state = 'running' AND locked_by = $1",
    )
    .bind(worker)
    .bind(now)
    .bind(lease_ms)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Who holds running jobs now (for taking back the work of a process that restarted).
pub async fn lease_holders(db: impl AnyExecutor<'_>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT locked_by FROM jobs WHERE state = 'running' AND locked_by IS NOT NULL",
    )
    .fetch_all(db)
    .await
}

/// Puts the running jobs of `holder` (a worker known to be gone) back in the queue, to run
/// now. The interrupted run keeps its attempt: it may have reached Slack (a post Slack made
/// while the process died before storing it), and a job with an earlier attempt looks for
/// what it posted before posting again (see `jobs::run::may_repeat`).
pub async fn release_held_by(
    db: impl AnyExecutor<'_>,
    holder: &str,
    now: UnixMillis,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "UPDATE jobs SET state = 'queued', run_at = $2, locked_until = NULL, locked_by = NULL,
                updated_at = $2
          WHERE state = 'running' AND locked_by = $1",
    )
    .bind(holder)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Marks a job done, or queues it again `rerun_gap_ms` from now if it was asked for again
/// while it ran.
pub async fn complete(
    db: impl AnyExecutor<'_>,
    id: i64,
    now: UnixMillis,
    rerun_gap_ms: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = CASE rerun WHEN 1 THEN 'queued' ELSE 'done' END,
                run_at = CASE rerun WHEN 1 THEN $2 + $3 ELSE run_at END,
                attempts = CASE rerun WHEN 1 THEN 0 ELSE attempts END,
                rerun = 0, locked_until = NULL, locked_by = NULL, last_error = NULL, updated_at = $2
          WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .bind(rerun_gap_ms)
    .execute(db)
    .await?;
    Ok(())
}

/// What a requeue does to a job's attempt count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempts {
    /// The run failed: it counts.
    Count,
    /// Not the job's failure (a rate limit, working hours, a paused token): given back.
    GiveBack,
    /// The run failed after making progress: it counts as the first failure of the next step,
    /// so that step's backoff starts small.
    RestartAtOne,
}

/// Puts a claimed job back in the queue to run at `run_at`.
pub async fn requeue(
    db: impl AnyExecutor<'_>,
    id: i64,
    run_at: UnixMillis,
    error: &str,
    now: UnixMillis,
    attempts: Attempts,
) -> sqlx::Result<()> {
    let mode = match attempts {
        Attempts::Count => 0,
        Attempts::GiveBack => 1,
        Attempts::RestartAtOne => 2,
    };
    sqlx::query(
        "UPDATE jobs SET state = 'queued', run_at = $2, locked_until = NULL, locked_by = NULL,
                last_error = $3,
                attempts = CASE $5 WHEN 0 THEN attempts WHEN 1 THEN CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
                                   ELSE 1 END,
                updated_at = $4
          WHERE id = $1",
    )
    .bind(id)
    .bind(run_at)
    .bind(error)
    .bind(now)
    .bind(mode)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn give_up(
    db: impl AnyExecutor<'_>,
    id: i64,
    error: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE jobs SET state = 'failed', locked_until = NULL, locked_by = NULL, last_error = $2,
                updated_at = $3
          WHERE id = $1",
    )
    .bind(id)
    .bind(error)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets finished jobs last touched before `older_than` (the table would grow forever).
pub async fn prune_done(db: impl AnyExecutor<'_>, older_than: UnixMillis) -> sqlx::Result<u64> {
    let result = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < $1")
        .bind(older_than)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Number of jobs per state, for /metrics.
pub async fn count_by_state(db: impl AnyExecutor<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state")
        .fetch_all(db)
        .await
}

/// When the oldest queued job that is due by `now` was due (how far the worker lags behind).
pub async fn oldest_due_at(
    db: impl AnyExecutor<'_>,
    now: UnixMillis,
) -> sqlx::Result<Option<UnixMillis>> {
    sqlx::query_scalar("SELECT MIN(run_at) FROM jobs WHERE state = 'queued' AND run_at <= $1")
        .bind(now)
        .fetch_one(db)
        .await
}

/// When a job may next be claimable ([`next_due`]; with `paced`, not before its budget has
/// room within `horizon_ms`), or the next lease runs out (a dead worker's job can be taken
/// over then), so an idle worker knows how long it may sleep. Never later than the first
/// moment a job may be claimed; sooner when a job comes due only to wait for its budget or
/// its loop.
pub async fn next_due_at(
    db: &Db,
    now: UnixMillis,
    paced: bool,
    horizon_ms: i64,
) -> sqlx::Result<Option<UnixMillis>> {
    next_due_in(db, Backend::of(db), now, paced, horizon_ms).await
}

async fn next_due_in(
    db: impl AnyExecutor<'_>,
    backend: Backend,
    now: UnixMillis,
    paced: bool,
    horizon_ms: i64,
) -> sqlx::Result<Option<UnixMillis>> {
    let sql = match backend {
        Backend::Sqlite => NEXT_DUE_SQLITE,
        Backend::Postgres => NEXT_DUE_POSTGRES,
    };
    sqlx::query_scalar(sql)
        .bind(now)
        .bind(i64::from(paced))
        .bind(horizon_ms)
        .fetch_one(db)
        .await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

/// Every job of a loop, oldest first (for tests and operators).
pub async fn for_loop(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<Vec<JobRow>> {
    sqlx::query_as(
        "SELECT id, kind, state, attempts, last_error FROM jobs WHERE loop_id = $1 ORDER BY id",
    )
    .bind(loop_id)
    .fetch_all(db)
    .await
}

/// Why a job last failed.
pub async fn last_error(db: impl AnyExecutor<'_>, id: i64) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar::<_, Option<String>>("SELECT last_error FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}

/// Cancels a queued (not running) job by its dedupe key, in the caller's transaction.
/// Drops every queued (not running) job of the loop but those of `keep_kind`.
pub async fn cancel_loop_queued(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    keep_kind: &str,
) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM jobs WHERE loop_id = $1 AND state = 'queued' AND kind <> $2")
        .bind(loop_id)
        .bind(keep_kind)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}

pub async fn cancel_queued(db: impl AnyExecutor<'_>, dedupe_key: &str) -> sqlx::Result<u64> {
    sqlx::query("DELETE FROM jobs WHERE dedupe_key = $1 AND state = 'queued'")
        .bind(dedupe_key)
        .execute(db)
        .await
        .map(|r| r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wake-up time as it was computed before the heads: the earliest of every waiting
    /// job's (`$1` paced, `$2` the horizon).
    const EVERY_WAITING_JOB: &str = "SELECT MIN(CASE j.state
                      WHEN 'queued' THEN
                        CASE WHEN $1 = 1 AND w.free_at > b.free_at AND w.free_at - $2 > j.run_at
                             THEN w.free_at - $2
                             WHEN $1 = 1 AND b.free_at - $2 > j.run_at
                             THEN b.free_at - $2
                             WHEN $1 = 1 AND w.free_at - $2 > j.run_at
                             THEN w.free_at - $2 ELSE j.run_at END
                      ELSE j.locked_until END)
           FROM jobs j LEFT JOIN slack_budgets b ON b.budget_key = j.budget
                LEFT JOIN slack_budgets w ON j.budget LIKE 'chat.postMessage:%'
                                         AND w.budget_key = 'chat.postMessage'
          WHERE j.state IN ('queued', 'running')";

    /// The look's cheaper query ([`heads`]) chooses what [`CANDIDATES`] would, whatever the
    /// queue holds: many seeded queues of jobs queued, running under live and lapsed leases
    /// (this worker's and another's), done, in and out of loops, behind open and closed
    /// budgets, each asked at several moments, paced and not.
    #[tokio::test]
    async fn the_heads_of_the_loops_choose_what_every_due_job_would() {
        let (_dir, db) = crate::db::tests::temp_sqlite().await;
        let mut conn = db.acquire().await.unwrap();
        // Jobs of loops that this test does not create.
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *conn)
            .await
            .unwrap();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let budgets = [
            None,
            Some("chat.update"),
            Some("chat.postMessage:C1"),
            Some("chat.postMessage:C2"),
        ];
        let (mut compared, mut chosen, mut claimable, mut later) = (0, 0, 0, 0);
        for _ in 0..60 {
            sqlx::query("DELETE FROM jobs")
                .execute(&mut *conn)
                .await
                .unwrap();
            sqlx::query("DELETE FROM slack_budgets")
                .execute(&mut *conn)
                .await
                .unwrap();
            for key in ["chat.update", "chat.postMessage:C1", "chat.postMessage"] {
                sqlx::query(
                    "INSERT INTO slack_budgets (budget_key, updated_at, free_at) VALUES ($1, 0, $2)",
                )
                .bind(key)
                .bind((next(40) * 100) as i64)
                .execute(&mut *conn)
                .await
                .unwrap();
            }
            for _ in 0..(1 + next(30)) {
                let loop_id = (next(6) > 0).then(|| next(5) as i64 + 1);
                let state = ["queued", "queued", "running", "done"][next(4) as usize];
                let locked_until = (state == "running").then(|| (next(40) * 100) as i64);
                let locked_by = ["me", "other"][next(2) as usize];
                sqlx::query(
                    "INSERT INTO jobs (kind, loop_id, state, run_at, locked_until, locked_by,
                                       budget, priority, created_at, updated_at)
                     VALUES ('k', $1, $2, $3, $4, $5, $6, $7, 0, 0)",
                )
                .bind(loop_id)
                .bind(state)
                .bind((next(40) * 100) as i64)
                .bind(locked_until)
                .bind(locked_by)
                .bind(budgets[next(4) as usize])
                .bind(10 * next(3) as i64)
                .execute(&mut *conn)
                .await
                .unwrap();
            }
            for now in [0, 1000, 2000, 3000, 4000] {
                for paced in [false, true] {
                    let by_heads = choose(HEADS_SQLITE, FIRST, now, "me", paced, 500)
                        .fetch_optional(&mut *conn)
                        .await
                        .unwrap();
                    let every = choose(CANDIDATES, FIRST, now, "me", paced, 500)
                        .fetch_optional(&mut *conn)
                        .await
                        .unwrap();
                    assert_eq!(by_heads, every, "at {now}, paced {paced}");
                    compared += 1;
                    chosen += usize::from(every.is_some());
                    // The worker's wake-up: never after the first moment a job may be
                    // claimed (every time that matters is a multiple of 100 here), and often
                    // later than when every waiting job was read (fewer needless looks).
                    let due = next_due_in(&mut *conn, Backend::Sqlite, now, paced, 500)
                        .await
                        .unwrap();
                    let mut first = None;
                    for t in (now..=now + 8000).step_by(100) {
                        let found = choose(CANDIDATES, FIRST, t, "me", paced, 500)
                            .fetch_optional(&mut *conn)
                            .await
                            .unwrap();
                        if found.is_some() {
                            first = Some(t);
                            break;
                        }
                    }
                    if let Some(first) = first {
                        let due = due.expect("a claimable job has a due time");
                        assert!(due <= first, "wakes at {due}, claimable at {first}");
                        claimable += 1;
                    }
                    let every_job: Option<i64> = sqlx::query_scalar(EVERY_WAITING_JOB)
                        .bind(i64::from(paced))
                        .bind(500)
                        .fetch_one(&mut *conn)
                        .await
                        .unwrap();
                    later += usize::from(due > every_job);
                }
            }
        }
        // The seeds make both answers common: neither side of the comparison is empty.
        assert!(
            chosen > compared / 4 && chosen < compared * 3 / 4,
            "{chosen} of {compared}"
        );
        assert!(
            claimable > chosen && later > compared / 10,
            "{claimable}, {later}"
        );
    }
}
