//! Exactly once, and nothing given up: a process killed between Slack's answer and its commit
//! never leaves a second stage post, summary, note or direct message, and an outage of Slack of
//! any length ends with every job delivered, none failed, soon after Slack is back.

use std::time::{Duration, Instant};

use loopbot::clock::Clock;
use slack_sim::Fault;

use crate::helpers::*;

const DAY: u64 = 86_400;

/// The scorecard notes in the stage threads of the loop channel (one per completed stage).
fn notes(world: &World) -> Vec<slack_sim::SimMessage> {
    let channel = loop_channel(world);
    world
        .sim
        .messages(&channel.id)
        .iter()
        .flat_map(|m| world.sim.replies(&channel.id, &m.ts))
        .filter(|m| m.text.contains("scorecards in"))
        .collect()
}

async fn failed_jobs(app: &TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query_as("SELECT kind, last_error FROM jobs WHERE state = 'failed' ORDER BY id")
        .fetch_all(&app.state.db)
        .await
        .unwrap()
}

/// Runs the due jobs until Slack has performed the `nth` next call of `method` and holds back
/// its answer, then kills the process there (its run stops mid-call: nothing after the call is
/// committed, as with `kill -9`), and starts a new one on the same database with `settings`,
/// which takes the interrupted work back at once.
pub async fn kill_while_slack_holds_the_answer(
    world: &World,
    app: TestApp,
    method: &str,
    nth: usize,
    settings: &[(&str, &str)],
) -> TestApp {
    let calls_of = |world: &World| {
        world
            .sim
            .calls()
            .iter()
            .filter(|c| c.method == method)
            .count()
    };
    let before = calls_of(world);
    world
        .sim
        .inject_fault_on_call(method, nth, Fault::HoldAnswer { after_ms: 30_000 });
    let state = app.state.clone();
    let run = tokio::spawn(async move { loopbot::jobs::worker::run_due_jobs(&state).await });
    // Real time: the call is in flight over HTTP until the simulator has performed it.
    let deadline = Instant::now() + Duration::from_secs(20);
    while calls_of(world) < before + nth {
        assert!(
            Instant::now() < deadline && !run.is_finished(),
            "call {nth} of {method} never came"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    run.abort();
    let _ = run.await;
    app.stop().await;
    let app = world.spawn_app_with(settings).await;
    let running = app
        .count("SELECT COUNT(*) FROM jobs WHERE state = 'running'")
        .await;
    assert_eq!(running, 0, "the new process took back the interrupted job");
    app
}

#[tokio::test]
async fn a_kill_while_slack_holds_a_stage_posts_answer_leaves_one_stage_post() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    start_standard_loop(&world, &app).await;
    // The summary is posted first, then the stage posts: the third post is the second stage's.
    let app =
        kill_while_slack_holds_the_answer(&world, app, "chat.postMessage", 3, NO_BRIEF_OR_NUDGE)
            .await;
    let posted = world.sim.messages(&loop_channel(&world).id);
    assert_eq!(
        posted.last().unwrap().metadata["event_payload"]["key"],
        "provision:1:rubric:2"
    );
    app.run_jobs().await;
    assert_one_channel_posted_once(&world);
    assert!(failed_jobs(&app).await.is_empty());
}

#[tokio::test]
async fn a_kill_while_slack_holds_the_summarys_answer_leaves_one_summary() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    start_standard_loop(&world, &app).await;
    // The summary is a new loop's first post.
    let app =
        kill_while_slack_holds_the_answer(&world, app, "chat.postMessage", 1, NO_BRIEF_OR_NUDGE)
            .await;
    let posted = world.sim.messages(&loop_channel(&world).id);
    assert_eq!(posted.len(), 1);
    assert_eq!(
        posted[0].metadata["event_payload"]["key"],
        "provision:1:summary"
    );
    app.run_jobs().await;
    assert_one_channel_posted_once(&world);
    let summaries = world
        .sim
        .messages(&loop_channel(&world).id)
        .into_iter()
        .filter(|m| m.metadata["event_payload"]["key"].as_str() == Some("provision:1:summary"))
        .count();
    assert_eq!(summaries, 1);
}

#[tokio::test]
async fn a_kill_while_slack_holds_a_notes_answer_leaves_one_note() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    // The note is the only post the submission makes.
    let app =
        kill_while_slack_holds_the_answer(&world, app, "chat.postMessage", 1, NO_BRIEF_OR_NUDGE)
            .await;
    assert_eq!(notes(&world).len(), 1, "Slack posted it");
    world.clock.advance(Duration::from_secs(5));
    app.run_jobs().await;
    assert_eq!(notes(&world).len(), 1, "and it is not posted again");
    assert!(failed_jobs(&app).await.is_empty());
}

#[tokio::test]
async fn a_kill_while_slack_holds_a_direct_messages_answer_leaves_one_dm() {
    let world = World::new().await;
    let settings = [
        NO_BRIEF_OR_NUDGE[0],
        NO_BRIEF_OR_NUDGE[1],
        ("LOOPBOT_WORK_HOURS", "always"),
        ("LOOPBOT_WORK_DAYS", "always"),
    ];
    let app = world.spawn_app_with(&settings).await;
    provisioned(&world, &app).await;
    // The screen's feedback is overdue: its first reminder is the next post.
    world.clock.advance(Duration::from_secs(3 * DAY));
    let app =
        kill_while_slack_holds_the_answer(&world, app, "chat.postMessage", 1, &settings).await;
    let overdue = |world: &World| {
        world
            .sim
            .dms_to(SCREENER)
            .into_iter()
            .filter(|m| m.text.contains("is overdue"))
            .count()
    };
    assert_eq!(overdue(&world), 1, "Slack delivered it");
    world.clock.advance(Duration::from_secs(5));
    app.run_jobs().await;
    assert_eq!(overdue(&world), 1, "and it is not sent again");
    assert!(failed_jobs(&app).await.is_empty());
}

/// Five scorecards, completing all four stages, come in during an outage of Slack three hours
/// long, whether Slack answers nothing but HTTP 500 or acts and then loses every answer: no job
/// fails, each stage's note is posted once, and everything is delivered within a minute of
/// Slack's return.
#[tokio::test]
async fn an_outage_of_hours_ends_with_everything_delivered_once_within_a_minute() {
    for outage in [Fault::Http(500), Fault::LoseAnswer { status: 502 }] {
        let world = World::new().await;
        let app = world.spawn_app().await;
        provisioned(&world, &app).await;
        // The five scorecard forms are open (views.open is answered while the person waits).
        let mut forms = Vec::new();
        for (user, position) in [
            (SCREENER, 1),
            (DESIGNER, 2),
            (HIRING_MANAGER, 2),
            (CODER, 3),
            (SCREENER, 4),
        ] {
            forms.push((user, press_stage(&world, &app, user, position).await));
        }
        app.run_jobs().await;

        world.sim.start_outage(outage.clone());
        for (user, view) in &forms {
            let form = filled_scorecard(&view.view, "3", EVIDENCE);
            let r = app.slack.submit_view(user, &view.id, &form).await;
            assert_eq!(r.status(), 200, "{outage:?}");
            world.clock.advance(Duration::from_secs(60));
            app.run_jobs().await;
        }
        for _ in 0..(3 * 60) {
            world.clock.advance(Duration::from_secs(60));
            app.run_jobs().await;
        }
        assert!(failed_jobs(&app).await.is_empty(), "{outage:?}");
        let posted = notes(&world).len();
        world.sim.end_outage();

        let back = world.clock.now_ms();
        let mut delivered_after = None;
        for second in 1..=60 {
            world.clock.advance(Duration::from_secs(1));
            app.run_jobs().await;
            if notes(&world).len() == 4 && delivered_after.is_none() {
                delivered_after = Some(second);
            }
        }
        assert!(
            delivered_after.is_some(),
            "{outage:?}: every note within a minute of Slack's return ({} of 4, {posted} posted during the outage)",
            notes(&world).len()
        );
        let queued: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE state <> 'done' AND run_at <= $1")
                .bind(back + 60_000)
                .fetch_one(&app.state.db)
                .await
                .unwrap();
        assert_eq!(queued, 0, "{outage:?}: nothing left waiting");
        assert!(failed_jobs(&app).await.is_empty(), "{outage:?}");
        // Once each, and the pinned summary shows every stage in.
        let mut keys: Vec<String> = notes(&world)
            .iter()
            .map(|m| m.metadata["event_payload"]["key"].to_string())
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 4, "{outage:?}: no note twice");
        assert_eq!(notes(&world).len(), 4, "{outage:?}: one per stage");
        assert!(
            summary(&world).blocks.to_string().contains("*4 of 4 in*"),
            "{outage:?}"
        );
        let metrics = app.get("/metrics").await.text().await.unwrap();
        assert!(
            !metrics.contains("loopbot_jobs_failed_total"),
            "{outage:?}: {metrics}"
        );
    }
}

/// The reported case: a note's post fails with a 500, and the retry's look for an earlier copy
/// is refused with a code that says nothing about the post (here `invalid_arguments`, as Slack
/// answers a read method whose arguments it cannot read). The note is neither given up nor
/// posted blind: it waits, and is posted once when the look succeeds.
#[tokio::test]
async fn a_refused_look_for_an_earlier_copy_waits_instead_of_failing_the_post() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    world
        .sim
        .inject_fault("chat.postMessage", Fault::LoseAnswer { status: 500 });
    for _ in 0..3 {
        world.sim.inject_fault(
            "conversations.replies",
            Fault::Error("invalid_arguments".into()),
        );
    }
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    for _ in 0..30 {
        world.clock.advance(Duration::from_secs(5));
        app.run_jobs().await;
    }
    let refused = world
        .sim
        .calls()
        .iter()
        .filter(|c| c.error.as_deref() == Some("invalid_arguments"))
        .count();
    assert_eq!(refused, 3, "the look was refused three times");
    assert!(failed_jobs(&app).await.is_empty());
    assert_eq!(notes(&world).len(), 1, "the note Slack made, found, once");
}

/// A refusal that also dooms the post (the conversation is gone) still fails the job.
#[tokio::test]
async fn a_look_that_finds_the_channel_gone_fails_the_post() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    world.sim.inject_fault("chat.postMessage", Fault::Http(500));
    world.sim.inject_fault(
        "conversations.replies",
        Fault::Error("channel_not_found".into()),
    );
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    for _ in 0..10 {
        world.clock.advance(Duration::from_secs(5));
        app.run_jobs().await;
    }
    let failed = failed_jobs(&app).await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "scorecard_note");
    assert!(
        failed[0]
            .1
            .as_deref()
            .is_some_and(|e| e.contains("channel_not_found")),
        "{failed:?}"
    );
}
