//! What the benches that drive `loopbot serve` as its own process share: starting it against
//! the simulator, reading its peak memory, percentiles, and finding a button's value.

#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const SECRET: &str = "bench0signing0secret0value";
pub const TOKEN: &str = "xoxb-bench";

/// The database the bench runs on: `LOAD_DATABASE_URL` when set (e.g. an empty PostgreSQL
/// database), else a SQLite file in `dir`.
pub fn database_url(dir: &std::path::Path) -> String {
    std::env::var("LOAD_DATABASE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()))
}

/// Starts `loopbot serve` on a free loopback port with its database in `dir`, and waits until
/// it listens. Returns the process and the app's URL.
pub async fn spawn_serve(api_url: &str, dir: &std::path::Path) -> anyhow::Result<(Child, String)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_loopbot"))
        .arg("serve")
        .env_clear()
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("SLACK_API_URL", api_url)
        .env("DATABASE_URL", database_url(dir))
        .env("LOOPBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOOPBOT_WORK_HOURS", "always")
        .env("LOOPBOT_WORK_DAYS", "always")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "loopbot serve did not start"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok((child, format!("http://127.0.0.1:{port}")))
}

/// Stops `loopbot serve` the way an operator does (SIGTERM) and waits for it.
pub fn stop(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The value of the first "Submit scorecard" button in some blocks.
pub fn find_value(blocks: &Value) -> Option<String> {
    match blocks {
        Value::Object(map)
            if map.get("action_id").and_then(Value::as_str) == Some("scorecard_open") =>
        {
            map.get("value").and_then(Value::as_str).map(str::to_string)
        }
        Value::Object(map) => map.values().find_map(find_value),
        Value::Array(items) => items.iter().find_map(find_value),
        _ => None,
    }
}

/// A scorecard submission body for the form `view`: every rating `3`, and an evidence text
/// with `EVIDENCEPLACEHOLDER` for each request to swap out.
pub fn submission_template(
    slack: &loopbot::sim::client::SlackSide,
    user: &str,
    view: &loopbot::sim::SimView,
) -> String {
    let mut form = loopbot::sim::client::FormValues::new().text(
        "evidence",
        "EVIDENCEPLACEHOLDER explained the idempotent consumer they built and its failure modes.",
    );
    for block in view.view["blocks"].as_array().into_iter().flatten() {
        if let Some(id) = block["block_id"]
            .as_str()
            .filter(|id| id.starts_with("crit:") || *id == "overall")
        {
            form = form.option(id, "3");
        }
    }
    loopbot::sim::client::SlackSide::interaction_body(
        &slack.submission_of(user, &view.id, &view.hash, &view.view, &form),
    )
}
