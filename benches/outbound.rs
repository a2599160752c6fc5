//! `cargo bench --bench outbound`: the Slack side as a hiring team meets it, under Slack's
//! rate tiers. `loopbot serve` runs as its own process against the simulator in this process,
//! with the simulator's own tier table enforced (`crates/slack-sim/src/rules.rs`: a 429 for any call over
//! its tier) and 100 ms of latency on every Web API call.
//!
//! Set-up (not measured): `OUTBOUND_LOOPS` open loops (default 200), each with its hiring
//! manager (20 people share them) and four interviewers (40 people), provisioned and each
//! stage's scorecard modal opened; then `loopbot serve` starts on that database and real time
//! moves on (`OUTBOUND_SETTLE_SECONDS`, default 10).
//!
//! (a) A loop started alone, `OUTBOUND_ALONE` times (default 20) one after another (each once
//!     the previous is complete, and at least Tier 2's spacing, 3 s, after it): from the start
//!     form's acknowledgement until the summary is pinned and the coordinator told, p50/p99
//!     (target p99 <= 2 s).
//! (b) 12 loops started at once: from the last acknowledgement until every channel is complete,
//!     against the bound the tiers impose, computed here from the simulator's table (target
//!     <= 1.2x); 429s (target 0).
//! (c) Scorecards at a steady 0.25 a second spread over the open loops for
//!     `OUTBOUND_STEADY_SECONDS` (default 120): acknowledgement -> summary edit, p50/p99
//!     (target p99 <= 2 s).
//! (d) A burst of 20 a second for `OUTBOUND_BURST_SECONDS` (default 60), spread over the open
//!     loops and their four stages: time until every follow-up is made, against the bound the
//!     tiers impose (target <= 1.2x); it waits `OUTBOUND_DRAIN_SECONDS` (default 2400) for
//!     the queue to drain.
//! Over the whole measured run: claims per Slack call (target <= 1.05), CPU seconds of
//! `loopbot serve` per 1,000 Slack calls, 429s (target 0), peak memory (target <= 30 MiB).

use std::sync::Arc;
use std::time::{Duration, Instant};

use loopbot::clock::{SharedClock, SystemClock};
use serde_json::Value;
use slack_sim::client::{FORM, SlackSide};
use slack_sim::rules::{POST_BURST, POST_REFILL_MS, Tier, per_method};
use slack_sim::{SimCall, Simulator};

mod common;
use common::{COORDINATOR, SECRET, TOKEN, peak_rss_kib, percentile};

const LATENCY: Duration = Duration::from_millis(100);
const AT_ONCE: usize = 12;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The bound one loop's own calls put on it: a loop's jobs run one at a time, and each call
/// waits for its answer, so its calls come one after another, `LATENCY` each; and its posts
/// into its own (new) channel can come no faster than that channel's bucket allows (a burst
/// of `POST_BURST`, then one every `POST_REFILL_MS`). Replays the loop's calls in their
/// order under those two rules; returns the time of the last answer, in ms.
fn chain_bound_ms(calls: &[SimCall], channel: &str) -> i64 {
    let tolerance = i64::from(POST_BURST - 1) * POST_REFILL_MS;
    let latency = LATENCY.as_millis() as i64;
    let (mut t, mut due) = (0i64, i64::MIN / 2);
    for c in calls {
        if c.method == "chat.postMessage"
            && c.params.get("channel").and_then(Value::as_str) == Some(channel)
        {
            t = t.max(due - tolerance);
            due = due.max(t) + POST_REFILL_MS;
        }
        t += latency;
    }
    t
}

/// Opens the start form from `#hiring` and submits it for loop `i`; returns when it is
/// acknowledged.
async fn start_loop(
    slack: &SlackSide,
    sim: &Simulator,
    hiring: &str,
    i: usize,
) -> anyhow::Result<()> {
    open_start_form(slack, sim, hiring, i).await?;
    let view = sim
        .views_of(COORDINATOR)
        .into_iter()
        .last()
        .ok_or_else(|| anyhow::anyhow!("no start modal"))?;
    let r = slack
        .submit_view(COORDINATOR, &view.id, &common::start_form(i))
        .await;
    anyhow::ensure!(
        r.status().is_success(),
        "start form refused: {}",
        r.status()
    );
    Ok(())
}

async fn open_start_form(
    slack: &SlackSide,
    sim: &Simulator,
    hiring: &str,
    i: usize,
) -> anyhow::Result<String> {
    slack
        .command(COORDINATOR, hiring, &format!("start Candidate New{i}"))
        .await;
    sim.views_of(COORDINATOR)
        .into_iter()
        .last()
        .map(|v| v.id)
        .ok_or_else(|| anyhow::anyhow!("no start modal"))
}

/// Waits for a loop channel beyond the first `known`; returns its id.
async fn new_channel(sim: &Simulator, known: usize) -> anyhow::Result<String> {
    let started = Instant::now();
    loop {
        if let Some(c) = common::loop_channels(sim).get(known) {
            return Ok(c.clone());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "no new channel in 120 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Acknowledgement -> the next edit of the loop's pinned summary, for each submission.
fn edit_lags(sim: &Simulator, acks: &[(i64, String, String)]) -> Vec<Duration> {
    let calls = sim.calls();
    let mut lags: Vec<Duration> = acks
        .iter()
        .map(|(ack, channel, ts)| {
            let edit = calls
                .iter()
                .filter(|c| c.method == "chat.update" && c.ok && c.at_ms >= *ack)
                .find(|c| {
                    c.params.get("channel").and_then(Value::as_str) == Some(channel.as_str())
                        && c.params.get("ts").and_then(Value::as_str) == Some(ts.as_str())
                })
                .map_or(i64::MAX / 2, |c| c.at_ms);
            Duration::from_millis(u64::try_from(edit - ack).unwrap_or(0))
        })
        .collect();
    lags.sort();
    lags
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    loopbot::install_crypto_provider();
    let open = env_or("OUTBOUND_LOOPS", 200) as usize;
    let alone = env_or("OUTBOUND_ALONE", 20) as usize;
    let settle = Duration::from_secs(env_or("OUTBOUND_SETTLE_SECONDS", 10));
    let steady_seconds = env_or("OUTBOUND_STEADY_SECONDS", 120);
    let burst_seconds = env_or("OUTBOUND_BURST_SECONDS", 60);
    let clock: SharedClock = Arc::new(SystemClock);
    let sim = Simulator::new(clock.clone(), TOKEN);
    let hiring = common::add_people(&sim);
    let server = sim.serve().await?;
    let dir = tempfile::tempdir()?;
    let database_url = common::database_url(dir.path());

    let setup = Instant::now();
    let loops = common::open_loops(&sim, &server.base_url, &database_url, &hiring, open).await?;
    println!(
        "set-up: {open} open loops provisioned and {} scorecard modals opened in {:.0} s (tiers off, not measured)",
        open * common::STAGES.len(),
        setup.elapsed().as_secs_f64()
    );

    let (child, url) = common::spawn_serve(&server.base_url, dir.path()).await?;
    let pid = child.id();
    sim.enforce_tiers(true);
    sim.set_latency(LATENCY);
    let slack = SlackSide::new(&url, SECRET, clock.clone(), sim.clone());
    let run_calls = sim.calls().len();
    let run_rate_limited = sim.rate_limited_count();
    let cpu0 = common::cpu_seconds(&pid.to_string());
    let claims0 = common::metric_total(&url, "loopbot_jobs_claimed_total").await?;
    tokio::time::sleep(settle).await;
    println!(
        "loopbot serve against the simulator: its tiers enforced, {LATENCY:?} latency per call, {open} open loops"
    );

    // (a) One loop at a time.
    let tier2_gap = {
        let w = per_method(Tier::Tier2);
        Duration::from_millis(u64::try_from(w.window_ms / i64::from(w.calls)).unwrap_or(3_000))
    };
    let mut ready = Vec::new();
    let mut last_loop: (Vec<SimCall>, String) = (Vec::new(), String::new());
    for k in 0..alone {
        let begun = Instant::now();
        let known = common::loop_channels(&sim).len();
        let calls_at = sim.calls().len();
        start_loop(&slack, &sim, &hiring, open + k).await?;
        let acked = Instant::now();
        let channel = new_channel(&sim, known).await?;
        while !(common::summary_pinned(&sim, &channel) && common::coordinator_told(&sim, &channel))
        {
            anyhow::ensure!(
                acked.elapsed() < Duration::from_secs(120),
                "loop {k} not ready in 120 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        ready.push(acked.elapsed());
        while !common::fully_provisioned(&sim, &channel) {
            anyhow::ensure!(
                acked.elapsed() < Duration::from_secs(300),
                "loop {k} incomplete after 300 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let calls: Vec<SimCall> = sim.calls()[calls_at..]
            .iter()
            .filter(|c| common::is_job_call(c))
            .cloned()
            .collect();
        last_loop = (calls, channel);
        if let Some(rest) = tier2_gap.checked_sub(begun.elapsed()) {
            tokio::time::sleep(rest).await;
        }
    }
    ready.sort();
    println!(
        "(a) a loop started alone, {alone} one after another: summary pinned and coordinator told p50 {:.2} s, p99 {:.2} s (target p99 <= 2 s)",
        percentile(&ready, 0.5).as_secs_f64(),
        percentile(&ready, 0.99).as_secs_f64()
    );
    tokio::time::sleep(settle).await;

    // (b) Twelve loops at once.
    let known = common::loop_channels(&sim).len();
    let mut forms = Vec::new();
    for i in 0..AT_ONCE {
        forms.push(open_start_form(&slack, &sim, &hiring, open + alone + i).await?);
    }
    let before_b = sim.calls().len();
    let limited_b = sim.rate_limited_count();
    let mut tasks = Vec::new();
    for (i, view) in forms.into_iter().enumerate() {
        let slack = slack.clone();
        tasks.push(tokio::spawn(async move {
            let form = common::start_form(open + alone + i);
            slack.submit_view(COORDINATOR, &view, &form).await.status()
        }));
    }
    for task in tasks {
        anyhow::ensure!(task.await?.is_success(), "a start form was refused");
    }
    let acked = Instant::now();
    let acked_ms = clock.now_ms();
    loop {
        let channels = common::loop_channels(&sim);
        let done = channels[known.min(channels.len())..]
            .iter()
            .filter(|c| common::fully_provisioned(&sim, c))
            .count();
        if done >= AT_ONCE {
            break;
        }
        anyhow::ensure!(
            acked.elapsed() < Duration::from_secs(600),
            "only {done} of {AT_ONCE} loops provisioned after 600 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let all_done = acked.elapsed();
    // OUTBOUND_TIMELINE=1: each new channel's calls, in ms after the last acknowledgement.
    if std::env::var("OUTBOUND_TIMELINE").is_ok() {
        let calls = sim.calls();
        let channels = common::loop_channels(&sim);
        for ch in &channels[known.min(channels.len())..] {
            let line: Vec<String> = calls[before_b..]
                .iter()
                .filter(|c| c.params.get("channel").and_then(|v| v.as_str()) == Some(ch.as_str()))
                .map(|c| format!("{}@{}", c.method, c.at_ms - acked_ms))
                .collect();
            println!("    {ch}: {}", line.join(" "));
        }
    }
    // The bound: the larger of two lower bounds, neither of which any scheduler can beat.
    // 1. One loop's own chain (`chain_bound_ms`), replayed from the calls the last loop of (a)
    //    made when it ran alone: its calls one after another at 100 ms each, and its posts
    //    into its channel no faster than the channel's bucket (3 at once, then 1 a second).
    //    Twelve loops can run side by side, so twelve chains take as long as one.
    // 2. The workspace tiers (`common::tier_bound`): for each method, the calls (b) made
    //    counted into the method's sliding window (the set-up's calls are not: the
    //    simulator forgets them when it starts enforcing tiers) (`per_method`: Tier 2 20 a minute, Tier 3
    //    50 …) after the calls already in it from (a), each call at the first moment the
    //    window has room; and for every channel its `chat.postMessage` bucket likewise; plus
    //    the last call's 100 ms.
    let all_calls = sim.calls();
    let made_b: Vec<SimCall> = all_calls[before_b..]
        .iter()
        .filter(|c| common::is_job_call(c))
        .cloned()
        .collect();
    let chain = chain_bound_ms(&last_loop.0, &last_loop.1);
    let (tiers, binding) =
        common::tier_bound(&all_calls[run_calls..before_b], &made_b, acked_ms, LATENCY);
    let (bound, what) = if chain >= tiers {
        (
            chain,
            format!(
                "one loop's chain: {} calls, its channel's posts one a second after a burst of {POST_BURST}",
                last_loop.0.len()
            ),
        )
    } else {
        (tiers, format!("workspace tier: {binding}"))
    };
    println!(
        "(b) {AT_ONCE} loops started at once: all complete {:.2} s after the last acknowledgement; bound {:.2} s ({what}; the other bound {:.2} s): {:.2}x (target <= 1.2x)",
        all_done.as_secs_f64(),
        bound as f64 / 1000.0,
        chain.min(tiers) as f64 / 1000.0,
        all_done.as_secs_f64() * 1000.0 / bound as f64
    );
    println!(
        "    429s during (b): {} (target 0); {} Slack calls for {AT_ONCE} loops",
        sim.rate_limited_count() - limited_b,
        made_b.len()
    );
    // Where the time went: each method's calls and when its last one came.
    let mut last_of: std::collections::BTreeMap<&str, (usize, i64)> = Default::default();
    for c in &made_b {
        let e = last_of.entry(c.method.as_str()).or_default();
        e.0 += 1;
        e.1 = e.1.max(c.at_ms - acked_ms);
    }
    let spread: Vec<String> = last_of
        .iter()
        .map(|(m, (n, last))| format!("{m} {n} (last at {:.1} s)", *last as f64 / 1000.0))
        .collect();
    println!("    {}", spread.join(", "));

    // (c) A steady 0.25 scorecards a second, spread over the open loops (stage 1 of each).
    let period = Duration::from_secs(4);
    let end = Instant::now() + Duration::from_secs(steady_seconds);
    let mut ticker = tokio::time::interval(period);
    let mut acks = Vec::new();
    let mut k = 0usize;
    while Instant::now() < end {
        ticker.tick().await;
        let l = &loops[k % open];
        let body = l.stages[0]
            .1
            .replace("EVIDENCEPLACEHOLDER", &format!("Steady{k}"));
        let r = slack.post_signed("/slack/interactions", FORM, &body).await;
        anyhow::ensure!(r.status().is_success(), "{}", r.status());
        acks.push((clock.now_ms(), l.channel.clone(), l.summary_ts.clone()));
        k += 1;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    let lags = edit_lags(&sim, &acks);
    println!(
        "(c) {} scorecards at 0.25/s over {} loops for {steady_seconds} s: acknowledgement -> summary edit p50 {:.2} s, p99 {:.2} s (target p99 <= 2 s)",
        acks.len(),
        acks.len().min(open),
        percentile(&lags, 0.5).as_secs_f64(),
        percentile(&lags, 0.99).as_secs_f64()
    );

    // (d) A burst of 20 a second: submission j goes to loop j mod N, stage (j div N) mod 4,
    // so every loop gets each stage's first scorecard and then some edited ones.
    let before_d = sim.calls().len();
    let limited_d = sim.rate_limited_count();
    let burst_start = Instant::now();
    let burst_start_ms = clock.now_ms();
    let end = burst_start + Duration::from_secs(burst_seconds);
    let mut ticker = tokio::time::interval(Duration::from_millis(50));
    let mut tasks = Vec::new();
    let mut j = 0usize;
    while Instant::now() < end {
        ticker.tick().await;
        let l = loops[j % open].clone();
        let stage = (j / open) % common::STAGES.len();
        let body = l.stages[stage]
            .1
            .replace("EVIDENCEPLACEHOLDER", &format!("Burst{j}"));
        let slack = slack.clone();
        let clock = clock.clone();
        tasks.push(tokio::spawn(async move {
            let r = slack.post_signed("/slack/interactions", FORM, &body).await;
            (r.status(), clock.now_ms(), l.channel, l.summary_ts)
        }));
        j += 1;
    }
    let burst_ms = clock.now_ms() - burst_start_ms;
    let mut burst_acks = Vec::new();
    for task in tasks {
        let (status, at, channel, ts) = task.await?;
        anyhow::ensure!(status.is_success(), "{status}");
        burst_acks.push((at, channel, ts));
    }
    let db = loopbot::db::connect(&database_url).await?;
    let drain_seconds = env_or("OUTBOUND_DRAIN_SECONDS", 2_400);
    let drained = common::wait_drained(&db, Duration::from_secs(drain_seconds)).await;
    let all_calls = sim.calls();
    let made_d: Vec<SimCall> = all_calls[before_d..]
        .iter()
        .filter(|c| common::is_job_call(c))
        .cloned()
        .collect();
    let last_ms = made_d
        .iter()
        .map(|c| c.at_ms)
        .max()
        .unwrap_or(burst_start_ms);
    // The bound: the submissions themselves arrive over the burst, so nothing can be done
    // before the last one plus one call; and the calls the follow-ups needed, counted into
    // the tiers' windows from the burst's start after what (c) left in them
    // (`common::tier_bound`; for a burst of summary edits `chat.update`, Tier 3, 50 a minute,
    // is the one that binds).
    let (tiers, binding) = common::tier_bound(
        &all_calls[run_calls..before_d],
        &made_d,
        burst_start_ms,
        LATENCY,
    );
    let arrival = burst_ms + LATENCY.as_millis() as i64;
    let (bound, what) = if tiers >= arrival {
        (tiers, binding)
    } else {
        (arrival, "the last submission's arrival".to_string())
    };
    let took = last_ms - burst_start_ms;
    let mut per_method: std::collections::BTreeMap<&str, usize> = Default::default();
    for c in &made_d {
        *per_method.entry(c.method.as_str()).or_default() += 1;
    }
    println!(
        "(d) {} scorecards at 20/s for {burst_seconds} s over {open} loops: every follow-up made {:.1} s after the burst began{}; bound {:.1} s ({what}): {:.2}x (target <= 1.2x)",
        burst_acks.len(),
        took as f64 / 1000.0,
        if drained {
            String::new()
        } else {
            format!(" (NOT drained after {drain_seconds} s; the bound is for the calls made)")
        },
        bound as f64 / 1000.0,
        took as f64 / bound as f64
    );
    println!(
        "    calls: {per_method:?}; 429s during (d): {}",
        sim.rate_limited_count() - limited_d
    );
    let lags = edit_lags(&sim, &burst_acks);
    println!(
        "    acknowledgement -> summary edit during the burst: p50 {:.1} s, p99 {:.1} s",
        percentile(&lags, 0.5).as_secs_f64(),
        percentile(&lags, 0.99).as_secs_f64()
    );

    // Over the whole measured run.
    let calls: Vec<SimCall> = sim.calls()[run_calls..]
        .iter()
        .filter(|c| common::is_job_call(c))
        .cloned()
        .collect();
    let claims = common::metric_total(&url, "loopbot_jobs_claimed_total").await? - claims0;
    let cpu = common::cpu_seconds(&pid.to_string()) - cpu0;
    println!(
        "run: {} Slack calls by jobs, {claims:.0} claims: {:.2} claims per Slack call (target <= 1.05)",
        calls.len(),
        claims / calls.len() as f64
    );
    println!(
        "     loopbot serve CPU {cpu:.1} s: {:.2} CPU s per 1,000 Slack calls",
        cpu * 1000.0 / calls.len() as f64
    );
    println!(
        "     429s in the whole run: {} (target 0)",
        sim.rate_limited_count() - run_rate_limited
    );
    if let Some(kib) = peak_rss_kib(pid) {
        println!(
            "     loopbot serve peak memory (VmHWM): {:.1} MiB (target <= 30 MiB)",
            kib as f64 / 1024.0
        );
    }
    db.close().await;
    common::stop(child);
    Ok(())
}
