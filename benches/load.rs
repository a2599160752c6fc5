//! `cargo bench --bench load`: a load generator against `loopbot serve` running as its own
//! process on loopback, with the Slack simulator in this process. Eight connections send a
//! mix of signed `/loop start` commands (each opens a modal through the simulator) and
//! scorecard submissions (each stored with its follow-up Slack jobs). Reports requests per
//! second, acknowledgement latency (p50, p99), the time until every follow-up Slack call was
//! made, and the server's peak memory (VmHWM).
//!
//! Targets (PRODUCT.md): >= 10,000 requests/s, p99 <= 5 ms with 8 connections, <= 30 MiB.
//! `LOAD_SECONDS` sets the duration (default 10); `LOAD_MIX` = `both` (default), `commands` or
//! `submissions` isolates one kind of request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use loopbot::clock::{SharedClock, SystemClock};
use loopbot::sim::client::{FORM, FormValues, SlackSide};
use loopbot::sim::{SimUser, Simulator};

mod common;
use common::{SECRET, TOKEN, find_value, peak_rss_kib, percentile};

const CONNECTIONS: usize = 8;

/// User + system CPU seconds of a process so far.
fn cpu_seconds(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/PID/stat, i.e. 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    loopbot::install_crypto_provider();
    // LOAD_MIX: `both` (default), `commands` or `submissions`.
    let mix = std::env::var("LOAD_MIX").unwrap_or_else(|_| "both".into());
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let clock: SharedClock = Arc::new(SystemClock);
    let sim = Simulator::new(clock.clone(), TOKEN);
    for (id, tz) in [
        ("UCOORD", "America/New_York"),
        ("UHM", "Europe/London"),
        ("UINT", "Europe/Berlin"),
    ] {
        sim.add_user(SimUser::new(id, id.to_lowercase(), id, tz, 0));
    }
    let server = sim.serve().await?;
    let dir = tempfile::tempdir()?;
    let (child, url) = common::spawn_serve(&server.base_url, dir.path()).await?;
    let pid = child.id();
    let started = Instant::now();
    let slack = SlackSide::new(&url, SECRET, clock.clone(), sim.clone());

    // One provisioned loop whose stage 1 the interviewer scores over and over.
    slack
        .command("UCOORD", "CBENCH", "start Ada Lovelace")
        .await;
    let start = sim
        .views_of("UCOORD")
        .into_iter()
        .last()
        .ok_or_else(|| anyhow::anyhow!("no start modal"))?;
    let form = FormValues::new()
        .user("hiring_manager", "UHM")
        .users("panel:technical-screen", &["UINT"]);
    slack.submit_view("UCOORD", &start.id, &form).await;
    let channel = loop {
        if let Some(c) = sim
            .channels()
            .into_iter()
            .find(|c| c.name.starts_with("loop-") && sim.messages(&c.id).len() >= 5)
        {
            break c;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the loop was not provisioned"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The technical screen's post: tagged with its key, wherever it sits in the channel.
    let rubric = sim
        .messages(&channel.id)
        .into_iter()
        .find(|m| {
            m.metadata["event_payload"]["key"]
                .as_str()
                .is_some_and(|k| k.ends_with(":rubric:1"))
        })
        .ok_or_else(|| anyhow::anyhow!("no stage post"))?;
    let value = find_value(&rubric.blocks).ok_or_else(|| anyhow::anyhow!("no scorecard button"))?;
    slack
        .press_button("UINT", &channel.id, &rubric.ts, "scorecard_open", &value)
        .await;
    let scorecard = sim
        .views_of("UINT")
        .into_iter()
        .last()
        .ok_or_else(|| anyhow::anyhow!("no scorecard modal"))?;
    let calls_before = sim.calls().len();

    println!(
        "load: {CONNECTIONS} connections for {seconds} s, half /loop start, half scorecard submissions"
    );
    let (server_cpu0, bench_cpu0) = (cpu_seconds(&pid.to_string()), cpu_seconds("self"));
    // Built once; each request only swaps in its own evidence.
    let submission = common::submission_template(&slack, "UINT", &scorecard);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let slack = slack.clone();
        let submission = submission.clone();
        let mix = mix.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                n += 1;
                let command = match mix.as_str() {
                    "commands" => true,
                    "submissions" => false,
                    _ => n.is_multiple_of(2),
                };
                let body = if command {
                    (
                        "/slack/commands",
                        slack.command_body("UCOORD", "CBENCH", &format!("start Candidate {c}-{n}")),
                    )
                } else {
                    (
                        "/slack/interactions",
                        submission.replace("EVIDENCEPLACEHOLDER", &format!("Evidence{c}x{n}")),
                    )
                };
                let t = Instant::now();
                let r = slack.post_signed(body.0, FORM, &body.1).await;
                latencies.push(t.elapsed());
                assert!(r.status().is_success(), "{}", r.status());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await?);
    }
    let (server_cpu, bench_cpu) = (
        cpu_seconds(&pid.to_string()) - server_cpu0,
        cpu_seconds("self") - bench_cpu0,
    );
    latencies.sort();
    let total = latencies.len();
    println!(
        "CPU during the load: loopbot serve {server_cpu:.1} s, load generator + simulator {bench_cpu:.1} s (2 cores x {seconds} s available)"
    );
    println!(
        "requests: {total} in {seconds} s = {:.0} requests/s (target >= 10,000)",
        total as f64 / seconds as f64
    );
    println!(
        "acknowledgement latency: p50 {:?}, p99 {:?}, max {:?} (target p99 <= 5 ms)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[total - 1]
    );

    // Every follow-up Slack call: wait until the jobs table is drained.
    let drained = Instant::now();
    let db = loopbot::db::connect(&common::database_url(dir.path())).await?;
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')")
                .fetch_one(&db)
                .await
                .unwrap_or(-1);
        if pending == 0 {
            break;
        }
        if drained.elapsed() > Duration::from_secs(300) {
            println!("follow-up work still pending after 300 s: {pending} jobs");
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "follow-up Slack calls made: {} (drained {:?} after the load stopped)",
        sim.calls().len() - calls_before,
        drained.elapsed()
    );
    if let Some(kib) = peak_rss_kib(pid) {
        println!(
            "loopbot serve peak memory (VmHWM): {:.1} MiB (target <= 30 MiB)",
            kib as f64 / 1024.0
        );
    }
    common::stop(child);
    Ok(())
}
