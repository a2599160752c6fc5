//! Storage. Every SQL statement lives below this module; functions take an executor (a pool
//! or a transaction) and return domain types.
//!
//! Two backends behind sqlx's `Any` driver: SQLite (the default: one file, one process) and
//! PostgreSQL (several replicas on one database). A statement is written once, in the subset
//! both dialects share (`$N` placeholders, `ON CONFLICT`, `CASE` instead of two-argument
//! `MAX`, integers for flags, no `rowid`); where they must differ (opening a write, claiming a
//! job, waking other replicas) the code asks [`Backend::of`].
//!
//! Writers: SQLite has one at a time (`BEGIN IMMEDIATE`). PostgreSQL has as many as there are
//! replicas and connections; a change locks the rows of the loops it changes, never the whole
//! database ([`locks`]).

pub mod ats;
pub mod ats_writes;
pub mod audit;
pub mod budgets;
pub mod direct;
pub mod export;
pub mod flags;
pub mod interview_dms;
pub mod jobs;
pub mod jobs_admin;
pub mod lane;
pub mod locks;
pub mod loops;
pub mod progress;
pub mod purge;
pub mod receipts;
pub mod reminders;
pub mod scorecards;
pub mod transfer;
pub mod trip;

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Executor};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

pub type Db = AnyPool;

/// Which database `DATABASE_URL` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// From a `DATABASE_URL`: `postgres://` or `postgresql://` is PostgreSQL, anything else
    /// SQLite.
    pub fn from_url(database_url: &str) -> Backend {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// The backend a pool was opened on.
    pub fn of(db: &Db) -> Backend {
        Backend::from_url(db.connect_options().database_url.as_str())
    }
}

/// The channel a committed change notifies on PostgreSQL, so every replica's worker wakes.
pub const WAKE_CHANNEL: &str = "loopbot_work";

/// The SQLite schema, `migrations/`.
pub(crate) static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");
/// The PostgreSQL schema, `migrations-postgres/`: the same data model.
pub(crate) static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("./migrations-postgres");

/// Opens and migrates the database. SQLite: created if missing, WAL, a busy timeout, foreign
/// keys on. PostgreSQL: the database must exist; migrations-postgres/ is applied.
pub async fn connect(database_url: &str) -> anyhow::Result<Db> {
    connect_as(database_url, "DATABASE_URL").await
}

/// [`connect`], with errors that begin with `setting` (the variable or flag that gave the URL).
pub async fn connect_as(database_url: &str, setting: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let pool = match Backend::from_url(database_url) {
        Backend::Sqlite => {
            create_private(database_url)?;
            let url = sqlite_url(database_url);
            // Two connections: SQLite has one writer at a time, and more connections only make
            // writers wait on each other in SQLite's busy handler (measured: slower, with a
            // long tail). The write-ahead log is copied into the database by a task of its
            // own ([`checkpoint_in_background`]), not by whichever commit fills it.
            // A connection to a file cannot hang up: it is never pinged before use (each ping
            // is a trip to the connection's thread, measured at a tenth of a submission).
            AnyPoolOptions::new()
                .max_connections(2)
                .acquire_timeout(Duration::from_secs(5))
                .test_before_acquire(false)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        conn.execute(SQLITE_PRAGMAS).await?;
                        conn.execute(SMALL_CACHE).await?;
                        Ok(())
                    })
                })
                .connect(&url)
                .await
        }
        Backend::Postgres => {
            // A connection idle for a while may have been closed by the server (a restart, a
            // failover): it is pinged first. One in use moments ago is not: a ping is a round
            // trip, and under load every request would pay it.
            AnyPoolOptions::new()
                .max_connections(10)
                .acquire_timeout(Duration::from_secs(10))
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PING_IDLE_AFTER {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect(database_url)
                .await
        }
    }
    .map_err(|e| anyhow::anyhow!("{setting}: cannot open the database: {e}"))?;
    migrate(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("{setting}: cannot apply migrations: {e}"))?;
    if let Some(file) = file_of(database_url) {
        let wal = std::path::PathBuf::from(format!("{}-wal", file.display()));
        checkpoint_in_background(pool.clone(), sqlite_url(database_url), wal);
    }
    Ok(pool)
}

/// Every SQLite connection's settings: the write-ahead log, commits that do not wait for the
/// disk (the log keeps them safe from a crash of the process), a busy timeout, foreign keys,
/// and no copying of the log by commits ([`checkpoint_in_background`] does it).
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
     PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 0;";

/// The page cache of every SQLite connection but the writers' lane's own ([`direct`]): 256 KiB
/// instead of SQLite's 2 MiB. Another connection's commit empties a connection's cache at its
/// next transaction, and the lane commits all the time, so a larger cache here held pages that
/// were never read again: 4.8 MB more under load, by SQLite's count (docs/performance.md).
const SMALL_CACHE: &str = "PRAGMA cache_size = -256";

/// A PostgreSQL connection idle this long is pinged before it is used again.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// How often the write-ahead log is copied into the SQLite file, once it has grown to
/// [`CHECKPOINT_FROM_BYTES`].
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// SQLite's own threshold: about 1,000 pages of 4 KiB.
pub const CHECKPOINT_FROM_BYTES: u64 = 4 * 1024 * 1024;

/// Copies SQLite's write-ahead log (the file `wal`) into the database file every
/// [`CHECKPOINT_EVERY`] once it has grown to [`CHECKPOINT_FROM_BYTES`], on a connection of its
/// own, until the pool is closed. SQLite would otherwise do it in the commit that fills the log
/// past 1,000 pages, with an fsync, while that commit holds the writer and its request waits
/// for the answer (measured: a quarter of the acknowledgements' p99 under load).
///
/// Passive checkpoints, which never wait for writers or readers, then one in this process's
/// turn at the writer ([`copy_the_log`]). Under steady writes passive ones never catch up:
/// SQLite starts the log again from its top only once every page in it is copied, so the log
/// grew without end (1 GB in 10 s of submissions), every read searched all of it, and each
/// commit's pages went into new blocks of the file, waiting behind the checkpoint's fsync. The
/// last pass, with writers waiting, copies what the others left: the log is then copied whole,
/// and the next commit writes from its top again (the file keeps its size). When the last
/// connection closes, SQLite copies the rest.
fn checkpoint_in_background(pool: Db, url: String, wal: std::path::PathBuf) {
    tokio::spawn(async move {
        let mut conn: Option<sqlx::AnyConnection> = None;
        let mut every = tokio::time::interval(CHECKPOINT_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if pool.is_closed() {
                break;
            }
            if std::fs::metadata(&wal).map_or(0, |m| m.len()) < CHECKPOINT_FROM_BYTES {
                continue;
            }
            if conn.is_none() {
                conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                    .await
                    .ok();
            }
            if let Some(c) = conn.as_mut()
                && let Err(e) = copy_the_log(&pool, c).await
            {
                tracing::warn!(error = %e, "could not checkpoint the SQLite log; trying again");
                conn = None;
            }
        }
        if let Some(c) = conn {
            let _ = sqlx::Connection::close(c).await;
        }
    });
}

/// Passive passes while the pages committed during the last one are many
/// ([`CHECKPOINT_LEFT_FRAMES`], at most [`CHECKPOINT_PASSES`]), then the rest in this process's
/// turn at the writer.
///
/// Under `LOAD_MIX=submissions` the first pass took 170–290 ms (its two fsyncs), and one pass
/// after it held every writer 20–95 ms, once a second: the acknowledgements' tail. Each pass
/// copies what came during the one before, so they shrink; the one with writers waiting copies
/// a few hundred pages and held them 7–25 ms (docs/performance.md, thirteenth run). Its two
/// fsyncs are most of that, and it cannot skip them: the log is written again from its top only
/// once its pages are safely in the file.
async fn copy_the_log(pool: &Db, conn: &mut sqlx::AnyConnection) -> sqlx::Result<()> {
    let mut log = passive(conn).await?;
    for _ in 1..CHECKPOINT_PASSES {
        let now = passive(conn).await?;
        let came = now - log;
        log = now;
        if came < CHECKPOINT_LEFT_FRAMES {
            break;
        }
    }
    let _turn = write_turn(pool).await?;
    passive(conn).await?;
    Ok(())
}

/// At most this many passive passes before the one with writers waiting ([`copy_the_log`]).
const CHECKPOINT_PASSES: usize = 5;
/// Fewer pages than this committed during a pass: the rest is copied with writers waiting.
const CHECKPOINT_LEFT_FRAMES: i64 = 512;

/// One passive checkpoint: how many pages (frames) the log held when it began.
async fn passive(conn: &mut sqlx::AnyConnection) -> sqlx::Result<i64> {
    let (_busy, log, _copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut *conn)
        .await?;
    Ok(log)
}

async fn migrate(db: &Db) -> Result<(), sqlx::migrate::MigrateError> {
    match Backend::of(db) {
        Backend::Sqlite => SQLITE_MIGRATIONS.run(db).await,
        Backend::Postgres => POSTGRES_MIGRATIONS.run(db).await,
    }
}

/// A SQLite URL that creates the file when missing (`mode=rwc`), keeping any options given.
fn sqlite_url(database_url: &str) -> String {
    if database_url.contains("mode=") {
        database_url.to_string()
    } else if database_url.contains('?') {
        format!("{database_url}&mode=rwc")
    } else {
        format!("{database_url}?mode=rwc")
    }
}

/// A write transaction. On SQLite it takes the file's write lock at once (`BEGIN IMMEDIATE`),
/// so a use case that reads, decides and writes cannot interleave with another writer. On
/// PostgreSQL it is a plain transaction (READ COMMITTED) that locks nothing by itself: the
/// caller locks the loops it changes before it reads them ([`locks::lock_loop`]), so replicas
/// writing to different loops do not wait for each other.
///
/// On SQLite the process's writers also take turns before they begin ([`WriteTx`]): a writer
/// that finds the file locked would otherwise sleep in SQLite's busy handler (1, 2, 5, 10,
/// 15, 20 ms and on), long after the lock was free, which was the acknowledgements' tail. Where
/// the process keeps a writer ([`keep_a_writer`]), the turn comes with that connection.
pub async fn begin_write(db: &Db) -> sqlx::Result<WriteTx> {
    let options = db.connect_options();
    let url = options.database_url.as_str();
    match Backend::from_url(url) {
        Backend::Sqlite => {
            let mut turn = write_turn(db).await?;
            if let Some(writer) = turn.as_mut() {
                writer
                    .begin()
                    .await
                    .inspect_err(|e| forget_if_broken(&mut turn, e))?;
                return Ok(WriteTx {
                    inner: Some(Inner::Kept(turn)),
                });
            }
            Ok(WriteTx {
                inner: Some(Inner::Pooled {
                    tx: db.begin_with("BEGIN IMMEDIATE").await?,
                    _turn: Some(turn),
                }),
            })
        }
        Backend::Postgres => Ok(WriteTx {
            inner: Some(Inner::Pooled {
                tx: db.begin().await?,
                _turn: None,
            }),
        }),
    }
}

/// [`begin_write`], then the rows of `loop_ids` locked ([`locks::lock_loops`]). On
/// PostgreSQL the lock goes with `BEGIN` in one round trip ([`locks::begin_locking`]).
pub async fn begin_write_locking(
    db: &Db,
    loop_ids: &[crate::domain::interview_loop::LoopId],
) -> sqlx::Result<WriteTx> {
    if Backend::of(db) == Backend::Postgres
        && let Some(sql) = locks::begin_locking(loop_ids)
    {
        return Ok(WriteTx {
            inner: Some(Inner::Pooled {
                tx: db.begin_with(sqlx::AssertSqlSafe(sql)).await?,
                _turn: None,
            }),
        });
    }
    let mut tx = begin_write(db).await?;
    locks::lock_loops(&mut tx, loop_ids).await?;
    Ok(tx)
}

/// On the writers' lane, `trip` read on the kept writer's direct connection ([`direct`]), in
/// this process's turn for the few microseconds it takes: no hop to a reader's thread, and its
/// pages are the ones the lane's changes wrote (a reader's cache is dropped at every commit of
/// another connection). `None` anywhere else: read as usual. Never while the caller holds
/// the turn itself (an open [`WriteTx`]): it would wait for itself; read in the change's trips.
pub async fn read_on_lane(db: &Db, trip: trip::Trip) -> Option<sqlx::Result<Vec<trip::Answer>>> {
    if !lane::on_lane() || Backend::of(db) != Backend::Sqlite {
        return None;
    }
    let mut turn = match write_turn(db).await {
        Ok(turn) => turn,
        Err(e) => return Some(Err(e)),
    };
    let writer = turn.as_mut()?;
    writer.settle().await;
    let direct = writer.direct()?;
    Some(direct.run(trip).map_err(|f| f.error))
}

/// [`begin_write_locking`], then `trip` run in the new transaction: on SQLite's kept writer
/// `BEGIN` goes in the trip's hop, otherwise ahead of it. The statements' answers, or which of
/// them failed (counted from the trip's first); a transaction begun is rolled back then.
pub async fn begin_write_with(
    db: &Db,
    loop_ids: &[crate::domain::interview_loop::LoopId],
    trip: trip::Trip,
) -> Result<(WriteTx, Vec<trip::Answer>), trip::Failed> {
    let before = |error| trip::Failed { at: 0, error };
    if Backend::of(db) == Backend::Sqlite {
        let mut turn = write_turn(db).await.map_err(before)?;
        if let Some(writer) = turn.as_mut() {
            writer.settle().await;
            let mut all = trip::Trip::new();
            all.push("BEGIN IMMEDIATE", Vec::new());
            all.append(trip);
            if lane::on_lane()
                && let Some(direct) = writer.direct()
            {
                let ran = direct.run(all);
                // Failed, it is rolled back as it is dropped.
                return begun(Some(Inner::Direct(turn)), ran);
            }
            writer.open = true;
            let ran = all.run_counting(&mut writer.conn).await;
            if let Err(failed) = &ran
                && failed.at == 0
            {
                forget_if_broken(&mut turn, &failed.error);
            }
            // Forgotten (broken), the writer has no transaction left to roll back.
            return begun(turn.is_some().then_some(Inner::Kept(turn)), ran);
        }
    }
    let mut tx = begin_write_locking(db, loop_ids).await.map_err(before)?;
    let answers = trip.run_counting(&mut tx).await?;
    Ok((tx, answers))
}

/// A transaction whose `BEGIN` went first in the trip that `ran`: the trip's own answers, or
/// which of its statements failed (the transaction is dropped then, and rolled back).
fn begun(
    inner: Option<Inner>,
    ran: Result<Vec<trip::Answer>, trip::Failed>,
) -> Result<(WriteTx, Vec<trip::Answer>), trip::Failed> {
    let tx = WriteTx { inner };
    match ran {
        Ok(mut answers) => {
            answers.remove(0);
            Ok((tx, answers))
        }
        Err(failed) => Err(trip::Failed {
            at: failed.at.saturating_sub(1),
            error: failed.error,
        }),
    }
}

/// A write transaction ([`begin_write`]); on SQLite it holds this process's turn at the
/// file's one writer until it is committed, rolled back or dropped. It reads as the
/// connection (`&mut *tx`), as a sqlx transaction does.
pub struct WriteTx {
    /// `None` only once committed or rolled back.
    inner: Option<Inner>,
}

enum Inner {
    /// A transaction on a connection of the pool: PostgreSQL, or SQLite where the process
    /// keeps no writer (then with its turn).
    Pooled {
        tx: sqlx::Transaction<'static, Any>,
        _turn: Option<Turn>,
    },
    /// SQLite: the kept writer's connection, its transaction begun.
    Kept(Turn),
    /// SQLite on the writers' lane: the kept writer's direct connection ([`direct`]), its
    /// transaction begun. Its statements go through [`WriteTx::run`] and the commits, never
    /// through sqlx (`&mut *tx` is not there to use).
    Direct(Turn),
}

impl WriteTx {
    pub async fn commit(mut self) -> sqlx::Result<()> {
        match self.inner.take() {
            Some(Inner::Pooled { tx, .. }) => tx.commit().await,
            Some(Inner::Direct(mut turn)) => {
                let result = direct_of(&mut turn).execute("COMMIT");
                if result.is_err() {
                    // Rolled back when dropped, as a failed commit is.
                    self.inner = Some(Inner::Direct(turn));
                }
                result
            }
            Some(Inner::Kept(mut turn)) => {
                let result = kept(&mut turn).end("COMMIT").await;
                if result.is_err() {
                    // Rolled back when dropped, as a failed commit is.
                    self.inner = Some(Inner::Kept(turn));
                }
                result
            }
            None => Ok(()),
        }
    }

    /// Runs `trip`, then commits: on SQLite's kept writer `COMMIT` goes in the trip's hop.
    /// The statements' answers, or which of them failed (the commit counts as one more); the
    /// transaction is rolled back then.
    pub async fn commit_with(
        mut self,
        trip: trip::Trip,
    ) -> Result<Vec<trip::Answer>, trip::Failed> {
        let statements = trip.len();
        if let Some(Inner::Direct(turn)) = self.inner.as_mut() {
            let mut all = trip;
            all.push("COMMIT", Vec::new());
            let mut answers = direct_of(turn).run(all)?;
            self.inner = None;
            answers.truncate(statements);
            return Ok(answers);
        }
        if let Some(Inner::Kept(turn)) = self.inner.as_mut() {
            let mut all = trip;
            all.push("COMMIT", Vec::new());
            let mut answers = all.run_counting(&mut kept(turn).conn).await?;
            kept(turn).open = false;
            self.inner = None;
            answers.truncate(statements);
            return Ok(answers);
        }
        let answers = trip.run_counting(&mut self).await?;
        self.commit().await.map_err(|error| trip::Failed {
            at: statements,
            error,
        })?;
        Ok(answers)
    }

    pub async fn rollback(mut self) -> sqlx::Result<()> {
        match self.inner.take() {
            Some(Inner::Pooled { tx, .. }) => tx.rollback().await,
            Some(Inner::Kept(mut turn)) => kept(&mut turn).end("ROLLBACK").await,
            Some(Inner::Direct(mut turn)) => direct_of(&mut turn).execute("ROLLBACK"),
            None => Ok(()),
        }
    }

    /// Runs `trip` in the transaction: one answer per statement, or which of them failed.
    pub async fn run(&mut self, trip: trip::Trip) -> Result<Vec<trip::Answer>, trip::Failed> {
        if let Some(Inner::Direct(turn)) = self.inner.as_mut() {
            return direct_of(turn).run(trip);
        }
        trip.run_counting(self.conn()).await
    }

    /// [`notify_work`] in this transaction (on PostgreSQL; nothing on SQLite).
    pub async fn notify_work(&mut self) -> sqlx::Result<()> {
        if let Some(Inner::Direct(_)) = self.inner {
            return Ok(());
        }
        notify_work(self.conn()).await
    }

    fn conn(&mut self) -> &mut sqlx::AnyConnection {
        match self.inner.as_mut().expect("a transaction in use is open") {
            Inner::Pooled { tx, .. } => tx,
            Inner::Kept(turn) => &mut kept(turn).conn,
            Inner::Direct(_) => panic!("{NOT_THROUGH_SQLX}"),
        }
    }
}

/// A change on the direct connection has no sqlx connection to lend.
const NOT_THROUGH_SQLX: &str = "a change on the writers' lane runs its statements in trips";

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        match self.inner.as_ref().expect("a transaction in use is open") {
            Inner::Pooled { tx, .. } => tx,
            Inner::Kept(turn) => &turn.as_ref().expect("a kept writer").conn,
            Inner::Direct(_) => panic!("{NOT_THROUGH_SQLX}"),
        }
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        self.conn()
    }
}

/// A transaction dropped unfinished (an error, a request given up) is rolled back: a pooled
/// one by sqlx; the kept writer's by a task that holds the turn until it has, so the next
/// writer finds the file free. With no runtime left to run it, the next writer rolls it back
/// first ([`Writer::begin`]).
impl Drop for WriteTx {
    fn drop(&mut self) {
        match self.inner.take() {
            Some(Inner::Kept(mut turn)) => {
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(async move {
                        kept(&mut turn).settle().await;
                    });
                }
            }
            // Where it runs, at once: the lane has nothing else to do.
            Some(Inner::Direct(mut turn)) => direct_of(&mut turn).settle(),
            _ => {}
        }
    }
}

/// The kept writer behind a turn that has one.
fn kept(turn: &mut Turn) -> &mut Writer {
    turn.as_mut().expect("a kept writer")
}

/// The direct connection of the kept writer behind a direct transaction's turn.
fn direct_of(turn: &mut Turn) -> &direct::Direct {
    kept(turn)
        .direct
        .as_ref()
        .and_then(Option::as_ref)
        .expect("a direct transaction's connection")
}

/// This process's turn at a SQLite file's writer, with the connection the process keeps for
/// writing when it keeps one.
pub type Turn = tokio::sync::OwnedMutexGuard<Option<Writer>>;

/// SQLite: the connection a long-running process keeps for writing ([`keep_a_writer`]). A
/// connection from the pool costs a hop to its thread when it is given back (sqlx checks it
/// then), and waits for the readers' connections; this one is used by one writer at a time,
/// in turn, and never given back.
pub struct Writer {
    conn: sqlx::AnyConnection,
    /// Which [`keep_a_writer`] call kept it (a process that opens the file again keeps a new
    /// one; the first one's end must not take the new one away).
    kept_by: u64,
    /// A transaction may be open (begun and not known to have ended): rolled back before the
    /// connection is used again. Set before `BEGIN` is sent and cleared only once `COMMIT` or
    /// `ROLLBACK` has answered, so a caller that gave up half-way leaves no transaction
    /// behind that this does not know of.
    open: bool,
    /// The file, for [`Writer::direct`].
    file: std::path::PathBuf,
    /// A second connection to the file, for changes on the writers' lane ([`direct`]):
    /// opened there on first use (`None` until then); `Some(None)` after it could not be.
    direct: Option<Option<direct::Direct>>,
}

impl Writer {
    /// The direct connection, opened on first use (on the writers' lane), with nothing left
    /// open on it. `None` where it cannot be opened: the lane's changes then go through sqlx.
    fn direct(&mut self) -> Option<&direct::Direct> {
        let file = &self.file;
        let direct = self
            .direct
            .get_or_insert_with(|| {
                direct::Direct::open(file)
                    .inspect_err(|e| {
                        tracing::warn!(error = %e, "could not open SQLite on the writers' lane; using sqlx")
                    })
                    .ok()
            })
            .as_ref()?;
        direct.settle();
        Some(direct)
    }

    async fn begin(&mut self) -> sqlx::Result<()> {
        self.settle().await;
        self.open = true;
        self.conn.execute("BEGIN IMMEDIATE").await?;
        Ok(())
    }

    async fn end(&mut self, statement: &'static str) -> sqlx::Result<()> {
        self.conn.execute(statement).await?;
        self.open = false;
        Ok(())
    }

    /// Rolls back what a caller left open. SQLite's "no transaction is active" (the caller
    /// gave up before `BEGIN` ran, or after `COMMIT` did) is not a failure here; a broken
    /// connection shows at the next statement.
    async fn settle(&mut self) {
        if self.open {
            let _ = self.conn.execute("ROLLBACK").await;
            self.open = false;
        }
    }
}

/// A kept writer whose connection failed (its thread gone, the file unreadable) is dropped:
/// later writes use the pool, as a process that keeps none does.
fn forget_if_broken(turn: &mut Turn, error: &sqlx::Error) {
    if matches!(error, sqlx::Error::WorkerCrashed | sqlx::Error::Io(_)) {
        **turn = None;
    }
}

/// This process's turn at the writer for one write outside a transaction (a job's outcome):
/// on SQLite the statement runs on the kept writer, or waits here for its turn instead of in
/// SQLite's busy handler on one of the pool's two connections; on PostgreSQL it runs on the
/// pool. `&mut *write` is the connection to run it on.
pub async fn single_write(db: &Db) -> sqlx::Result<SingleWrite> {
    let options = db.connect_options();
    let turn = match Backend::from_url(options.database_url.as_str()) {
        Backend::Sqlite => {
            let mut turn = write_turn(db).await?;
            if let Some(writer) = turn.as_mut() {
                writer.settle().await;
                return Ok(SingleWrite::Kept(turn));
            }
            Some(turn)
        }
        Backend::Postgres => None,
    };
    Ok(SingleWrite::Pooled {
        conn: db.acquire().await?,
        _turn: turn,
    })
}

/// A connection for one write ([`single_write`]).
pub enum SingleWrite {
    Kept(Turn),
    Pooled {
        conn: sqlx::pool::PoolConnection<Any>,
        _turn: Option<Turn>,
    },
}

impl std::ops::Deref for SingleWrite {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        match self {
            SingleWrite::Kept(turn) => &turn.as_ref().expect("a kept writer").conn,
            SingleWrite::Pooled { conn, .. } => conn,
        }
    }
}

impl std::ops::DerefMut for SingleWrite {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        match self {
            SingleWrite::Kept(turn) => &mut kept(turn).conn,
            SingleWrite::Pooled { conn, .. } => conn,
        }
    }
}

/// Each SQLite file's turn, first come first served, with the writer kept for it if any.
type Turns = std::collections::HashMap<String, Arc<tokio::sync::Mutex<Option<Writer>>>>;
static TURNS: std::sync::LazyLock<std::sync::Mutex<Turns>> =
    std::sync::LazyLock::new(Default::default);

fn turn_gate(db: &Db) -> Arc<tokio::sync::Mutex<Option<Writer>>> {
    let options = db.connect_options();
    Arc::clone(
        TURNS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(options.database_url.as_str().to_string())
            .or_default(),
    )
}

/// This process's turn at a SQLite file's writer. Waiting is bounded as SQLite's busy
/// timeout is (5 s), so a writer can never wait for ever. A closed pool gives no turn.
async fn write_turn(db: &Db) -> sqlx::Result<Turn> {
    if db.is_closed() {
        return Err(sqlx::Error::PoolClosed);
    }
    tokio::time::timeout(Duration::from_secs(5), turn_gate(db).lock_owned())
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)
}

/// For a long-running process on a SQLite file (`loopbot serve`): keeps a connection for
/// writing ([`Writer`]) until the pool is closed or the runtime ends. Nothing on PostgreSQL,
/// or for a database in memory (another connection would be another database).
pub async fn keep_a_writer(db: &Db) -> sqlx::Result<()> {
    let options = db.connect_options();
    let url = options.database_url.as_str();
    if Backend::from_url(url) != Backend::Sqlite || file_of(url).is_none() {
        return Ok(());
    }
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&sqlite_url(url)).await?;
    conn.execute(SQLITE_PRAGMAS).await?;
    conn.execute(SMALL_CACHE).await?;
    static KEPT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let kept_by = KEPT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let gate = turn_gate(db);
    *gate.lock().await = Some(Writer {
        conn,
        kept_by,
        open: false,
        file: file_of(url).expect("a file (checked above)").to_path_buf(),
        direct: None,
    });
    /// Drops the writer it kept when dropped: when the pool closes, or with the runtime.
    struct Keeper(Arc<tokio::sync::Mutex<Option<Writer>>>, u64);
    impl Drop for Keeper {
        fn drop(&mut self) {
            if let Ok(mut writer) = self.0.try_lock()
                && writer.as_ref().is_some_and(|w| w.kept_by == self.1)
            {
                *writer = None;
            }
        }
    }
    let keeper = Keeper(gate, kept_by);
    let closed = db.close_event();
    tokio::spawn(async move {
        closed.await;
        drop(keeper);
    });
    Ok(())
}

/// On PostgreSQL, tells every replica's worker (at commit) that work was queued; nothing on
/// SQLite, where one process owns the file and wakes its own worker.
pub async fn notify_work(tx: &mut sqlx::AnyConnection) -> sqlx::Result<()> {
    if tx.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query(sqlx::AssertSqlSafe(format!("NOTIFY {WAKE_CHANNEL}")))
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

/// On PostgreSQL, listens for [`notify_work`] from any replica and wakes this process's worker;
/// reconnects when the connection drops. Nothing on SQLite.
pub fn listen_for_work(database_url: &str, wake: Arc<Notify>) -> Option<JoinHandle<()>> {
    if Backend::from_url(database_url) != Backend::Postgres {
        return None;
    }
    let url = database_url.to_string();
    Some(tokio::spawn(async move {
        loop {
            match sqlx::postgres::PgListener::connect(&url).await {
                Ok(mut listener) => {
                    if let Err(e) = listener.listen(WAKE_CHANNEL).await {
                        tracing::warn!(error = %e, "cannot LISTEN for work from other replicas");
                    } else {
                        while listener.recv().await.is_ok() {
                            wake.notify_one();
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot connect to LISTEN for work"),
            }
            // A lost connection may have lost a notification: look for work, then retry.
            wake.notify_one();
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }))
}

/// 200 from /healthz needs this to answer.
pub async fn ping(db: &Db) -> bool {
    sqlx::query("SELECT 1").execute(db).await.is_ok()
}

/// The file of a `sqlite:` URL, unless it is in memory.
pub(crate) fn file_of(database_url: &str) -> Option<&std::path::Path> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:" && !database_url.contains("mode=memory"))
        .then(|| std::path::Path::new(path))
}

/// A new database file is created readable by its owner only (`0600`): it holds every
/// scorecard's evidence. SQLite gives its `-wal` and `-shm` files the database file's mode.
fn create_private(database_url: &str) -> anyhow::Result<()> {
    let Some(path) = file_of(database_url) else {
        return Ok(());
    };
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "DATABASE_URL: cannot create {}: {e}",
            path.display()
        )),
    }
}

/// Writes a consistent, compact copy of the database to the file `path` (`VACUUM INTO`: one
/// read transaction, so writers go on meanwhile). The file is created `0600` first.
/// PostgreSQL has its own tools for this: the error says to use `pg_dump`.
pub async fn backup_into(db: &Db, path: &str) -> anyhow::Result<()> {
    if Backend::of(db) == Backend::Postgres {
        anyhow::bail!(
            "DATABASE_URL is PostgreSQL: back it up with pg_dump (see docs/operating.md), not loopbot backup"
        );
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    sqlx::query("VACUUM INTO $1").bind(path).execute(db).await?;
    Ok(())
}

/// After deleting personal data: rewrites the database so the deleted text is gone from its
/// free pages too, and empties the write-ahead log, which still holds the old pages.
/// On PostgreSQL, `VACUUM FULL` rewrites the tables that held candidate text into new files, so
/// the deleted rows are not left in dead tuples.
pub async fn scrub_free_pages(db: &Db) -> sqlx::Result<()> {
    if Backend::of(db) == Backend::Postgres {
        sqlx::query(
            "VACUUM FULL scorecards, scorecard_drafts, stages, loops, stage_skips, audit_log",
        )
        .execute(db)
        .await?;
        return Ok(());
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db)
        .await?;
    sqlx::query("VACUUM").execute(db).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh SQLite database in a temporary directory (kept while the directory lives).
    pub(crate) async fn temp_sqlite() -> (tempfile::TempDir, Db) {
        let (dir, _path, db) = sqlite_file("test.db").await;
        (dir, db)
    }

    /// A flag `f{i}` whose value takes `bytes`, written in `tx`.
    async fn a_big_flag(tx: &mut WriteTx, i: u64, bytes: usize) {
        sqlx::query("INSERT INTO app_flags (name, value, set_at) VALUES ($1, $2, 0)")
            .bind(format!("f{i}"))
            .bind("x".repeat(bytes))
            .execute(&mut **tx)
            .await
            .unwrap();
    }

    /// A new SQLite file `name` in a directory of its own, its path and its pool.
    async fn sqlite_file(name: &str) -> (tempfile::TempDir, std::path::PathBuf, Db) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let db = connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        (dir, path, db)
    }

    async fn flags(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM app_flags")
            .fetch_one(db)
            .await
            .unwrap()
    }

    /// The kept writer: a transaction committed is there, one dropped (an error, a request
    /// given up) or given up half-way through its `BEGIN` or `COMMIT` leaves nothing open and
    /// nothing half-done, and the next writer goes ahead at once.
    #[tokio::test]
    async fn the_kept_writer_leaves_nothing_open_whatever_its_callers_give_up() {
        let (_dir, db) = temp_sqlite().await;
        keep_a_writer(&db).await.unwrap();
        let insert = |name: &'static str| {
            sqlx::query("INSERT INTO app_flags (name, value, set_at) VALUES ($1, '1', 0)")
                .bind(name)
        };
        let mut tx = begin_write(&db).await.unwrap();
        assert!(matches!(tx.inner, Some(Inner::Kept(_))), "the kept writer");
        insert("a").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(flags(&db).await, 1);
        // Dropped unfinished: rolled back.
        let mut tx = begin_write(&db).await.unwrap();
        insert("b").execute(&mut *tx).await.unwrap();
        drop(tx);
        // A caller that gives up at every point of its way, a hundred times over.
        for n in 0..100u64 {
            let db = db.clone();
            let attempt = tokio::spawn(async move {
                let mut tx = begin_write(&db).await.unwrap();
                insert("c").execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
                let mut tx = begin_write(&db).await.unwrap();
                sqlx::query("DELETE FROM app_flags WHERE name = 'c'")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                tx.commit().await.unwrap();
            });
            // Given up after a few turns of the scheduler, or a millisecond or two.
            for _ in 0..n % 25 {
                tokio::task::yield_now().await;
            }
            if n % 4 == 3 {
                tokio::time::sleep(Duration::from_millis(n % 3)).await;
            }
            attempt.abort();
            let _ = attempt.await;
        }
        let mut tx = tokio::time::timeout(Duration::from_secs(1), begin_write(&db))
            .await
            .expect("the next writer is not kept waiting")
            .unwrap();
        insert("d").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        let names: Vec<String> =
            sqlx::query_scalar("SELECT name FROM app_flags WHERE name <> 'c' ORDER BY name")
                .fetch_all(&db)
                .await
                .unwrap();
        assert_eq!(names, ["a", "d"], "what was dropped left nothing behind");
        // A single write takes the same writer, in turn.
        let mut write = single_write(&db).await.unwrap();
        assert!(matches!(write, SingleWrite::Kept(_)));
        insert("e").execute(&mut *write).await.unwrap();
        drop(write);
        // Once the pool is closed nothing is written.
        db.close().await;
        assert!(matches!(
            begin_write(&db).await.err(),
            Some(sqlx::Error::PoolClosed)
        ));
    }

    /// The file opened again in the same process (a restart in place): the second opening
    /// keeps its writer when the first one's pool closes.
    #[tokio::test]
    async fn a_file_opened_again_keeps_its_writer_when_the_first_opening_closes() {
        let (dir, first) = temp_sqlite().await;
        keep_a_writer(&first).await.unwrap();
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let second = connect(&url).await.unwrap();
        keep_a_writer(&second).await.unwrap();
        first.close().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let tx = begin_write(&second).await.unwrap();
        assert!(matches!(tx.inner, Some(Inner::Kept(_))), "still kept");
        tx.commit().await.unwrap();
        second.close().await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            turn_gate(&second).lock().await.is_none(),
            "let go with its pool"
        );
    }

    /// On the kept writer a change's first trip begins it and its last commits it, in their
    /// own hops; a statement that fails says which it was, counted from the trip's first, and
    /// leaves nothing behind.
    #[tokio::test]
    async fn a_change_begins_with_its_first_trip_and_commits_with_its_last() {
        for keep in [true, false] {
            let (_dir, db) = temp_sqlite().await;
            if keep {
                keep_a_writer(&db).await.unwrap();
            }
            let flag = |name: &str| {
                let mut trip = trip::Trip::new();
                trip.push(
                    "INSERT INTO app_flags (name, value, set_at) VALUES ($1, '1', 0)",
                    vec![name.into()],
                );
                trip
            };
            let (tx, answers) = begin_write_with(&db, &[], flag("a")).await.unwrap();
            assert_eq!(answers.len(), 1);
            assert_eq!(answers[0].changed, 1);
            assert_eq!(matches!(tx.inner, Some(Inner::Kept(_))), keep);
            let answers = tx.commit_with(flag("b")).await.unwrap();
            assert_eq!(answers.len(), 1, "the commit's answer is not the caller's");
            assert_eq!(flags(&db).await, 2);
            // The second statement fails (the name is taken): nothing of the trip stays.
            let mut trip = flag("c");
            trip.append(flag("a"));
            let failed = begin_write_with(&db, &[], trip).await.err().unwrap();
            assert_eq!(failed.at, 1);
            let (tx, _) = begin_write_with(&db, &[], flag("d")).await.unwrap();
            let failed = tx.commit_with(flag("b")).await.err().unwrap();
            assert_eq!(failed.at, 0);
            let names: Vec<String> = sqlx::query_scalar("SELECT name FROM app_flags ORDER BY name")
                .fetch_all(&db)
                .await
                .unwrap();
            assert_eq!(names, ["a", "b"], "kept writer: {keep}");
        }
    }

    /// Writers that wait for their turn hold none of the pool's connections, so reads go on
    /// while a write is open and others queue behind it (without the turns, each waiting
    /// writer sat on a connection in SQLite's busy handler and a read found none free).
    #[tokio::test]
    async fn writers_waiting_their_turn_leave_the_connections_to_readers() {
        let (_dir, db) = temp_sqlite().await;
        let mut first = begin_write(&db).await.unwrap();
        sqlx::query("INSERT INTO app_flags (name, value, set_at) VALUES ('a', '1', 0)")
            .execute(&mut *first)
            .await
            .unwrap();
        let waiting: Vec<_> = (0..3)
            .map(|i| {
                let db = db.clone();
                tokio::spawn(async move {
                    let mut tx = begin_write(&db).await.unwrap();
                    sqlx::query("INSERT INTO app_flags (name, value, set_at) VALUES ($1, '1', 0)")
                        .bind(format!("w{i}"))
                        .execute(&mut *tx)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let read = tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM app_flags").fetch_one(&db),
        )
        .await
        .expect("a read is not kept waiting by queued writers")
        .unwrap();
        assert_eq!(read, 0, "the open write is not seen yet");
        first.commit().await.unwrap();
        for w in waiting {
            w.await.unwrap();
        }
        let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_flags")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(all, 4, "every queued writer had its turn");
    }

    /// Only the lane's own connection keeps SQLite's page cache of 2 MiB: the others, emptied
    /// by each of the lane's commits, keep 256 KiB.
    #[tokio::test]
    async fn only_the_lanes_connection_keeps_a_large_page_cache() {
        use sqlx::Row;
        let (_dir, path, db) = sqlite_file("cache.db").await;
        const CACHE: &str = "PRAGMA cache_size";
        let pooled: i64 = sqlx::query_scalar(CACHE).fetch_one(&db).await.unwrap();
        assert_eq!(pooled, -256, "a pooled connection");
        keep_a_writer(&db).await.unwrap();
        let mut tx = begin_write(&db).await.unwrap();
        let kept: i64 = sqlx::query_scalar(CACHE).fetch_one(&mut *tx).await.unwrap();
        assert_eq!(kept, -256, "the kept writer's sqlx connection");
        tx.rollback().await.unwrap();
        let mut trip = trip::Trip::new();
        let read = trip.read(CACHE, vec![], Ok);
        let mut answers = direct::Direct::open(&path).unwrap().run(trip).unwrap();
        let rows = read.take(&mut answers).unwrap();
        assert_eq!(rows[0].get::<i64, _>(0), -2000, "the lane's: SQLite's own");
    }

    /// The log is copied into the file by the background task, not by a commit.
    #[tokio::test]
    async fn the_log_is_copied_into_the_file_in_the_background() {
        let (_dir, path, db) = sqlite_file("log.db").await;
        let file_size = || std::fs::metadata(&path).unwrap().len();
        let no_checkpoint_at_commit: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(no_checkpoint_at_commit, 0, "a commit never copies the log");
        let before = file_size();
        // More than the log's threshold, in one commit.
        let rows = CHECKPOINT_FROM_BYTES / 4_000 + 100;
        let mut tx = begin_write(&db).await.unwrap();
        for i in 0..rows {
            a_big_flag(&mut tx, i, 4_000).await;
        }
        tx.commit().await.unwrap();
        // The file grows as the checkpoint writes its pages: wait for all of them.
        let mut waited = Duration::ZERO;
        while file_size() < before + rows * 4_000 {
            assert!(
                waited < Duration::from_secs(10),
                "the file did not grow by the rows: the log was not copied"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            waited += Duration::from_millis(100);
        }
        db.close().await;
    }

    /// Under writes that never pause, the log is still copied whole and written again from
    /// its top (it grew without end when commits landed during every checkpoint). SQLite counts
    /// each new start in the log's header (bytes 12 to 15).
    #[tokio::test]
    async fn the_log_starts_again_from_its_top_under_writes_that_never_pause() {
        let (_dir, path, db) = sqlite_file("busy.db").await;
        keep_a_writer(&db).await.unwrap();
        let starts = || {
            let header = std::fs::read(format!("{}-wal", path.display())).unwrap_or_default();
            header
                .get(12..16)
                .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let mut first = None;
        let started = std::time::Instant::now();
        let mut i = 0u64;
        loop {
            let mut tx = begin_write(&db).await.unwrap();
            a_big_flag(&mut tx, i, 3_000).await;
            tx.commit().await.unwrap();
            // A read between commits, as requests make.
            flags(&db).await;
            i += 1;
            let now = starts();
            let first = *first.get_or_insert(now);
            if now >= first + 2 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(8),
                "the log was not started again twice in 8 s of commits ({i} commits)"
            );
        }
        db.close().await;
    }

    /// A single write outside a transaction (a job's outcome) waits for its turn too, off the
    /// pool's connections: without it, it sat in SQLite's busy handler on the connection the
    /// readers need.
    #[tokio::test]
    async fn a_single_write_waits_its_turn_off_the_connections() {
        let (_dir, db) = temp_sqlite().await;
        let first = begin_write(&db).await.unwrap();
        let waiting = {
            let db = db.clone();
            tokio::spawn(async move {
                let mut write = single_write(&db).await.unwrap();
                sqlx::query("INSERT INTO app_flags (name, value, set_at) VALUES ('s', '1', 0)")
                    .execute(&mut *write)
                    .await
                    .unwrap();
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        let read = tokio::time::timeout(
            Duration::from_secs(2),
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM app_flags").fetch_one(&db),
        )
        .await
        .expect("a read is not kept waiting by a single write")
        .unwrap();
        assert_eq!(read, 0);
        first.commit().await.unwrap();
        waiting.await.unwrap();
        let all: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_flags")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(all, 1, "the single write had its turn");
    }
}
