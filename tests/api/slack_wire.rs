//! The paths that broke when Loopbot sent its read methods as JSON, each through the real
//! HTTP surface against the strict simulator (which, as Slack does, ignores a JSON body sent
//! to a method that reads only form arguments): a loop provisioned, a channel made before a
//! crash adopted, a post and a thread reply whose answers were lost reconciled, a long thread
//! purged page by page. Each also checks that the reads it depends on went out as form
//! arguments and were answered `ok`.

use std::time::Duration;

use slack_sim::{BOT_USER_ID, Fault};

use crate::helpers::*;

/// Calls of `method` sent as form arguments (or a query string) and answered `ok`.
fn read_as_form(world: &World, method: &str) -> usize {
    world
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.method == method && c.ok)
        .filter_map(|c| c.wire)
        .filter(|w| w.content_type.is_empty() || w.content_type == FORM)
        .count()
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test]
async fn a_loop_started_by_command_is_provisioned_on_slacks_wire() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let opened = app
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    assert_eq!(opened.status(), 200);
    let view = latest_view(&world, COORDINATOR);
    let r = app
        .slack
        .submit_view(COORDINATOR, &view.id, &full_start_form())
        .await;
    assert_eq!(r.status(), 200);
    app.run_jobs().await;

    // Members asked before the invite, the panel invited, the stages posted, the summary
    // pinned.
    assert!(read_as_form(&world, "conversations.members") >= 1);
    let channel = loop_channel(&world);
    for person in [COORDINATOR, HIRING_MANAGER, SCREENER, DESIGNER, CODER] {
        assert!(channel.members.iter().any(|m| m == person), "{person}");
    }
    assert_one_channel_posted_once(&world);
    let messages = world.sim.messages(&channel.id);
    assert!(blocks_text(&messages[1].blocks).contains("stage 1 of 4"));
    assert_eq!(world.sim.pins(&channel.id), vec![messages[0].ts.clone()]);
}

#[tokio::test]
async fn a_channel_made_before_a_crash_is_adopted_through_conversations_list() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    // Slack makes the channel; the process dies before its id is stored.
    world
        .sim
        .inject_fault("conversations.create", Fault::LoseAnswer { status: 502 });
    start_standard_loop(&world, &app).await;
    app.run_jobs().await;
    app.stop().await;

    let app = world.spawn_app().await;
    world.clock.advance(Duration::from_secs(60));
    app.run_jobs().await;
    assert!(
        world
            .sim
            .channel_named("loop-ada-lovelace-senior-backend-2")
            .is_none(),
        "no second channel"
    );
    assert_one_channel_posted_once(&world);
    assert!(read_as_form(&world, "conversations.list") >= 1);
}

#[tokio::test]
async fn a_post_and_a_thread_reply_whose_answers_were_lost_are_found_not_repeated() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    // The first rubric post (call 1) and the first full rubric in a thread (call 6, after
    // the four rubric posts and the summary) reach Slack, their answers do not.
    world
        .sim
        .inject_fault("chat.postMessage", Fault::LoseAnswer { status: 504 });
    world
        .sim
        .inject_fault_on_call("chat.postMessage", 6, Fault::LoseAnswer { status: 500 });
    start_standard_loop(&world, &app).await;
    for _ in 0..4 {
        app.run_jobs().await;
        world.clock.advance(Duration::from_secs(60));
    }
    assert_one_channel_posted_once(&world);
    assert!(read_as_form(&world, "conversations.history") >= 1);
    assert!(read_as_form(&world, "conversations.replies") >= 1);
}

#[tokio::test]
async fn purge_slack_pages_through_a_thread_longer_than_a_page() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let channel = loop_channel(&world).id;
    let rubric = world.sim.messages(&channel)[0].ts.clone();
    // More bot replies in one thread than one conversations.replies page holds (200).
    for i in 0..230 {
        let answer = world.sim.handle(
            "chat.postMessage",
            Some(BOT_TOKEN),
            serde_json::json!({"channel": channel, "thread_ts": rubric, "text": format!("note {i}")}),
        );
        assert!(answer.ok());
    }
    world
        .sim
        .reply_by_user(&channel, &rubric, DESIGNER, "a person's words stay");
    loopbot::cli::purge::purge_loops(
        &app.state.db,
        &[1],
        &[1],
        loopbot::cli::purge::ACTOR,
        app.state.clock.now_ms(),
    )
    .await
    .expect("the purge commits");
    for _ in 0..10 {
        app.run_jobs().await;
        world.clock.advance(Duration::from_secs(61));
    }
    let left: Vec<_> = world
        .sim
        .all_messages(&channel)
        .into_iter()
        .filter(|m| m.user == BOT_USER_ID)
        .collect();
    assert!(left.is_empty(), "{} bot messages left", left.len());
    let people: Vec<_> = world.sim.replies(&channel, &rubric);
    assert_eq!(people.len(), 1);
    assert_eq!(people[0].text, "a person's words stay");
    let replies_pages = world
        .sim
        .calls()
        .into_iter()
        .filter(|c| c.method == "conversations.replies" && c.ok)
        .filter(|c| c.params["ts"] == rubric.as_str())
        .count();
    assert!(replies_pages >= 2, "the thread is read page by page");
    assert!(read_as_form(&world, "conversations.replies") >= 2);
}
