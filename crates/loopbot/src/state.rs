//! What a request or a job gets: the database, the Slack clients, settings, rubrics, the clock,
//! metrics, and the worker's wake-up. Also the one way to write a change: [`AppState::begin_loop`]
//! (or [`AppState::begin`] for a change to no existing loop) opens a write transaction that
//! holds what it changes, and [`Change::commit`] commits it and wakes the worker, so work queued
//! in it starts at once. A request's [`Receipt`] goes into the first change it commits.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::AnyConnection;
use tokio::sync::Notify;

use crate::clock::{SharedClock, UnixMillis};
use crate::db::trip::{Answer, Trip};
use crate::db::{self, Db};
use crate::domain::ats_mapping::AtsMapping;
use crate::domain::interview_loop::{InterviewLoop, LoopId, Stage};
use crate::domain::progress::LoopProgress;
use crate::domain::rubric::RubricSet;
use crate::domain::schedule::Timing;
use crate::jobs::pacing::Pacer;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::slack::Reservation;
use crate::slack::SlackApi;
use crate::worker_id::WorkerId;

/// Everything a request handler or job needs. Cloned for every request (by the router, the
/// signature check, the use case and the modal it opens), so what all of them share sits
/// behind one `Arc` ([`Shared`], read through `Deref`: `state.db`); a clone is two counts,
/// not thirty.
#[derive(Clone, Debug)]
pub struct AppState {
    shared: Arc<Shared>,
    /// The delivery being answered, for a request's state ([`AppState::for_request`]); `None`
    /// for jobs.
    pub receipt: Option<Arc<Receipt>>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

/// What every request and job of a process shares.
#[derive(Clone, Debug)]
pub struct Shared {
    pub db: Db,
    /// For the worker: patient (10 s per call).
    pub slack: SlackApi,
    /// For views.open / views.update right after an acknowledgement: unpaced, within the
    /// trigger's 3 seconds.
    pub slack_inline: SlackApi,
    pub settings: Arc<Settings>,
    pub rubrics: Arc<RubricSet>,
    /// `LOOPBOT_ATS_MAPPING`, checked against the rubrics at start; empty when unset.
    pub ats_mapping: Arc<AtsMapping>,
    /// The ATS adapters that are on.
    pub ats: Arc<crate::ats::AtsClients>,
    pub clock: SharedClock,
    pub metrics: Arc<Metrics>,
    /// Wakes the worker when a request has queued work.
    pub wake: Arc<Notify>,
    /// Outbound work is paused: the app was uninstalled or its token revoked.
    pub paused: Arc<AtomicBool>,
    /// Slack has accepted the bot token (`auth.test`) since start-up; `/readyz` needs it.
    pub token_ok: Arc<AtomicBool>,
    /// This process's worker, as named in the leases of the jobs it runs.
    pub worker: Arc<WorkerId>,
}

impl AppState {
    pub async fn new(settings: Settings, clock: SharedClock) -> anyhow::Result<AppState> {
        let rubrics = RubricSet::load(settings.rubrics_dir.as_deref()).map_err(|e| {
            crate::settings::SettingsError {
                variable: "LOOPBOT_RUBRICS_DIR",
                problem: e.to_string(),
            }
        })?;
        let ats_mapping = load_ats_mapping(settings.ats.mapping.as_deref(), &rubrics)?;
        let ats = crate::ats::AtsClients::from_settings(&settings.ats)?;
        let db = db::connect(&settings.database_url).await?;
        // A process that serves keeps one connection for writing (on a SQLite file).
        db::keep_a_writer(&db).await.map_err(|e| {
            anyhow::anyhow!("DATABASE_URL: cannot open a connection for writing: {e}")
        })?;
        // The workspace's budgets live in the database: every replica draws from them, and
        // the job claim takes only jobs whose budget has room.
        let pacer = settings.pace_outbound.then(|| {
            Arc::new(Pacer::shared(
                clock.clone(),
                Arc::new(crate::jobs::budgets::DbBudgets::new(db.clone())),
            ))
        });
        let metrics = Arc::new(Metrics::default());
        let slack = SlackApi::new(
            &settings.slack_api_url,
            settings.bot_token.clone(),
            Duration::from_secs(10),
            clock.clone(),
            pacer,
        )?
        .with_metrics(metrics.clone());
        let slack_inline = SlackApi::new(
            &settings.slack_api_url,
            settings.bot_token.clone(),
            // Modals open after the acknowledgement, within the trigger's 3 seconds.
            Duration::from_millis(3_000),
            clock.clone(),
            None,
        )?
        .with_metrics(metrics.clone());
        let paused = db::flags::get(&db, crate::db::flags::OUTBOUND_PAUSED).await?;
        let shared = Shared {
            paused: Arc::new(AtomicBool::new(paused.is_some())),
            token_ok: Arc::new(AtomicBool::new(false)),
            db,
            slack,
            slack_inline,
            settings: Arc::new(settings),
            rubrics: Arc::new(rubrics),
            ats_mapping: Arc::new(ats_mapping),
            ats: Arc::new(ats),
            clock,
            metrics,
            wake: Arc::new(Notify::new()),
            worker: Arc::new(WorkerId::new()),
        };
        Ok(AppState {
            shared: Arc::new(shared),
            receipt: None,
        })
    }
}

/// Reads and checks the ATS mapping file; a problem stops start-up naming the file and field.
fn load_ats_mapping(
    path: Option<&std::path::Path>,
    rubrics: &RubricSet,
) -> Result<AtsMapping, crate::settings::SettingsError> {
    let Some(path) = path else {
        return Ok(AtsMapping::default());
    };
    let problem = |problem: String| crate::settings::SettingsError {
        variable: "LOOPBOT_ATS_MAPPING",
        problem,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| problem(format!("{}: cannot read: {e}", path.display())))?;
    AtsMapping::from_toml_str(&text, &path.display().to_string(), rubrics)
        .map_err(|e| problem(e.to_string()))
}

impl AppState {
    /// The state one job run sees: its own Slack handle, which counts the run's successful
    /// calls and, when the run may repeat an earlier one, looks before it posts.
    pub fn for_job(&self, retrying: bool, reserved: Option<Reservation>) -> AppState {
        AppState {
            shared: Arc::new(Shared {
                slack: self.slack.for_job(retrying, reserved),
                ..Shared::clone(&self.shared)
            }),
            receipt: self.receipt.clone(),
        }
    }

    /// When the stage's interview starts and ends and its feedback is due (the rubric's
    /// deadline, else `LOOPBOT_FEEDBACK_DUE`); `None` while it is unscheduled.
    pub fn timing(&self, rubric_id: &str, stage: &Stage) -> Option<Timing> {
        let at = stage.interview_at?;
        let rubric = self.rubrics.get(rubric_id);
        let minutes = rubric
            .and_then(|r| r.stage(&stage.key))
            .map(|s| s.planned_minutes())
            .unwrap_or(60);
        let feedback_due = rubric
            .and_then(|r| r.feedback_deadline)
            .unwrap_or(self.settings.feedback_due);
        Some(Timing::new(at, minutes, feedback_due))
    }

    /// Each scheduled stage's timing, by position.
    pub fn timings(&self, l: &InterviewLoop) -> BTreeMap<u32, Timing> {
        l.stages
            .iter()
            .filter_map(|s| Some((s.position, self.timing(&l.rubric_id, s)?)))
            .collect()
    }

    /// Where the loop stands now: [`db::progress::load`] with the clock and the interview
    /// times, so every status follows the time. `None` when the loop does not exist.
    pub async fn progress(
        &self,
        loop_id: LoopId,
    ) -> sqlx::Result<Option<(InterviewLoop, LoopProgress)>> {
        let Some((l, progress)) = db::progress::load(&self.db, loop_id).await? else {
            return Ok(None);
        };
        let progress = self.progress_now(&l, progress);
        Ok(Some((l, progress)))
    }

    /// `progress` as of now, with the loop's interview times.
    pub fn progress_now(&self, l: &InterviewLoop, progress: LoopProgress) -> LoopProgress {
        progress.at(self.clock.now_ms(), self.timings(l))
    }

    /// The state one request's use case sees: the same, with the delivery's receipt, which
    /// the first change it commits records.
    pub fn for_request(&self, receipt: Arc<Receipt>) -> AppState {
        AppState {
            receipt: Some(receipt),
            ..self.clone()
        }
    }

    /// Starts a change to loop `loop_id`: the use case's change and the jobs it implies go in
    /// it together. On SQLite it holds the file's write lock (`BEGIN IMMEDIATE`); on
    /// PostgreSQL the loop's row, so changes to other loops go on meanwhile (see
    /// [`db::locks`]). What is read through it is the loop as it is now; what was read before
    /// it may have changed meanwhile. Commit with
    /// [`Change::commit`]; dropping it rolls back.
    pub async fn begin_loop(&self, loop_id: LoopId) -> sqlx::Result<Change> {
        self.begin_locked(Locks::Loops(&[loop_id])).await
    }

    /// Starts the reminder sweep's change: every loop with work due by `now` is locked.
    pub async fn begin_sweep(&self, now: UnixMillis) -> sqlx::Result<Change> {
        self.begin_locked(Locks::DueWork(now)).await
    }

    /// Starts a change to no existing loop: a new loop, a flag, a person's App Home, a job's
    /// own row. On PostgreSQL it locks nothing beforehand; unique keys keep such changes apart.
    pub async fn begin(&self) -> sqlx::Result<Change> {
        self.begin_locked(Locks::Loops(&[])).await
    }

    /// [`AppState::begin_loop`] with the change's first statements, `trip`, run in it: the
    /// request's receipt, and the time zones learned on its way in, go ahead of them in that
    /// trip instead of in a hop of their own, and on SQLite's kept writer `BEGIN` goes in it
    /// too. Returns the change and the trip's answers.
    pub async fn begin_loop_with(
        &self,
        loop_id: LoopId,
        trip: Trip,
    ) -> sqlx::Result<(Change, Vec<Answer>)> {
        let receipt = self.receipt.clone().filter(|r| !r.is_written());
        let (all, ahead) = with_receipt(receipt.as_deref(), trip);
        match db::begin_write_with(&self.db, &[loop_id], all).await {
            Ok((tx, mut answers)) => {
                let change = Change {
                    tx,
                    wake: Arc::clone(&self.wake),
                    receipt,
                };
                Ok((change, answers.split_off(ahead)))
            }
            Err(failed) => Err(refused(receipt.as_deref(), failed)),
        }
    }

    async fn begin_locked(&self, locks: Locks<'_>) -> sqlx::Result<Change> {
        let mut tx = match locks {
            Locks::Loops(ids) => db::begin_write_locking(&self.db, ids).await?,
            Locks::DueWork(now) => {
                let mut tx = db::begin_write(&self.db).await?;
                db::locks::lock_loops_with_due_work(&mut tx, now).await?;
                tx
            }
        };
        let receipt = self.receipt.clone().filter(|r| !r.is_written());
        if let Some(receipt) = &receipt {
            receipt.record(&mut tx).await?;
        }
        Ok(Change {
            tx,
            wake: Arc::clone(&self.wake),
            receipt,
        })
    }
}

impl AppState {
    /// Caches a person's Slack time zone (from users.info). On a request's way in it is kept
    /// for the request's change and written in its transaction, so the acknowledgement still
    /// commits once (or not at all when nothing changes, and then nothing is cached);
    /// elsewhere (a job) it is written at once.
    pub async fn cache_tz(&self, user: &str, tz: &str, now: UnixMillis) -> sqlx::Result<()> {
        match &self.receipt {
            Some(receipt) if !receipt.is_written() => {
                receipt.learn_time_zone(user, tz, now);
                Ok(())
            }
            _ => db::reminders::cache_tz(&self.db, user, tz, now).await,
        }
    }
}

/// What a change locks when it starts.
enum Locks<'a> {
    Loops(&'a [LoopId]),
    DueWork(UnixMillis),
}

/// One of Slack's deliveries, as remembered: its signature over HTTP (`sig:…`), what it is in
/// Socket Mode (`socket:…`). It is written in the transaction of the first change its use case
/// commits, so a delivery that changed something has its change and its receipt committed
/// together, once: sent again, to any replica, before or after a restart, it is refused
/// without a second effect. A delivery whose use case changes nothing (opening a form, a
/// status reply) writes nothing at all; see `routes::replay` for why that is safe. What the
/// use case learns from Slack on the way (a person's time zone) waits here for that same
/// transaction ([`AppState::cache_tz`]).
#[derive(Debug)]
pub struct Receipt {
    key: String,
    at: UnixMillis,
    /// Committed with a change of this delivery.
    written: AtomicBool,
    /// The key was there already: this delivery was received before and is refused.
    repeated: AtomicBool,
    /// Time zones learned on the way in, by user: (time zone, when learned).
    time_zones: Mutex<BTreeMap<String, (String, UnixMillis)>>,
}

impl Receipt {
    pub fn new(key: String, at: UnixMillis) -> Arc<Receipt> {
        Arc::new(Receipt {
            key,
            at,
            written: AtomicBool::new(false),
            repeated: AtomicBool::new(false),
            time_zones: Mutex::new(BTreeMap::new()),
        })
    }

    fn learn_time_zone(&self, user: &str, tz: &str, at: UnixMillis) {
        self.time_zones
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(user.to_string(), (tz.to_string(), at));
    }

    fn take_time_zones(&self) -> BTreeMap<String, (String, UnixMillis)> {
        std::mem::take(&mut *self.time_zones.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Whether the delivery turned out to have been received before: its use case's change
    /// failed on the receipt, and the request is to be refused.
    pub fn repeated(&self) -> bool {
        self.repeated.load(Ordering::SeqCst)
    }

    fn is_written(&self) -> bool {
        self.written.load(Ordering::SeqCst)
    }

    /// Inserts the key in `tx`, then the time zones learned on the way in. If the key is there
    /// already (or another transaction is inserting it and commits), the insert fails, which
    /// fails the change: the use case stops with an error and the route refuses the delivery.
    async fn record(&self, tx: &mut AnyConnection) -> sqlx::Result<()> {
        let recorded = db::receipts::record(&mut *tx, &self.key, self.at).await;
        if let Err(e) = &recorded
            && db::receipts::is_repeat(e)
        {
            self.repeated.store(true, Ordering::SeqCst);
        }
        recorded?;
        // In user order, before any App Home: rows shared by loops are taken in one order.
        for (user, (tz, at)) in self.take_time_zones() {
            db::reminders::cache_tz(&mut *tx, &user, &tz, at).await?;
        }
        Ok(())
    }

    /// [`Receipt::record`]'s statements at the start of `trip` (the key first); returns how
    /// many.
    fn record_into(&self, trip: &mut Trip) -> usize {
        db::receipts::record_into(trip, &self.key, self.at);
        for (user, (tz, at)) in self.take_time_zones() {
            db::reminders::cache_tz_into(trip, &user, &tz, at);
        }
        trip.len()
    }
}

/// A write transaction that wakes the worker when it commits. Derefs to the connection, so
/// `&mut *change` goes wherever an executor is taken.
pub struct Change {
    tx: db::WriteTx,
    wake: Arc<Notify>,
    /// The request's receipt, when this change records it (written when the change began).
    receipt: Option<Arc<Receipt>>,
}

/// `trip` with `receipt`'s statements ahead of it, and how many they are.
fn with_receipt(receipt: Option<&Receipt>, trip: Trip) -> (Trip, usize) {
    let Some(receipt) = receipt else {
        return (trip, 0);
    };
    let mut all = Trip::new();
    let ahead = receipt.record_into(&mut all);
    all.append(trip);
    (all, ahead)
}

/// A trip that failed on the receipt's key (its first statement) was a delivery received
/// before: the route refuses it.
fn refused(receipt: Option<&Receipt>, failed: db::trip::Failed) -> sqlx::Error {
    if let Some(receipt) = receipt
        && failed.at == 0
        && db::receipts::is_repeat(&failed.error)
    {
        receipt.repeated.store(true, Ordering::SeqCst);
    }
    failed.error
}

impl Change {
    /// Runs `trip` in this change.
    pub async fn run(&mut self, trip: Trip) -> sqlx::Result<Vec<Answer>> {
        self.tx.run(trip).await.map_err(|f| f.error)
    }

    /// Commits, then wakes the worker: jobs queued in this change start now, not at the next
    /// tick.
    pub async fn commit(self) -> sqlx::Result<()> {
        self.commit_with(Trip::new()).await.map(drop)
    }

    /// Runs `trip`, then commits ([`Change::commit`]): on SQLite's kept writer in one hop.
    pub async fn commit_with(self, trip: Trip) -> sqlx::Result<Vec<Answer>> {
        let Change {
            mut tx,
            wake,
            receipt,
        } = self;
        // On PostgreSQL the other replicas' workers wake too (delivered at commit).
        tx.notify_work().await?;
        let answers = tx.commit_with(trip).await.map_err(|f| f.error)?;
        if let Some(receipt) = receipt {
            receipt.written.store(true, Ordering::SeqCst);
        }
        wake.notify_one();
        Ok(answers)
    }
}

impl Deref for Change {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl DerefMut for Change {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}
