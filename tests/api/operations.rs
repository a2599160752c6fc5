//! Running Loopbot as a service: readiness, metrics, the wire format of Web API calls.

use std::sync::atomic::Ordering;

use crate::helpers::*;

#[tokio::test]
async fn readyz_is_ready_only_with_the_database_the_token_and_outbound_work() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 200, "the token was checked at start-up");
    assert!(app.state.token_ok.load(Ordering::SeqCst));

    // Paused (uninstalled, token revoked): live but not ready.
    app.state.paused.store(true, Ordering::SeqCst);
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("paused"));
    assert_eq!(app.get("/healthz").await.status(), 200, "still alive");
    app.state.paused.store(false, Ordering::SeqCst);

    app.state.db.close().await;
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("database"));
}

#[tokio::test]
async fn slack_out_of_reach_at_start_up_is_a_warning_and_not_ready() {
    let world = World::new().await;
    // Nothing listens on port 9 of the loopback.
    let app = world
        .spawn_app_with(&[("SLACK_API_URL", "http://127.0.0.1:9/api")])
        .await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let r = app.get("/readyz").await;
    assert_eq!(r.status(), 503);
    assert!(r.text().await.unwrap().contains("SLACK_BOT_TOKEN"));
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("loopbot_slack_token_ok 0"), "{metrics}");
    assert!(
        metrics
            .contains("loopbot_slack_errors_total{method=\"auth.test\",error=\"unreachable\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_token_slack_refuses_stops_the_build_naming_slack_bot_token() {
    let world = World::new().await;
    world.sim.revoke_token();
    let mut raw = world.raw_settings();
    raw.insert("LOOPBOT_LISTEN".into(), "127.0.0.1:0".into());
    let settings = loopbot::settings::Settings::parse(&raw, loopbot::settings::Needs::Slack)
        .expect("valid settings");
    let err = loopbot::startup::Application::build(settings, world.clock.clone())
        .await
        .err()
        .expect("a refused token stops start-up")
        .to_string();
    assert!(
        err.starts_with("SLACK_BOT_TOKEN: Slack refused the bot token (`token_revoked`)"),
        "{err}"
    );
    assert!(!err.contains(BOT_TOKEN));
}

#[tokio::test]
async fn metrics_have_latency_histograms_error_counts_queue_lag_and_build_info() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    start_standard_loop(&world, &app).await;
    // The provisioning job is due now; an hour later it is an hour late.
    world.clock.advance(std::time::Duration::from_secs(3600));
    let text = app.get("/metrics").await.text().await.unwrap();
    for (name, kind) in [
        ("loopbot_ack_duration_seconds", "histogram"),
        ("loopbot_slack_call_duration_seconds", "histogram"),
        ("loopbot_oldest_due_job_age_seconds", "gauge"),
        ("loopbot_build_info", "gauge"),
        ("loopbot_jobs", "gauge"),
        ("loopbot_loops_started_total", "counter"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "{name} {kind}: {text}"
        );
    }
    assert!(
        text.contains("loopbot_ack_duration_seconds_count{route=\"/slack/commands\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("loopbot_ack_duration_seconds_count{route=\"/slack/interactions\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("loopbot_slack_call_duration_seconds_count{method=\"auth.test\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("loopbot_slack_call_duration_seconds_count{method=\"views.open\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("loopbot_oldest_due_job_age_seconds 3600"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "loopbot_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    app.run_jobs().await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains("loopbot_oldest_due_job_age_seconds 0"),
        "{text}"
    );

    // A refused call is counted by method and Slack's error code.
    world.sim.revoke_token();
    let _ = app.state.slack.auth_test().await;
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(text.contains("# TYPE loopbot_slack_errors_total counter\n"));
    assert!(
        text.contains("loopbot_slack_errors_total{method=\"auth.test\",error=\"token_revoked\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_listen_serves_metrics_on_its_own_address_only() {
    let world = World::new().await;
    let mut raw = world.raw_settings();
    raw.insert("LOOPBOT_METRICS_LISTEN".into(), "127.0.0.1:0".into());
    let mut settings = loopbot::settings::Settings::parse(&raw, loopbot::settings::Needs::Slack)
        .expect("valid settings");
    settings.run_worker = false;
    let app = loopbot::startup::Application::build(settings, world.clock.clone())
        .await
        .unwrap();
    let main = format!("http://{}", app.address());
    let metrics = format!("http://{}", app.metrics_address().expect("its own address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let r = reqwest::get(format!("{metrics}/metrics")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("loopbot_build_info"));
    let r = reqwest::get(format!("{main}/metrics")).await.unwrap();
    assert_eq!(r.status(), 404, "not on the main listener");
    assert_eq!(
        reqwest::get(format!("{main}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    let _ = stop.send(());
    handle.await.unwrap().unwrap();
}

#[tokio::test]
async fn every_web_api_call_names_its_charset_so_slack_never_warns() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    start_standard_loop(&world, &app).await;
    app.run_jobs().await;
    let calls = world.sim.calls();
    assert!(calls.len() > 10, "{}", calls.len());
    let warned: Vec<_> = calls
        .iter()
        .filter(|c| !c.warnings.is_empty())
        .map(|c| (c.method.clone(), c.warnings.clone()))
        .collect();
    assert_eq!(warned, Vec::<(String, Vec<String>)>::new());
}

/// Marks the standard loop decided at `at` (the decision flow has its own tests).
async fn decide_at(app: &TestApp, at: i64) {
    sqlx::query(
        "UPDATE loops SET status = 'decided', decision = 'hire', decided_by = $1,
                decided_at = $2, decision_rationale = 'Ada Lovelace aced it'",
    )
    .bind(HIRING_MANAGER)
    .bind(at)
    .execute(&app.state.db)
    .await
    .unwrap();
}

fn file_holds(path: &std::path::Path, text: &str) -> bool {
    let mut bytes = std::fs::read(path).unwrap();
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[tokio::test]
async fn retention_purges_loops_decided_longer_ago_with_no_trace_in_the_file() {
    let world = World::new().await;
    let app = world.spawn_app_with(&[("LOOPBOT_RETAIN", "30d")]).await;
    start_standard_loop(&world, &app).await;
    app.run_jobs().await;
    decide_at(&app, START_MS).await;
    // The file check is SQLite's; on PostgreSQL the rows are checked below.
    let sqlite = !world.on_postgres();
    assert!(!sqlite || file_holds(&world.db_path(), "Ada Lovelace"));

    world
        .clock
        .advance(std::time::Duration::from_secs(29 * 86_400));
    loopbot::jobs::worker::housekeeping(&app.state)
        .await
        .unwrap();
    let name: String = sqlx::query_scalar("SELECT candidate_name FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(name, "Ada Lovelace", "not yet: 29 days");

    world
        .clock
        .advance(std::time::Duration::from_secs(2 * 86_400));
    loopbot::jobs::worker::housekeeping(&app.state)
        .await
        .unwrap();
    let (name, purged): (String, Option<i64>) =
        sqlx::query_as("SELECT candidate_name, purged_at FROM loops")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(name, "Purged candidate");
    assert!(purged.is_some());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE actor_id = 'loopbot-retention' AND action = 'purged'")
            .await,
        1
    );
    assert!(
        !sqlite || !file_holds(&world.db_path(), "Ada Lovelace"),
        "gone from the database file and its WAL"
    );
    assert_eq!(
        app.state
            .metrics
            .get("loopbot_loops_purged_total", "by=\"retention\""),
        1
    );
    // Once only.
    loopbot::jobs::worker::housekeeping(&app.state)
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'purged'")
            .await,
        1
    );
}

#[tokio::test]
async fn without_retention_decided_loops_are_kept() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    start_standard_loop(&world, &app).await;
    decide_at(&app, START_MS).await;
    world
        .clock
        .advance(std::time::Duration::from_secs(3650 * 86_400));
    loopbot::jobs::worker::housekeeping(&app.state)
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM loops WHERE purged_at IS NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn a_backup_taken_during_writes_opens_and_holds_every_committed_loop() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    if world.on_postgres() {
        // PostgreSQL is backed up with its own tools; the command says so.
        let copy = world.db_dir.path().join("backup.db");
        let err = loopbot::cli::backup::backup(&app.state.db, &copy, false)
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("pg_dump"), "{err:#}");
        return;
    }
    start_standard_loop(&world, &app).await;
    app.run_jobs().await;
    // Writes keep coming while the backup runs, as from a serving Loopbot.
    let writer = {
        let db = app.state.db.clone();
        tokio::spawn(async move {
            for i in 0..200_i64 {
                let mut tx = loopbot::db::begin_write(&db).await.unwrap();
                loopbot::db::audit::record(
                    &mut *tx,
                    1,
                    "UWRITER",
                    "note",
                    &format!("write {i}"),
                    i,
                )
                .await
                .unwrap();
                tx.commit().await.unwrap();
            }
        })
    };
    // The backup uses its own connection, as `loopbot backup` does.
    let url = format!("sqlite://{}", world.db_path().display());
    let other = loopbot::db::connect(&url).await.unwrap();
    let copy = world.db_dir.path().join("backup.db");
    loopbot::cli::backup::backup(&other, &copy, false)
        .await
        .unwrap();
    writer.await.unwrap();
    other.close().await;

    let restored = loopbot::db::connect(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&restored)
        .await
        .unwrap();
    assert_eq!(check, "ok");
    let name: String = sqlx::query_scalar("SELECT candidate_name FROM loops WHERE id = 1")
        .fetch_one(&restored)
        .await
        .unwrap();
    assert_eq!(name, "Ada Lovelace");
    let stages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM stages")
        .fetch_one(&restored)
        .await
        .unwrap();
    assert_eq!(stages, 4);
    // A consistent prefix of the writes: notes 0..n, none missing in between.
    let notes: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE actor_id = 'UWRITER' ORDER BY id")
            .fetch_all(&restored)
            .await
            .unwrap();
    for (i, note) in notes.iter().enumerate() {
        assert_eq!(note, &format!("write {i}"));
    }
    restored.close().await;
}
