//! `kill -9` in the middle of provisioning, then an immediate restart on the same database:
//! every acknowledged loop is finished, with one channel, four rubric posts and one pinned
//! summary each, and none is left waiting for a dead process's lease.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use loopbot::clock::{SharedClock, SystemClock};
use slack_sim::client::{FormValues, SlackSide};
use slack_sim::{SimUser, Simulator};

const SECRET: &str = "crash0test0signing0secret";
const TOKEN: &str = "xoxb-crash-test";
const LOOPS: usize = 4;

fn serve(db: &str, api: &str, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_loopbot"))
        .arg("serve")
        .env_clear()
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("SLACK_API_URL", api)
        .env("DATABASE_URL", db)
        .env("LOOPBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOOPBOT_WORK_HOURS", "always")
        .env("LOOPBOT_WORK_DAYS", "always")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn wait_listening(port: u16) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn loop_channels(sim: &Simulator) -> Vec<slack_sim::SimChannel> {
    sim.channels()
        .into_iter()
        .filter(|c| c.name.starts_with("loop-"))
        .collect()
}

fn complete(sim: &Simulator) -> usize {
    loop_channels(sim)
        .iter()
        .filter(|c| sim.messages(&c.id).len() >= 5 && !sim.pins(&c.id).is_empty())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_provisioning_then_restart_finishes_every_loop_once() {
    loopbot::install_crypto_provider();
    let clock: SharedClock = Arc::new(SystemClock);
    let sim = Simulator::new(clock.clone(), TOKEN);
    for id in ["UCOORD", "UHM", "UINT"] {
        sim.add_user(SimUser::new(id, id.to_lowercase(), id, "UTC", 0));
    }
    // Slow enough that provisioning is under way when the process is killed.
    sim.set_latency(Duration::from_millis(150));
    sim.enforce_tiers(true);
    let server = sim.serve().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/crash.db", dir.path().display());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = serve(&db, &server.base_url, port);
    wait_listening(port).await;
    let slack = SlackSide::new(
        &format!("http://127.0.0.1:{port}"),
        SECRET,
        clock.clone(),
        sim.clone(),
    );
    for i in 0..LOOPS {
        slack
            .command("UCOORD", "CHIRING", &format!("start Candidate Number{i}"))
            .await;
        let view = sim.views_of("UCOORD").into_iter().last().unwrap();
        let form = FormValues::new()
            .user("hiring_manager", "UHM")
            .users("panel:technical-screen", &["UINT"]);
        let r = slack.submit_view("UCOORD", &view.id, &form).await;
        assert_eq!(r.status(), 200, "acknowledged");
    }
    // Kill it while some channel exists and not every loop is finished.
    let started = Instant::now();
    while loop_channels(&sim).is_empty() && started.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(complete(&sim) < LOOPS, "killed mid-provisioning");
    child.kill().unwrap();
    child.wait().unwrap();

    let restarted = Instant::now();
    let mut child = serve(&db, &server.base_url, port);
    wait_listening(port).await;
    while complete(&sim) < LOOPS && restarted.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(complete(&sim), LOOPS, "every acknowledged loop finished");
    let channels = loop_channels(&sim);
    assert_eq!(channels.len(), LOOPS, "no second channel: {channels:?}");
    for channel in channels {
        let messages = sim.messages(&channel.id);
        assert_eq!(messages.len(), 5, "no second post in {}", channel.name);
        assert_eq!(sim.pins(&channel.id).len(), 1);
    }
    assert!(
        restarted.elapsed() < Duration::from_secs(30),
        "recovered within 30 s, not after a lease of minutes"
    );
}
