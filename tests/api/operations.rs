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
