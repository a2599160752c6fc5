use crate::helpers::*;

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 200);
    app.state.db.close().await;
    let r = app.get("/healthz").await;
    assert_eq!(r.status(), 503);
}

#[tokio::test]
async fn metrics_are_in_prometheus_text_format() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    start_standard_loop(&world, &app).await;
    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE loopbot_loops_started_total counter"));
    assert!(text.contains("loopbot_loops_started_total 1"));
    assert!(text.contains("loopbot_jobs{state=\"queued\"} 1"));
}

#[tokio::test]
async fn sqlite_only_the_database_file_is_created_and_migrated_on_start() {
    let world = World::new().await;
    if world.on_postgres() {
        return; // SQLite's file and pragmas; PostgreSQL is migrated by every other test.
    }
    assert!(!world.db_path().exists());
    let app = world.spawn_app().await;
    assert!(world.db_path().exists());
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(fk, 1);
}

#[tokio::test]
async fn housekeeping_forgets_old_receipts_and_finished_jobs_only() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    start_standard_loop(&world, &app).await;
    app.run_jobs().await;
    let event = serde_json::json!({"type": "app_home_opened", "user": OUTSIDER, "channel": "D1", "tab": "messages", "event_ts": "1.0"});
    app.slack.event("EvOld", event).await;
    loopbot::jobs::worker::housekeeping(&app.state)
        .await
        .unwrap();
    let signatures = "SELECT COUNT(*) FROM slack_receipts WHERE receipt_key LIKE 'sig:%'";
    let receipts = "SELECT COUNT(*) FROM slack_receipts WHERE receipt_key NOT LIKE 'sig:%'";
    assert_eq!(app.count(receipts).await, 1, "recent: kept");
    assert!(app.count(signatures).await > 0, "recent signatures: kept");
    // Signatures only matter within Slack's 5-minute window; event receipts stay longer.
    world.clock.advance(std::time::Duration::from_secs(16 * 60));
    loopbot::jobs::worker::housekeeping(&app.state)
        .await
        .unwrap();
    assert_eq!(app.count(signatures).await, 0);
    assert_eq!(app.count(receipts).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE state = 'done'")
            .await,
        6,
        "provisioning, the stage posts and the four rubric threads"
    );
    world
        .clock
        .advance(std::time::Duration::from_secs(8 * 86_400));
    loopbot::jobs::worker::housekeeping(&app.state)
        .await
        .unwrap();
    assert_eq!(app.count("SELECT COUNT(*) FROM slack_receipts").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE state = 'done'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM loops").await,
        1,
        "loops are never pruned"
    );
}
