//! A hire or rejection in the ATS, shown on the loop's pinned summary (never recorded as the
//! loop's decision), whatever the order and number of the webhooks that report it.

use std::time::Duration;

use slack_sim::ats::{SimAts, SimOutcome};

use crate::ats_webhooks::{ats_world, give_emails, ines};
use crate::helpers::{START_MS, TestApp, World, summary};

const HOUR: i64 = 3_600_000;

fn summary_text(world: &World) -> String {
    summary(world).blocks.to_string()
}

async fn loop_status(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT status FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn greenhouse_hire_and_reject_show_in_the_summary_and_an_older_event_changes_nothing() {
    let world = World::new().await;
    give_emails(&world);
    let ats = ats_world(&world, SimAts::Greenhouse).await;
    ats.sim.schedule(
        "5001",
        "8001",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines()],
    );
    assert_eq!(
        ats.deliver(&ats.sim.greenhouse_stage_change("5001")).await,
        200
    );
    ats.app.run_jobs().await;
    assert_eq!(ats.app.count("SELECT COUNT(*) FROM loops").await, 1);
    assert!(!summary_text(&world).contains("In Greenhouse"));
    let status_before = loop_status(&ats.app).await;

    // Rejected in Greenhouse: the summary says so; the loop's decision is not recorded.
    world.clock.advance(Duration::from_secs(60));
    ats.sim.set_outcome("5001", Some(SimOutcome::Rejected));
    let reject = ats.sim.greenhouse_decision("reject_candidate", "5001");
    assert_eq!(ats.deliver(&reject).await, 200);
    world.clock.advance(Duration::from_secs(2));
    ats.app.run_jobs().await;
    let text = summary_text(&world);
    assert!(text.contains("In Greenhouse: rejected"), "{text}");
    assert_eq!(
        loop_status(&ats.app).await,
        status_before,
        "no decision from the ATS"
    );

    // Then hired (unrejected and hired later): the summary follows.
    world.clock.advance(Duration::from_secs(60));
    ats.sim.set_outcome("5001", Some(SimOutcome::Hired));
    assert_eq!(
        ats.deliver(&ats.sim.greenhouse_decision("hire_candidate", "5001"))
            .await,
        200
    );
    world.clock.advance(Duration::from_secs(2));
    ats.app.run_jobs().await;
    let text = summary_text(&world);
    assert!(text.contains("In Greenhouse: hired"), "{text}");
    assert!(!text.contains("rejected"), "{text}");

    // The older rejection arrives again (a retry, with the same event id) and as a fresh
    // delivery late: neither undoes the hire, and the summary is not edited for it.
    let edits = summary(&world).edits.len();
    assert_eq!(ats.deliver(&reject).await, 200);
    assert_eq!(
        ats.deliver(&ats.sim.greenhouse_decision("reject_candidate", "5001"))
            .await,
        200
    );
    world.clock.advance(Duration::from_secs(2));
    ats.app.run_jobs().await;
    let text = summary_text(&world);
    assert!(text.contains("In Greenhouse: hired"), "{text}");
    assert_eq!(summary(&world).edits.len(), edits, "one effect per change");
    assert_eq!(loop_status(&ats.app).await, status_before);
    assert_eq!(
        ats.app
            .count("SELECT COUNT(*) FROM audit_log WHERE action = 'ats_outcome'")
            .await,
        2
    );
}

#[tokio::test]
async fn an_ashby_hire_shows_in_the_summary() {
    let world = World::new().await;
    give_emails(&world);
    let ats = ats_world(&world, SimAts::Ashby).await;
    let tech = ats.sim.schedule(
        "5001",
        "int-tech",
        "Technical",
        START_MS + 24 * HOUR,
        60,
        &[ines()],
    );
    assert_eq!(
        ats.deliver(&ats.sim.ashby_schedule_webhook(&tech)).await,
        200
    );
    ats.app.run_jobs().await;
    world.clock.advance(Duration::from_secs(60));
    ats.sim.set_outcome("5001", Some(SimOutcome::Hired));
    let hire = ats.sim.ashby_application_webhook("candidateHire", "5001");
    assert_eq!(ats.deliver(&hire).await, 200);
    world.clock.advance(Duration::from_secs(2));
    ats.app.run_jobs().await;
    let text = summary_text(&world);
    assert!(text.contains("In Ashby: hired"), "{text}");
}
