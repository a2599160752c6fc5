//! Slack failures and restarts delay provisioning; they never lose it or duplicate it.

use std::time::Duration;

use slack_sim::Fault;

use crate::helpers::*;

/// Exactly one channel with 5 messages, the summary pinned, one confirmation.
fn assert_one_complete_channel(world: &World) {
    assert_one_channel_posted_once(world);
    let channels = loop_channels(world);
    assert_eq!(world.sim.ephemerals_for(COORDINATOR).len(), 1);
    assert_eq!(
        channels[0].members.len(),
        6,
        "bot, coordinator, hiring manager, three interviewers"
    );
}

#[tokio::test]
async fn a_429_and_a_500_during_provisioning_still_end_in_one_complete_channel() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    world.sim.inject_fault(
        "conversations.invite",
        Fault::RateLimited {
            retry_after_secs: 7,
        },
    );
    world.sim.inject_fault("chat.postMessage", Fault::Http(500));
    start_standard_loop(&world, &app).await;

    app.run_jobs().await;
    // The 429: nothing more runs until Retry-After has passed.
    assert_eq!(app.run_jobs().await, 0);
    assert!(
        !world
            .sim
            .channel(&loop_channels(&world)[0].id)
            .unwrap()
            .members
            .contains(&SCREENER.to_string())
    );
    world.clock.advance(Duration::from_secs(6));
    assert_eq!(app.run_jobs().await, 0, "Retry-After is honoured");
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    // The 500: retried after a backoff.
    world.clock.advance(Duration::from_secs(10));
    app.run_jobs().await;

    assert_one_complete_channel(&world);
    let jobs = app
        .count("SELECT COUNT(*) FROM jobs WHERE state = 'done'")
        .await;
    assert_eq!(
        jobs, 6,
        "provisioning, the stage posts and the four rubric threads"
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("loopbot_jobs_retried_total{kind=\"provision_loop\"} 1")
            && metrics.contains("loopbot_jobs_rate_limited_total{kind=\"provision_loop\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_restart_in_the_middle_of_provisioning_finishes_without_duplicates() {
    for failing_step in [
        "conversations.setTopic",
        "chat.postMessage",
        "pins.add",
        "chat.postEphemeral",
    ] {
        let world = World::new().await;
        let app = world.spawn_app().await;
        world.sim.inject_fault(failing_step, Fault::Http(502));
        start_standard_loop(&world, &app).await;
        app.run_jobs().await;
        assert_eq!(
            loop_channels(&world).len(),
            1,
            "{failing_step}: the channel exists already"
        );
        // The process stops (SIGTERM) with provisioning half done.
        app.stop().await;

        let app = world.spawn_app().await;
        world.clock.advance(Duration::from_secs(60));
        app.run_jobs().await;
        assert_one_complete_channel(&world);
        let topic_calls = world.sim.call_count("conversations.setTopic");
        assert_eq!(
            topic_calls, 1,
            "{failing_step}: steps already done are not repeated"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn a_job_claimed_by_a_worker_that_died_is_taken_over_after_its_lease() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    start_standard_loop(&world, &app).await;
    // A worker claims the job and dies before doing anything.
    let now = START_MS;
    let claimed = loopbot::db::jobs::claim_due(
        &app.state.db,
        now,
        loopbot::jobs::worker::LEASE_MS,
        "elsewhere:1:00000000",
    )
    .await
    .unwrap();
    assert!(claimed.is_some());
    app.stop().await;

    let app = world.spawn_app().await;
    assert_eq!(app.run_jobs().await, 0, "the lease still holds");
    assert!(loop_channels(&world).is_empty());
    world.clock.advance(Duration::from_millis(
        loopbot::jobs::worker::LEASE_MS as u64,
    ));
    assert_eq!(
        app.run_jobs().await,
        6,
        "provisioning, the stage posts, then the four rubric threads"
    );
    assert_one_complete_channel(&world);
}

#[tokio::test]
async fn a_permanent_refusal_gives_up_and_says_why() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    world.sim.inject_fault(
        "conversations.create",
        Fault::Error("restricted_action".into()),
    );
    start_standard_loop(&world, &app).await;
    app.run_jobs().await;
    let (state, error): (String, String) = sqlx::query_as("SELECT state, last_error FROM jobs")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(state, "failed");
    assert!(error.contains("restricted_action"), "{error}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("loopbot_jobs_failed_total{kind=\"provision_loop\"} 1"));
    assert!(metrics.contains("loopbot_jobs{state=\"failed\"} 1"));
}

#[tokio::test]
async fn an_outage_is_retried_however_long_it_lasts_and_never_given_up() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    // Ten times as many failures in a row as a database error may have, a day apart.
    let failures = 10 * loopbot::jobs::retry::MAX_ATTEMPTS;
    for _ in 0..failures {
        world
            .sim
            .inject_fault("conversations.create", Fault::Http(503));
    }
    start_standard_loop(&world, &app).await;
    for _ in 0..=failures {
        app.run_jobs().await;
        world.clock.advance(Duration::from_secs(3600));
    }
    let (state, attempts): (String, i64) =
        sqlx::query_as("SELECT state, attempts FROM jobs WHERE kind = 'provision_loop'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!((state.as_str(), attempts), ("done", failures + 1));
    assert_one_complete_channel(&world);
}

#[tokio::test]
async fn concurrent_workers_claim_each_job_exactly_once() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    // A second "process": its own pool on the same database file.
    let other = loopbot::db::connect(&world.database_url).await.unwrap();
    for i in 0..200 {
        let job = loopbot::db::jobs::NewJob {
            kind: "test".into(),
            loop_id: None,
            payload: "{}".into(),
            dedupe_key: Some(format!("test:{i}")),
            run_at: START_MS,
            budget: None,
            priority: 50,
        };
        loopbot::db::jobs::enqueue(&app.state.db, &job, START_MS)
            .await
            .unwrap();
    }
    let claim_all = |db: loopbot::db::Db| async move {
        let mut mine = Vec::new();
        while let Some(job) = loopbot::db::jobs::claim_due(&db, START_MS, 60_000, "test:1:0")
            .await
            .unwrap()
        {
            mine.push(job.id);
        }
        mine
    };
    let (a, b, c, d) = tokio::join!(
        claim_all(app.state.db.clone()),
        claim_all(other.clone()),
        claim_all(app.state.db.clone()),
        claim_all(other.clone())
    );
    let mut all: Vec<i64> = [a, b, c, d].concat();
    assert_eq!(all.len(), 200, "every job claimed");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 200, "no job claimed twice");
}
