//! `loopbot demo`: a whole loop through the real HTTP handlers and worker, against the built-in
//! Slack simulator, printed as each person would see it. No Slack account, no network. With
//! `--socket`, Loopbot runs in Socket Mode and the same loop arrives over its WebSocket.
//!
//! Here: [`run`], the cast, and `Demo`: setting up the simulator and the app, moving the clock
//! and running the worker, and the script's table of contents. The script's chapters are
//! `start_loop`, `scorecards`, `reminders`, `decision` and `from_ats` (a loop from the
//! simulated Ashby, written back to it); `acts` holds what the people do in
//! Slack and what they find there; `print` the printing helpers.

mod acts;
mod decision;
mod from_ats;
mod print;
mod reminders;
mod scorecards;
mod start_loop;
mod wire;

use std::time::Duration;

use tokio::sync::oneshot;

use loopbot::clock::{ManualClock, SharedClock};
use loopbot::settings::{Needs, RawSettings, Secret, Settings};
use loopbot::slack::SlackApi;
use loopbot::startup::Application;
use loopbot::state::AppState;
use print::title;
use slack_sim::client::Http;
use slack_sim::socket_side::Socket;
use slack_sim::{SimUser, Simulator};
use wire::{People, Wire};

const SIGNING_SECRET: &str = "demo0signing0secret0not0for0production";
const BOT_TOKEN: &str = "xoxb-demo-token";
const APP_TOKEN: &str = "xapp-1-A0LOOPBOT-demo-token";

/// `loopbot demo [--socket]`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DemoArgs {
    /// Run Loopbot in Socket Mode: the same loop arrives over its WebSocket, not HTTP.
    #[arg(long)]
    pub socket: bool,
}
/// Monday 2026-11-23 09:00 UTC.
const START_MS: i64 = 1_795_424_400_000;

struct Person {
    id: &'static str,
    name: &'static str,
    tz: &'static str,
}

impl Person {
    /// The address Slack and the simulated ATS both know them by.
    fn email(&self) -> String {
        let short = self.name.split(' ').next().unwrap_or(self.name);
        format!("{}@example.com", short.to_lowercase())
    }
}

const COORDINATOR: Person = Person {
    id: "UCASEY",
    name: "Casey (coordinator)",
    tz: "America/New_York",
};
const HIRING_MANAGER: Person = Person {
    id: "UHARPER",
    name: "Harper (hiring manager)",
    tz: "Europe/London",
};
const SCREENER: Person = Person {
    id: "UINES",
    name: "Ines (interviewer)",
    tz: "Europe/Berlin",
};
const DESIGNER: Person = Person {
    id: "UDEV",
    name: "Dev (interviewer)",
    tz: "Asia/Kolkata",
};
const CODER: Person = Person {
    id: "UCODY",
    name: "Cody (interviewer)",
    tz: "America/Los_Angeles",
};

/// The running demo: simulator, app, and Slack's side of the wire.
struct Demo {
    clock: std::sync::Arc<ManualClock>,
    sim: Simulator,
    /// Keeps the simulator's HTTP server running for as long as the demo.
    _sim_server: slack_sim::SimServer,
    slack: People,
    state: AppState,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    db_file: std::path::PathBuf,
    hiring_channel: String,
    /// The simulated Ashby (chapter 5), polled by Loopbot from the start.
    ats: slack_sim::ats::AtsSim,
    _ats_server: slack_sim::ats::AtsServer,
    mapping_file: std::path::PathBuf,
}

pub async fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let demo = Demo::start(args.socket).await?;
    let result = demo.play().await;
    match (result, demo.finish().await) {
        // A step that failed because Slack would not read a call: say both.
        (Err(failed), Err(broken)) => Err(failed.context(broken.to_string())),
        (result, kept) => result.and(kept),
    }
}

impl Demo {
    async fn start(socket: bool) -> anyhow::Result<Demo> {
        loopbot::install_crypto_provider();
        let clock = ManualClock::starting_at(START_MS);
        let shared: SharedClock = clock.clone();
        let sim = Simulator::new(shared.clone(), BOT_TOKEN);
        for (p, offset) in [
            (&COORDINATOR, -18_000),
            (&HIRING_MANAGER, 0),
            (&SCREENER, 3_600),
            (&DESIGNER, 19_800),
            (&CODER, -28_800),
        ] {
            let short = p.name.split(' ').next().unwrap_or(p.name);
            sim.add_user(
                SimUser::new(p.id, short.to_lowercase(), short, p.tz, offset).with_email(p.email()),
            );
        }
        let sim_server = sim.serve().await?;
        let base_url = sim_server.base_url.clone();
        let ats = from_ats::simulated_ashby(shared.clone());
        let ats_server = ats.serve().await?;
        let mapping_file =
            std::env::temp_dir().join(format!("loopbot-demo-ats-{}.toml", std::process::id()));
        std::fs::write(&mapping_file, from_ats::MAPPING)?;
        // Set up in a block of its own: if it fails, the error names any call that broke
        // Slack's contract (and the simulator, its violations taken, stops quietly).
        let set_up = async {
            // #hiring, where Casey types commands.
            let api = SlackApi::new(
                &base_url,
                Secret::new(BOT_TOKEN),
                Duration::from_secs(5),
                clock.clone(),
                None,
            )?;
            let hiring_channel = api.create_private_channel("hiring").await?;
            api.invite(
                &hiring_channel,
                &[COORDINATOR.id.to_string(), HIRING_MANAGER.id.to_string()],
            )
            .await?;

            let db_file =
                std::env::temp_dir().join(format!("loopbot-demo-{}.db", std::process::id()));
            let mut raw: RawSettings = [
                ("SLACK_BOT_TOKEN", BOT_TOKEN.to_string()),
                ("SLACK_API_URL", base_url),
                ("DATABASE_URL", format!("sqlite://{}", db_file.display())),
                ("LOOPBOT_LISTEN", "127.0.0.1:0".to_string()),
                ("LOOPBOT_ASHBY_API_KEY", ats.key.clone()),
                ("LOOPBOT_ASHBY_API_URL", ats_server.base_url.clone()),
                ("LOOPBOT_ATS_MAPPING", mapping_file.display().to_string()),
                ("LOOPBOT_ATS_POLL", "2m".to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
            if socket {
                // No signing secret and no /slack/* routes: Slack is reached over the WebSocket.
                sim.set_app_token(APP_TOKEN);
                raw.insert("LOOPBOT_MODE".into(), "socket".into());
                raw.insert("SLACK_APP_TOKEN".into(), APP_TOKEN.into());
            } else {
                raw.insert("SLACK_SIGNING_SECRET".into(), SIGNING_SECRET.into());
            }
            let mut settings = Settings::parse(&raw, Needs::Slack)?;
            settings.run_worker = false;
            settings.pace_outbound = false;
            let app = Application::build(settings, shared.clone()).await?;
            let address = format!("http://{}", app.address());
            let state = app.state().clone();
            let (stop, stopped) = oneshot::channel::<()>();
            let server = tokio::spawn(app.run_until_stopped(async {
                let _ = stopped.await;
            }));
            let slack = if socket {
                // The app's first connection is greeted before the script starts.
                let greeted = sim
                    .wait_for_socket(Duration::from_secs(5), |c| {
                        c.iter().any(|c| c.is_open() && c.ready_seq.is_some())
                    })
                    .await;
                anyhow::ensure!(greeted, "Loopbot did not connect over Socket Mode");
                People::over(Wire::Socket(Socket::new(sim.clone())), shared, sim.clone())
            } else {
                let http = Http::new(&address, SIGNING_SECRET, shared.clone());
                People::over(Wire::Http(http), shared, sim.clone())
            };
            anyhow::Ok((hiring_channel, db_file, state, stop, server, slack))
        };
        let (hiring_channel, db_file, state, stop, server, slack) = match set_up.await {
            Ok(parts) => parts,
            Err(e) => return Err(with_violations(e, &sim)),
        };
        Ok(Demo {
            clock,
            sim,
            _sim_server: sim_server,
            slack,
            state,
            stop,
            server,
            db_file,
            hiring_channel,
            ats,
            _ats_server: ats_server,
            mapping_file,
        })
    }

    /// Stops the app and removes the demo's database; an error if a call Loopbot made broke
    /// Slack's contract (the simulator checks each against Slack's spec), so that the demo
    /// cannot show a loop that Slack itself would not have run.
    async fn finish(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.state.db.close().await;
        let _ = std::fs::remove_file(&self.mapping_file);
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db_file.display()));
        }
        let violations = self.sim.take_contract_violations();
        anyhow::ensure!(violations.is_empty(), "{}", contract_broken(&violations));
        Ok(())
    }

    async fn run_worker(&self) -> anyhow::Result<usize> {
        loopbot::jobs::worker::run_due_jobs(&self.state).await
    }

    /// Lets every queued job run, moving the clock a little so coalesced edits can happen.
    async fn settle(&self) -> anyhow::Result<()> {
        for _ in 0..3 {
            self.run_worker().await?;
            self.clock.advance(Duration::from_secs(1));
        }
        self.run_worker().await.map(drop)
    }

    /// Moves the simulated clock to `at` (Unix ms) and runs what became due.
    async fn advance_to(&self, at: i64, what: &str) -> anyhow::Result<()> {
        use loopbot::clock::Clock;
        let now = self.clock.now_ms();
        if at > now {
            self.clock.advance(Duration::from_millis((at - now) as u64));
        }
        let when = jiff::Timestamp::from_millisecond(at)
            .map(|t| t.strftime("%a %d %b %H:%M UTC").to_string())
            .unwrap_or_default();
        println!("\n⏩ The clock moves to {when}: {what}");
        self.settle().await
    }

    async fn play(&self) -> anyhow::Result<()> {
        title("Loopbot demo: one interview loop, start to finish, on a simulated Slack");
        println!(
            "People: {}, {}, {}, {}, {}.",
            COORDINATOR.name, HIRING_MANAGER.name, SCREENER.name, DESIGNER.name, CODER.name
        );
        println!(
            "Each sees times in their own time zone. {}; the clock is simulated and moved forward instead of waited for.",
            self.slack.transport().describe()
        );
        let channel = self.start_loop().await?;
        self.scorecards(&channel).await?;
        self.reminders(&channel).await?;
        self.decision(&channel).await?;
        self.loop_from_the_ats().await?;
        title("Demo finished");
        Ok(())
    }
}

/// `error`, naming the calls that broke Slack's contract if there were any (taken from the
/// simulator, which then stops without failing on its own).
fn with_violations(error: anyhow::Error, sim: &Simulator) -> anyhow::Error {
    let violations = sim.take_contract_violations();
    if violations.is_empty() {
        error
    } else {
        error.context(contract_broken(&violations))
    }
}

fn contract_broken(violations: &[slack_sim::Violation]) -> String {
    let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
    format!(
        "Loopbot sent Slack calls that break Slack's contract:\n  {}",
        list.join("\n  ")
    )
}
