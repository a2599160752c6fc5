//! PostgreSQL without a global lock: a change locks the loop it changes, so replicas write to
//! different loops at the same time and to one loop in turn, and job claims never run two jobs
//! of one loop at once (see `loopbot::db::locks`).
//!
//! Runs when LOOPBOT_TEST_DATABASE_URL names a PostgreSQL server (`scripts/test-postgres`); on
//! SQLite one writer at a time is the design, and each test says it was skipped.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use loopbot::db;
use loopbot::db::jobs::NewJob;
use loopbot::domain::interview_loop::LoopId;
use loopbot::slack::ids::SCORECARD_OPEN;

use crate::helpers::*;

fn postgres_or_skip(world: &World, test: &str) -> bool {
    if !world.on_postgres() {
        eprintln!(
            "{test}: skipped, LOOPBOT_TEST_DATABASE_URL names no PostgreSQL server (scripts/test-postgres runs it)"
        );
    }
    world.on_postgres()
}

/// `/loop start <candidate>` and the form submitted; returns the new loop's id.
async fn start_loop(world: &World, app: &TestApp, candidate: &str) -> LoopId {
    let r = app
        .slack
        .command(
            COORDINATOR,
            &world.hiring_channel,
            &format!("start {candidate}"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let view = latest_view(world, COORDINATOR);
    let form = full_start_form().text("candidate", candidate);
    let r = app.slack.submit_view(COORDINATOR, &view.id, &form).await;
    assert_eq!(r.status(), 200);
    sqlx::query_scalar("SELECT MAX(id) FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// The loop's channel, once provisioned.
async fn channel_of(app: &TestApp, loop_id: LoopId) -> String {
    db::loops::get(&app.state.db, loop_id)
        .await
        .unwrap()
        .and_then(|l| l.channel_id)
        .expect("the loop is provisioned")
}

/// `user` presses "Submit scorecard" on the first stage's post in `channel`: the form.
async fn open_screen_scorecard(
    world: &World,
    app: &TestApp,
    channel: &str,
    user: &str,
) -> slack_sim::SimView {
    let post = world.sim.messages(channel)[0].clone();
    let (value, _) = button(&post.blocks, SCORECARD_OPEN).expect("the screen's post has it");
    let r = app
        .slack
        .press_button(user, channel, &post.ts, SCORECARD_OPEN, &value)
        .await;
    assert_eq!(r.status(), 200);
    latest_view(world, user)
}

async fn scorecards_of(app: &TestApp, loop_id: LoopId) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM scorecards WHERE loop_id = $1")
        .bind(loop_id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

/// Two replicas. While one holds a change to loop A open (as a use case does between its lock
/// and its commit), the other stores a scorecard on loop B at once; a scorecard on loop A
/// waits for that change, and is stored as soon as it commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL only: scripts/test-postgres runs it"]
async fn replicas_change_two_loops_at_once_and_one_loop_in_turn() {
    let world = World::new().await;
    if !postgres_or_skip(
        &world,
        "replicas_change_two_loops_at_once_and_one_loop_in_turn",
    ) {
        return;
    }
    let first = world.spawn_app().await;
    let second = world.spawn_app().await;
    let a = start_loop(&world, &first, "Ada Lovelace").await;
    let b = start_loop(&world, &second, "Grace Hopper").await;
    first.run_jobs().await;
    let (channel_a, channel_b) = (channel_of(&first, a).await, channel_of(&first, b).await);
    interview_started(&world, &first, 1).await;
    let form_a = open_screen_scorecard(&world, &second, &channel_a, SCREENER).await;
    let form_b = open_screen_scorecard(&world, &second, &channel_b, SCREENER).await;
    let filled = |view: &slack_sim::SimView| filled_scorecard(&view.view, "4", EVIDENCE);

    let held = first.state.begin_loop(a).await.unwrap();

    let started = Instant::now();
    let r = tokio::time::timeout(
        Duration::from_secs(3),
        second
            .slack
            .submit_view(SCREENER, &form_b.id, &filled(&form_b)),
    )
    .await
    .expect("a change to loop B does not wait for the change that holds loop A");
    assert_eq!(r.status(), 200);
    assert_eq!(scorecards_of(&first, b).await, 1);
    let took = started.elapsed();

    let scorecard_a = filled(&form_a);
    let submit_a = second.slack.submit_view(SCREENER, &form_a.id, &scorecard_a);
    tokio::pin!(submit_a);
    tokio::select! {
        _ = &mut submit_a => panic!("a change to loop A went ahead while another change held it"),
        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
    }
    assert_eq!(scorecards_of(&first, a).await, 0, "loop A: nothing yet");

    held.commit().await.unwrap();
    let r = tokio::time::timeout(Duration::from_secs(3), submit_a)
        .await
        .expect("the change to loop A goes ahead once the other commits");
    assert_eq!(r.status(), 200);
    assert_eq!(scorecards_of(&first, a).await, 1);
    eprintln!("loop B's scorecard, beside a change holding loop A: {took:?}");
}

/// Jobs of a few loops, and some of none, claimed by eight claimers at once, round after
/// round: no job is claimed twice, and each loop has one job running, never two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL only: scripts/test-postgres runs it"]
async fn concurrent_claims_run_one_job_per_loop() {
    let world = World::new().await;
    if !postgres_or_skip(&world, "concurrent_claims_run_one_job_per_loop") {
        return;
    }
    let app = world.spawn_app().await;
    let mut loops = Vec::new();
    for candidate in [
        "Ada Lovelace",
        "Grace Hopper",
        "Edsger Dijkstra",
        "Barbara Liskov",
    ] {
        loops.push(start_loop(&world, &app, candidate).await);
    }
    let now = loopbot::clock::Clock::now_ms(world.clock.as_ref());
    let db = &app.state.db;
    for round in 0..20 {
        // Whatever ran last round is done; each loop gets jobs again, interleaved.
        sqlx::query("UPDATE jobs SET state = 'done' WHERE state = 'running'")
            .execute(db)
            .await
            .unwrap();
        for n in 0..4 {
            for loop_id in loops.iter().map(|id| Some(*id)).chain([None]) {
                let job = NewJob {
                    kind: "probe".into(),
                    loop_id,
                    payload: "{}".into(),
                    dedupe_key: Some(format!("probe:{round}:{n}:{loop_id:?}")),
                    run_at: now,
                    budget: None,
                    priority: 0,
                };
                assert!(db::jobs::enqueue(db, &job, now).await.unwrap());
            }
        }
        let claimers = (0..8).map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let mut claimed = Vec::new();
                while let Some(job) = db::jobs::claim_due(&db, now, 60_000, &format!("c{i}"))
                    .await
                    .unwrap()
                {
                    claimed.push(job.id);
                }
                claimed
            })
        });
        let mut ids = Vec::new();
        for claimer in claimers.collect::<Vec<_>>() {
            ids.extend(claimer.await.unwrap());
        }
        // Whatever a claimer passed over while another held its loop: claimed now.
        while let Some(job) = db::jobs::claim_due(db, now, 60_000, "last").await.unwrap() {
            ids.push(job.id);
        }
        let unique: HashSet<i64> = ids.iter().copied().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "round {round}: a job claimed twice"
        );

        let running: Vec<(Option<LoopId>, i64)> = sqlx::query_as(
            "SELECT loop_id, COUNT(*) FROM jobs WHERE state = 'running' GROUP BY loop_id",
        )
        .fetch_all(db)
        .await
        .unwrap();
        for loop_id in &loops {
            let n = running
                .iter()
                .find(|(l, _)| *l == Some(*loop_id))
                .map(|r| r.1);
            assert_eq!(n, Some(1), "round {round}, loop {loop_id}: {running:?}");
        }
        assert_eq!(
            app.count("SELECT COUNT(*) FROM jobs WHERE loop_id IS NULL AND state = 'queued'")
                .await,
            0,
            "round {round}: jobs of no loop all run at once"
        );
    }
}

/// A claim passes over the jobs of a loop that a change holds (it does not wait for it), and
/// takes them once the change is over.
#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test-postgres runs it"]
async fn a_claim_passes_over_a_loop_being_changed() {
    let world = World::new().await;
    if !postgres_or_skip(&world, "a_claim_passes_over_a_loop_being_changed") {
        return;
    }
    let app = world.spawn_app().await;
    let a = start_loop(&world, &app, "Ada Lovelace").await;
    let b = start_loop(&world, &app, "Grace Hopper").await;
    let now = loopbot::clock::Clock::now_ms(world.clock.as_ref());
    let held = app.state.begin_loop(a).await.unwrap();
    let started = Instant::now();
    let claimed = db::jobs::claim_due(&app.state.db, now, 60_000, "w")
        .await
        .unwrap()
        .expect("loop B's provisioning is claimed");
    assert_eq!(claimed.loop_id, Some(b));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        db::jobs::claim_due(&app.state.db, now, 60_000, "w")
            .await
            .unwrap(),
        None,
        "loop A is held, loop B has a job running"
    );
    // Committed (a dropped change rolls back too, but from a task spawned as it drops).
    held.commit().await.unwrap();
    let claimed = db::jobs::claim_due(&app.state.db, now, 60_000, "w")
        .await
        .unwrap()
        .expect("loop A's provisioning, once the change is over");
    assert_eq!(claimed.loop_id, Some(a));
}

/// The server closes every connection of a replica (a restart, a failover, an idle timeout):
/// the next request, a moment later, is answered and stored, on a new connection. A connection
/// idle for a while is pinged before use, one in use a moment ago is not (a round trip each).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "PostgreSQL only: scripts/test-postgres runs it"]
async fn connections_the_server_closed_are_replaced_before_use() {
    let world = World::new().await;
    if !postgres_or_skip(
        &world,
        "connections_the_server_closed_are_replaced_before_use",
    ) {
        return;
    }
    let app = world.spawn_app().await;
    let first = start_loop(&world, &app, "Ada Lovelace").await;
    app.run_jobs().await;

    sqlx::any::install_default_drivers();
    let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&world.database_url)
        .await
        .unwrap();
    let closed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!closed.is_empty(), "the app had connections open");
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    // Every connection the pool hands out works: none is one the server closed.
    for _ in 0..10 {
        let r = sqlx::query("SELECT 1").execute(&app.state.db).await;
        assert!(r.is_ok(), "a closed connection was used: {r:?}");
    }

    let second = start_loop(&world, &app, "Grace Hopper").await;
    assert_ne!(second, first, "the second loop is stored");
    app.run_jobs().await;
    assert!(
        db::loops::get(&app.state.db, second)
            .await
            .unwrap()
            .and_then(|l| l.channel_id)
            .is_some(),
        "and provisioned"
    );
}
