//! Two `loopbot serve` processes on one PostgreSQL database, behind an imagined load balancer
//! that sends each request to either. A burst of loop starts (the command to one replica, the
//! form to the other), one replica killed with `kill -9` mid-burst, then brought back (a
//! rolling deploy) for a burst of scorecards sent to both. Every loop is provisioned once,
//! every scorecard noted once, no DM sent twice, no 429 from Slack, and the survivor finishes
//! the dead replica's work within the take-over time.
//!
//! Runs when LOOPBOT_TEST_DATABASE_URL names a PostgreSQL server (`scripts/test-postgres`);
//! on SQLite one process serves, and there is nothing to test.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loopbot::clock::{SharedClock, SystemClock};
use loopbot::slack::ids::SCORECARD_OPEN;
use slack_sim::client::{FormValues, SlackSide};
use slack_sim::{SimUser, Simulator};

use crate::helpers::{
    EVIDENCE, button, filled_scorecard, fresh_postgres_database, postgres_server,
};

const SECRET: &str = "replicas0test0signing0secret";
const TOKEN: &str = "xoxb-replicas-test";
const LOOPS: usize = 8;
/// The worker's lease (`loopbot::jobs::worker::LEASE_MS`, 20 s) plus the dead replica's share of
/// the burst at Slack's pace: measured about 30 s from the kill to the last pin on an idle
/// machine; the bound leaves room for a CI machine running the rest of the suite meanwhile.
const TAKE_OVER: Duration = Duration::from_secs(60);
/// How long the reminders may take: each waits for its loop's channel, and one DM channel
/// takes a post a second.
const REMINDERS: Duration = Duration::from_secs(90);

struct Replica {
    child: Child,
    port: u16,
}

impl Replica {
    async fn start(db: &str, api: &str) -> Replica {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_loopbot"))
            .arg("serve")
            .env_clear()
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("SLACK_BOT_TOKEN", TOKEN)
            .env("SLACK_API_URL", api)
            .env("DATABASE_URL", db)
            .env("LOOPBOT_LISTEN", format!("127.0.0.1:{port}"))
            .env("LOOPBOT_WORK_HOURS", "always")
            .env("LOOPBOT_WORK_DAYS", "always")
            .env("LOOPBOT_FEEDBACK_DUE", "1s")
            .env("LOOPBOT_REMIND_EVERY", "1h")
            .env("LOOPBOT_TICK", "1s")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "serve did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Replica { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.kill();
    }
}

fn loop_channels(sim: &Simulator) -> Vec<slack_sim::SimChannel> {
    sim.channels()
        .into_iter()
        .filter(|c| c.name.starts_with("loop-"))
        .collect()
}

/// Loops with their four rubric posts, the summary, and its pin.
fn provisioned(sim: &Simulator) -> usize {
    loop_channels(sim)
        .iter()
        .filter(|c| sim.messages(&c.id).len() >= 5 && !sim.pins(&c.id).is_empty())
        .count()
}

/// Scorecard notes under the screen's post, across every loop.
fn notes(sim: &Simulator) -> usize {
    loop_channels(sim)
        .iter()
        .filter_map(|c| {
            let messages = sim.messages(&c.id);
            let post = messages.iter().find(|m| {
                m.metadata["event_payload"]["key"]
                    .as_str()
                    .is_some_and(|k| k.ends_with(":rubric:1"))
            })?;
            Some((c.id.clone(), post.ts.clone()))
        })
        .map(|(channel, ts)| {
            sim.replies(&channel, &ts)
                .iter()
                .filter(|r| r.text.contains("scorecards in"))
                .count()
        })
        .sum()
}

async fn wait_for(what: &str, within: Duration, done: impl Fn() -> bool) -> Duration {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL only: scripts/test-postgres runs it"]
async fn two_replicas_share_the_work_and_survive_a_kill() {
    let Some(server) = postgres_server() else {
        eprintln!("skipped: set LOOPBOT_TEST_DATABASE_URL to a PostgreSQL server");
        return;
    };
    loopbot::install_crypto_provider();
    let db = fresh_postgres_database(&server).await;
    let clock: SharedClock = Arc::new(SystemClock);
    let sim = Simulator::new(clock.clone(), TOKEN);
    for id in ["UCOORD", "UHM", "USCREEN", "UDESIGN", "UCODE"] {
        sim.add_user(SimUser::new(id, id.to_lowercase(), id, "UTC", 0));
    }
    // Slow enough that work is in flight when a replica dies; Slack's tiers enforced.
    sim.set_latency(Duration::from_millis(60));
    sim.enforce_tiers(true);
    let slack_api = sim.serve().await.unwrap();
    let mut a = Replica::start(&db, &slack_api.base_url).await;
    let b = Replica::start(&db, &slack_api.base_url).await;
    let side = |r: &Replica| SlackSide::new(&r.url(), SECRET, clock.clone(), sim.clone());
    let (to_a, to_b) = (side(&a), side(&b));

    // The burst of starts: the command to one replica, the form to the other. Both interviews
    // are over, so feedback is due (and reminders go out) as soon as the loops exist.
    let past = clock.now_secs() - 3 * 3600;
    let form = FormValues::new()
        .user("hiring_manager", "UHM")
        .users("panel:technical-screen", &["USCREEN"])
        .date_time("time:technical-screen", past)
        .users("panel:system-design", &["UDESIGN"])
        .date_time("time:system-design", past + 600)
        .users("panel:coding", &["UCODE"])
        .users("panel:values", &["USCREEN"]);
    let mut killed_at = None;
    for i in 0..LOOPS {
        let alive_a = killed_at.is_none();
        let (command_to, form_to) = match (alive_a, i % 2) {
            (true, 0) => (&to_a, &to_b),
            (true, _) => (&to_b, &to_a),
            (false, _) => (&to_b, &to_b),
        };
        let r = command_to
            .command("UCOORD", "CHIRING", &format!("start Candidate Number{i}"))
            .await;
        assert_eq!(r.status(), 200);
        let view = sim.views_of("UCOORD").into_iter().last().unwrap();
        let r = form_to.submit_view("UCOORD", &view.id, &form).await;
        assert_eq!(r.status(), 200, "acknowledged");
        if i == LOOPS / 2 - 1 {
            // Kill A while provisioning is under way and not every loop is finished.
            let _ = wait_for("a first channel", Duration::from_secs(30), || {
                !loop_channels(&sim).is_empty()
            })
            .await;
            assert!(provisioned(&sim) < LOOPS / 2, "killed mid-burst");
            a.kill();
            killed_at = Some(Instant::now());
        }
    }
    let took = wait_for("every loop provisioned", TAKE_OVER, || {
        provisioned(&sim) == LOOPS
    })
    .await;
    let since_kill = killed_at.unwrap().elapsed();
    assert!(
        since_kill < TAKE_OVER,
        "the survivor finished within the take-over time ({since_kill:?}, {took:?} after the burst)"
    );

    // A rolling deploy brings A back; the scorecards go to both.
    let a = Replica::start(&db, &slack_api.base_url).await;
    let to_a = side(&a);
    let channels = loop_channels(&sim);
    for (i, channel) in channels.iter().enumerate() {
        let post = crate::helpers::stage_post_of(&sim.messages(&channel.id), 1);
        let (value, _) = button(&post.blocks, SCORECARD_OPEN).expect("a scorecard button");
        let (press_to, submit_to) = if i % 2 == 0 {
            (&to_a, &to_b)
        } else {
            (&to_b, &to_a)
        };
        let before = sim.views_of("USCREEN").len();
        let r = press_to
            .press_button("USCREEN", &channel.id, &post.ts, SCORECARD_OPEN, &value)
            .await;
        assert_eq!(r.status(), 200);
        let views = sim.views_of("USCREEN");
        assert_eq!(views.len(), before + 1, "the scorecard opens");
        let view = views.last().unwrap();
        let scorecard = filled_scorecard(&view.view, "3", EVIDENCE);
        let r = submit_to.submit_view("USCREEN", &view.id, &scorecard).await;
        assert_eq!(r.status(), 200);
        let answer = r.text().await.unwrap();
        assert!(!answer.contains("errors"), "{answer}");
    }
    wait_for("every scorecard noted", TAKE_OVER, || notes(&sim) >= LOOPS).await;
    let chased = || {
        sim.dms_to("UDESIGN")
            .iter()
            .filter(|dm| dm.text.contains("overdue"))
            .count()
    };
    wait_for(
        "each loop's overdue design feedback chased",
        REMINDERS,
        || chased() >= LOOPS,
    )
    .await;
    // Let both replicas run whatever else is due, so a second send would show.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let channels = loop_channels(&sim);
    assert_eq!(channels.len(), LOOPS, "one channel per loop: {channels:?}");
    for channel in &channels {
        let messages = sim.messages(&channel.id);
        assert_eq!(messages.len(), 5, "no second post in {}", channel.name);
        assert_eq!(
            sim.pins(&channel.id).len(),
            1,
            "one pin in {}",
            channel.name
        );
    }
    assert_eq!(notes(&sim), LOOPS, "every scorecard noted once");
    let mut sent_twice = Vec::new();
    for user in ["UHM", "USCREEN", "UDESIGN", "UCODE", "UCOORD"] {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for dm in sim.dms_to(user) {
            *seen
                .entry(format!("{} {}", dm.text, dm.blocks))
                .or_default() += 1;
        }
        sent_twice.extend(
            seen.into_iter()
                .filter(|(_, n)| *n > 1)
                .map(|(text, n)| format!("{user} got {n}×: {text}")),
        );
    }
    assert!(sent_twice.is_empty(), "no DM twice: {sent_twice:#?}");
    assert_eq!(chased(), LOOPS, "one reminder per loop");
    assert_eq!(sim.rate_limited_count(), 0, "no 429: one budget for both");
}
