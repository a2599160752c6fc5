//! A press Loopbot cannot act on, for every one of its buttons: a value that no longer reads
//! (an old message), a loop or stage that is gone, a purged loop. Each is answered with a
//! notice saying what happened and what to do, and changes nothing.

use std::time::Duration;

use loopbot::clock::Clock;
use loopbot::domain::button::Stale;
use loopbot::slack::ids::{self, SCORECARDS_PAGE, ValueKind};
use slack_sim::client::FormValues;

use crate::helpers::*;

/// Slack calls other than showing a modal: posts, edits, invites, DMs.
fn outbound_posts(world: &World) -> usize {
    world
        .sim
        .calls()
        .into_iter()
        .filter(|c| !c.method.starts_with("views."))
        .count()
}

/// The values a press of a button of `kind` can carry that Loopbot cannot act on, for the
/// loop `id`, with what the person must be told.
fn unusable_values(kind: ValueKind, id: i64) -> Vec<(String, Stale)> {
    let old = |v: &str| (v.to_string(), Stale::OldMessage);
    match kind {
        ValueKind::Loop => vec![
            old(""),
            old("garbage"),
            old(&format!("{id}:1")),
            old("-1x"),
            (format!("{}", id + 999), Stale::NoSuchLoop),
        ],
        ValueKind::Stage => vec![
            old(""),
            old("garbage"),
            old(&id.to_string()),
            old(&format!("x:{id}")),
            old(&format!("{id}:x")),
            old(&format!("{id}:1:2")),
            (format!("{}:1", id + 999), Stale::NoSuchLoop),
            (format!("{id}:9"), Stale::NoSuchStage),
        ],
        ValueKind::Page => vec![
            old(""),
            old(&id.to_string()),
            old(&format!("{id}:x")),
            (format!("{}:0", id + 999), Stale::NoSuchLoop),
        ],
    }
}

/// `user` presses `action_id` with `value`: on the summary message, or for the page buttons
/// inside the scorecards modal `scorecards_view`. Returns what the person sees afterwards.
async fn press(
    world: &World,
    app: &TestApp,
    user: &str,
    action_id: &str,
    value: &str,
    scorecards_view: &str,
) -> String {
    let before = world.sim.views_of(user).len();
    if action_id == SCORECARDS_PAGE {
        let r = app
            .slack
            .press_in_view(user, scorecards_view, action_id, value)
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "", "acknowledged");
        let shown = world
            .sim
            .views_of(user)
            .into_iter()
            .find(|v| v.id == scorecards_view)
            .unwrap();
        return shown.view.to_string();
    }
    let channel = loop_channel(world);
    let s = summary(world);
    let r = app
        .slack
        .press_button(user, &channel.id, &s.ts, action_id, value)
        .await;
    assert_eq!(r.status(), 200);
    let views = world.sim.views_of(user);
    assert_eq!(
        views.len(),
        before + 1,
        "{action_id} {value:?}: a notice opens, never silence"
    );
    views.last().unwrap().view.to_string()
}

async fn the_loop_id(world: &World, app: &TestApp) -> i64 {
    loopbot::db::loops::find_by_channel(&app.state.db, &loop_channel(world).id)
        .await
        .unwrap()
        .expect("a loop")
        .id
}

#[tokio::test]
async fn every_button_answers_a_press_it_cannot_act_on_and_changes_nothing() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    let id = the_loop_id(&world, &app).await;
    let scorecards = press_view_scorecards(&world, &app, COORDINATOR).await;
    app.run_jobs().await;
    let rows = fingerprint(&app).await;
    let posts = outbound_posts(&world);
    let pinned = summary(&world);

    let mut presses = 0;
    for (action_id, kind) in ids::BUTTONS {
        for (value, stale) in unusable_values(kind, id) {
            // An owner of the loop, and someone with no part in it: the same answer.
            // (The page buttons are inside the coordinator's scorecards modal.)
            let users: &[&str] = match kind {
                ValueKind::Page => &[COORDINATOR],
                _ => &[COORDINATOR, OUTSIDER],
            };
            for &user in users {
                let shown = press(&world, &app, user, action_id, &value, &scorecards.id).await;
                assert!(
                    shown.contains(stale.message()),
                    "{action_id} {value:?} as {user}: {shown}"
                );
                assert!(!shown.contains("callback_id"), "a notice, not a form");
                presses += 1;
            }
        }
    }
    assert!(presses >= 60, "{presses} presses tried");
    // A button this Loopbot no longer has, left on an old message.
    let shown = press(
        &world,
        &app,
        COORDINATOR,
        "retired_button",
        "1",
        &scorecards.id,
    )
    .await;
    assert!(shown.contains(Stale::OldMessage.message()), "{shown}");
    world.clock.advance(Duration::from_secs(5));
    app.run_jobs().await;
    assert_eq!(fingerprint(&app).await, rows, "nothing changed");
    assert_eq!(outbound_posts(&world), posts, "nothing posted or edited");
    let after = summary(&world);
    assert_eq!((after.blocks, after.edits), (pinned.blocks, pinned.edits));
    app.stop().await;
}

#[tokio::test]
async fn a_button_of_a_purged_loop_says_its_data_is_gone_and_changes_nothing() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    let id = the_loop_id(&world, &app).await;
    let scorecards = press_view_scorecards(&world, &app, COORDINATOR).await;
    // The hiring manager decides, then the candidate's data is purged.
    let channel = loop_channel(&world);
    app.slack
        .command(HIRING_MANAGER, &channel.id, "decide")
        .await;
    let form = latest_view(&world, HIRING_MANAGER);
    let values = FormValues::new()
        .option("outcome", "no_hire")
        .text("rationale", "The design round showed no trade-offs at all.")
        .checked("confirm_missing", &["confirm"]);
    let r = app
        .slack
        .submit_view(HIRING_MANAGER, &form.id, &values)
        .await;
    assert_eq!(r.text().await.unwrap(), "", "decided");
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    let purged =
        loopbot::cli::purge::purge_loops(&app.state.db, &[id], &[], "test", world.clock.now_ms())
            .await
            .unwrap();
    assert_eq!(purged.loops, 1);
    app.run_jobs().await;
    let rows = fingerprint(&app).await;
    let posts = outbound_posts(&world);

    for (action_id, kind) in ids::BUTTONS {
        let value = match kind {
            ValueKind::Loop => id.to_string(),
            ValueKind::Stage => ids::stage_value(id, 1),
            ValueKind::Page => format!("{id}:0"),
        };
        let shown = press(&world, &app, COORDINATOR, action_id, &value, &scorecards.id).await;
        assert!(
            shown.contains(Stale::Purged.message()),
            "{action_id}: {shown}"
        );
    }
    world.clock.advance(Duration::from_secs(5));
    app.run_jobs().await;
    assert_eq!(fingerprint(&app).await, rows, "nothing changed");
    assert_eq!(outbound_posts(&world), posts, "nothing posted or edited");
    app.stop().await;
}
