//! `cargo bench --bench outbound`: the Slack side under Slack's rate tiers. `loopbot serve`
//! runs as its own process against the simulator in this process, with tiers enforced (a 429
//! for any call over its tier) and 100 ms of latency on every Web API call.
//!
//! (a) 12 loops started at once: the time from the last start form's acknowledgement until
//!     every channel has its four stage posts, their rubric threads and its pinned summary,
//!     against the minimum the tiers allow (target: within 1.2x), and the 429s received
//!     (target: 0).
//! (b) Scorecard submissions at 20 a second for `OUTBOUND_SECONDS` (default 60): the lag from
//!     each acknowledgement to the next edit of the pinned summary, p50 and p99 (target: p99
//!     <= 2 s), and the server's peak memory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use loopbot::clock::{SharedClock, SystemClock};
use loopbot::sim::client::{FORM, FormValues, SlackSide};
use loopbot::sim::{SimUser, Simulator};
use serde_json::Value;

mod common;
use common::{SECRET, TOKEN, find_value, peak_rss_kib, percentile};

const LATENCY: Duration = Duration::from_millis(100);
const LOOPS: usize = 12;

fn provisioned(sim: &Simulator) -> usize {
    sim.channels()
        .into_iter()
        .filter(|c| c.name.starts_with("loop-"))
        .filter(|c| {
            let posts = sim.messages(&c.id);
            posts.len() >= 5
                && !sim.pins(&c.id).is_empty()
                && posts[..4]
                    .iter()
                    .all(|p| !sim.replies(&c.id, &p.ts).is_empty())
        })
        .count()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    loopbot::install_crypto_provider();
    let seconds: u64 = std::env::var("OUTBOUND_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let clock: SharedClock = Arc::new(SystemClock);
    let sim = Simulator::new(clock.clone(), TOKEN);
    for (id, tz) in [
        ("UCOORD", "America/New_York"),
        ("UHM", "Europe/London"),
        ("UINT", "Europe/Berlin"),
    ] {
        sim.add_user(SimUser::new(id, id.to_lowercase(), id, tz, 0));
    }
    sim.enforce_tiers(true);
    sim.set_latency(LATENCY);
    let server = sim.serve().await?;
    let dir = tempfile::tempdir()?;
    let (child, url) = common::spawn_serve(&server.base_url, dir.path()).await?;
    let pid = child.id();
    let slack = SlackSide::new(&url, SECRET, clock.clone(), sim.clone());

    // (a) Twelve start forms open, then are submitted at once.
    let mut forms = Vec::new();
    for i in 0..LOOPS {
        slack
            .command("UCOORD", "CBENCH", &format!("start Candidate Number{i}"))
            .await;
        let view = sim
            .views_of("UCOORD")
            .into_iter()
            .last()
            .ok_or_else(|| anyhow::anyhow!("no start modal"))?;
        forms.push(view.id);
    }
    let calls_before = sim.calls().len();
    let submitted = Instant::now();
    let mut tasks = Vec::new();
    for view in forms {
        let slack = slack.clone();
        tasks.push(tokio::spawn(async move {
            let form = FormValues::new()
                .user("hiring_manager", "UHM")
                .users("panel:technical-screen", &["UINT"]);
            slack.submit_view("UCOORD", &view, &form).await.status()
        }));
    }
    for task in tasks {
        anyhow::ensure!(task.await?.is_success(), "a start form was refused");
    }
    let acked = submitted.elapsed();
    while provisioned(&sim) < LOOPS {
        anyhow::ensure!(
            submitted.elapsed() < Duration::from_secs(300),
            "only {} of {LOOPS} loops provisioned after 300 s",
            provisioned(&sim)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let all_done = submitted.elapsed() - acked;
    // The tiers' minimum for one loop: its calls one after another, with its nine posts to one
    // channel (four stage posts, the summary, the four rubric threads) at least a second apart
    // (the other methods' tiers allow 12 loops at once).
    let one_loop_calls = (sim.calls().len() - calls_before) / LOOPS;
    let posts = 9u32;
    let minimum = Duration::from_secs(u64::from(posts - 1))
        + LATENCY * (one_loop_calls as u32).saturating_sub(posts - 1);
    let rate_limited = sim.rate_limited_count();
    println!("(a) {LOOPS} loops started at once, tiers enforced, {LATENCY:?} latency per call");
    println!(
        "    all provisioned {:.2} s after the last acknowledgement; minimum the tiers allow {:.2} s ({one_loop_calls} calls per loop): {:.2}x (target <= 1.2x)",
        all_done.as_secs_f64(),
        minimum.as_secs_f64(),
        all_done.as_secs_f64() / minimum.as_secs_f64()
    );
    println!("    429s received: {rate_limited} (target 0)");

    // (b) One interviewer's scorecard on the first loop, resubmitted 20 times a second.
    let channel = sim
        .channels()
        .into_iter()
        .find(|c| c.name.starts_with("loop-"))
        .ok_or_else(|| anyhow::anyhow!("no loop channel"))?;
    let messages = sim.messages(&channel.id);
    let rubric = messages[0].clone();
    let summary_ts = sim.pins(&channel.id)[0].clone();
    let value = find_value(&rubric.blocks).ok_or_else(|| anyhow::anyhow!("no scorecard button"))?;
    slack
        .press_button("UINT", &channel.id, &rubric.ts, "scorecard_open", &value)
        .await;
    let scorecard = sim
        .views_of("UINT")
        .into_iter()
        .last()
        .ok_or_else(|| anyhow::anyhow!("no scorecard modal"))?;
    // Built once; each request only swaps in its own evidence.
    let submission = common::submission_template(&slack, "UINT", &scorecard);
    let mut acks = Vec::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut n = 0u64;
    while Instant::now() < end {
        ticker.tick().await;
        n += 1;
        let body = submission.replace("EVIDENCEPLACEHOLDER", &format!("Evidence{n}"));
        let r = slack.post_signed("/slack/interactions", FORM, &body).await;
        anyhow::ensure!(r.status().is_success(), "{}", r.status());
        acks.push(clock.now_ms());
    }
    // Wait for the last edits, then match each acknowledgement with the next summary edit.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let edits: Vec<i64> = sim
        .calls()
        .into_iter()
        .filter(|c| c.method == "chat.update" && c.ok)
        .filter(|c| c.params.get("ts").and_then(Value::as_str) == Some(summary_ts.as_str()))
        .map(|c| c.at_ms)
        .collect();
    let mut lags: Vec<Duration> = acks
        .iter()
        .map(|ack| {
            let edit = edits
                .iter()
                .find(|e| **e >= *ack)
                .copied()
                .unwrap_or(i64::MAX / 2);
            Duration::from_millis(u64::try_from(edit - ack).unwrap_or(u64::MAX / 2))
        })
        .collect();
    lags.sort();
    println!(
        "(b) {} scorecard submissions at 20/s for {seconds} s: lag to the summary edit p50 {:.2} s, p99 {:.2} s (target p99 <= 2 s); {} summary edits",
        acks.len(),
        percentile(&lags, 0.5).as_secs_f64(),
        percentile(&lags, 0.99).as_secs_f64(),
        edits.len()
    );
    println!("    429s received in all: {}", sim.rate_limited_count());
    if let Some(kib) = peak_rss_kib(pid) {
        println!(
            "    loopbot serve peak memory (VmHWM): {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
    common::stop(child);
    Ok(())
}
