//! `loopbot purge --slack`: the purge queues, in its own transaction, a job that the serving
//! worker runs against Slack (here the simulator, over HTTP): Loopbot's own messages about the
//! candidate are deleted (channel, threads, direct messages), people's messages stay, the
//! channel is renamed `loop-<id>-purged` and archived. A run cut short is finished by the
//! next; running it twice is harmless.

use std::time::Duration;

use loopbot::clock::Clock;
use slack_sim::{BOT_USER_ID, Fault, SimMessage};

use crate::helpers::*;

const DAY: Duration = Duration::from_secs(86_400);

/// A loop that went a good way: provisioned, two stages submitted (notes in their threads),
/// briefs and reminders sent. Returns the loop's channel id.
async fn a_loop_with_history(world: &World, app: &TestApp) -> String {
    provisioned(world, app).await;
    submit_stage(world, app, SCREENER, 1, "3").await;
    app.run_jobs().await;
    submit_stage(world, app, DESIGNER, 2, "3").await;
    app.run_jobs().await;
    // Harper's system-design scorecard is overdue: reminders go out.
    for _ in 0..3 {
        world.clock.advance(DAY);
        app.run_jobs().await;
    }
    loop_channel(world).id
}

fn mentions_candidate(m: &SimMessage) -> bool {
    let text = format!("{} {}", m.text, m.blocks);
    text.contains("Ada") || text.contains("Lovelace")
}

/// Every message Loopbot posted that is still in Slack: in the loop channel (threads too) and
/// in the direct messages of everyone in the loop.
fn bot_messages(world: &World, channel: &str) -> Vec<SimMessage> {
    let mut left: Vec<SimMessage> = world
        .sim
        .all_messages(channel)
        .into_iter()
        .filter(|m| m.user == BOT_USER_ID)
        .collect();
    for person in [COORDINATOR, HIRING_MANAGER, SCREENER, DESIGNER, CODER] {
        left.extend(world.sim.dms_to(person));
    }
    left
}

async fn purge_with_slack(app: &TestApp, loop_id: i64) -> loopbot::services::purge::Purged {
    loopbot::cli::purge::purge_loops(
        &app.state.db,
        &[loop_id],
        &[loop_id],
        loopbot::cli::purge::ACTOR,
        app.state.clock.now_ms(),
    )
    .await
    .expect("the purge commits")
}

async fn jobs_in(app: &TestApp, state: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE kind = 'purge_slack' AND state = $1")
        .bind(state)
        .fetch_one(&app.state.db)
        .await
        .unwrap()
}

async fn audit(app: &TestApp, action: &str) -> Vec<(String, String)> {
    sqlx::query_as("SELECT actor_id, detail FROM audit_log WHERE action = $1 ORDER BY id")
        .bind(action)
        .fetch_all(&app.state.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn purge_slack_deletes_loopbots_messages_keeps_peoples_and_renames_and_archives() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let channel = a_loop_with_history(&world, &app).await;
    let rubric = stage_post(&world, &channel, 1).ts.clone();
    // People's words: one in the channel, one in a rubric thread.
    let said =
        world
            .sim
            .post_message_by_user(&channel, SCREENER, "Ada was great, see my scorecard");
    let human_reply = world
        .sim
        .reply_by_user(&channel, &rubric, DESIGNER, "agreed");
    let before = bot_messages(&world, &channel);
    assert!(
        before.iter().filter(|m| mentions_candidate(m)).count() >= 5,
        "the loop posted about Ada: {}",
        before.len()
    );
    assert!(
        world
            .sim
            .all_messages(&channel)
            .iter()
            .any(|m| m.thread_ts.as_deref() == Some(rubric.as_str()) && m.user == BOT_USER_ID),
        "rubric threads hold Loopbot's replies"
    );
    let dms_before: usize = [COORDINATOR, HIRING_MANAGER, SCREENER, DESIGNER]
        .iter()
        .map(|p| world.sim.dms_to(p).len())
        .sum();
    assert!(dms_before > 0, "briefs, reminders or notices went out");

    let purged = purge_with_slack(&app, 1).await;
    assert_eq!((purged.loops, purged.slack_jobs), (1, 1));
    assert_eq!(
        jobs_in(&app, "queued").await,
        1,
        "queued, not run by the purge"
    );
    assert!(
        !bot_messages(&world, &channel).is_empty(),
        "nothing in Slack changes until the worker runs"
    );
    app.run_jobs().await;

    let left = bot_messages(&world, &channel);
    assert_eq!(left, Vec::<SimMessage>::new(), "no Loopbot message is left");
    let everything: Vec<SimMessage> = world.sim.all_messages(&channel);
    assert_eq!(
        everything.iter().map(|m| m.ts.clone()).collect::<Vec<_>>(),
        vec![said.clone(), human_reply.clone()],
        "people's messages stay"
    );
    assert!(
        world.sim.pins(&channel).is_empty(),
        "the summary was unpinned"
    );
    let c = world.sim.channel(&channel).unwrap();
    assert_eq!(c.name, "loop-1-purged");
    assert!(c.is_archived);
    assert_eq!(jobs_in(&app, "done").await, 1);
    let (channel_name, archived, slack_purged): (Option<String>, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT channel_name, archived_at, slack_purged_at FROM loops")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(channel_name.as_deref(), Some("loop-1-purged"));
    assert!(archived.is_some() && slack_purged.is_some());
    let entries = audit(&app, "slack_purged").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "loopbot");
    assert!(
        entries[0].1.contains(&channel) && entries[0].1.contains("renamed loop-1-purged"),
        "{}",
        entries[0].1
    );
    assert!(!entries[0].1.contains("Ada"));
    assert_eq!(
        audit(&app, "slack_purge_queued").await,
        vec![("loopbot-cli".to_string(), String::new())]
    );
    let deleted = app
        .state
        .metrics
        .get("loopbot_slack_messages_deleted_total", "in=\"channel\"")
        + app
            .state
            .metrics
            .get("loopbot_slack_messages_deleted_total", "in=\"thread\"")
        + app
            .state
            .metrics
            .get("loopbot_slack_messages_deleted_total", "in=\"dm\"");
    assert_eq!(deleted as usize, before.len(), "each deleted once");
    let errors: Vec<_> = world
        .sim
        .calls()
        .into_iter()
        .filter(|c| !c.ok)
        .map(|c| (c.method, c.error))
        .collect();
    assert_eq!(errors, vec![], "no call Slack refused");

    // Twice: harmless. Nothing is left to delete, the name is kept, nothing fails.
    let calls = world.sim.calls().len();
    let again = purge_with_slack(&app, 1).await;
    assert_eq!((again.loops, again.slack_jobs), (0, 1));
    app.run_jobs().await;
    assert_eq!(jobs_in(&app, "done").await, 1);
    assert_eq!(jobs_in(&app, "failed").await, 0);
    assert_eq!(audit(&app, "slack_purged").await.len(), 2);
    let second: Vec<_> = world.sim.calls()[calls..]
        .iter()
        .map(|c| (c.method.clone(), c.ok))
        .collect();
    assert!(
        second
            .iter()
            .all(|(m, ok)| *ok && m != "chat.delete" && m != "conversations.rename"),
        "{second:?}"
    );
    assert_eq!(world.sim.channel(&channel).unwrap().name, "loop-1-purged");
    assert_eq!(world.sim.all_messages(&channel).len(), 2);
}

#[tokio::test]
async fn after_the_purge_loopbot_sends_nothing_more_about_the_candidate() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let channel = a_loop_with_history(&world, &app).await;
    purge_with_slack(&app, 1).await;
    app.run_jobs().await;
    // Weeks pass: no reminder, brief or nudge for the purged loop goes out.
    for _ in 0..10 {
        world.clock.advance(DAY);
        app.run_jobs().await;
    }
    assert_eq!(bot_messages(&world, &channel), Vec::<SimMessage>::new());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_run_cut_short_is_finished_after_a_restart_without_errors() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let channel = a_loop_with_history(&world, &app).await;
    let before = bot_messages(&world, &channel).len();
    // The third deletion is carried out, then its answer is lost (a proxy's 502); the run
    // fails there, part of the way through.
    world
        .sim
        .inject_fault_on_call("chat.delete", 3, Fault::LoseAnswer { status: 502 });
    purge_with_slack(&app, 1).await;
    app.run_jobs().await;
    let after_first = bot_messages(&world, &channel).len();
    assert_eq!(
        after_first,
        before - 3,
        "three deleted, then the run failed"
    );
    assert_eq!(jobs_in(&app, "queued").await, 1, "to be retried");

    // Loopbot stops (as after a crash) and starts again on the same database.
    app.stop().await;
    let app = world.spawn_app().await;
    world.clock.advance(Duration::from_secs(60));
    app.run_jobs().await;
    assert_eq!(bot_messages(&world, &channel), Vec::<SimMessage>::new());
    assert_eq!(jobs_in(&app, "done").await, 1);
    let c = world.sim.channel(&channel).unwrap();
    assert_eq!((c.name.as_str(), c.is_archived), ("loop-1-purged", true));
    let refused: Vec<_> = world
        .sim
        .calls()
        .into_iter()
        .filter(|c| !c.ok && c.http_status == 200)
        .map(|c| (c.method, c.error))
        .collect();
    assert_eq!(refused, vec![], "the retry met no Slack error");
}

#[tokio::test]
async fn a_message_already_gone_counts_as_deleted_and_a_second_purge_finishes_the_rest() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let channel = a_loop_with_history(&world, &app).await;
    // Slack says a message is gone (someone deleted it meanwhile): not an error. (The second
    // deletion: the newest stage post, after the reply in its thread.)
    world
        .sim
        .inject_fault_on_call("chat.delete", 2, Fault::Error("message_not_found".into()));
    purge_with_slack(&app, 1).await;
    app.run_jobs().await;
    assert_eq!(jobs_in(&app, "done").await, 1);
    assert_eq!(
        bot_messages(&world, &channel).len(),
        1,
        "the one Slack said was gone"
    );
    purge_with_slack(&app, 1).await;
    app.run_jobs().await;
    assert_eq!(bot_messages(&world, &channel), Vec::<SimMessage>::new());
    assert_eq!(jobs_in(&app, "failed").await, 0);
}

#[tokio::test]
async fn an_archived_channel_keeps_its_name_and_the_audit_says_why() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let channel = a_loop_with_history(&world, &app).await;
    let name = loop_channel(&world).name;
    world.sim.archive_channel_by_user(&channel);
    purge_with_slack(&app, 1).await;
    app.run_jobs().await;
    assert_eq!(bot_messages(&world, &channel), Vec::<SimMessage>::new());
    let c = world.sim.channel(&channel).unwrap();
    assert_eq!(c.name, name, "Slack lets no bot rename an archived channel");
    assert!(
        !world
            .sim
            .calls()
            .iter()
            .any(|c| c.method == "conversations.rename"),
        "not even tried"
    );
    let entries = audit(&app, "slack_purged").await;
    assert!(
        entries[0].1.contains("is archived") && !entries[0].1.contains(&name),
        "{}",
        entries[0].1
    );
    assert_eq!(jobs_in(&app, "done").await, 1);
}

#[tokio::test]
async fn retention_cleans_up_slack_too_unless_told_to_keep_it() {
    for (setting, cleaned) in [("delete", true), ("keep", false)] {
        let world = World::new().await;
        let app = world
            .spawn_app_with(&[("LOOPBOT_RETAIN", "30d"), ("LOOPBOT_RETAIN_SLACK", setting)])
            .await;
        let channel = a_loop_with_history(&world, &app).await;
        sqlx::query("UPDATE loops SET status = 'decided', decision = 'hire', decided_at = $1")
            .bind(world.clock.now_ms())
            .execute(&app.state.db)
            .await
            .unwrap();
        world.clock.advance(31 * DAY);
        loopbot::jobs::worker::housekeeping(&app.state)
            .await
            .unwrap();
        app.run_jobs().await;
        assert_eq!(
            bot_messages(&world, &channel).is_empty(),
            cleaned,
            "LOOPBOT_RETAIN_SLACK={setting}"
        );
        assert_eq!(
            world.sim.channel(&channel).unwrap().name == "loop-1-purged",
            cleaned
        );
    }
}

#[tokio::test]
async fn another_loops_channel_and_direct_messages_are_left_alone() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let first = loop_channel(&world).id;
    // A second candidate with the same panel: its own channel, its own DMs.
    start_standard_loop(&world, &app).await;
    app.run_jobs().await;
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    app.run_jobs().await;
    for _ in 0..3 {
        world.clock.advance(DAY);
        app.run_jobs().await;
    }
    let second = loop_channels(&world)
        .into_iter()
        .find(|c| c.id != first)
        .expect("a second loop channel")
        .id;
    let second_posts = world.sim.all_messages(&second);
    let dms_about_second: Vec<SimMessage> =
        [COORDINATOR, HIRING_MANAGER, SCREENER, DESIGNER, CODER]
            .iter()
            .flat_map(|p| world.sim.dms_to(p))
            .filter(|m| {
                m.metadata["event_payload"]["key"]
                    .as_str()
                    .and_then(loopbot::jobs::loop_of_post_key)
                    == Some(2)
            })
            .collect();
    assert!(!dms_about_second.is_empty(), "the second loop sent DMs too");

    purge_with_slack(&app, 1).await;
    app.run_jobs().await;
    assert!(
        world
            .sim
            .all_messages(&first)
            .iter()
            .all(|m| m.user != BOT_USER_ID)
    );
    assert_eq!(world.sim.all_messages(&second), second_posts);
    let still: Vec<SimMessage> = [COORDINATOR, HIRING_MANAGER, SCREENER, DESIGNER, CODER]
        .iter()
        .flat_map(|p| world.sim.dms_to(p))
        .collect();
    for m in &dms_about_second {
        assert!(still.contains(m), "kept: {}", m.text);
    }
    assert!(
        still.iter().all(|m| m.metadata["event_payload"]["key"]
            .as_str()
            .and_then(loopbot::jobs::loop_of_post_key)
            != Some(1)),
        "none about the first loop is left"
    );
    assert!(!world.sim.channel(&second).unwrap().is_archived);
}

#[tokio::test]
async fn a_big_channel_is_cleaned_up_at_chat_deletes_pace_without_a_single_429() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let channel = a_loop_with_history(&world, &app).await;
    app.stop().await;
    // The serving Loopbot paces its calls by Slack's tiers, as in production.
    let app = world.spawn_paced_app().await;
    // More of Loopbot's posts than Tier 3 lets chat.delete remove in one minute (50).
    for i in 0..60 {
        let answer = world.sim.handle(
            "chat.postMessage",
            Some(BOT_TOKEN),
            serde_json::json!({"channel": channel, "text": format!("note {i}")}),
        );
        assert!(answer.ok());
    }
    world.sim.enforce_tiers(true);
    purge_with_slack(&app, 1).await;
    let mut minutes = 0;
    while jobs_in(&app, "done").await == 0 {
        app.run_jobs().await;
        world.clock.advance(Duration::from_secs(61));
        minutes += 1;
        assert!(minutes < 10, "the clean-up finishes");
    }
    let deletes: Vec<i64> = world
        .sim
        .calls()
        .iter()
        .filter(|c| c.method == "chat.delete" && c.ok)
        .map(|c| c.at_ms)
        .collect();
    assert!(deletes.len() > 60, "{}", deletes.len());
    for (i, at) in deletes.iter().enumerate() {
        let in_a_minute = deletes[i..].iter().filter(|t| **t < at + 60_000).count();
        assert!(in_a_minute <= 50, "Tier 3 kept: {in_a_minute} in a minute");
    }
    assert_eq!(bot_messages(&world, &channel), Vec::<SimMessage>::new());
    assert_eq!(world.sim.rate_limited_count(), 0, "never sent into a 429");
    // Within a window the waits for chat.delete's next slot happen inside the job; it goes
    // back to the queue only when it has spent the whole window (50 calls), once per window.
    let claims = app
        .state
        .metrics
        .get("loopbot_jobs_claimed_total", "kind=\"purge_slack\"");
    assert_eq!(
        claims,
        deletes.len().div_ceil(50) as u64,
        "{} deletes",
        deletes.len()
    );
}
