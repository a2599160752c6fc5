//! `loopbot demo`: a whole loop through the real HTTP handlers and worker, against the built-in
//! Slack simulator, printed as each person would see it. No Slack account, no network.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

use crate::clock::{ManualClock, SharedClock};
use crate::settings::{Needs, RawSettings, Secret, Settings};
use crate::sim::client::{FormValues, SlackSide};
use crate::sim::{SimMessage, SimUser, Simulator, render_blocks, render_message, render_view};
use crate::slack::SlackApi;
use crate::slack::actions;
use crate::startup::{AppState, Application};

const SIGNING_SECRET: &str = "demo0signing0secret0not0for0production";
const BOT_TOKEN: &str = "xoxb-demo-token";
/// Monday 2026-11-23 09:00 UTC.
const START_MS: i64 = 1_795_424_400_000;

struct Person {
    id: &'static str,
    name: &'static str,
    tz: &'static str,
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
    _sim_server: crate::sim::SimServer,
    slack: SlackSide,
    state: AppState,
    stop: oneshot::Sender<()>,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    db_file: std::path::PathBuf,
    hiring_channel: String,
}

pub async fn run() -> anyhow::Result<()> {
    let demo = Demo::start().await?;
    let result = demo.play().await;
    demo.finish().await;
    result
}

impl Demo {
    async fn start() -> anyhow::Result<Demo> {
        crate::install_crypto_provider();
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
            sim.add_user(SimUser::new(
                p.id,
                short.to_lowercase(),
                short,
                p.tz,
                offset,
            ));
        }
        let sim_server = sim.serve().await?;
        let base_url = sim_server.base_url.clone();

        // #hiring, where Casey types commands.
        let api = SlackApi::new(&base_url, Secret::new(BOT_TOKEN), Duration::from_secs(5))?;
        let hiring_channel = api.create_private_channel("hiring").await?;
        api.invite(
            &hiring_channel,
            &[COORDINATOR.id.to_string(), HIRING_MANAGER.id.to_string()],
        )
        .await?;

        let db_file = std::env::temp_dir().join(format!("loopbot-demo-{}.db", std::process::id()));
        let raw: RawSettings = [
            ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_string()),
            ("SLACK_BOT_TOKEN", BOT_TOKEN.to_string()),
            ("SLACK_API_URL", base_url),
            ("DATABASE_URL", format!("sqlite://{}", db_file.display())),
            ("LOOPBOT_LISTEN", "127.0.0.1:0".to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut settings = Settings::parse(&raw, Needs::Slack)?;
        settings.run_worker = false;
        let app = Application::build(settings, shared.clone()).await?;
        let address = format!("http://{}", app.address());
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async {
            let _ = stopped.await;
        }));
        let slack = SlackSide::new(&address, SIGNING_SECRET, shared, sim.clone());
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
        })
    }

    async fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
        self.state.db.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db_file.display()));
        }
    }

    async fn run_worker(&self) -> anyhow::Result<usize> {
        crate::worker::run_due_jobs(&self.state).await
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
        use crate::clock::Clock;
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

    async fn command(
        &self,
        person: &Person,
        channel: &str,
        text: &str,
    ) -> anyhow::Result<Option<String>> {
        let answer = self.slack.command(person.id, channel, text).await;
        anyhow::ensure!(
            answer.status().is_success(),
            "the command was refused: {}",
            answer.status()
        );
        let body = answer.text().await.unwrap_or_default();
        if body.is_empty() {
            return Ok(None);
        }
        let value: Value = serde_json::from_str(&body)?;
        Ok(Some(render_blocks(&self.sim, &value["blocks"], person.tz)))
    }

    fn latest_modal(&self, person: &Person) -> anyhow::Result<crate::sim::SimView> {
        self.sim
            .views_of(person.id)
            .into_iter()
            .last()
            .ok_or_else(|| anyhow::anyhow!("no modal opened"))
    }

    async fn play(&self) -> anyhow::Result<()> {
        title("Loopbot demo: one interview loop, start to finish, on a simulated Slack");
        println!(
            "People: {}, {}, {}, {}, {}.",
            COORDINATOR.name, HIRING_MANAGER.name, SCREENER.name, DESIGNER.name, CODER.name
        );
        println!(
            "Each sees times in their own time zone. Every request below is signed and goes through Loopbot's real HTTP endpoints; the clock is simulated and moved forward instead of waited for."
        );
        let channel = self.start_loop().await?;
        self.scorecards(&channel).await?;
        self.reminders(&channel).await?;
        self.decision(&channel).await?;
        title("Demo finished");
        Ok(())
    }

    async fn start_loop(&self) -> anyhow::Result<String> {
        title("1. Starting the loop");
        step(&format!(
            "{} types `/loop start Ada Lovelace` in #hiring",
            COORDINATOR.name
        ));
        self.command(&COORDINATOR, &self.hiring_channel, "start Ada Lovelace")
            .await?;
        let view = self.latest_modal(&COORDINATOR)?;
        seen_by(
            &COORDINATOR,
            "the start form",
            &render_view(&self.sim, &view.view, COORDINATOR.tz),
        );

        step(&format!(
            "{} submits without choosing a hiring manager",
            COORDINATOR.name
        ));
        let answer = self
            .slack
            .submit_view(COORDINATOR.id, &view.id, &FormValues::new())
            .await;
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        seen_by(
            &COORDINATOR,
            "the form stays open, with",
            &field_errors(&body),
        );

        step(&format!(
            "{} fills in the panel and times, leaving Values and collaboration unstaffed, and submits",
            COORDINATOR.name
        ));
        let first_day = START_MS / 1000 + 86_400 + 5 * 3600; // Tue 14:00 UTC
        let form = FormValues::new()
            .user("hiring_manager", HIRING_MANAGER.id)
            .users("panel:technical-screen", &[SCREENER.id])
            .date_time("time:technical-screen", first_day)
            .users("panel:system-design", &[DESIGNER.id])
            .date_time("time:system-design", first_day + 86_400)
            .users("panel:coding", &[CODER.id])
            .date_time("time:coding", first_day + 2 * 86_400);
        let answer = self
            .slack
            .submit_view(COORDINATOR.id, &view.id, &form)
            .await;
        anyhow::ensure!(
            answer.text().await.unwrap_or_default().is_empty(),
            "the form was not accepted"
        );
        println!(
            "The modal closes at once: the loop and its Slack work are stored in one transaction."
        );
        let ran = self.run_worker().await?;
        println!(
            "The worker runs {ran} job(s): channel, invitations, topic, rubric messages, summary, pin, confirmation."
        );

        let channel = self
            .sim
            .channels()
            .into_iter()
            .find(|c| c.name.starts_with("loop-"))
            .ok_or_else(|| anyhow::anyhow!("no candidate channel was created"))?;
        step("The candidate channel");
        let members: Vec<String> = channel
            .members
            .iter()
            .map(|m| {
                self.sim
                    .user(m)
                    .map(|u| u.real_name)
                    .unwrap_or_else(|| m.clone())
            })
            .collect();
        println!(
            "#{} ({}), topic: {}",
            channel.name,
            if channel.is_private {
                "private"
            } else {
                "public"
            },
            channel.topic
        );
        println!("Members: {}", members.join(", "));
        for confirmation in self.sim.ephemerals_for(COORDINATOR.id) {
            seen_by(
                &COORDINATOR,
                "only for them, in #hiring",
                &render_blocks(&self.sim, &confirmation.blocks, COORDINATOR.tz),
            );
        }
        if let Some(summary) = self.summary(&channel.id) {
            seen_by(
                &HIRING_MANAGER,
                "the pinned summary",
                &render_message(&self.sim, &summary, HIRING_MANAGER.tz),
            );
        }
        if let Some(design) = self
            .sim
            .messages(&channel.id)
            .iter()
            .find(|m| m.text.contains("System design"))
        {
            seen_by(
                &DESIGNER,
                "the rubric for their stage",
                &render_message(&self.sim, design, DESIGNER.tz),
            );
        }
        println!(
            "\n({} messages in the channel: one rubric per stage and the summary.)",
            self.sim.messages(&channel.id).len()
        );
        Ok(channel.id)
    }

    /// Presses a button in a message; returns the modal that opened for `person`.
    async fn press(
        &self,
        person: &Person,
        channel: &str,
        message: &SimMessage,
        action_id: &str,
    ) -> anyhow::Result<Value> {
        let value = find_button(&message.blocks, action_id)
            .ok_or_else(|| anyhow::anyhow!("no {action_id} button"))?;
        self.slack
            .press_button(person.id, channel, &message.ts, action_id, &value)
            .await;
        Ok(self.latest_modal(person)?.view)
    }

    /// Shows `person` the first (or, with `newest`, the last) channel message matching `which`.
    fn show_message(
        &self,
        person: &Person,
        what: &str,
        channel: &str,
        newest: bool,
        which: impl Fn(&SimMessage) -> bool,
    ) {
        let messages = self.sim.messages(channel);
        let found = if newest {
            messages.iter().rev().find(|m| which(m))
        } else {
            messages.iter().find(|m| which(m))
        };
        if let Some(message) = found {
            seen_by(person, what, &render_message(&self.sim, message, person.tz));
        }
    }

    fn summary(&self, channel: &str) -> Option<SimMessage> {
        let pins = self.sim.pins(channel);
        self.sim
            .messages(channel)
            .into_iter()
            .find(|m| pins.contains(&m.ts))
    }

    fn rubric_of(&self, channel: &str, stage: &str) -> anyhow::Result<SimMessage> {
        self.sim
            .messages(channel)
            .into_iter()
            .find(|m| m.text.starts_with("Stage") && m.text.contains(stage))
            .ok_or_else(|| anyhow::anyhow!("no rubric message for {stage}"))
    }

    /// `person` presses the stage's scorecard button and submits every criterion at `rating`.
    async fn submit_scorecard(
        &self,
        person: &Person,
        channel: &str,
        stage: &str,
        rating: &str,
        evidence: &str,
    ) -> anyhow::Result<()> {
        let message = self.rubric_of(channel, stage)?;
        self.press(person, channel, &message, actions::SCORECARD_OPEN)
            .await?;
        let form = self.latest_modal(person)?;
        let answer = self
            .slack
            .submit_view(
                person.id,
                &form.id,
                &all_rated(&form.view, rating).text("evidence", evidence),
            )
            .await;
        anyhow::ensure!(
            answer.text().await.unwrap_or_default().is_empty(),
            "the scorecard was not accepted"
        );
        Ok(())
    }

    async fn scorecards(&self, channel: &str) -> anyhow::Result<()> {
        title("2. Scorecards: blind by default");
        step(&format!(
            "{} presses \"Submit scorecard\" on the Technical screen rubric",
            SCREENER.name
        ));
        let screen = self.rubric_of(channel, "Technical screen")?;
        self.press(&SCREENER, channel, &screen, actions::SCORECARD_OPEN)
            .await?;
        let form = self.latest_modal(&SCREENER)?;
        seen_by(
            &SCREENER,
            "the scorecard form",
            &render_view(&self.sim, &form.view, SCREENER.tz),
        );

        step(&format!(
            "{} rates every criterion but writes almost no evidence, and submits",
            SCREENER.name
        ));
        let ratings = all_rated(&form.view, "4");
        let answer = self
            .slack
            .submit_view(
                SCREENER.id,
                &form.id,
                &ratings.clone().text("evidence", "Great."),
            )
            .await;
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        seen_by(&SCREENER, "the form stays open, with", &field_errors(&body));

        step(&format!(
            "{} adds the evidence and submits again",
            SCREENER.name
        ));
        let evidence = "Walked through the payments ledger they built: why they chose idempotency keys over exactly-once delivery, and the double-charge incident that taught them to.";
        self.slack
            .submit_view(SCREENER.id, &form.id, &ratings.text("evidence", evidence))
            .await;
        self.settle().await?;
        self.show_message(
            &HIRING_MANAGER,
            "a note in the channel (who, never the scores)",
            channel,
            true,
            |m| m.text.contains("submitted a scorecard"),
        );

        step(&format!(
            "{}, who has not submitted anything, tries to peek at the scorecards",
            CODER.name
        ));
        let summary = self
            .summary(channel)
            .ok_or_else(|| anyhow::anyhow!("no summary"))?;
        let peek = self
            .press(&CODER, channel, &summary, actions::SCORECARDS_VIEW)
            .await?;
        seen_by(
            &CODER,
            "a refusal",
            &render_view(&self.sim, &peek, CODER.tz),
        );

        step(&format!(
            "{} submits the Coding scorecard while System design still has none",
            CODER.name
        ));
        self.submit_scorecard(&CODER, channel, "Coding", "2", "Solid API design, but retries were unbounded and the failure of the downstream call was never handled.").await?;
        self.settle().await?;
        self.show_message(
            &HIRING_MANAGER,
            "a warning, posted once for the stage",
            channel,
            false,
            |m| m.text.ends_with("has no feedback"),
        );
        let summary = self
            .summary(channel)
            .ok_or_else(|| anyhow::anyhow!("no summary"))?;
        seen_by(
            &CODER,
            "the pinned summary, edited in place (still blind)",
            &render_message(&self.sim, &summary, CODER.tz),
        );

        step(&format!(
            "{} presses \"View scorecards\"",
            HIRING_MANAGER.name
        ));
        let full = self
            .press(&HIRING_MANAGER, channel, &summary, actions::SCORECARDS_VIEW)
            .await?;
        seen_by(
            &HIRING_MANAGER,
            "every scorecard in full",
            &render_view(&self.sim, &full, HIRING_MANAGER.tz),
        );
        Ok(())
    }

    async fn reminders(&self, channel: &str) -> anyhow::Result<()> {
        title("3. Reminders: by DM, in working hours, escalated once");
        // System design: Wed 14:00 UTC, 60 minutes, due 24 h after it ends.
        let design_due = START_MS + (2 * 86_400 + 6 * 3600) * 1000;
        self.advance_to(design_due + 60_000, "Dev's System design scorecard is due")
            .await?;
        println!(
            "It is 20:31 in Kolkata, outside Dev's working hours (09:00-18:00): the reminder waits."
        );
        println!(
            "Direct messages to Dev so far: {}",
            self.sim.dms_to(DESIGNER.id).len()
        );
        let kolkata_morning = START_MS + (3 * 86_400 + 18 * 3600 + 1800) * 1000; // Fri 03:30 UTC
        self.advance_to(kolkata_morning, "09:00 in Kolkata").await?;
        if let Some(reminder) = self.sim.dms_to(DESIGNER.id).last() {
            seen_by(
                &DESIGNER,
                "a direct message",
                &render_message(&self.sim, reminder, DESIGNER.tz),
            );
        }
        self.advance_to(
            kolkata_morning + 86_400_000,
            "a day later, still nothing from Dev",
        )
        .await?;
        println!(
            "Dev gets a second reminder. After {} reminders the hiring manager is told, once, in their own working hours.",
            self.state.settings.escalate_after
        );
        let london_morning = START_MS + (5 * 86_400) * 1000; // Sat 09:00 UTC
        self.advance_to(london_morning, "09:00 in London").await?;
        if let Some(escalation) = self
            .sim
            .dms_to(HIRING_MANAGER.id)
            .into_iter()
            .find(|m| m.text.contains("still missing"))
        {
            seen_by(
                &HIRING_MANAGER,
                "an escalation",
                &render_message(&self.sim, &escalation, HIRING_MANAGER.tz),
            );
        }
        step(&format!("{} opens Loopbot's App Home", DESIGNER.name));
        self.slack.event("EvDemoHome", serde_json::json!({"type": "app_home_opened", "user": DESIGNER.id, "channel": "D0", "tab": "home", "event_ts": "1.0"})).await;
        self.settle().await?;
        if let Some(home) = self.sim.home_of(DESIGNER.id) {
            seen_by(
                &DESIGNER,
                "their App Home",
                &render_blocks(&self.sim, &home["blocks"], DESIGNER.tz),
            );
        }
        let summary = self
            .summary(channel)
            .ok_or_else(|| anyhow::anyhow!("no summary"))?;
        seen_by(
            &COORDINATOR,
            "the pinned summary",
            &render_message(&self.sim, &summary, COORDINATOR.tz),
        );
        Ok(())
    }

    async fn decision(&self, channel: &str) -> anyhow::Result<()> {
        title("4. Skipping a stage and deciding");
        step(&format!(
            "{} types `/loop skip system-design Dev was pulled into an incident; design was probed in the coding round`",
            HIRING_MANAGER.name
        ));
        if let Some(reply) = self.command(&HIRING_MANAGER, channel, "skip system-design Dev was pulled into an incident; design was probed in the coding round").await? {
            seen_by(&HIRING_MANAGER, "only for them", &reply);
        }
        self.settle().await?;
        self.show_message(&COORDINATOR, "a note in the channel", channel, true, |m| {
            m.text.contains("skipped")
        });

        step(&format!("{} types `/loop decide`", HIRING_MANAGER.name));
        self.command(&HIRING_MANAGER, channel, "decide").await?;
        let form = self.latest_modal(&HIRING_MANAGER)?;
        seen_by(
            &HIRING_MANAGER,
            "the decision form",
            &render_view(&self.sim, &form.view, HIRING_MANAGER.tz),
        );
        self.settle().await?;
        self.show_message(
            &COORDINATOR,
            "a warning in the channel",
            channel,
            true,
            |m| m.text.ends_with("has no feedback"),
        );

        step(&format!(
            "{} chooses Hire and submits without ticking the confirmation",
            HIRING_MANAGER.name
        ));
        let decision = FormValues::new()
            .option("outcome", "hire")
            .text("rationale", "Strong production ownership in the screen; the coding concerns are coachable and design was probed there.");
        let answer = self
            .slack
            .submit_view(HIRING_MANAGER.id, &form.id, &decision)
            .await;
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        seen_by(
            &HIRING_MANAGER,
            "the form stays open, with",
            &field_errors(&body),
        );

        step(&format!(
            "{} ticks the confirmation and submits",
            HIRING_MANAGER.name
        ));
        self.slack
            .submit_view(
                HIRING_MANAGER.id,
                &form.id,
                &decision.checked("confirm_missing", &["confirm"]),
            )
            .await;
        self.settle().await?;
        self.show_message(&CODER, "the decision in the channel", channel, true, |m| {
            m.text.starts_with("Decision for")
        });
        let summary = self
            .summary(channel)
            .ok_or_else(|| anyhow::anyhow!("no summary"))?;
        seen_by(
            &SCREENER,
            "the final summary: every recommendation revealed",
            &render_message(&self.sim, &summary, SCREENER.tz),
        );
        Ok(())
    }
}

/// Every rating input of a scorecard form set to `rating`.
fn all_rated(view: &Value, rating: &str) -> FormValues {
    let mut form = FormValues::new();
    for block in view["blocks"].as_array().into_iter().flatten() {
        if let Some(id) = block["block_id"]
            .as_str()
            .filter(|id| id.starts_with("crit:") || *id == "overall")
        {
            form = form.option(id, rating);
        }
    }
    form
}

fn find_button(blocks: &Value, action_id: &str) -> Option<String> {
    match blocks {
        Value::Object(map) if map.get("action_id").and_then(Value::as_str) == Some(action_id) => {
            map.get("value").and_then(Value::as_str).map(str::to_string)
        }
        Value::Object(map) => map.values().find_map(|v| find_button(v, action_id)),
        Value::Array(items) => items.iter().find_map(|v| find_button(v, action_id)),
        _ => None,
    }
}

fn field_errors(body: &Value) -> String {
    body["errors"]
        .as_object()
        .map(|e| {
            e.iter()
                .map(|(field, msg)| {
                    format!("  next to `{field}`: {}", msg.as_str().unwrap_or_default())
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_else(|| "no errors?".into())
}

fn title(text: &str) {
    println!(
        "\n{}\n{text}\n{}",
        "=".repeat(text.len().min(100)),
        "=".repeat(text.len().min(100))
    );
}

fn step(text: &str) {
    println!("\n▶ {text}");
}

fn seen_by(person: &Person, what: &str, body: &str) {
    println!("\n┌─ {} sees {what}:", person.name);
    for line in body.lines() {
        println!("│ {line}");
    }
    println!("└─");
}
