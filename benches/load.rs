//! `cargo bench --bench load`: a load generator against `loopbot serve` running as its own
//! process on loopback, with the Slack simulator in this process. Eight connections send a
//! mix of signed `/loop start` commands (each opens a modal through the simulator) and
//! scorecard submissions (each stored with its follow-up Slack jobs), spread over
//! `LOAD_LOOPS` open loops (default 200; set up first, not measured) and their four stages, as
//! a company's traffic is. Reports requests per second, acknowledgement latency (p50, p99),
//! CPU of `loopbot serve` per request, the time until every follow-up Slack call was made
//! against the bound Slack's tiers put on those calls (computed from the simulator's table,
//! `crates/slack-sim/src/rules.rs`; the simulator does not refuse calls here, Loopbot paces itself), and the
//! server's peak memory (VmHWM).
//!
//! Targets (PRODUCT.md, issue 20): >= 10,000 requests/s, p99 <= 5 ms with 8 connections,
//! <= 30 MiB, every follow-up within 1.2x of what the tiers allow.
//! `LOAD_SECONDS` sets the duration (default 10), `LOAD_DRAIN_SECONDS` how long to wait for the
//! follow-up calls (default 300); `LOAD_MIX` = `both` (default), `commands`
//! (`/loop start` only) or `submissions` isolates one kind of request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use loopbot::clock::{SharedClock, SystemClock};
use slack_sim::Simulator;
use slack_sim::client::{FORM, SlackSide};

mod common;
use common::{COORDINATOR, SECRET, TOKEN, cpu_seconds, peak_rss_kib, percentile};

const CONNECTIONS: usize = 8;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    loopbot::install_crypto_provider();
    // LOAD_MIX: `both` (default), `commands` or `submissions`.
    let mix = std::env::var("LOAD_MIX").unwrap_or_else(|_| "both".into());
    let seconds: u64 = std::env::var("LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let open: usize = std::env::var("LOAD_LOOPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let clock: SharedClock = Arc::new(SystemClock);
    let sim = Simulator::new(clock.clone(), TOKEN);
    let hiring = common::add_people(&sim);
    let server = sim.serve().await?;
    let dir = tempfile::tempdir()?;
    let database_url = common::database_url(dir.path());
    // `LOAD_LOOPS=0` (with `LOAD_MIX=commands`) sets nothing up and leaves the database to
    // `loopbot serve` alone: so an older build, whose schema differs, can be measured with this
    // same bench (`BENCH_SERVE_BIN`).
    anyhow::ensure!(
        open > 0 || mix == "commands",
        "LOAD_LOOPS=0 needs LOAD_MIX=commands: submissions need open loops"
    );
    let setup = Instant::now();
    let loops = if open == 0 {
        Vec::new()
    } else {
        common::open_loops(&sim, &server.base_url, &database_url, &hiring, open).await?
    };
    println!(
        "set-up: {open} open loops and their scorecard modals in {:.0} s (not measured)",
        setup.elapsed().as_secs_f64()
    );
    // The set-up's calls went unpaced (its own process, `pace_outbound` off), so Loopbot's
    // budgets never saw them: the bound below counts only what `loopbot serve` did.
    let served_from = sim.calls().len();
    let (child, url) = common::spawn_serve(&server.base_url, dir.path()).await?;
    let pid = child.id();
    let slack = SlackSide::new(&url, SECRET, clock.clone(), sim.clone());
    // Let the new process's start-up work (its first sweep over the open loops) settle.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calls_before = sim.calls().len();

    let what = match mix.as_str() {
        "commands" => "/loop start only",
        "submissions" => "scorecard submissions only",
        _ => "half /loop start, half scorecard submissions",
    };
    println!(
        "load: {CONNECTIONS} connections for {seconds} s, {what}, submissions spread over {open} loops and their 4 stages"
    );
    let (server_cpu0, bench_cpu0) = (cpu_seconds(&pid.to_string()), cpu_seconds("self"));
    let load_start_ms = clock.now_ms();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let loops = Arc::new(loops);
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let slack = slack.clone();
        let mix = mix.clone();
        let loops = loops.clone();
        let hiring = hiring.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut n, mut commands) = (0usize, 0usize);
            while Instant::now() < deadline {
                n += 1;
                let command = match mix.as_str() {
                    "commands" => true,
                    "submissions" => false,
                    _ => n.is_multiple_of(2),
                };
                let body = if command {
                    commands += 1;
                    (
                        "/slack/commands",
                        slack.command_body(
                            COORDINATOR,
                            &hiring,
                            &format!("start Candidate {c}-{n}"),
                        ),
                    )
                } else {
                    // Submission number s of this connection: loop (c + 8s) mod N, and the
                    // next stage each time the connection has gone round the loops.
                    let s = c + CONNECTIONS * n;
                    let l = &loops[s % loops.len()];
                    let stage = (s / loops.len()) % l.stages.len();
                    (
                        "/slack/interactions",
                        l.stages[stage]
                            .1
                            .replace("EVIDENCEPLACEHOLDER", &format!("Evidence{c}x{n}")),
                    )
                };
                let t = Instant::now();
                let r = slack.post_signed(body.0, FORM, &body.1).await;
                latencies.push((t.elapsed(), command));
                assert!(r.status().is_success(), "{}", r.status());
            }
            (latencies, commands)
        }));
    }
    let mut latencies = Vec::new();
    let mut commands = 0;
    for task in tasks {
        let (l, c) = task.await?;
        latencies.extend(l);
        commands += c;
    }
    let load_end_ms = clock.now_ms();
    let (server_cpu, bench_cpu) = (
        cpu_seconds(&pid.to_string()) - server_cpu0,
        cpu_seconds("self") - bench_cpu0,
    );
    latencies.sort();
    // Each kind's own, where both were sent: which of them holds the tail.
    let of_kind = |command: bool| -> Vec<Duration> {
        let mut kind: Vec<Duration> = latencies
            .iter()
            .filter(|(_, c)| *c == command)
            .map(|(d, _)| *d)
            .collect();
        kind.sort();
        kind
    };
    let (starts, submissions) = (of_kind(true), of_kind(false));
    let latencies: Vec<Duration> = latencies.iter().map(|(d, _)| *d).collect();
    let total = latencies.len();
    println!(
        "CPU during the load: loopbot serve {server_cpu:.1} s, load generator + simulator {bench_cpu:.1} s (2 cores x {seconds} s available)"
    );
    println!(
        "requests: {total} ({commands} /loop start) in {seconds} s = {:.0} requests/s (target >= 10,000); loopbot serve CPU {:.0} us per request",
        total as f64 / seconds as f64,
        server_cpu * 1e6 / total as f64
    );
    println!(
        "acknowledgement latency: p50 {:?}, p99 {:?}, max {:?} (target p99 <= 5 ms)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies[total - 1]
    );
    if !starts.is_empty() && !submissions.is_empty() {
        println!(
            "    by kind: /loop start p50 {:?}, p99 {:?}; submissions p50 {:?}, p99 {:?}",
            percentile(&starts, 0.5),
            percentile(&starts, 0.99),
            percentile(&submissions, 0.5),
            percentile(&submissions, 0.99)
        );
    }

    if open == 0 {
        // The database is the server's own schema, perhaps an older one: not read here.
        println!("follow-up Slack calls: not measured (LOAD_LOOPS=0)");
        report_memory(pid);
        common::stop(child);
        return Ok(());
    }
    // Every follow-up Slack call: wait until the jobs table is drained.
    let drained_at = Instant::now();
    let db = loopbot::db::connect(&database_url).await?;
    let drain_limit = std::env::var("LOAD_DRAIN_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let drained = common::wait_drained(&db, Duration::from_secs(drain_limit)).await;
    db.close().await;
    let all_calls = sim.calls();
    let made: Vec<_> = all_calls[calls_before..]
        .iter()
        .filter(|c| common::is_job_call(c))
        .cloned()
        .collect();
    let last_ms = made.iter().map(|c| c.at_ms).max().unwrap_or(load_end_ms);
    // The bound: nothing can follow the last request before it arrives, and the calls made
    // fit Slack's tiers no sooner than `common::tier_bound` (each method's window and each
    // channel's post bucket, from the simulator's table, after the calls `loopbot serve` made
    // before the load, which are already in them).
    let (tiers, binding) = common::tier_bound(
        &all_calls[served_from..calls_before],
        &made,
        load_start_ms,
        Duration::ZERO,
    );
    let arrival = load_end_ms - load_start_ms;
    let (bound, what) = if tiers >= arrival {
        (tiers, binding)
    } else {
        (arrival, "the last request's arrival".to_string())
    };
    let took = last_ms - load_start_ms;
    if drained {
        println!(
            "follow-up Slack calls by jobs: {} (drained {:.1} s after the load stopped); the last {:.1} s after the load began, bound {:.1} s ({what}): {:.2}x (target <= 1.2x)",
            made.len(),
            drained_at.elapsed().as_secs_f64(),
            took as f64 / 1000.0,
            bound as f64 / 1000.0,
            took as f64 / bound as f64
        );
    } else {
        // Not drained: still say whether the calls made so far came as fast as the tiers let
        // them (the same bound, over the calls made until now).
        println!(
            "follow-up work NOT drained {drain_limit} s after the load stopped; {} calls made so far, the last {:.1} s after the load began, bound for those {:.1} s ({what}): {:.2}x so far (target <= 1.2x)",
            made.len(),
            took as f64 / 1000.0,
            bound as f64 / 1000.0,
            took as f64 / bound as f64
        );
    }
    report_memory(pid);
    common::stop(child);
    Ok(())
}

fn report_memory(pid: u32) {
    if let Some(kib) = peak_rss_kib(pid) {
        println!(
            "loopbot serve peak memory (VmHWM): {:.1} MiB (target <= 30 MiB)",
            kib as f64 / 1024.0
        );
    }
}
