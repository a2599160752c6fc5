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
    // Another build of `loopbot` may be measured against this bench (`BENCH_SERVE_BIN`), and
    // its log read (`BENCH_SERVE_LOG`, a `RUST_LOG` filter).
    let bin =
        std::env::var("BENCH_SERVE_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_loopbot").into());
    let child = Command::new(bin)
        .arg("serve")
        .env_clear()
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("SLACK_API_URL", api_url)
        .env("DATABASE_URL", database_url(dir))
        .env("LOOPBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOOPBOT_WORK_HOURS", "always")
        .env("LOOPBOT_WORK_DAYS", "always")
        .env(
            "RUST_LOG",
            std::env::var("BENCH_SERVE_LOG").unwrap_or_else(|_| "error".into()),
        )
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
    slack: &slack_sim::client::SlackSide,
    user: &str,
    view: &slack_sim::SimView,
) -> String {
    let mut form = slack_sim::client::FormValues::new().text(
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
    slack_sim::client::SlackSide::interaction_body(
        &slack.submission_of(user, &view.id, &view.hash, &view.view, &form),
    )
}

// ---------------------------------------------------------------------------------------------
// A workspace that looks like real use: many open loops, each with its own people.

/// The recruiting coordinator who starts every loop, from the `#hiring` channel.
pub const COORDINATOR: &str = "UCOORD";
/// The rubric's four stages, in order (as the start form names their panels).
pub const STAGES: [&str; 4] = ["technical-screen", "system-design", "coding", "values"];
const HIRING_MANAGERS: usize = 20;
const INTERVIEWERS: usize = 40;

/// The hiring manager of loop `i`: twenty of them share the loops.
pub fn hiring_manager(i: usize) -> String {
    format!("UHM{}", i % HIRING_MANAGERS)
}

/// The interviewer of loop `i`'s stage `position` (1-based): forty people, four different
/// ones per loop.
pub fn interviewer(i: usize, position: usize) -> String {
    format!("UINT{}", (i * 4 + position - 1) % INTERVIEWERS)
}

/// The people and the `#hiring` channel (the bot is a member, so the coordinator's
/// confirmation can be an ephemeral there). Returns the channel's id.
pub fn add_people(sim: &slack_sim::Simulator) -> String {
    use slack_sim::SimUser;
    let zones = [
        "America/New_York",
        "Europe/London",
        "Europe/Berlin",
        "Asia/Kolkata",
    ];
    sim.add_user(SimUser::new(COORDINATOR, "casey", "Casey", zones[0], 0));
    for i in 0..HIRING_MANAGERS {
        let id = hiring_manager(i);
        sim.add_user(SimUser::new(&id, id.to_lowercase(), &id, zones[i % 4], 0));
    }
    for i in 0..INTERVIEWERS {
        let id = format!("UINT{i}");
        sim.add_user(SimUser::new(&id, id.to_lowercase(), &id, zones[i % 4], 0));
    }
    sim.create_channel_by_user(
        "hiring",
        COORDINATOR,
        &[slack_sim::BOT_USER_ID, COORDINATOR],
        false,
    )
}

/// Loop `i`'s start form: its hiring manager and one interviewer per stage.
pub fn start_form(i: usize) -> slack_sim::client::FormValues {
    let mut form = slack_sim::client::FormValues::new().user("hiring_manager", &hiring_manager(i));
    for (p, stage) in STAGES.iter().enumerate() {
        form = form.users(&format!("panel:{stage}"), &[&interviewer(i, p + 1)]);
    }
    form
}

/// Stage `position`'s post among a channel's top-level messages, found by the key Loopbot
/// tags it with (`provision:<loop>:rubric:<n>`), wherever it sits in the channel.
pub fn stage_post_of(
    messages: &[slack_sim::SimMessage],
    position: usize,
) -> Option<slack_sim::SimMessage> {
    let suffix = format!(":rubric:{position}");
    messages
        .iter()
        .find(|m| {
            m.thread_ts.as_ref().is_none_or(|t| *t == m.ts)
                && m.metadata["event_payload"]["key"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("provision:") && k.ends_with(&suffix))
        })
        .cloned()
}

/// The summary is pinned in `channel`.
pub fn summary_pinned(sim: &slack_sim::Simulator, channel: &str) -> bool {
    !sim.pins(channel).is_empty()
}

/// The coordinator was told the loop in `channel` is ready: an ephemeral where they typed the
/// command, or a DM, naming the channel.
pub fn coordinator_told(sim: &slack_sim::Simulator, channel: &str) -> bool {
    sim.ephemerals_for(COORDINATOR)
        .iter()
        .any(|e| e.text.contains(channel) || e.blocks.to_string().contains(channel))
        || sim
            .dms_to(COORDINATOR)
            .iter()
            .any(|m| m.text.contains(channel) || m.blocks.to_string().contains(channel))
}

/// Everything of a new loop is in its channel: the summary pinned, the coordinator told, the
/// four stage posts, each with its rubric thread.
pub fn fully_provisioned(sim: &slack_sim::Simulator, channel: &str) -> bool {
    if !summary_pinned(sim, channel) || !coordinator_told(sim, channel) {
        return false;
    }
    let messages = sim.messages(channel);
    (1..=STAGES.len()).all(|p| {
        stage_post_of(&messages, p).is_some_and(|post| !sim.replies(channel, &post.ts).is_empty())
    })
}

/// The loop channels (named `loop-…`), in creation order.
pub fn loop_channels(sim: &slack_sim::Simulator) -> Vec<String> {
    sim.channels()
        .into_iter()
        .filter(|c| c.name.starts_with("loop-"))
        .map(|c| c.id)
        .collect()
}

/// One open loop, ready to be scored: its channel, its pinned summary, and for each stage the
/// interviewer and a submission body of their scorecard (`EVIDENCEPLACEHOLDER` to swap out).
#[derive(Clone, Debug)]
pub struct OpenLoop {
    pub channel: String,
    pub summary_ts: String,
    pub stages: Vec<(String, String)>,
}

/// Sets up `n` open loops before anything is measured: an in-process Loopbot on the same
/// database, with its own pacing off (the simulator's tiers are off too while this runs; at
/// Tier 2's 20 channels a minute, 200 loops would take ten minutes), starts `n` loops from
/// `#hiring`, waits until every one is provisioned, and opens each stage's scorecard modal for
/// its interviewer (views.open, Tier 4, is the modal's cost, not the submission's). Then it
/// stops; the benches measure `loopbot serve` on the database it leaves.
pub async fn open_loops(
    sim: &slack_sim::Simulator,
    api_url: &str,
    database_url: &str,
    hiring: &str,
    n: usize,
) -> anyhow::Result<Vec<OpenLoop>> {
    use loopbot::settings::{Needs, RawSettings, Settings};
    let raw: RawSettings = [
        ("SLACK_SIGNING_SECRET", SECRET),
        ("SLACK_BOT_TOKEN", TOKEN),
        ("SLACK_API_URL", api_url),
        ("DATABASE_URL", database_url),
        ("LOOPBOT_LISTEN", "127.0.0.1:0"),
        ("LOOPBOT_WORK_HOURS", "always"),
        ("LOOPBOT_WORK_DAYS", "always"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut settings = Settings::parse(&raw, Needs::Slack)?;
    settings.pace_outbound = false;
    let clock: loopbot::clock::SharedClock = std::sync::Arc::new(loopbot::clock::SystemClock);
    let app = loopbot::startup::Application::build(settings, clock.clone()).await?;
    let url = format!("http://{}", app.address());
    let db = app.state().db.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let slack = slack_sim::client::SlackSide::new(&url, SECRET, clock, sim.clone());
    let before = loop_channels(sim).len();
    for i in 0..n {
        slack
            .command(COORDINATOR, hiring, &format!("start Candidate Open{i}"))
            .await;
        let view = sim
            .views_of(COORDINATOR)
            .into_iter()
            .last()
            .ok_or_else(|| anyhow::anyhow!("no start modal"))?;
        let r = slack
            .submit_view(COORDINATOR, &view.id, &start_form(i))
            .await;
        anyhow::ensure!(
            r.status().is_success(),
            "start form refused: {}",
            r.status()
        );
    }
    let started = Instant::now();
    loop {
        let channels = loop_channels(sim);
        let done = channels[before.min(channels.len())..]
            .iter()
            .filter(|c| fully_provisioned(sim, c))
            .count();
        if done >= n {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(600),
            "setup: only {done} of {n} loops provisioned after 600 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut loops = vec![None; n];
    for channel in &loop_channels(sim)[before..] {
        let l = loopbot::db::loops::find_by_channel(&db, channel)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no loop for {channel}"))?;
        let i: usize = l
            .candidate_name
            .trim_start_matches("Candidate Open")
            .parse()?;
        let messages = sim.messages(channel);
        let mut stages = Vec::new();
        for p in 1..=STAGES.len() {
            let post =
                stage_post_of(&messages, p).ok_or_else(|| anyhow::anyhow!("no stage post"))?;
            let value =
                find_value(&post.blocks).ok_or_else(|| anyhow::anyhow!("no scorecard button"))?;
            let user = interviewer(i, p);
            slack
                .press_button(&user, channel, &post.ts, "scorecard_open", &value)
                .await;
            let view = sim
                .views_of(&user)
                .into_iter()
                .last()
                .ok_or_else(|| anyhow::anyhow!("no scorecard modal"))?;
            anyhow::ensure!(
                view.view["callback_id"] == "scorecard",
                "not a scorecard: {}",
                view.view
            );
            stages.push((user.clone(), submission_template(&slack, &user, &view)));
        }
        loops[i] = Some(OpenLoop {
            channel: channel.clone(),
            summary_ts: sim.pins(channel)[0].clone(),
            stages,
        });
    }
    // Let the last jobs (App Home, edits) finish before stopping.
    wait_drained(&db, Duration::from_secs(60)).await;
    let _ = stop.send(());
    let _ = handle.await;
    db.close().await;
    loops
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| anyhow::anyhow!("a loop is missing after setup"))
}

/// Waits until no job is running or queued to run within ten minutes (or `limit` passes);
/// returns whether it drained. Jobs planned for later (a reminder tomorrow) are not work the
/// load left behind.
pub async fn wait_drained(db: &sqlx::AnyPool, limit: Duration) -> bool {
    let started = Instant::now();
    loop {
        let horizon = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
            + 600_000;
        let pending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE state = 'running' OR (state = 'queued' AND run_at <= $1)",
        )
        .bind(horizon)
        .fetch_one(db)
        .await
        .unwrap_or(-1);
        if pending == 0 {
            return true;
        }
        if started.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// User + system CPU seconds of a process so far (`"self"` for this one).
pub fn cpu_seconds(pid: &str) -> f64 {
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

/// The sum of a counter family on the server's `/metrics` (every label set).
pub async fn metric_total(url: &str, name: &str) -> anyhow::Result<f64> {
    let text = reqwest::get(format!("{url}/metrics")).await?.text().await?;
    Ok(text
        .lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum())
}

/// Calls a job makes (everything but what a request makes inline: `views.open` for a modal,
/// and the start-up `auth.test`).
pub fn is_job_call(c: &slack_sim::SimCall) -> bool {
    !matches!(c.method.as_str(), "views.open" | "auth.test")
}

// ---------------------------------------------------------------------------------------------
// What Slack's tiers allow, from the simulator's own table (crates/slack-sim/src/rules.rs).

/// How soon after `start_ms` the last of `n` calls of a method can be made under its
/// workspace window (`per_method`: at most `calls` in any `window_ms`, all at once if the
/// client likes), given the calls of that method already made (`earlier`, ms, sorted): each
/// call goes at the first moment the sliding window has room, as the simulator counts it.
pub fn window_bound_ms(
    earlier: &[i64],
    n: usize,
    w: slack_sim::rules::Window,
    start_ms: i64,
) -> i64 {
    let mut in_window: std::collections::VecDeque<i64> = earlier
        .iter()
        .copied()
        .filter(|t| *t > start_ms - w.window_ms)
        .collect();
    let mut t = start_ms;
    for _ in 0..n {
        loop {
            while in_window.front().is_some_and(|&f| f <= t - w.window_ms) {
                in_window.pop_front();
            }
            if in_window.len() < w.calls as usize {
                break;
            }
            t = in_window[0] + w.window_ms;
        }
        in_window.push_back(t);
    }
    t - start_ms
}

/// How soon after `start_ms` the last of `n` posts to one channel can be made under the
/// per-channel bucket (`POST_BURST` at once, one more every `POST_REFILL_MS`), given the
/// posts already made there (`earlier`, ms, sorted): the simulator's own arithmetic.
pub fn channel_bound_ms(earlier: &[i64], n: usize, start_ms: i64) -> i64 {
    use slack_sim::rules::{POST_BURST, POST_REFILL_MS};
    let tolerance = i64::from(POST_BURST - 1) * POST_REFILL_MS;
    let mut due = i64::MIN / 2;
    for t in earlier {
        due = due.max(*t) + POST_REFILL_MS;
    }
    let mut t = start_ms;
    for _ in 0..n {
        t = t.max(due - tolerance);
        due = due.max(t) + POST_REFILL_MS;
    }
    t - start_ms
}

/// The bound Slack's tiers put on making `made` (the calls that were made, counted as Slack
/// counts them: accepted ones), starting no earlier than `start_ms`, with `before` the calls
/// made earlier (which still fill the windows): for every method its workspace window, and
/// for `chat.postMessage` also every channel's bucket, each computed on its own; the bound is
/// the largest of them plus one call's latency (the last call's answer). Returns the bound in
/// ms and what set it. It is a lower bound: it ignores that some calls wait for others.
pub fn tier_bound(
    before: &[slack_sim::SimCall],
    made: &[slack_sim::SimCall],
    start_ms: i64,
    latency: Duration,
) -> (i64, String) {
    use slack_sim::rules::{per_method, rule_of};
    use std::collections::BTreeMap;
    let accepted = |c: &&slack_sim::SimCall| c.http_status != 429;
    let mut by_method: BTreeMap<&str, (Vec<i64>, usize)> = BTreeMap::new();
    let mut by_channel: BTreeMap<String, (Vec<i64>, usize)> = BTreeMap::new();
    let channel_of = |c: &slack_sim::SimCall| {
        c.params
            .get("channel")
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    for c in before.iter().filter(accepted) {
        by_method.entry(&c.method).or_default().0.push(c.at_ms);
        if c.method == "chat.postMessage"
            && let Some(ch) = channel_of(c)
        {
            by_channel.entry(ch).or_default().0.push(c.at_ms);
        }
    }
    for c in made.iter().filter(accepted) {
        by_method.entry(&c.method).or_default().1 += 1;
        if c.method == "chat.postMessage"
            && let Some(ch) = channel_of(c)
        {
            by_channel.entry(ch).or_default().1 += 1;
        }
    }
    let mut bound = (0, "nothing".to_string());
    for (method, (earlier, n)) in &by_method {
        let Some(rule) = rule_of(method).filter(|_| *n > 0) else {
            continue;
        };
        let ms = window_bound_ms(earlier, *n, per_method(rule.tier), start_ms);
        if ms > bound.0 {
            bound = (
                ms,
                format!("{method} ({n} calls, {})", rule.tier.published_name()),
            );
        }
    }
    for (channel, (earlier, n)) in &by_channel {
        if *n == 0 {
            continue;
        }
        let ms = channel_bound_ms(earlier, *n, start_ms);
        if ms > bound.0 {
            bound = (
                ms,
                format!("chat.postMessage in {channel} ({n} posts, one a second)"),
            );
        }
    }
    (bound.0 + latency.as_millis() as i64, bound.1)
}
