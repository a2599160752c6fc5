//! The loop follows the clock: each stage's status by its interview time, a quiet note for a
//! panel out of the rubric's order, and the screen's gate to the owners.

use std::time::Duration;

use loopbot::slack::ids::{SCREEN_CONTINUE, SCREEN_STOP};
use slack_sim::client::FormValues;

use crate::helpers::*;

const MINUTE: i64 = 60_000;
const DAY: i64 = 86_400_000;
/// The technical screen (30 minutes) is at START + 1 day, system design at START + 2 days.
const SCREEN_AT: i64 = START_MS + DAY;

/// The summary's row for stage `position`.
fn row(world: &World, position: u32) -> String {
    let s = summary(world);
    s.blocks
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .find(|t| t.starts_with(&format!("*{position}. ")))
        .unwrap_or_else(|| panic!("a row for stage {position}"))
        .to_string()
}

async fn at(world: &World, app: &TestApp, ms: i64) {
    world.clock.set(ms);
    app.run_jobs().await;
}

fn notes_about_order(world: &World) -> Vec<slack_sim::SimMessage> {
    world
        .sim
        .messages(&loop_channel(world).id)
        .into_iter()
        .filter(|m| m.text.contains("out of the rubric's order"))
        .collect()
}

fn alarms(world: &World) -> usize {
    world
        .sim
        .messages(&loop_channel(world).id)
        .iter()
        .filter(|m| m.text.ends_with("has no feedback"))
        .count()
}

#[tokio::test]
async fn each_stage_status_follows_its_interview_time_without_any_request() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    assert!(
        row(&world, 1).contains("scheduled <!date^"),
        "{}",
        row(&world, 1)
    );
    assert!(row(&world, 3).contains("not scheduled yet"));

    at(&world, &app, SCREEN_AT).await;
    assert!(
        row(&world, 1).contains("interview in progress"),
        "{}",
        row(&world, 1)
    );
    assert!(
        row(&world, 2).contains("scheduled"),
        "system design is tomorrow"
    );

    at(&world, &app, SCREEN_AT + 30 * MINUTE).await;
    assert!(
        row(&world, 1).contains("awaiting feedback"),
        "{}",
        row(&world, 1)
    );
    assert!(!row(&world, 1).contains("due"));

    // Feedback is due 24 hours after the interview ends.
    at(&world, &app, SCREEN_AT + 30 * MINUTE + DAY).await;
    assert!(
        row(&world, 1).contains("due: reminders are going out"),
        "{}",
        row(&world, 1)
    );

    submit_stage(&world, &app, SCREENER, 1, "3").await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert!(row(&world, 1).contains("submitted"), "{}", row(&world, 1));
    // Half of system design's panel is in: awaiting the other half.
    submit_stage(&world, &app, DESIGNER, 2, "3").await;
    world.clock.advance(Duration::from_secs(2 * 3600));
    app.run_jobs().await;
    assert!(
        row(&world, 2).contains("awaiting feedback, 1 of 2 in"),
        "{}",
        row(&world, 2)
    );
}

#[tokio::test]
async fn a_panel_out_of_order_gets_one_quiet_note_and_no_alarm_before_feedback_is_due() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    // Coding on Tuesday afternoon, before system design on Wednesday.
    let coding_at = START_MS + DAY + 5 * 3600 * 1000;
    let opened = app
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    assert_eq!(opened.status(), 200);
    let view = latest_view(&world, COORDINATOR);
    let form = full_start_form().date_time("time:coding", coding_at / 1000);
    let r = app.slack.submit_view(COORDINATOR, &view.id, &form).await;
    assert_eq!(r.status(), 200);
    app.run_jobs().await;
    let notes = notes_about_order(&world);
    assert_eq!(notes.len(), 1, "one note when the loop starts");
    let text = notes[0].blocks.to_string();
    assert!(
        text.contains("Technical screen (")
            && text.contains("Coding (")
            && !text.contains("rotating_light"),
        "{text}"
    );
    assert!(
        text.find("Coding").unwrap() < text.find("System design").unwrap(),
        "in time order: {text}"
    );

    // Coding is in on Tuesday; system design has not happened: no alarm.
    submit_stage(&world, &app, CODER, 3, "3").await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert_eq!(alarms(&world), 0);
    assert!(!summary(&world).blocks.to_string().contains("*missing*"));

    // A panel change that keeps the order: no second note.
    let channel = loop_channel(&world);
    app.slack.command(COORDINATOR, &channel.id, "panel").await;
    let panel = latest_view(&world, COORDINATOR);
    app.slack
        .submit_view(
            COORDINATOR,
            &panel.id,
            &FormValues::new().users("panel:values", &[OUTSIDER]),
        )
        .await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert_eq!(
        notes_about_order(&world).len(),
        1,
        "same order, no new note"
    );

    // Values moves before system design too: a new arrangement, one more note.
    app.slack.command(COORDINATOR, &channel.id, "panel").await;
    let panel = latest_view(&world, COORDINATOR);
    app.slack
        .submit_view(
            COORDINATOR,
            &panel.id,
            &FormValues::new().date_time("time:values", (coding_at + 3_600_000) / 1000),
        )
        .await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert_eq!(notes_about_order(&world).len(), 2);

    // The clock alone, with coding's feedback in: Wednesday 10:00 the screen's feedback
    // (due 09:30) is missing; system design's interview has just ended, so not it.
    at(&world, &app, START_MS + 2 * DAY + 3_600_000).await;
    assert_eq!(alarms(&world), 1);
    assert!(row(&world, 1).contains("*missing*"), "{}", row(&world, 1));
    assert!(!row(&world, 2).contains("*missing*"), "{}", row(&world, 2));
    // Thursday 11:00: system design's feedback was due at 10:00.
    at(&world, &app, START_MS + 3 * DAY + 2 * 3_600_000).await;
    assert_eq!(alarms(&world), 2);
    assert!(row(&world, 2).contains("*missing*"), "{}", row(&world, 2));
}

#[tokio::test]
async fn once_the_screen_is_in_both_owners_are_asked_to_continue_or_stop() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    let screen = press_stage(&world, &app, SCREENER, 1).await;
    let shown = screen.view.to_string();
    assert!(shown.contains("Worth the full loop?"), "{shown}");
    assert!(shown.contains("deeper investment of the full loop"));
    assert!(!shown.contains("Should this candidate be hired"));
    let form = filled_scorecard(&screen.view, "3", EVIDENCE);
    app.slack.submit_view(SCREENER, &screen.id, &form).await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;

    let gate = |user: &str| -> Vec<slack_sim::SimMessage> {
        world
            .sim
            .dms_to(user)
            .into_iter()
            .filter(|m| m.text.contains("technical screen for Ada Lovelace is in"))
            .collect()
    };
    let coordinator = gate(COORDINATOR);
    let manager = gate(HIRING_MANAGER);
    assert_eq!((coordinator.len(), manager.len()), (1, 1));
    let text = coordinator[0].blocks.to_string();
    assert!(
        text.contains(&format!("<@{SCREENER}>: *3 · Yes*")),
        "{text}"
    );
    assert!(text.contains("Next: *System design*"));
    // The hiring manager is on system design's panel: blind to the screen's ratings.
    let text = manager[0].blocks.to_string();
    assert!(!text.contains("Yes*"), "{text}");
    assert!(text.contains("your own scorecards"));
    let (value, label) = button(&coordinator[0].blocks, SCREEN_CONTINUE).unwrap();
    assert_eq!(label, "Continue the loop");
    assert_eq!(
        button(&manager[0].blocks, SCREEN_STOP).unwrap().1,
        "Stop here"
    );

    // An interviewer cannot press them; the coordinator continues.
    let dm = &coordinator[0];
    app.slack
        .press_button(SCREENER, &dm.channel, &dm.ts, SCREEN_CONTINUE, &value)
        .await;
    assert!(is_notice(
        &latest_view(&world, SCREENER),
        "Only the hiring manager"
    ));
    app.slack
        .press_button(COORDINATOR, &dm.channel, &dm.ts, SCREEN_CONTINUE, &value)
        .await;
    assert!(is_notice(
        &latest_view(&world, COORDINATOR),
        "The loop goes on. Next: System design on <!date^"
    ));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'screen_continue'")
            .await,
        1
    );

    // Stop here opens the decision form, listing the stages still without feedback.
    let dm = &manager[0];
    app.slack
        .press_button(HIRING_MANAGER, &dm.channel, &dm.ts, SCREEN_STOP, &value)
        .await;
    let decide = latest_view(&world, HIRING_MANAGER);
    assert_eq!(decide.view["callback_id"], "decide");
    let shown = decide.view.to_string();
    assert!(
        shown.contains("confirm_missing") && shown.contains("System design"),
        "{shown}"
    );
    assert_eq!(
        alarms(&world),
        0,
        "opening the form from the gate posts nothing"
    );

    // Editing the screen's scorecard asks nobody again.
    let again = press_stage(&world, &app, SCREENER, 1).await;
    let form = filled_scorecard(&again.view, "4", EVIDENCE);
    app.slack.submit_view(SCREENER, &again.id, &form).await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert_eq!(
        (gate(COORDINATOR).len(), gate(HIRING_MANAGER).len()),
        (1, 1)
    );
}
