//! What a request or a job gets: the database, the Slack clients, settings, rubrics, the clock,
//! metrics, and the worker's wake-up. Also the one way to write a change: [`AppState::begin`]
//! opens a write transaction and [`Change::commit`] commits it and wakes the worker, so work
//! queued in it starts at once.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::Notify;

use crate::clock::SharedClock;
use crate::db::{self, Db};
use crate::domain::ats_mapping::AtsMapping;
use crate::domain::interview_loop::{InterviewLoop, LoopId, Stage};
use crate::domain::progress::LoopProgress;
use crate::domain::rubric::RubricSet;
use crate::domain::schedule::Timing;
use crate::metrics::Metrics;
use crate::settings::Settings;
use crate::slack::Reservation;
use crate::slack::SlackApi;
use crate::slack::pacer::Pacer;
use crate::worker_id::WorkerId;

/// Everything a request handler or job needs.
#[derive(Clone, Debug)]
pub struct AppState {
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
        let db = db::connect(&settings.database_url).await?;
        // The workspace's budgets live in the database: every replica draws from them, and
        // the job claim takes only jobs whose budget has room.
        let pacer = settings.pace_outbound.then(|| {
            Arc::new(Pacer::shared(
                clock.clone(),
                Arc::new(crate::pacing::DbBudgets::new(db.clone())),
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
        Ok(AppState {
            paused: Arc::new(AtomicBool::new(paused.is_some())),
            token_ok: Arc::new(AtomicBool::new(false)),
            db,
            slack,
            slack_inline,
            settings: Arc::new(settings),
            rubrics: Arc::new(rubrics),
            ats_mapping: Arc::new(ats_mapping),
            clock,
            metrics,
            wake: Arc::new(Notify::new()),
            worker: Arc::new(WorkerId::new()),
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
            slack: self.slack.for_job(retrying, reserved),
            ..self.clone()
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

    /// Starts a write (`BEGIN IMMEDIATE`): the use case's change and the jobs it implies go
    /// in it together. Commit with [`Change::commit`]; dropping it rolls back.
    pub async fn begin(&self) -> sqlx::Result<Change> {
        Ok(Change {
            tx: db::begin_write(&self.db).await?,
            wake: Arc::clone(&self.wake),
        })
    }
}

/// A write transaction that wakes the worker when it commits. Derefs to the connection, so
/// `&mut *change` goes wherever an executor is taken.
pub struct Change {
    tx: Transaction<'static, Any>,
    wake: Arc<Notify>,
}

impl Change {
    /// Commits, then wakes the worker: jobs queued in this change start now, not at the next
    /// tick.
    pub async fn commit(mut self) -> sqlx::Result<()> {
        // On PostgreSQL the other replicas' workers wake too (delivered at commit).
        db::notify_work(&mut self.tx).await?;
        self.tx.commit().await?;
        self.wake.notify_one();
        Ok(())
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
