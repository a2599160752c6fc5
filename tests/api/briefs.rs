//! The interviewer's week: a brief before each interview, one friendly nudge after it, and
//! the earlier stages' hand-off notes, each sent once.

use std::time::Duration;

use loopbot::clock::Clock;
use loopbot::slack::ids::SCORECARD_OPEN;
use slack_sim::client::FormValues;

use crate::helpers::*;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;

/// Stage 1 (the technical screen, 30 minutes) is at START + 1 day.
const SCREEN_AT: i64 = START_MS + DAY;

fn briefs_to(world: &World, user: &str) -> Vec<slack_sim::SimMessage> {
    world
        .sim
        .dms_to(user)
        .into_iter()
        .filter(|m| m.text.contains("is coming up"))
        .collect()
}

fn nudges_to(world: &World, user: &str) -> Vec<slack_sim::SimMessage> {
    world
        .sim
        .dms_to(user)
        .into_iter()
        .filter(|m| {
            m.text.starts_with("Your scorecard for") && m.blocks.to_string().contains("How did")
        })
        .collect()
}

fn set(world: &World, at: i64) {
    world.clock.set(at);
}

#[tokio::test]
async fn a_brief_arrives_before_the_interview_once_and_again_only_for_a_new_time() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;

    set(&world, SCREEN_AT - 31 * MINUTE);
    app.run_jobs().await;
    assert!(briefs_to(&world, SCREENER).is_empty(), "not yet");
    set(&world, SCREEN_AT - 30 * MINUTE);
    app.run_jobs().await;
    let briefs = briefs_to(&world, SCREENER);
    assert_eq!(briefs.len(), 1, "thirty minutes before");
    let shown = briefs[0].blocks.to_string();
    for expected in [
        "Technical screen",
        "Ada Lovelace",
        "*Ask:*",
        "Listen for",
        "Red flags",
        "opens when the interview starts",
    ] {
        assert!(shown.contains(expected), "{expected}: {shown}");
    }
    assert!(
        shown.len() < 3_000,
        "short enough for a phone: {}",
        shown.len()
    );

    // A restart, more sweeps: still one.
    app.stop().await;
    let app = world.spawn_app().await;
    world.clock.advance(Duration::from_secs(60));
    app.run_jobs().await;
    assert_eq!(
        briefs_to(&world, SCREENER).len(),
        1,
        "once, across restarts"
    );

    // The values interview (Ines again) gets a time: a brief for that one.
    let channel = loop_channel(&world);
    app.slack.command(COORDINATOR, &channel.id, "panel").await;
    let form = latest_view(&world, COORDINATOR);
    let values_at = (world.clock.now_ms() + 2 * DAY) / 1000;
    let r = app
        .slack
        .submit_view(
            COORDINATOR,
            &form.id,
            &FormValues::new().date_time("time:values", values_at),
        )
        .await;
    assert_eq!(r.status(), 200);
    app.run_jobs().await;
    set(&world, values_at * 1000 - 29 * MINUTE);
    app.run_jobs().await;
    let briefs = briefs_to(&world, SCREENER);
    assert_eq!(briefs.len(), 2);
    assert!(
        briefs[1]
            .blocks
            .to_string()
            .contains("Values and collaboration")
    );
}

#[tokio::test]
async fn one_friendly_nudge_after_the_interview_unless_the_scorecard_is_in() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    // The screen ends at +30 min; the nudge comes an hour later.
    set(&world, SCREEN_AT + 89 * MINUTE);
    app.run_jobs().await;
    assert!(nudges_to(&world, SCREENER).is_empty());
    set(&world, SCREEN_AT + 90 * MINUTE);
    app.run_jobs().await;
    let nudges = nudges_to(&world, SCREENER);
    assert_eq!(nudges.len(), 1);
    assert!(button(&nudges[0].blocks, SCORECARD_OPEN).is_some());
    assert!(
        !nudges[0].blocks.to_string().contains("was due"),
        "nothing is due yet"
    );
    for _ in 0..3 {
        world.clock.advance(Duration::from_secs(3600));
        app.run_jobs().await;
    }
    assert_eq!(nudges_to(&world, SCREENER).len(), 1, "once");

    // System design: Harper submits before the nudge; Dev does not.
    set(&world, SCREEN_AT + DAY + 70 * MINUTE);
    submit_stage(&world, &app, HIRING_MANAGER, 2, "3").await;
    set(&world, SCREEN_AT + DAY + 120 * MINUTE);
    app.run_jobs().await;
    assert_eq!(nudges_to(&world, DESIGNER).len(), 1);
    assert!(nudges_to(&world, HIRING_MANAGER).is_empty(), "already in");
}

#[tokio::test]
async fn the_earlier_stages_concerns_reach_the_next_interviewers_brief_and_form_but_no_scores() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let concern = "Probe how they handle backpressure; the answer on queues was thin.";
    let form = filled_scorecard(&view.view, "4", EVIDENCE).text("concerns", concern);
    let r = app.slack.submit_view(SCREENER, &view.id, &form).await;
    assert_eq!(r.status(), 200);
    app.run_jobs().await;
    // System design is at START + 2 days.
    set(&world, START_MS + 2 * DAY - 30 * MINUTE);
    app.run_jobs().await;
    let brief = briefs_to(&world, DESIGNER);
    assert_eq!(brief.len(), 1);
    let shown = brief[0].blocks.to_string();
    assert!(
        shown.contains("From earlier stages") && shown.contains("backpressure"),
        "{shown}"
    );
    assert!(
        !shown.contains("Strong yes") && !shown.contains("sharded queue"),
        "no ratings, no evidence: {shown}"
    );
    // And on the scorecard form, once the interview starts.
    let form = press_stage(&world, &app, DESIGNER, 2).await;
    let shown = form.view.to_string();
    assert_eq!(form.view["callback_id"], "scorecard");
    assert!(
        shown.contains("From earlier stages")
            && shown.contains("_Technical screen:_")
            && shown.contains("backpressure"),
        "{shown}"
    );
    assert!(
        !shown.contains("sharded queue"),
        "no evidence on the form: {shown}"
    );
    // The screen's own form has no earlier stage to hear from.
    let screen_form = press_stage(&world, &app, SCREENER, 1).await;
    assert!(!screen_form.view.to_string().contains("From earlier stages"));
}
