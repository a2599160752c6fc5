//! Every /slack/* request is checked before anything else; refused requests change nothing.

use loopbot::clock::Clock;
use serde_json::json;
use slack_sim::client::{FORM, JSON};

use crate::helpers::*;

async fn nothing_happened(world: &World, app: &TestApp) {
    assert!(
        world.sim.views_of(COORDINATOR).is_empty(),
        "no modal may open"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM slack_receipts WHERE receipt_key NOT LIKE 'sig:%'")
            .await,
        0
    );
}

#[tokio::test]
async fn unsigned_stale_tampered_and_replayed_requests_are_refused_with_no_effect() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let body = app
        .slack
        .command_body(COORDINATOR, &world.hiring_channel, "start Ada");
    let now = world.clock.now_secs();

    // Unsigned.
    let r = app
        .slack
        .post_raw("/slack/commands", FORM, &body, None)
        .await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("not signed"));

    // Stale: signed correctly, but 6 minutes ago.
    let old = now - 360;
    let r = app
        .slack
        .post_raw(
            "/slack/commands",
            FORM,
            &body,
            Some((old, app.slack.signature_for(old, &body))),
        )
        .await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("5-minute window"));

    // From the future, beyond the window.
    let ahead = now + 360;
    let r = app
        .slack
        .post_raw(
            "/slack/commands",
            FORM,
            &body,
            Some((ahead, app.slack.signature_for(ahead, &body))),
        )
        .await;
    assert_eq!(r.status(), 401);

    // Tampered: the signature of another body.
    let tampered = body.replace("start+Ada", "start+Eve");
    let r = app
        .slack
        .post_raw(
            "/slack/commands",
            FORM,
            &tampered,
            Some((now, app.slack.signature_for(now, &body))),
        )
        .await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("does not match"));

    // Signed with the wrong secret.
    let wrong = loopbot::slack::verify::sign("not-the-signing-secret-at-all", now, body.as_bytes());
    let r = app
        .slack
        .post_raw("/slack/commands", FORM, &body, Some((now, wrong)))
        .await;
    assert_eq!(r.status(), 401);

    nothing_happened(&world, &app).await;

    // The genuine request works once; the same bytes replayed are refused.
    let signature = app.slack.signature_for(now, &body);
    let r = app
        .slack
        .post_raw(
            "/slack/commands",
            FORM,
            &body,
            Some((now, signature.clone())),
        )
        .await;
    assert_eq!(r.status(), 200);
    app.slack.settle_body(&r, &body).await;
    assert_eq!(world.sim.views_of(COORDINATOR).len(), 1);
    let r = app
        .slack
        .post_raw("/slack/commands", FORM, &body, Some((now, signature)))
        .await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("already received"));
    assert_eq!(
        world.sim.views_of(COORDINATOR).len(),
        1,
        "a replay opens nothing"
    );

    let metrics = app.get("/metrics").await.text().await.unwrap();
    for reason in ["unsigned", "stale", "bad_signature", "replayed"] {
        assert!(
            metrics.contains(&format!(
                "loopbot_slack_requests_rejected_total{{reason=\"{reason}\"}}"
            )),
            "{reason}"
        );
    }
}

/// Two replicas on one database: a request that changed something, captured on its way to one
/// and replayed to the other, is refused there too, because its receipt was committed with its
/// change (nothing else was written on the way in).
#[tokio::test]
async fn a_request_that_changed_something_replayed_to_another_replica_is_refused_there_too() {
    let world = World::new().await;
    let first = world.spawn_app().await;
    let second = world.spawn_app().await;
    let opened = first
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    assert_eq!(opened.status(), 200);
    let view = latest_view(&world, COORDINATOR);
    let payload = first
        .slack
        .submission_payload(COORDINATOR, &view.id, &full_start_form());
    let body = slack_sim::client::SlackSide::interaction_body(&payload);
    let now = world.clock.now_secs();
    let signature = first.slack.signature_for(now, &body);
    let r = first
        .slack
        .post_raw(
            "/slack/interactions",
            FORM,
            &body,
            Some((now, signature.clone())),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(first.count("SELECT COUNT(*) FROM loops").await, 1);
    let jobs = first.count("SELECT COUNT(*) FROM jobs").await;

    for (replica, to) in [(&second, "the other replica"), (&first, "the same replica")] {
        let r = replica
            .slack
            .post_raw(
                "/slack/interactions",
                FORM,
                &body,
                Some((now, signature.clone())),
            )
            .await;
        assert_eq!(r.status(), 401, "{to}");
        assert!(r.text().await.unwrap().contains("already received"), "{to}");
    }
    assert_eq!(first.count("SELECT COUNT(*) FROM loops").await, 1);
    assert_eq!(first.count("SELECT COUNT(*) FROM jobs").await, jobs);
    let metrics = second.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("loopbot_slack_requests_rejected_total{reason=\"replayed\"} 1"),
        "{metrics}"
    );
}

/// A request that changes nothing (here `/loop start`, which only opens a form) writes nothing,
/// so another replica does not know its signature. Replayed there, it is answered, and has no
/// effect: Slack refuses the trigger it already used, no second form opens, the person is not
/// told that a form failed to open, and nothing is stored.
#[tokio::test]
async fn a_form_request_replayed_to_another_replica_opens_nothing() {
    let world = World::new().await;
    let first = world.spawn_app().await;
    let second = world.spawn_app().await;
    let body = first
        .slack
        .command_body(COORDINATOR, &world.hiring_channel, "start Ada");
    let now = world.clock.now_secs();
    let signature = first.slack.signature_for(now, &body);
    let r = first
        .slack
        .post_raw(
            "/slack/commands",
            FORM,
            &body,
            Some((now, signature.clone())),
        )
        .await;
    assert_eq!(r.status(), 200);
    first.slack.settle_body(&r, &body).await;
    let r = second
        .slack
        .post_raw("/slack/commands", FORM, &body, Some((now, signature)))
        .await;
    assert_eq!(r.status(), 200);
    second.slack.settle_body(&r, &body).await;
    assert_eq!(
        world.sim.views_of(COORDINATOR).len(),
        1,
        "the replay opened nothing on the other replica"
    );
    assert!(
        world.sim.responses().is_empty(),
        "no 'the form did not open' note for a form that did open"
    );
    nothing_stored(&first).await;
    // A fresh delivery (Slack signs each one anew) works on either.
    let fresh = first
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada")
        .await;
    assert_eq!(fresh.status(), 200);
    assert_eq!(world.sim.views_of(COORDINATOR).len(), 2);
}

async fn nothing_stored(app: &TestApp) {
    for table in [
        "SELECT COUNT(*) FROM loops",
        "SELECT COUNT(*) FROM jobs",
        "SELECT COUNT(*) FROM slack_receipts",
    ] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn every_slack_endpoint_is_guarded() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let event = json!({"type": "url_verification", "challenge": "abc", "token": "t"}).to_string();
    for (path, content_type, body) in [
        (
            "/slack/commands",
            FORM,
            "command=%2Floop&text=help".to_string(),
        ),
        ("/slack/interactions", FORM, "payload=%7B%7D".to_string()),
        ("/slack/events", JSON, event),
    ] {
        let r = app.slack.post_raw(path, content_type, &body, None).await;
        assert_eq!(r.status(), 401, "{path}");
    }
    nothing_happened(&world, &app).await;
}

#[tokio::test]
async fn url_verification_answers_the_challenge() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let body = json!({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"});
    let r = app
        .slack
        .post_signed("/slack/events", JSON, &body.to_string())
        .await;
    assert_eq!(r.status(), 200);
    let answer: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        answer["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
}

#[tokio::test]
async fn oversized_and_malformed_bodies_get_clear_answers_and_change_nothing() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let huge = format!("payload={}", "x".repeat(300 * 1024));
    let r = app
        .slack
        .post_signed("/slack/interactions", FORM, &huge)
        .await;
    assert_eq!(r.status(), 413);

    let r = app
        .slack
        .post_signed("/slack/interactions", FORM, "payload=%7Bnot-json")
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("malformed interaction"));

    let r = app
        .slack
        .post_signed("/slack/commands", FORM, "command=%2Floop&text=help")
        .await;
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("user_id"));

    let r = app
        .slack
        .post_signed("/slack/events", JSON, "{\"type\":\"nonsense\"}")
        .await;
    assert_eq!(r.status(), 400);
    nothing_happened(&world, &app).await;
}

#[tokio::test]
async fn a_repeated_event_delivery_has_one_effect() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let event = json!({"type": "app_home_opened", "user": OUTSIDER, "channel": "D1", "tab": "home", "event_ts": "1.0"});
    // Slack retries immediately, after 1 minute and after 5 minutes, signing each delivery anew.
    for wait in [0, 1, 60, 300] {
        world.clock.advance(std::time::Duration::from_secs(wait));
        let r = app.slack.event("Ev0001", event.clone()).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM slack_receipts WHERE receipt_key NOT LIKE 'sig:%'")
            .await,
        1
    );
}

/// Slack's published signing example checks both sides at once: the simulator's signer (its
/// own code, written from Slack's page) and Loopbot's verifier (`slack::verify`). Had either
/// drifted from Slack, the two could still agree with each other; against the vector they
/// cannot.
#[test]
fn slacks_published_example_checks_the_simulators_signer_and_loopbots_verifier() {
    use axum::http::{HeaderMap, HeaderValue};
    use loopbot::slack::verify::{self, Rejection};
    use slack_sim::signing;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: i64 = 1531420618;
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const EXPECTED: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    assert_eq!(signing::sign(SECRET, TS, BODY.as_bytes()), EXPECTED);

    let headers = |signature: &str| {
        let mut h = HeaderMap::new();
        h.insert(
            signing::SIGNATURE_HEADER,
            HeaderValue::from_str(signature).unwrap(),
        );
        h.insert(signing::TIMESTAMP_HEADER, HeaderValue::from(TS));
        h
    };
    assert_eq!(
        verify::verify(SECRET, &headers(EXPECTED), BODY.as_bytes(), TS + 60),
        Ok(EXPECTED)
    );
    // The verifier refuses the published signature for any other body or secret.
    assert_eq!(
        verify::verify(SECRET, &headers(EXPECTED), b"text=other", TS),
        Err(Rejection::BadSignature)
    );
    assert_eq!(
        verify::verify("another-secret", &headers(EXPECTED), BODY.as_bytes(), TS),
        Err(Rejection::BadSignature)
    );
    // And what the simulator signs for another body, it accepts.
    let other = signing::sign(SECRET, TS, b"payload=%7B%7D");
    assert_eq!(
        verify::verify(SECRET, &headers(&other), b"payload=%7B%7D", TS),
        Ok(other.as_str())
    );
}

/// A scorecard submission replayed, byte for byte, to the same replica or another: refused
/// as already received, and the scorecard, its audit and its jobs are there once. (The
/// receipt goes in the same trip to the database as the scorecard.)
#[tokio::test]
async fn a_scorecard_submission_replayed_is_refused_and_stored_once() {
    let world = World::new().await;
    let first = world.spawn_app().await;
    let second = world.spawn_app().await;
    provisioned(&world, &first).await;
    let view = press_stage(&world, &first, SCREENER, 1).await;
    let form = filled_scorecard(&view.view, "4", EVIDENCE);
    let payload = first.slack.submission_payload(SCREENER, &view.id, &form);
    let body = slack_sim::client::SlackSide::interaction_body(&payload);
    let now = world.clock.now_secs();
    let signature = first.slack.signature_for(now, &body);
    let send = async |app: &TestApp| {
        app.slack
            .post_raw(
                "/slack/interactions",
                FORM,
                &body,
                Some((now, signature.clone())),
            )
            .await
    };
    let r = send(&first).await;
    assert_eq!(r.status(), 200);
    let counts = async |app: &TestApp| {
        (
            app.count("SELECT COUNT(*) FROM scorecards").await,
            app.count("SELECT COUNT(*) FROM audit_log WHERE action LIKE 'scorecard_%'")
                .await,
            app.count("SELECT COUNT(*) FROM jobs").await,
        )
    };
    let stored = counts(&first).await;
    assert_eq!((stored.0, stored.1), (1, 1));

    for (replica, to) in [(&second, "the other replica"), (&first, "the same replica")] {
        let r = send(replica).await;
        assert_eq!(r.status(), 401, "{to}");
        assert!(r.text().await.unwrap().contains("already received"), "{to}");
        assert_eq!(counts(&first).await, stored, "{to}");
    }
}
