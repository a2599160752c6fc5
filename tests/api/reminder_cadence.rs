//! Reminders by delivery: after a backlog (Slack down or rate limiting for several intervals)
//! and across restarts and a kill, each person gets their reminders in order, never two closer
//! than `LOOPBOT_REMIND_EVERY` by the time Slack accepted them, and the owners hear once, after
//! exactly `LOOPBOT_ESCALATE_AFTER` delivered reminders.

use std::collections::BTreeMap;
use std::time::Duration;

use slack_sim::Fault;

use crate::delivery::kill_while_slack_holds_the_answer;
use crate::helpers::*;

const EVERY_MS: i64 = 2_000;
const MAX: usize = 5;

/// A 2 s cadence, five reminders, the owners told after two; at any hour, any day.
const SETTINGS: &[(&str, &str)] = &[
    ("LOOPBOT_REMIND_EVERY", "2s"),
    ("LOOPBOT_REMIND_MAX", "5"),
    ("LOOPBOT_ESCALATE_AFTER", "2"),
    ("LOOPBOT_WORK_HOURS", "always"),
    ("LOOPBOT_WORK_DAYS", "always"),
    ("LOOPBOT_BRIEF_BEFORE", "never"),
    ("LOOPBOT_NUDGE_AFTER", "never"),
];

/// Who is chased in the loop below: (stage, interviewer).
const CHASED: [(u32, &str); 5] = [
    (1, SCREENER),
    (2, DESIGNER),
    (2, HIRING_MANAGER),
    (3, CODER),
    (4, SCREENER),
];

/// A loop whose four interviews all took place three days ago: five scorecards overdue at once.
async fn start_overdue_loop(world: &World, app: &TestApp) {
    let opened = app
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    assert_eq!(opened.status(), 200);
    let view = latest_view(world, COORDINATOR);
    let past = START_MS / 1000 - 3 * 86_400;
    let mut form = full_start_form();
    for (i, stage) in ["technical-screen", "system-design", "coding", "values"]
        .iter()
        .enumerate()
    {
        form = form.date_time(&format!("time:{stage}"), past + i as i64 * 3600);
    }
    let r = app.slack.submit_view(COORDINATOR, &view.id, &form).await;
    assert_eq!(r.status(), 200);
}

/// A post Slack accepted, by the key Loopbot tagged it with.
#[derive(Debug, Clone)]
struct Post {
    key: String,
    at_ms: i64,
    /// The `ts` as (seconds, sequence): Slack's order.
    order: (i64, u64),
    blocks: String,
}

/// Every top-level post Slack made (including any whose answer it held back), by when
/// Slack made it (its `ts`: the simulator's clock, which the tests move in whole seconds).
fn accepted_posts(world: &World) -> Vec<Post> {
    let mut posts: Vec<Post> = world
        .sim
        .channels()
        .iter()
        .flat_map(|c| world.sim.messages(&c.id))
        .map(|m| Post {
            key: m.metadata["event_payload"]["key"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            at_ms: m.ts.split('.').next().unwrap().parse::<i64>().unwrap() * 1000,
            order: m
                .ts
                .split_once('.')
                .map(|(s, n)| (s.parse().unwrap(), n.parse().unwrap()))
                .unwrap(),
            blocks: m.blocks.to_string(),
        })
        .collect();
    posts.sort_by_key(|p| p.order);
    posts
}

/// The reminders Slack accepted, per chased "loop:stage:user", in delivery order.
fn reminders(world: &World) -> BTreeMap<String, Vec<Post>> {
    let mut by_row: BTreeMap<String, Vec<Post>> = BTreeMap::new();
    for post in accepted_posts(world) {
        if let Some(rest) = post.key.strip_prefix("reminder:") {
            let row = rest.rsplit_once(':').map(|(row, _)| row).unwrap_or(rest);
            by_row.entry(row.to_string()).or_default().push(post);
        }
    }
    by_row
}

/// The number a reminder shows its reader: "(reminder n)" from the second on.
fn number_shown(post: &Post) -> usize {
    post.blocks
        .split_once("(reminder ")
        .and_then(|(_, rest)| rest.split(')').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

/// The escalations Slack accepted about "loop:stage:user", per owner.
fn escalations(world: &World, row: &str) -> BTreeMap<String, Vec<Post>> {
    let mut by_owner: BTreeMap<String, Vec<Post>> = BTreeMap::new();
    for post in accepted_posts(world) {
        if let Some(rest) = post.key.strip_prefix("owner:escalation:")
            && let Some((of, to)) = rest.rsplit_once(':')
            && of == row
        {
            by_owner.entry(to.to_string()).or_default().push(post);
        }
    }
    by_owner
}

/// How many reminders are queued or running for one person and stage, at most.
async fn most_in_flight(app: &TestApp) -> usize {
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT dedupe_key FROM jobs WHERE kind = 'reminder' AND state IN ('queued', 'running')",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    let mut per_row: BTreeMap<String, usize> = BTreeMap::new();
    for key in keys {
        let row = key.rsplit_once(':').map(|(r, _)| r.to_string()).unwrap();
        *per_row.entry(row).or_default() += 1;
    }
    per_row.into_values().max().unwrap_or(0)
}

/// Every chased person got all five reminders, once each, in order, never two closer than the
/// cadence by delivery time; each owner heard once per person, after the second delivered
/// reminder and saying so; nothing failed.
async fn assert_chased_by_delivery(world: &World, app: &TestApp) {
    let by_row = reminders(world);
    assert_eq!(by_row.len(), CHASED.len(), "{:?}", by_row.keys());
    for (row, posts) in &by_row {
        let numbers: Vec<usize> = posts.iter().map(number_shown).collect();
        assert_eq!(
            numbers,
            (1..=MAX).collect::<Vec<_>>(),
            "{row}: in order, none missing, none twice"
        );
        let mut keys: Vec<&str> = posts.iter().map(|p| p.key.as_str()).collect();
        keys.dedup();
        assert_eq!(keys.len(), MAX, "{row}: each reminder posted once");
        for pair in posts.windows(2) {
            assert!(
                pair[1].at_ms - pair[0].at_ms >= EVERY_MS,
                "{row}: delivered {} ms apart: {:?}",
                pair[1].at_ms - pair[0].at_ms,
                posts.iter().map(|p| p.at_ms - START_MS).collect::<Vec<_>>()
            );
        }
        let owners = escalations(world, row);
        assert_eq!(
            owners.keys().collect::<Vec<_>>(),
            vec![COORDINATOR, HIRING_MANAGER],
            "{row}: both owners"
        );
        for (owner, told) in owners {
            assert_eq!(told.len(), 1, "{row}: {owner} is told once");
            assert!(
                told[0].at_ms >= posts[1].at_ms,
                "{row}: {owner} is told after the second reminder, not before"
            );
            assert!(
                told[0].blocks.contains("still missing after 2 reminders"),
                "{row}: {}",
                told[0].blocks
            );
        }
    }
    let failed = app
        .count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'")
        .await;
    assert_eq!(failed, 0);
}

/// Moves the clock one second at a time for `seconds`, running the due work each time, and
/// checks that no reminder ever stacks up behind an undelivered one.
async fn run_for(world: &World, app: &TestApp, seconds: u64) {
    for _ in 0..seconds {
        world.clock.advance(Duration::from_secs(1));
        app.run_jobs().await;
        assert!(
            most_in_flight(app).await <= 1,
            "a reminder was queued behind one not yet delivered"
        );
    }
}

/// With a 2 s cadence, Slack fails (HTTP 500, or 429 with `Retry-After`) for 20 s, ten
/// intervals, just after the first reminders went out; then it is back.
#[tokio::test]
async fn after_a_backlog_reminders_keep_their_spacing_order_and_one_escalation() {
    for fault in [
        Fault::Http(500),
        Fault::RateLimited {
            retry_after_secs: 3,
        },
    ] {
        let world = World::new().await;
        let app = world.spawn_app_with(SETTINGS).await;
        start_overdue_loop(&world, &app).await;
        app.run_jobs().await;
        assert_eq!(reminders(&world).len(), CHASED.len(), "the first reminders");

        world.sim.start_outage(fault.clone());
        run_for(&world, &app, 20).await;
        assert!(
            reminders(&world).values().all(|posts| posts.len() == 1),
            "{fault:?}: nothing got through"
        );
        world.sim.end_outage();
        run_for(&world, &app, 60).await;

        assert_chased_by_delivery(&world, &app).await;
        // The reminder that waited out the outage went once, and the next came a full
        // interval after it: five in all, not the ten intervals' worth.
        let sent: Vec<i64> = sqlx::query_scalar("SELECT sent_count FROM reminders")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
        assert_eq!(sent, vec![MAX as i64; CHASED.len()], "{fault:?}");
    }
}

/// The same backlog, with the app stopped and started again twice and killed once while
/// Slack held back its answer to a second reminder (the one that escalates).
#[tokio::test]
async fn across_restarts_and_a_kill_reminders_keep_their_spacing_and_escalate_once() {
    let world = World::new().await;
    let app = world.spawn_app_with(SETTINGS).await;
    start_overdue_loop(&world, &app).await;
    app.run_jobs().await;
    assert_eq!(reminders(&world).len(), CHASED.len());

    world.sim.start_outage(Fault::Http(503));
    run_for(&world, &app, 9).await;
    // A restart in the middle of the outage.
    app.stop().await;
    let app = world.spawn_app_with(SETTINGS).await;
    run_for(&world, &app, 9).await;
    world.sim.end_outage();

    // Slack is back: the first post it accepts is a second reminder, and the process is
    // killed while Slack holds back its answer.
    world.clock.advance(Duration::from_secs(30));
    let app = kill_while_slack_holds_the_answer(&world, app, "chat.postMessage", 1, SETTINGS).await;
    let held: Vec<String> = reminders(&world)
        .into_iter()
        .filter(|(_, posts)| posts.len() == 2)
        .map(|(row, _)| row)
        .collect();
    assert_eq!(held.len(), 1, "Slack delivered one second reminder");
    run_for(&world, &app, 5).await;

    // And a plain restart mid-cadence.
    app.stop().await;
    let app = world.spawn_app_with(SETTINGS).await;
    run_for(&world, &app, 60).await;

    assert_chased_by_delivery(&world, &app).await;
    let escalated = app
        .count("SELECT COUNT(*) FROM audit_log WHERE action = 'escalated'")
        .await;
    assert_eq!(escalated, CHASED.len() as i64, "once per person and stage");
}

/// A reminder that waited for the person's working hours is not followed by a second one the
/// moment it is delivered: the next is due a full interval after the delivery.
#[tokio::test]
async fn a_reminder_held_for_working_hours_merges_with_the_next() {
    let world = World::new().await;
    let settings = [
        ("LOOPBOT_REMIND_EVERY", "1h"),
        ("LOOPBOT_REMIND_MAX", "5"),
        ("LOOPBOT_ESCALATE_AFTER", "2"),
        ("LOOPBOT_WORK_HOURS", "09:00-18:00"),
        ("LOOPBOT_WORK_DAYS", "always"),
        ("LOOPBOT_BRIEF_BEFORE", "never"),
        ("LOOPBOT_NUDGE_AFTER", "never"),
    ];
    let app = world.spawn_app_with(&settings).await;
    start_overdue_loop(&world, &app).await;
    // 09:00 UTC is 01:00 in Los Angeles: Cody's first reminder waits 8 hours, eight intervals.
    app.run_jobs().await;
    let cody = |world: &World| {
        reminders(world)
            .into_iter()
            .find(|(row, _)| row.ends_with(CODER))
            .map(|(_, posts)| posts)
            .unwrap_or_default()
    };
    assert!(cody(&world).is_empty());
    for _ in 0..(8 * 60) {
        world.clock.advance(Duration::from_secs(60));
        app.run_jobs().await;
        assert!(most_in_flight(&app).await <= 1);
    }
    let posts = cody(&world);
    assert_eq!(posts.len(), 1, "one reminder at 09:00, not eight");
    let first = posts[0].at_ms;
    // The next comes an hour after that delivery.
    for _ in 0..59 {
        world.clock.advance(Duration::from_secs(60));
        app.run_jobs().await;
    }
    assert_eq!(cody(&world).len(), 1);
    world.clock.advance(Duration::from_secs(61));
    app.run_jobs().await;
    let posts = cody(&world);
    assert_eq!(posts.len(), 2);
    assert!(posts[1].at_ms - first >= 3600 * 1000);
}

/// An installation upgraded while a reminder it queued the old way (counted when queued) has
/// not gone out: that reminder becomes the one in flight, is sent once, counted when Slack
/// accepts it, and the next is due a full interval after.
#[tokio::test]
async fn a_reminder_queued_before_the_upgrade_is_sent_once_and_counted_on_delivery() {
    let world = World::new().await;
    let app = world.spawn_app_with(SETTINGS).await;
    start_overdue_loop(&world, &app).await;
    // Provisioning only: the sweep has not run yet.
    while loopbot::jobs::run::run_one(&app.state).await.unwrap() == loopbot::jobs::run::Outcome::Ran
    {
    }
    assert!(reminders(&world).is_empty());
    // The schema and the state as they were: the screener's first reminder claimed (counted,
    // the next one scheduled) and queued, not sent.
    let db = &app.state.db;
    for sql in [
        "ALTER TABLE reminders DROP COLUMN queued_count",
        "ALTER TABLE reminders DROP COLUMN pending_seq",
        "DELETE FROM _sqlx_migrations WHERE version = 20261206150000",
        "UPDATE reminders SET next_at = NULL",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(db)
            .await
            .unwrap();
    }
    sqlx::query(
        "UPDATE reminders SET sent_count = 1, next_at = $1
          WHERE position = 1 AND user_id = $2",
    )
    .bind(START_MS + EVERY_MS)
    .bind(SCREENER)
    .execute(db)
    .await
    .unwrap();
    loopbot::jobs::Job::Reminder {
        loop_id: 1,
        position: 1,
        user: SCREENER.into(),
        seq: 1,
    }
    .enqueue(db, START_MS)
    .await
    .unwrap();
    app.stop().await;

    let app = world.spawn_app_with(SETTINGS).await;
    app.run_jobs().await;
    run_for(&world, &app, 1).await;
    let posts = reminders(&world)
        .remove(&format!("1:1:{SCREENER}"))
        .unwrap();
    assert_eq!(
        posts.len(),
        1,
        "sent once, not followed at once by a second"
    );
    let (sent, next_at): (i64, Option<i64>) = sqlx::query_as(
        "SELECT sent_count, next_at FROM reminders WHERE position = 1 AND user_id = $1",
    )
    .bind(SCREENER)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(sent, 1, "counted on delivery");
    assert_eq!(next_at, Some(posts[0].at_ms + EVERY_MS));
    run_for(&world, &app, 1).await;
    assert_eq!(
        reminders(&world)[&format!("1:1:{SCREENER}")].len(),
        2,
        "the next a full interval after the first"
    );
}
