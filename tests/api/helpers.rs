use std::path::PathBuf;
use std::sync::Arc;

use loopbot::clock::Clock;
use loopbot::clock::{ManualClock, SharedClock};
use loopbot::jobs::worker;
use loopbot::settings::{Needs, RawSettings, Settings};
use loopbot::slack::SlackApi;
use loopbot::slack::ids::{SCORECARD_OPEN, SCORECARDS_VIEW};
use loopbot::startup::Application;
use loopbot::state::AppState;
use serde_json::Value;
use slack_sim::client::{FormValues, SlackSide};
use slack_sim::{SimServer, SimUser, Simulator};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SIGNING_SECRET: &str = "e2e0signing0secret0for0tests0only";
pub const BOT_TOKEN: &str = "xoxb-test-token";

pub const COORDINATOR: &str = "UCOORD";
pub const HIRING_MANAGER: &str = "UHM";
pub const SCREENER: &str = "UINT1";
pub const DESIGNER: &str = "UINT2";
pub const CODER: &str = "UINT3";
pub const OUTSIDER: &str = "UOUT";

/// 2026-11-23 09:00:00 UTC
/// Settings that turn off the automatic brief and nudge, for tests of other direct messages.
pub const NO_BRIEF_OR_NUDGE: &[(&str, &str)] = &[
    ("LOOPBOT_BRIEF_BEFORE", "never"),
    ("LOOPBOT_NUDGE_AFTER", "never"),
];

pub const START_MS: i64 = 1_795_424_400_000;

pub struct World {
    pub clock: Arc<ManualClock>,
    pub sim: Simulator,
    pub sim_server: SimServer,
    pub db_dir: tempfile::TempDir,
    /// The app's DATABASE_URL: a SQLite file in `db_dir`, or, when LOOPBOT_TEST_DATABASE_URL
    /// names a PostgreSQL server, a fresh database on it for this test alone.
    pub database_url: String,
    /// Where people type commands; the bot is a member.
    pub hiring_channel: String,
}

impl World {
    /// A world whose app runs on PostgreSQL when LOOPBOT_TEST_DATABASE_URL names a server, on
    /// a SQLite file otherwise.
    pub async fn new() -> World {
        World::build(postgres_server()).await
    }

    /// A world whose app runs on a SQLite file in `db_dir`, whatever
    /// LOOPBOT_TEST_DATABASE_URL says (e.g. the installation a migration starts from).
    pub async fn with_sqlite() -> World {
        World::build(None).await
    }

    async fn build(postgres: Option<String>) -> World {
        loopbot::install_crypto_provider();
        let clock = ManualClock::starting_at(START_MS);
        let shared: SharedClock = clock.clone();
        let sim = Simulator::new(shared, BOT_TOKEN);
        for (id, name, real, tz, offset) in [
            (
                COORDINATOR,
                "casey",
                "Casey Coordinator",
                "America/New_York",
                -18000,
            ),
            (
                HIRING_MANAGER,
                "harper",
                "Harper Manager",
                "Europe/London",
                0,
            ),
            (SCREENER, "ines", "Ines Screener", "Europe/Berlin", 3600),
            (DESIGNER, "dev", "Dev Designer", "Asia/Kolkata", 19800),
            (CODER, "cody", "Cody Coder", "America/Los_Angeles", -28800),
            (OUTSIDER, "olive", "Olive Outsider", "Europe/Paris", 3600),
        ] {
            sim.add_user(SimUser::new(id, name, real, tz, offset));
        }
        let sim_server = sim.serve().await.expect("simulator starts");
        let api = SlackApi::new(
            &sim_server.base_url,
            loopbot::settings::Secret::new(BOT_TOKEN),
            std::time::Duration::from_secs(5),
            clock.clone(),
            None,
        )
        .unwrap();
        let hiring_channel = api.create_private_channel("hiring").await.unwrap();
        api.invite(
            &hiring_channel,
            &[COORDINATOR.to_string(), HIRING_MANAGER.to_string()],
        )
        .await
        .unwrap();
        let db_dir = tempfile::tempdir().unwrap();
        let database_url = match postgres {
            Some(server) => fresh_postgres_database(&server).await,
            None => format!("sqlite://{}", db_dir.path().join("loopbot.db").display()),
        };
        World {
            clock,
            sim,
            sim_server,
            db_dir,
            database_url,
            hiring_channel,
        }
    }

    /// True when the suite runs against PostgreSQL (tests of SQLite's file and pragmas skip).
    pub fn on_postgres(&self) -> bool {
        !self.database_url.starts_with("sqlite:")
    }

    pub fn db_path(&self) -> PathBuf {
        self.db_dir.path().join("loopbot.db")
    }

    /// The DATABASE_URL of the SQLite file in `db_dir`, whichever database the app runs on.
    pub fn sqlite_url(&self) -> String {
        format!("sqlite://{}", self.db_path().display())
    }

    pub fn raw_settings(&self) -> RawSettings {
        [
            ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_string()),
            ("SLACK_BOT_TOKEN", BOT_TOKEN.to_string()),
            ("SLACK_API_URL", self.sim_server.base_url.clone()),
            ("DATABASE_URL", self.database_url.clone()),
            ("LOOPBOT_LISTEN", "127.0.0.1:0".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Settings of the commands that use only the database (export, purge, jobs, backup),
    /// on the app's database.
    pub fn command_settings(&self) -> Settings {
        Settings::parse(&self.raw_settings(), Needs::DatabaseOnly).expect("valid settings")
    }

    pub async fn spawn_app(&self) -> TestApp {
        self.spawn_app_with(&[]).await
    }

    pub async fn spawn_app_with(&self, extra: &[(&str, &str)]) -> TestApp {
        self.spawn(extra, false).await
    }

    /// An app whose outbound calls are paced by Slack's tiers (the tests move the clock).
    pub async fn spawn_paced_app(&self) -> TestApp {
        self.spawn(&[], true).await
    }

    async fn spawn(&self, extra: &[(&str, &str)], pace_outbound: bool) -> TestApp {
        let mut raw = self.raw_settings();
        for (k, v) in extra {
            raw.insert(k.to_string(), v.to_string());
        }
        let mut settings = Settings::parse(&raw, Needs::Slack).expect("test settings are valid");
        settings.run_worker = false;
        settings.pace_outbound = pace_outbound;
        let app = Application::build(settings, self.clock.clone())
            .await
            .expect("app builds");
        let address = format!("http://{}", app.address());
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let slack = SlackSide::new(
            &address,
            SIGNING_SECRET,
            self.clock.clone(),
            self.sim.clone(),
        );
        TestApp {
            address,
            state,
            slack,
            stop: Some(stop),
            handle: Some(handle),
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub slack: SlackSide,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Runs every job that is due now (no sleeping: the clock is moved by the test).
    pub async fn run_jobs(&self) -> usize {
        worker::run_due_jobs(&self.state)
            .await
            .expect("worker runs")
    }

    /// Stops the app as SIGTERM would.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(handle) = self.handle.take() {
            let _ = handle.await;
        }
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.state.db)
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        reqwest::get(format!("{}{path}", self.address))
            .await
            .unwrap()
    }
}

/// The id of the newest modal opened for `user`.
pub fn latest_view(world: &World, user: &str) -> slack_sim::SimView {
    world
        .sim
        .views_of(user)
        .into_iter()
        .last()
        .expect("a modal was opened")
}

/// The filled-in start form for the standard test loop.
pub fn full_start_form() -> FormValues {
    FormValues::new()
        .text("candidate", "Ada Lovelace")
        .user("hiring_manager", HIRING_MANAGER)
        .users("panel:technical-screen", &[SCREENER])
        .date_time("time:technical-screen", START_MS / 1000 + 86_400)
        .users("panel:system-design", &[DESIGNER, HIRING_MANAGER])
        .date_time("time:system-design", START_MS / 1000 + 2 * 86_400)
        .users("panel:coding", &[CODER])
        .users("panel:values", &[SCREENER])
}

/// `/loop start Ada Lovelace`, then the form submitted in full; returns the submit response.
pub async fn start_standard_loop(world: &World, app: &TestApp) -> reqwest::Response {
    let opened = app
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    assert_eq!(opened.status(), 200);
    let view = latest_view(world, COORDINATOR);
    app.slack
        .submit_view(COORDINATOR, &view.id, &full_start_form())
        .await
}

/// All text of a message's blocks, for assertions on what people read.
pub fn blocks_text(blocks: &Value) -> String {
    blocks.to_string()
}

/// The first button with `action_id` in some blocks: (value, label).
pub fn button(blocks: &Value, action_id: &str) -> Option<(String, String)> {
    fn walk(v: &Value, action_id: &str) -> Option<(String, String)> {
        match v {
            Value::Object(map) => {
                if map.get("type") == Some(&Value::from("button"))
                    && map.get("action_id") == Some(&Value::from(action_id))
                {
                    return Some((
                        map.get("value")?.as_str()?.to_string(),
                        map.get("text")?.get("text")?.as_str()?.to_string(),
                    ));
                }
                map.values().find_map(|v| walk(v, action_id))
            }
            Value::Array(items) => items.iter().find_map(|v| walk(v, action_id)),
            _ => None,
        }
    }
    walk(blocks, action_id)
}

/// A complete scorecard for the stage whose modal is `view`: every criterion rated `rating`.
pub fn filled_scorecard(view: &Value, rating: &str, evidence: &str) -> FormValues {
    let mut form = FormValues::new();
    for block in view["blocks"].as_array().into_iter().flatten() {
        if let Some(id) = block["block_id"].as_str()
            && (id.starts_with("crit:") || id == "overall")
        {
            form = form.option(id, rating);
        }
    }
    form.text("evidence", evidence)
}

pub const EVIDENCE: &str = "Explained the sharded queue they built, the hot partition it hit in 2023, and the fix they shipped.";

/// The loop channel, its messages (rubrics 0..4, summary at 4).
pub fn loop_channel(world: &World) -> slack_sim::SimChannel {
    world
        .sim
        .channels()
        .into_iter()
        .find(|c| c.name.starts_with("loop-"))
        .expect("a loop channel exists")
}

/// The pinned summary message.
pub fn summary(world: &World) -> slack_sim::SimMessage {
    let channel = loop_channel(world);
    let pins = world.sim.pins(&channel.id);
    world
        .sim
        .messages(&channel.id)
        .into_iter()
        .find(|m| pins.contains(&m.ts))
        .expect("a pinned summary")
}

/// A started, provisioned loop: stage 1 Ines (SCREENER), 2 Dev (DESIGNER) + Harper (HM),
/// 3 Cody (CODER), 4 Ines.
pub async fn provisioned(world: &World, app: &TestApp) {
    start_standard_loop(world, app).await;
    app.run_jobs().await;
}

/// `user` presses the scorecard button of stage `position` (1-based) on its rubric message;
/// returns the modal that opened for them.
pub async fn press_stage(
    world: &World,
    app: &TestApp,
    user: &str,
    position: usize,
) -> slack_sim::SimView {
    let channel = loop_channel(world);
    interview_started(world, app, position).await;
    let message = &stage_post(world, &channel.id, position);
    let (value, _) =
        button(&message.blocks, SCORECARD_OPEN).expect("the rubric message has the button");
    let before = world.sim.views_of(user).len();
    let r = app
        .slack
        .press_button(user, &channel.id, &message.ts, SCORECARD_OPEN, &value)
        .await;
    assert_eq!(r.status(), 200);
    let views = world.sim.views_of(user);
    assert_eq!(views.len(), before + 1, "a modal opens for {user}");
    views.into_iter().last().unwrap()
}

pub async fn press_view_scorecards(world: &World, app: &TestApp, user: &str) -> slack_sim::SimView {
    let channel = loop_channel(world);
    let s = summary(world);
    let (value, label) = button(&s.blocks, SCORECARDS_VIEW).unwrap();
    assert_eq!(label, "View scorecards");
    let before = world.sim.views_of(user).len();
    app.slack
        .press_button(user, &channel.id, &s.ts, SCORECARDS_VIEW, &value)
        .await;
    let views = world.sim.views_of(user);
    assert_eq!(views.len(), before + 1);
    views.into_iter().last().unwrap()
}

/// Moves the clock to the start of stage `position`'s interview if it is still ahead: a
/// scorecard opens when its interview starts.
pub async fn interview_started(world: &World, app: &TestApp, position: usize) {
    let channel = loop_channel(world);
    let l = loopbot::db::loops::find_by_channel(&app.state.db, &channel.id)
        .await
        .unwrap()
        .expect("a loop");
    let at = l.stage_at(position as u32).and_then(|s| s.interview_at);
    if let Some(at) = at
        && at > world.clock.now_ms()
    {
        world.clock.set(at);
    }
}

/// Submits a complete scorecard for stage `position` as `user`; returns the response body.
pub async fn submit_stage(
    world: &World,
    app: &TestApp,
    user: &str,
    position: usize,
    rating: &str,
) -> String {
    let view = press_stage(world, app, user, position).await;
    assert_eq!(view.view["callback_id"], "scorecard", "{}", view.view);
    let form = filled_scorecard(&view.view, rating, EVIDENCE);
    app.slack
        .submit_view(user, &view.id, &form)
        .await
        .text()
        .await
        .unwrap()
}

pub fn is_notice(view: &slack_sim::SimView, reason: &str) -> bool {
    view.view.get("callback_id").is_none() && view.view.to_string().contains(reason)
}

/// What a refused request must not change: the database's rows and the loops' last change.
pub async fn fingerprint(app: &TestApp) -> Vec<i64> {
    let mut out = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM jobs",
        "SELECT COUNT(*) FROM audit_log",
        "SELECT COALESCE(MAX(updated_at), 0) FROM loops",
        "SELECT COUNT(*) FROM loops",
        "SELECT COUNT(*) FROM stages",
        "SELECT COUNT(*) FROM stage_interviewers",
        "SELECT COUNT(*) FROM stage_skips",
        "SELECT COUNT(*) FROM skip_warnings",
        "SELECT COUNT(*) FROM scorecards",
        "SELECT COUNT(*) FROM scorecard_drafts",
        "SELECT COUNT(*) FROM reminders WHERE stopped_reason IS NOT NULL",
        "SELECT COUNT(*) FROM interview_dms",
    ] {
        out.push(app.count(sql).await);
    }
    out
}

/// Every loop channel the simulator holds.
pub fn loop_channels(world: &World) -> Vec<slack_sim::SimChannel> {
    world
        .sim
        .channels()
        .into_iter()
        .filter(|c| c.name.starts_with("loop-"))
        .collect()
}

/// Exactly one loop channel, with four rubric posts and the pinned summary, once each.
pub fn assert_one_channel_posted_once(world: &World) {
    let channels = loop_channels(world);
    assert_eq!(channels.len(), 1, "one channel: {channels:?}");
    let messages = world.sim.messages(&channels[0].id);
    assert_eq!(
        messages.len(),
        5,
        "the summary and four rubric posts, once each"
    );
    assert_eq!(
        world.sim.pins(&channels[0].id),
        vec![messages[0].ts.clone()]
    );
    for rubric in &messages[1..] {
        assert_eq!(
            world.sim.replies(&channels[0].id, &rubric.ts).len(),
            1,
            "each rubric post has its full rubric in the thread, once"
        );
    }
}

/// LOOPBOT_TEST_DATABASE_URL, when it names a PostgreSQL server (its maintenance database,
/// e.g. postgres://postgres@127.0.0.1:55432/postgres): the suite then runs on PostgreSQL.
pub fn postgres_server() -> Option<String> {
    std::env::var("LOOPBOT_TEST_DATABASE_URL")
        .ok()
        .filter(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"))
}

/// Creates an empty database `test_<random>` on the server and returns its URL.
pub async fn fresh_postgres_database(server: &str) -> String {
    use sqlx::Connection;
    let name = format!("test_{:016x}", fastrand::u64(..));
    let mut admin = sqlx::postgres::PgConnection::connect(server)
        .await
        .expect("the PostgreSQL test server answers");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("a test database can be created");
    let _ = admin.close().await;
    let mut url = url::Url::parse(server).expect("LOOPBOT_TEST_DATABASE_URL is a URL");
    url.set_path(&name);
    url.to_string()
}

/// Stage `position`'s rubric post among a channel's messages (found by the key Loopbot tags
/// it with, wherever it sits in the channel).
pub fn stage_post_of(messages: &[slack_sim::SimMessage], position: usize) -> slack_sim::SimMessage {
    let suffix = format!(":rubric:{position}");
    messages
        .iter()
        .find(|m| {
            m.thread_ts.is_none()
                && m.metadata["event_payload"]["key"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("provision:") && k.ends_with(&suffix))
        })
        .cloned()
        .unwrap_or_else(|| panic!("stage {position} has its rubric post"))
}

/// Stage `position`'s rubric post in `channel`.
pub fn stage_post(world: &World, channel: &str, position: usize) -> slack_sim::SimMessage {
    stage_post_of(&world.sim.messages(channel), position)
}

/// Reads a spawned binary's piped stdout and stderr while it runs (so that a chatty log, e.g.
/// `RUST_LOG=debug` printing every migration, never fills a pipe and blocks the process), and
/// hands back all of it, stdout first, once it has exited.
pub fn drain_output(child: &mut std::process::Child) -> std::thread::JoinHandle<String> {
    use std::io::Read;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text + &err.join().unwrap_or_default()
    })
}

/// Spends what is left of the workspace's minute for posts, as posts to other channels would
/// (paced apps only); returns how many such posts it took.
pub async fn spend_the_workspaces_posts(app: &TestApp) -> usize {
    let pacer = app.state.slack.pacer().expect("paced");
    let mut others = 0;
    while others < 400
        && pacer
            .reserve("chat.postMessage", Some(&format!("C{others:08}")))
            .await
            .is_ok()
    {
        others += 1;
    }
    others
}

/// How many jobs of `kind` were claimed.
pub fn claims_of(app: &TestApp, kind: &str) -> u64 {
    app.state
        .metrics
        .get("loopbot_jobs_claimed_total", &format!("kind=\"{kind}\""))
}

/// Runs the app's due work `times` times, the clock moving `step` after each run.
pub async fn run_jobs_every(world: &World, app: &TestApp, times: usize, step: std::time::Duration) {
    for _ in 0..times {
        app.run_jobs().await;
        world.clock.advance(step);
    }
}
