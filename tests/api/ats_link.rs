//! `/loop link <ATS URL or id>` through signed slash commands: a loop started by hand is linked
//! to its (simulated) Greenhouse application by a durable job, after which the ATS feeds it;
//! and each refusal, in a sentence.

use std::time::Duration;

use slack_sim::ats::SimAts;

use crate::ats_webhooks::{ats_world, cody, dms_with, give_emails};
use crate::helpers::{
    CODER, COORDINATOR, OUTSIDER, START_MS, TestApp, World, loop_channel, loop_channels,
    provisioned, start_standard_loop,
};

const HOUR: i64 = 3_600_000;

async fn say(app: &TestApp, user: &str, channel: &str, text: &str) -> String {
    let response = app.slack.command(user, channel, text).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    body["text"].as_str().unwrap_or_default().to_string()
}

async fn technical_screen(app: &TestApp, loop_id: i64) -> (Option<i64>, Vec<String>) {
    let at: Option<i64> = sqlx::query_scalar(
        "SELECT interview_at FROM stages WHERE loop_id = $1 AND stage_key = 'technical-screen'",
    )
    .bind(loop_id)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    let who: Vec<String> = sqlx::query_scalar(
        "SELECT i.user_id FROM stage_interviewers i JOIN stages s
            ON s.loop_id = i.loop_id AND s.position = i.position
          WHERE s.loop_id = $1 AND s.stage_key = 'technical-screen' ORDER BY i.user_id",
    )
    .bind(loop_id)
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    (at, who)
}

async fn source(app: &TestApp, loop_id: i64) -> String {
    sqlx::query_scalar("SELECT source_view_id FROM loops WHERE id = $1")
        .bind(loop_id)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_hand_started_loop_is_linked_and_then_follows_the_ats() {
    let world = World::new().await;
    give_emails(&world);
    let ats = ats_world(&world, SimAts::Greenhouse).await;
    provisioned(&world, &ats.app).await;
    let channel = loop_channel(&world);
    let posts_before = world.sim.messages(&channel.id).len();
    let tech = ats.sim.schedule(
        "5001",
        "8001",
        "Technical",
        START_MS + 30 * HOUR,
        60,
        &[cody()],
    );

    let answer = say(
        &ats.app,
        COORDINATOR,
        &channel.id,
        "link https://app.greenhouse.io/people/6001/applications/5001",
    )
    .await;
    assert!(
        answer.contains("Checking application `5001` in Greenhouse"),
        "{answer}"
    );
    ats.app.run_jobs().await;
    assert_eq!(
        dms_with(
            &world,
            COORDINATOR,
            "now follows Greenhouse application `5001`"
        ),
        1
    );
    assert_eq!(source(&ats.app, 1).await, "ats:greenhouse:5001");
    assert_eq!(
        ats.app.count("SELECT COUNT(*) FROM loops").await,
        1,
        "no second loop"
    );
    assert_eq!(loop_channels(&world).len(), 1);
    assert_eq!(
        technical_screen(&ats.app, 1).await,
        (Some(START_MS + 30 * HOUR), vec![CODER.to_string()]),
        "the ATS's time and panel"
    );
    assert_eq!(
        world.sim.messages(&channel.id).len(),
        posts_before,
        "stage posts are edited, not posted again"
    );

    // Moved in Greenhouse; a webhook (or the poll) makes Loopbot read it: the stage moves.
    world.clock.advance(Duration::from_secs(60));
    ats.sim.move_interview(&tech, START_MS + 40 * HOUR, 60);
    assert_eq!(
        ats.deliver(&ats.sim.greenhouse_stage_change("5001")).await,
        200
    );
    ats.app.run_jobs().await;
    assert_eq!(
        technical_screen(&ats.app, 1).await.0,
        Some(START_MS + 40 * HOUR)
    );

    // Linking again is answered, and changes nothing.
    let again = say(&ats.app, COORDINATOR, &channel.id, "link greenhouse:5001").await;
    assert!(
        again.contains("already follows Greenhouse application `5001`"),
        "{again}"
    );
}

#[tokio::test]
async fn link_refuses_bad_ids_unknown_or_taken_applications_and_outsiders() {
    let world = World::new().await;
    give_emails(&world);
    let ats = ats_world(&world, SimAts::Greenhouse).await;
    provisioned(&world, &ats.app).await;
    let channel = loop_channel(&world).id;

    let answer = say(&ats.app, COORDINATOR, &channel, "link abc").await;
    assert!(
        answer.contains("not an Ashby or Greenhouse application"),
        "{answer}"
    );
    let answer = say(
        &ats.app,
        COORDINATOR,
        &channel,
        "link https://app.greenhouse.io/people/6001",
    )
    .await;
    assert!(
        answer.contains("a candidate, not an application"),
        "{answer}"
    );
    let answer = say(&ats.app, COORDINATOR, &channel, "link").await;
    assert!(answer.contains("/loop link"), "{answer}");
    let answer = say(&ats.app, OUTSIDER, &channel, "link 5001").await;
    assert!(answer.contains("Only the hiring manager"), "{answer}");
    assert_eq!(
        ats.app
            .count("SELECT COUNT(*) FROM jobs WHERE kind = 'ats_link'")
            .await,
        0
    );

    // Unknown in Greenhouse: checked by the job, told by DM, nothing linked.
    let answer = say(&ats.app, COORDINATOR, &channel, "link 9999").await;
    assert!(answer.contains("Checking"), "{answer}");
    ats.app.run_jobs().await;
    assert_eq!(
        dms_with(&world, COORDINATOR, "Greenhouse has no such application"),
        1
    );
    assert!(!source(&ats.app, 1).await.starts_with("ats:"));

    // Linked here; a second loop cannot take the same application.
    say(&ats.app, COORDINATOR, &channel, "link 5001").await;
    ats.app.run_jobs().await;
    assert_eq!(source(&ats.app, 1).await, "ats:greenhouse:5001");
    start_standard_loop(&world, &ats.app).await;
    ats.app.run_jobs().await;
    let second = loop_channels(&world)
        .into_iter()
        .find(|c| c.id != channel)
        .expect("a second loop channel");
    let answer = say(&ats.app, COORDINATOR, &second.id, "link 5001").await;
    assert!(
        answer.contains("already feeds the loop of *Ada Lovelace*"),
        "{answer}"
    );
    assert!(!source(&ats.app, 2).await.starts_with("ats:"));
}

#[tokio::test]
async fn link_without_an_ats_says_so() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let channel = loop_channel(&world).id;
    let answer = say(&app, COORDINATOR, &channel, "link 5001").await;
    assert!(answer.contains("No ATS is connected"), "{answer}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'ats_link'")
            .await,
        0
    );
}
