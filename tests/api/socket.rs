//! Socket Mode: the real app in `LOOPBOT_MODE=socket` against the simulator's WebSocket
//! server. Every kind of envelope, answers in the acknowledgement, Slack's redeliveries, the
//! ack deadline, refresh and drop with nothing lost, `link_disabled`, shutdown, and start-up
//! with a bad or missing app-level token.

use std::time::Duration;

use loopbot::settings::{Needs, Settings};
use loopbot::slack::ids::SCORECARD_OPEN;
use loopbot::startup::Application;
use serde_json::json;
use slack_sim::client::FormValues;
use slack_sim::socket::SimConnection;
use slack_sim::socket_side::SocketSide;

use crate::helpers::*;

const APP_TOKEN: &str = "xapp-1-A0LOOPBOT-1-socket0test0token";
const WAIT: Duration = Duration::from_secs(5);

fn ready(c: &SimConnection) -> bool {
    c.is_open() && c.ready_seq.is_some()
}

/// The app in Socket Mode, greeted on its first connection, and Slack's side of the socket.
pub(crate) async fn spawn_socket_app(
    world: &World,
    extra: &[(&str, &str)],
) -> (TestApp, SocketSide) {
    world.sim.set_app_token(APP_TOKEN);
    let mut settings = vec![("LOOPBOT_MODE", "socket"), ("SLACK_APP_TOKEN", APP_TOKEN)];
    settings.extend_from_slice(extra);
    let app = world.spawn_app_with(&settings).await;
    assert!(
        world
            .sim
            .wait_for_socket(WAIT, |c| c.iter().filter(|c| ready(c)).count() == 1)
            .await,
        "the app connects and is greeted: {:?}",
        world.sim.socket_connections()
    );
    let side = SocketSide::new(world.clock.clone(), world.sim.clone());
    (app, side)
}

fn no_violations(world: &World) {
    assert_eq!(
        world.sim.socket_violations(),
        Vec::<String>::new(),
        "every ack names a delivered envelope, once, on its connection"
    );
}

/// `/loop start Ada Lovelace` over the socket, then the full form; returns the submission's
/// delivery.
async fn start_loop_over_socket(
    world: &World,
    side: &SocketSide,
) -> slack_sim::socket_side::Delivered {
    let opened = side
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    assert!(opened.acked());
    assert_eq!(opened.payload(), None, "an empty ack, then the modal");
    let view = latest_view(world, COORDINATOR);
    assert_eq!(view.view["callback_id"], "loop_start", "{}", view.view);
    side.submit_view(COORDINATOR, &view.id, &full_start_form())
        .await
}

#[tokio::test]
async fn slash_commands_answer_in_the_ack_exactly_as_over_http() {
    let world = World::new().await;
    let http = world.spawn_app().await;
    let over_http: serde_json::Value = http
        .slack
        .command(COORDINATOR, &world.hiring_channel, "help")
        .await
        .json()
        .await
        .unwrap();
    http.stop().await;

    let (app, side) = spawn_socket_app(&world, &[]).await;
    let delivered = side
        .command(COORDINATOR, &world.hiring_channel, "help")
        .await;
    let ack = delivered.ack.clone().expect("acknowledged");
    assert!(!ack.late, "within 3 seconds");
    assert_eq!(delivered.json(), over_http, "the same reply as over HTTP");
    assert_eq!(delivered.json()["response_type"], "ephemeral");

    // A command that opens a form: an empty ack, then the modal, opened once.
    let before = world.sim.views_of(COORDINATOR).len();
    side.command(COORDINATOR, &world.hiring_channel, "start Grace Hopper")
        .await;
    let views = world.sim.views_of(COORDINATOR);
    assert_eq!(views.len(), before + 1);
    assert!(views[before].view.to_string().contains("Grace Hopper"));
    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains("loopbot_socket_envelopes_total{type=\"slash_commands\"} 2"),
        "{text}"
    );
    assert!(text.contains("loopbot_socket_connected 1"), "{text}");
    no_violations(&world);
    app.stop().await;
}

#[tokio::test]
async fn view_submission_errors_come_in_the_ack_and_nothing_is_stored() {
    let world = World::new().await;
    let (app, side) = spawn_socket_app(&world, &[]).await;
    side.command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    let view = latest_view(&world, COORDINATOR);
    let delivered = side
        .submit_view(COORDINATOR, &view.id, &FormValues::new())
        .await;
    let body = delivered.json();
    assert_eq!(body["response_action"], "errors", "{body}");
    assert!(body["errors"]["hiring_manager"].is_string(), "{body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 0);
    no_violations(&world);
    app.stop().await;
}

#[tokio::test]
async fn a_loop_runs_over_the_socket_submissions_buttons_closes_and_events() {
    let world = World::new().await;
    let (app, side) = spawn_socket_app(&world, &[]).await;

    // view_submission: accepted, the ack closes the modal, the work is already committed.
    let submitted = start_loop_over_socket(&world, &side).await;
    assert!(submitted.acked());
    assert_eq!(submitted.payload(), None, "an empty ack closes the form");
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 1);
    app.run_jobs().await;
    assert_one_channel_posted_once(&world);

    // block_actions: the scorecard button opens the form after the ack.
    let channel = loop_channel(&world);
    interview_started(&world, &app, 1).await;
    let rubric = &stage_post(&world, &channel.id, 1);
    let (value, _) = button(&rubric.blocks, SCORECARD_OPEN).unwrap();
    let before = world.sim.views_of(SCREENER).len();
    let pressed = side
        .press_button(SCREENER, &channel.id, &rubric.ts, SCORECARD_OPEN, &value)
        .await;
    assert!(pressed.acked());
    let views = world.sim.views_of(SCREENER);
    assert_eq!(views.len(), before + 1, "the scorecard opened");
    let form = views.last().unwrap().clone();
    assert_eq!(form.view["callback_id"], "scorecard");

    // A scorecard with too little evidence: the error is in the ack.
    let refused = side
        .submit_view(
            SCREENER,
            &form.id,
            &filled_scorecard(&form.view, "3", "Good."),
        )
        .await;
    assert_eq!(refused.json()["response_action"], "errors");
    assert!(refused.json()["errors"]["evidence"].is_string());
    let accepted = side
        .submit_view(
            SCREENER,
            &form.id,
            &filled_scorecard(&form.view, "3", EVIDENCE),
        )
        .await;
    assert_eq!(accepted.payload(), None);
    assert_eq!(app.count("SELECT COUNT(*) FROM scorecards").await, 1);

    // view_closed: acknowledged, changes nothing.
    let closed = side
        .send_closed(SCREENER, &form.id, &FormValues::new())
        .await;
    assert!(closed.acked());
    assert_eq!(closed.payload(), None);

    // events_api: the App Home is published, and a rename reaches the loop.
    let home = side
        .event(
            "EvSocketHome",
            json!({"type": "app_home_opened", "user": SCREENER, "channel": "D1", "tab": "home", "event_ts": "1.0"}),
        )
        .await;
    assert!(home.acked());
    assert_eq!(home.payload(), None);
    app.run_jobs().await;
    assert!(world.sim.home_of(SCREENER).is_some(), "App Home published");
    side.event("EvSocketRename", rename(&channel.id, "loop-renamed"))
        .await;
    assert_eq!(renames(&app).await, 1);
    let text = app.get("/metrics").await.text().await.unwrap();
    for kind in ["slash_commands", "interactive", "events_api"] {
        assert!(
            text.contains(&format!(
                "loopbot_socket_envelopes_total{{type=\"{kind}\"}}"
            )),
            "{text}"
        );
    }
    no_violations(&world);
    app.stop().await;
}

#[tokio::test]
async fn a_late_ack_is_redelivered_and_the_redelivery_has_one_effect() {
    let world = World::new().await;
    let (app, side) = spawn_socket_app(&world, &[]).await;
    side.command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    let view = latest_view(&world, COORDINATOR);

    // The app answers at once, but the ack reaches Slack after its 3 seconds.
    world.sim.socket_hold_acks(true);
    let payload = side.submission_payload(COORDINATOR, &view.id, &full_start_form());
    let first = world.sim.socket_deliver("interactive", payload, true);
    let deadline = std::time::Instant::now() + WAIT;
    while world.sim.socket_held_acks() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(world.sim.socket_held_acks(), 1, "the app acknowledged");
    world.clock.advance(Duration::from_millis(3_500));
    world.sim.socket_release_acks();
    let late = world.sim.socket_ack(&first).expect("the ack arrived");
    assert!(late.late, "after the deadline");
    assert_eq!(world.sim.socket_redeliver_overdue().len(), 1);
    let again = world.sim.socket_envelopes();
    let retry = again
        .iter()
        .find(|e| e.first_id == first && e.retry_attempt == 1)
        .expect("Slack redelivered it with retry_attempt 1")
        .clone();
    assert_eq!(retry.retry_reason, "timeout");
    let ack = world
        .sim
        .wait_for_ack(&retry.envelope_id, WAIT)
        .await
        .expect("the redelivery is acknowledged");
    assert!(!ack.late);
    assert_eq!(ack.payload, late.payload, "the same answer");
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 1, "one loop");
    app.run_jobs().await;
    assert_one_channel_posted_once(&world);
    assert!(
        world.sim.socket_redeliver_overdue().is_empty(),
        "every envelope is acknowledged in time now"
    );
    assert_eq!(
        app.state
            .metrics
            .get("loopbot_socket_duplicates_total", "type=\"interactive\""),
        1
    );
    no_violations(&world);
    app.stop().await;
}

#[tokio::test]
async fn a_missing_ack_is_redelivered_and_a_command_opens_one_modal() {
    let world = World::new().await;
    let (app, side) = spawn_socket_app(&world, &[]).await;
    world.sim.socket_hold_acks(true);
    let payload = side.command_payload(COORDINATOR, &world.hiring_channel, "start Ada Lovelace");
    let trigger = payload["trigger_id"].as_str().unwrap().to_string();
    let first = world.sim.socket_deliver("slash_commands", payload, true);
    let deadline = std::time::Instant::now() + WAIT;
    while !world.sim.trigger_tried(&trigger) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // The ack is lost on the way; Slack retries after its deadline.
    world.sim.socket_lose_held_acks();
    assert_eq!(world.sim.socket_ack(&first), None);
    assert!(
        world.sim.socket_redeliver_overdue().is_empty(),
        "not before the deadline"
    );
    world.clock.advance(Duration::from_millis(3_001));
    let retried = world.sim.socket_redeliver_overdue();
    assert_eq!(retried.len(), 1);
    let ack = world.sim.wait_for_ack(&retried[0], WAIT).await.unwrap();
    assert_eq!(ack.payload, None);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(world.sim.views_of(COORDINATOR).len(), 1, "one modal");
    assert_eq!(
        world
            .sim
            .calls()
            .iter()
            .filter(|c| c.method == "views.open")
            .count(),
        1,
        "the trigger was used once"
    );
    assert!(
        world.sim.responses().is_empty(),
        "no 'form did not open' note"
    );
    no_violations(&world);
    app.stop().await;
}

#[tokio::test]
async fn a_redelivery_after_a_restart_still_has_one_effect() {
    let world = World::new().await;
    let (app, side) = spawn_socket_app(&world, &[]).await;
    start_loop_over_socket(&world, &side).await;
    app.run_jobs().await;
    let channel = loop_channel(&world);
    // An event and a command are handled, but their acks never reach Slack.
    world.sim.socket_hold_acks(true);
    let event = side.event_payload("EvRestart", rename(&channel.id, "loop-restarted"));
    let event_first = world.sim.socket_deliver("events_api", event, false);
    let command = side.command_payload(COORDINATOR, &world.hiring_channel, "start Ada Lovelace");
    let trigger = command["trigger_id"].as_str().unwrap().to_string();
    world.sim.socket_deliver("slash_commands", command, true);
    let deadline = std::time::Instant::now() + WAIT;
    while world.sim.socket_held_acks() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(world.sim.socket_held_acks(), 2);
    assert!(
        world
            .sim
            .wait_for_socket(WAIT, |_| world.sim.trigger_tried(&trigger))
            .await
    );
    let views = world.sim.views_of(COORDINATOR).len();
    app.stop().await;
    world.sim.socket_lose_held_acks();

    // A new process on the same database gets Slack's redeliveries.
    let (app, _side) = spawn_socket_app(&world, &[]).await;
    world.clock.advance(Duration::from_secs(4));
    let retried = world.sim.socket_redeliver_overdue();
    assert_eq!(retried.len(), 2);
    for envelope in &retried {
        let ack = world.sim.wait_for_ack(envelope, WAIT).await;
        assert!(ack.is_some_and(|a| !a.late && a.payload.is_none()));
    }
    assert!(
        world
            .sim
            .socket_envelopes()
            .iter()
            .any(|e| e.first_id == event_first && e.retry_attempt == 1)
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(renames(&app).await, 1, "the rename is recorded once");
    assert_eq!(world.sim.views_of(COORDINATOR).len(), views, "one modal");
    assert!(world.sim.responses().is_empty());
    no_violations(&world);
    app.stop().await;
}

#[tokio::test]
async fn a_refresh_keeps_a_second_connection_open_and_loses_nothing() {
    let world = World::new().await;
    let (app, side) = spawn_socket_app(&world, &[]).await;
    let before = side
        .event("EvBefore", json!({"type": "app_home_opened", "user": SCREENER, "channel": "D1", "tab": "home", "event_ts": "1.0"}))
        .await;
    assert!(before.acked());

    world.sim.socket_request_refresh();
    // Delivered while the replacement is being opened: on the old connection, or queued.
    let during = world.sim.socket_deliver(
        "events_api",
        side.event_payload("EvDuring", json!({"type": "app_home_opened", "user": DESIGNER, "channel": "D2", "tab": "home", "event_ts": "2.0"})),
        false,
    );
    assert!(
        world
            .sim
            .wait_for_socket(WAIT, |c| c.len() == 2
                && c[1].ready_seq.is_some()
                && !c[0].is_open())
            .await,
        "a second connection, then the first closed: {:?}",
        world.sim.socket_connections()
    );
    let connections = world.sim.socket_connections();
    let (old, new) = (&connections[0], &connections[1]);
    assert!(
        old.closed_by_client,
        "the old one closed cleanly by Loopbot"
    );
    assert!(
        old.closed_seq.unwrap() > new.ready_seq.unwrap(),
        "the old connection stayed open until the new one was greeted"
    );
    assert!(world.sim.wait_for_ack(&during, WAIT).await.is_some());
    let after = side
        .event("EvAfter", json!({"type": "app_home_opened", "user": CODER, "channel": "D3", "tab": "home", "event_ts": "3.0"}))
        .await;
    assert_eq!(
        after.ack.unwrap().conn,
        new.id,
        "new envelopes use the new one"
    );
    assert_eq!(world.sim.socket_urls_opened(), 2, "a fresh URL for it");
    app.run_jobs().await;
    for user in [SCREENER, DESIGNER, CODER] {
        assert!(world.sim.home_of(user).is_some(), "{user}'s event arrived");
    }
    assert!(world.sim.socket_redeliver_overdue().is_empty());
    assert_eq!(
        app.state.metrics.get(
            "loopbot_socket_reconnects_total",
            "reason=\"refresh_requested\""
        ),
        1
    );
    no_violations(&world);
    app.stop().await;
}

#[tokio::test]
async fn a_dropped_connection_comes_back_and_loses_nothing() {
    let world = World::new().await;
    let (app, side) = spawn_socket_app(&world, &[]).await;
    start_loop_over_socket(&world, &side).await;
    app.run_jobs().await;
    let channel = loop_channel(&world);
    // Handled, but its ack dies with the connection.
    world.sim.socket_hold_acks(true);
    let in_flight = world.sim.socket_deliver(
        "events_api",
        side.event_payload("EvInFlight", rename(&channel.id, "loop-first")),
        false,
    );
    let deadline = std::time::Instant::now() + WAIT;
    while world.sim.socket_held_acks() == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    world.sim.socket_drop();
    world.sim.socket_hold_acks(false);
    // Sent while no connection is up: kept for the next one.
    let while_down = world.sim.socket_deliver(
        "events_api",
        side.event_payload("EvWhileDown", rename(&channel.id, "loop-second")),
        false,
    );
    assert!(
        world
            .sim
            .wait_for_socket(WAIT, |c| c.len() == 2 && ready(&c[1]))
            .await,
        "Loopbot reconnects: {:?}",
        world.sim.socket_connections()
    );
    assert!(!world.sim.socket_connections()[0].closed_by_client);
    assert!(world.sim.wait_for_ack(&while_down, WAIT).await.is_some());
    world.clock.advance(Duration::from_secs(4));
    let retried = world.sim.socket_redeliver_overdue();
    assert_eq!(retried.len(), 1, "the envelope whose ack was lost");
    assert_eq!(
        world.sim.socket_envelopes().last().unwrap().first_id,
        in_flight
    );
    assert!(world.sim.wait_for_ack(&retried[0], WAIT).await.is_some());
    assert_eq!(
        renames(&app).await,
        2,
        "each rename once, the redelivery added none"
    );
    assert_eq!(
        app.state
            .metrics
            .get("loopbot_socket_reconnects_total", "reason=\"dropped\""),
        1
    );
    assert_eq!(
        app.state.metrics.gauge("loopbot_socket_connected", ""),
        Some(1)
    );
    no_violations(&world);
    app.stop().await;
}

#[tokio::test]
async fn the_app_answers_pings_and_link_disabled_stops_reconnecting() {
    let world = World::new().await;
    let (app, _side) = spawn_socket_app(&world, &[]).await;
    world.sim.socket_ping();
    assert!(
        world.sim.wait_for_socket(WAIT, |c| c[0].pongs == 1).await,
        "a pong for the ping"
    );
    world.sim.socket_link_disabled();
    assert!(world.sim.wait_for_socket(WAIT, |c| !c[0].is_open()).await);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(world.sim.socket_connections().len(), 1, "no reconnect");
    assert_eq!(world.sim.socket_urls_opened(), 1);
    assert_eq!(
        app.state.metrics.gauge("loopbot_socket_connected", ""),
        Some(0)
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "still healthy as a process"
    );
    app.stop().await;
}

#[tokio::test]
async fn in_socket_mode_the_slack_routes_are_off_and_health_and_metrics_listen() {
    let world = World::new().await;
    let (app, _side) = spawn_socket_app(&world, &[]).await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("# TYPE loopbot_socket_connected gauge"),
        "{metrics}"
    );
    for path in ["/slack/commands", "/slack/interactions", "/slack/events"] {
        let r = app.slack.post_signed(path, "application/json", "{}").await;
        assert_eq!(r.status(), 404, "{path} is off in Socket Mode");
    }
    assert!(!metrics.contains(APP_TOKEN));
    app.stop().await;
}

#[tokio::test]
async fn shutdown_acks_what_is_in_hand_then_closes_the_socket_cleanly() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("staff-sre.toml"),
        include_str!("../fixtures/rubrics/staff-sre.toml"),
    )
    .unwrap();
    let (app, side) = spawn_socket_app(
        &world,
        &[("LOOPBOT_RUBRICS_DIR", dir.path().to_str().unwrap())],
    )
    .await;
    side.command(COORDINATOR, &world.hiring_channel, "start Linus")
        .await;
    let view = latest_view(&world, COORDINATOR);
    // Choosing a rubric updates the form inline before the ack; Slack answers slowly.
    world.sim.set_latency(Duration::from_millis(400));
    let picked = world
        .sim
        .socket_deliver("interactive", side_pick(&side, &view.id), false);
    let deadline = std::time::Instant::now() + WAIT;
    while !world.sim.calls().iter().any(|c| c.method == "views.update")
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(world.sim.socket_ack(&picked), None, "still in hand");
    app.stop().await;
    let ack = world
        .sim
        .socket_ack(&picked)
        .expect("acknowledged before closing");
    assert!(!ack.late);
    let connection = &world.sim.socket_connections()[0];
    assert!(world.sim.wait_for_socket(WAIT, |c| !c[0].is_open()).await);
    assert!(
        world.sim.socket_connections()[0].closed_by_client,
        "a close frame, not a drop: {connection:?}"
    );
    no_violations(&world);
}

fn side_pick(side: &SocketSide, view_id: &str) -> serde_json::Value {
    // The same payload SlackSide::pick_in_view posts over HTTP.
    let submission = side.submission_payload(COORDINATOR, view_id, &FormValues::new());
    json!({
        "type": "block_actions",
        "team": submission["team"],
        "user": submission["user"],
        "api_app_id": "A0LOOPBOT",
        "trigger_id": submission["trigger_id"],
        "container": { "type": "view", "view_id": view_id },
        "view": submission["view"],
        "actions": [{
            "type": "static_select", "action_id": "rubric_select", "block_id": "rubric",
            "selected_option": { "text": { "type": "plain_text", "text": "staff-sre" }, "value": "staff-sre" },
            "action_ts": "1.000100",
        }],
    })
}

#[tokio::test]
async fn a_bad_app_token_stops_start_up_with_one_line_naming_it() {
    let world = World::new().await;
    world.sim.set_app_token(APP_TOKEN);
    let mut raw = world.raw_settings();
    raw.insert(
        "SLACK_APP_TOKEN".into(),
        "xapp-1-A0LOOPBOT-1-revoked".into(),
    );
    let settings = Settings::parse(&raw, Needs::Slack).expect("the token looks right");
    let err = Application::build(settings, world.clock.clone())
        .await
        .err()
        .expect("Slack refuses the token")
        .to_string();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("SLACK_APP_TOKEN: "), "{err}");
    assert!(err.contains("invalid_auth"), "{err}");
    assert!(
        !err.contains("revoked"),
        "the token itself is not shown: {err}"
    );
    assert_eq!(world.sim.socket_connections().len(), 0);
}

#[tokio::test]
async fn socket_mode_without_an_app_token_stops_start_up_naming_it() {
    let world = World::new().await;
    let mut raw = world.raw_settings();
    raw.insert("LOOPBOT_MODE".into(), "socket".into());
    let err = Settings::parse(&raw, Needs::Slack).unwrap_err();
    assert_eq!(err.variable, "SLACK_APP_TOKEN");
    assert!(err.to_string().contains("missing"));
    // A bot token where the app-level one belongs is named too.
    raw.insert("SLACK_APP_TOKEN".into(), loopbot_bot_token());
    let err = Settings::parse(&raw, Needs::Slack).unwrap_err();
    assert_eq!(err.variable, "SLACK_APP_TOKEN");
    assert!(!err.to_string().contains(BOT_TOKEN));
}

/// A `group_rename` event for a private channel.
fn rename(channel: &str, name: &str) -> serde_json::Value {
    json!({"type": "group_rename", "channel": {"id": channel, "name": name, "created": 1}, "event_ts": "2.0"})
}

async fn renames(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'channel_renamed'")
        .await
}

fn loopbot_bot_token() -> String {
    BOT_TOKEN.to_string()
}

#[tokio::test]
async fn the_binary_in_socket_mode_closes_its_socket_cleanly_on_sigterm_and_logs_no_secrets() {
    let world = World::new().await;
    world.sim.set_app_token(APP_TOKEN);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_loopbot"))
        .arg("serve")
        .env_clear()
        .current_dir(world.db_dir.path())
        .env("SLACK_APP_TOKEN", APP_TOKEN)
        .env("SLACK_BOT_TOKEN", BOT_TOKEN)
        .env("SLACK_API_URL", &world.sim_server.base_url)
        .env("DATABASE_URL", &world.database_url)
        .env("LOOPBOT_LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = crate::helpers::drain_output(&mut child);
    let greeted = world
        .sim
        .wait_for_socket(Duration::from_secs(60), |c| c.iter().any(ready))
        .await;
    assert!(greeted, "the binary connects over Socket Mode");
    let side = SocketSide::new(world.clock.clone(), world.sim.clone());
    let help = side
        .command(COORDINATOR, &world.hiring_channel, "help")
        .await;
    assert_eq!(help.json()["response_type"], "ephemeral");

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped_by = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < stopped_by,
            "still running 10 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status:?}");
    assert!(
        world.sim.wait_for_socket(WAIT, |c| !c[0].is_open()).await,
        "closed"
    );
    assert!(
        world.sim.socket_connections()[0].closed_by_client,
        "with a close frame"
    );
    let logs = output.join().unwrap();
    assert!(logs.contains("Socket Mode connection ready"), "{logs}");
    assert!(
        !logs.contains(APP_TOKEN) && !logs.contains(BOT_TOKEN) && !logs.contains("ticket="),
        "secrets leaked: {logs}"
    );
    no_violations(&world);
}
