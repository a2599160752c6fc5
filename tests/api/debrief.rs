//! Deciding: the ready-to-decide message and its one reminder, the debrief matrix for a large
//! panel within Slack's limits, the outcomes (Hold, Withdrawn, reopening), "decided without"
//! on the record, and text people typed that never pings or links.

use std::time::Duration;

use loopbot::slack::ids::{DECIDE_OPEN, SCORECARDS_PAGE};
use serde_json::Value;
use slack_sim::SimUser;
use slack_sim::client::FormValues;

use crate::helpers::*;

const DAY: u64 = 86_400;

async fn say(world: &World, app: &TestApp, user: &str, text: &str) -> String {
    let channel = loop_channel(world);
    let r = app.slack.command(user, &channel.id, text).await;
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// Opens `/loop decide` as `user` and submits `outcome`, confirming any missing stage.
async fn decide(world: &World, app: &TestApp, user: &str, outcome: &str) {
    say(world, app, user, "decide").await;
    let form = latest_view(world, user);
    assert_eq!(form.view["callback_id"], "decide", "{}", form.view);
    let mut values = FormValues::new().option("outcome", outcome).text(
        "rationale",
        "Strong evidence across the stages that were held.",
    );
    if form.view.to_string().contains("confirm_missing") {
        values = values.checked("confirm_missing", &["confirm"]);
    }
    let r = app.slack.submit_view(user, &form.id, &values).await;
    assert!(r.text().await.unwrap().is_empty());
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
}

async fn every_stage_in(world: &World, app: &TestApp) {
    for (who, position) in [
        (SCREENER, 1),
        (DESIGNER, 2),
        (HIRING_MANAGER, 2),
        (CODER, 3),
    ] {
        submit_stage(world, app, who, position, "3").await;
    }
    say(
        world,
        app,
        COORDINATOR,
        "skip values Hiring freeze; decided on three stages",
    )
    .await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
}

fn ready_dms(world: &World, user: &str) -> Vec<slack_sim::SimMessage> {
    world
        .sim
        .dms_to(user)
        .into_iter()
        .filter(|m| m.text.contains("ready to decide"))
        .collect()
}

#[tokio::test]
async fn once_every_stage_is_in_the_hiring_manager_gets_the_debrief_and_one_reminder() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    every_stage_in(&world, &app).await;
    // Wednesday 09:00 UTC: every stage is in or skipped.
    let ready = ready_dms(&world, HIRING_MANAGER);
    assert_eq!(ready.len(), 1);
    let shown = ready[0].blocks.to_string();
    assert!(
        shown.contains("*Debrief*") && shown.contains("*Overall:*"),
        "{shown}"
    );
    assert!(ready[0].blocks.as_array().unwrap().len() <= 50);
    let (value, label) = button(&ready[0].blocks, DECIDE_OPEN).unwrap();
    assert_eq!(label, "Record the decision");
    assert!(
        ready_dms(&world, COORDINATOR).is_empty(),
        "the hiring manager's message"
    );

    // The button opens the decision form with the debrief, and no confirmation: nothing is
    // missing.
    let dm = &ready[0];
    app.slack
        .press_button(HIRING_MANAGER, &dm.channel, &dm.ts, DECIDE_OPEN, &value)
        .await;
    let form = latest_view(&world, HIRING_MANAGER);
    assert_eq!(form.view["callback_id"], "decide");
    assert!(form.view.to_string().contains("*Debrief*"));
    assert!(!form.view.to_string().contains("confirm_missing"));

    // An edit asks nobody again.
    submit_stage(&world, &app, CODER, 3, "4").await;
    app.run_jobs().await;
    assert_eq!(ready_dms(&world, HIRING_MANAGER).len(), 1);

    // No decision: Thursday, nothing yet; Friday, two working days on, one reminder to the
    // hiring manager and a note to the coordinator, each in their working hours.
    let reminded = |who: &str| {
        world
            .sim
            .dms_to(who)
            .into_iter()
            .filter(|m| {
                m.text.contains("no decision is recorded yet")
                    || m.text.contains("has not recorded a decision")
            })
            .count()
    };
    world.clock.advance(Duration::from_secs(DAY + 3 * 3600));
    app.run_jobs().await;
    assert_eq!((reminded(HIRING_MANAGER), reminded(COORDINATOR)), (0, 0));
    world.clock.advance(Duration::from_secs(DAY + 3 * 3600));
    app.run_jobs().await;
    world.clock.advance(Duration::from_secs(3 * 3600));
    app.run_jobs().await;
    assert_eq!((reminded(HIRING_MANAGER), reminded(COORDINATOR)), (1, 1));
    for _ in 0..5 {
        world.clock.advance(Duration::from_secs(DAY));
        app.run_jobs().await;
    }
    assert_eq!(
        (reminded(HIRING_MANAGER), reminded(COORDINATOR)),
        (1, 1),
        "once"
    );
}

#[tokio::test]
async fn a_decision_before_the_deadline_means_no_reminder() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    every_stage_in(&world, &app).await;
    decide(&world, &app, HIRING_MANAGER, "hire").await;
    for _ in 0..6 {
        world.clock.advance(Duration::from_secs(DAY));
        app.run_jobs().await;
    }
    let reminded = world
        .sim
        .dms_to(HIRING_MANAGER)
        .into_iter()
        .filter(|m| m.text.contains("no decision is recorded yet"))
        .count();
    assert_eq!(reminded, 0);
}

#[tokio::test]
async fn the_matrix_for_five_interviewers_per_stage_fits_slack_and_pages_without_cutting() {
    let world = World::new().await;
    let panel: Vec<String> = (1..=5).map(|i| format!("UPANEL{i}")).collect();
    for id in &panel {
        world
            .sim
            .add_user(SimUser::new(id, id, id, "Europe/Berlin", 3600));
    }
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    let view = latest_view(&world, COORDINATOR);
    let who: Vec<&str> = panel.iter().map(String::as_str).collect();
    let form = FormValues::new()
        .text("candidate", "Ada Lovelace")
        .user("hiring_manager", HIRING_MANAGER)
        .users("panel:technical-screen", &who)
        .users("panel:system-design", &who)
        .users("panel:coding", &who)
        .users("panel:values", &who);
    app.slack.submit_view(COORDINATOR, &view.id, &form).await;
    app.run_jobs().await;
    let long = "They walked through the queue design and its failure modes in detail. ".repeat(40);
    for (i, user) in panel.iter().enumerate() {
        for position in 1..=4 {
            let view = press_stage(&world, &app, user, position).await;
            let rating = ["1", "2", "3", "4", "4"][i];
            let form = filled_scorecard(&view.view, rating, &long[..2_000])
                .text("concerns", &long[..1_500]);
            let r = app.slack.submit_view(user, &view.id, &form).await;
            assert!(r.text().await.unwrap().is_empty());
        }
    }
    app.run_jobs().await;

    // The decision form validates in the simulator (Slack's limits) and holds the debrief.
    say(&world, &app, HIRING_MANAGER, "decide").await;
    let form = latest_view(&world, HIRING_MANAGER);
    assert_eq!(form.view["callback_id"], "decide");
    assert!(form.view["blocks"].as_array().unwrap().len() <= 100);
    let shown = form.view.to_string();
    assert!(
        shown.contains("*Debrief* · 8 strong yes · 4 yes · 4 no · 4 strong no"),
        "{shown}"
    );
    assert!(shown.contains("2 points or more apart"));

    // View scorecards: every scorecard, over pages, none cut.
    let s = summary(&world);
    let (value, _) = button(&s.blocks, loopbot::slack::ids::SCORECARDS_VIEW).unwrap();
    let channel = loop_channel(&world);
    app.slack
        .press_button(
            HIRING_MANAGER,
            &channel.id,
            &s.ts,
            loopbot::slack::ids::SCORECARDS_VIEW,
            &value,
        )
        .await;
    let mut modal = latest_view(&world, HIRING_MANAGER);
    let mut seen = 0;
    let mut pages = 0;
    loop {
        pages += 1;
        let blocks = modal.view["blocks"].as_array().unwrap().clone();
        assert!(blocks.len() <= 100);
        seen += modal.view.to_string().matches("· overall *").count();
        let Some((next, label)) = blocks
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().unwrap().clone())
            .find(|e| e["action_id"] == SCORECARDS_PAGE && e["text"]["text"] == "Next page")
            .map(|e| {
                (
                    e["value"].as_str().unwrap().to_string(),
                    e["text"]["text"].clone(),
                )
            })
        else {
            break;
        };
        assert_eq!(label, "Next page");
        let r = app
            .slack
            .press_in_view(HIRING_MANAGER, &modal.id, SCORECARDS_PAGE, &next)
            .await;
        assert_eq!(r.status(), 200);
        let updated = latest_view(&world, HIRING_MANAGER);
        assert_eq!(updated.id, modal.id, "the same modal shows the next page");
        assert_ne!(updated.view, modal.view);
        modal = updated;
        assert!(pages < 20);
    }
    assert!(pages > 1, "twenty long scorecards need more than one page");
    assert_eq!(seen, 20, "every scorecard is shown, none cut");
    assert!(
        modal
            .view
            .to_string()
            .contains(&format!("Page {pages} of {pages}"))
    );
}

#[tokio::test]
async fn hold_keeps_the_loop_open_and_a_final_decision_follows() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    every_stage_in(&world, &app).await;
    decide(&world, &app, HIRING_MANAGER, "hold").await;
    let channel = loop_channel(&world);
    let held = world
        .sim
        .messages(&channel.id)
        .into_iter()
        .find(|m| m.text.contains("Decision for Ada Lovelace: Hold"))
        .expect("the hold is posted");
    assert!(held.blocks.to_string().contains("the loop stays open"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM loops WHERE status = 'open'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'archive_channel'")
            .await,
        0,
        "nothing is archived on hold"
    );
    // Scorecards can still change.
    let again = submit_stage(&world, &app, CODER, 3, "4").await;
    assert!(again.is_empty(), "{again}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM scorecards WHERE version = 2")
            .await,
        1
    );
    // The final decision replaces the hold and freezes the loop.
    decide(&world, &app, HIRING_MANAGER, "no_hire").await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM loops WHERE status = 'decided'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'archive_channel'")
            .await,
        1
    );
    let decisions = world
        .sim
        .messages(&channel.id)
        .into_iter()
        .filter(|m| m.text.starts_with("Decision for"))
        .count();
    assert_eq!(decisions, 2, "the hold, then the final decision");
    assert!(
        summary(&world)
            .blocks
            .to_string()
            .contains("*Decision: No hire*")
    );
}

#[tokio::test]
async fn withdrawn_is_final_and_a_decided_loop_reopens_with_a_reason_until_archived() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    decide(&world, &app, COORDINATOR, "withdrawn").await;
    assert!(
        summary(&world)
            .blocks
            .to_string()
            .contains("*Decision: Withdrawn*")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM loops WHERE status = 'decided'")
            .await,
        1
    );

    // Reopening: owners only, with a reason.
    assert!(
        say(&world, &app, SCREENER, "reopen Changed mind")
            .await
            .contains("Only the hiring manager")
    );
    assert!(
        say(&world, &app, HIRING_MANAGER, "reopen")
            .await
            .contains("&lt;reason&gt;")
    );
    let ok = say(
        &world,
        &app,
        HIRING_MANAGER,
        "reopen The candidate is back in the market",
    )
    .await;
    assert!(ok.contains("open again"), "{ok}");
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM loops WHERE status = 'open' AND decision IS NULL")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'archive_channel'")
            .await,
        0,
        "the archiving is called off"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'reopened'")
            .await,
        1
    );
    let channel = loop_channel(&world);
    let note = world
        .sim
        .messages(&channel.id)
        .into_iter()
        .find(|m| m.text.contains("reopened the loop"))
        .expect("the channel is told");
    assert!(
        note.text.contains("(it was *Withdrawn*)") && note.text.contains("back in the market"),
        "{}",
        note.text
    );
    assert!(!summary(&world).blocks.to_string().contains("*Decision:"));
    // Scorecards can be written again, and the next decision gets its own message.
    assert!(
        submit_stage(&world, &app, DESIGNER, 2, "3")
            .await
            .is_empty()
    );
    decide(&world, &app, HIRING_MANAGER, "hire").await;
    let decisions = world
        .sim
        .messages(&channel.id)
        .into_iter()
        .filter(|m| m.text.starts_with("Decision for"))
        .count();
    assert_eq!(decisions, 2);
    // Once the channel is archived, the loop stays decided.
    world.clock.advance(Duration::from_secs(8 * DAY));
    app.run_jobs().await;
    assert!(world.sim.channel(&channel.id).unwrap().is_archived);
    let refused = say(&world, &app, HIRING_MANAGER, "reopen One more look").await;
    assert!(
        refused.contains("archived") || refused.contains("candidate's loop channel"),
        "{refused}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'reopened'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_decision_without_a_stage_says_so_in_the_export() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    for (who, position) in [
        (SCREENER, 1),
        (DESIGNER, 2),
        (HIRING_MANAGER, 2),
        (CODER, 3),
    ] {
        submit_stage(&world, &app, who, position, "3").await;
    }
    decide(&world, &app, HIRING_MANAGER, "hire").await;
    let snapshot = loopbot::cli::export::load(&app.state.db).await.unwrap();
    let doc = serde_json::to_value(loopbot::cli::export::document(&snapshot, 0)).unwrap();
    let decision = &doc["loops"][0]["decision"];
    assert_eq!(
        decision["decided_without"],
        serde_json::json!(["Values and collaboration"])
    );
    assert_eq!(
        decision["note"],
        format!("decided without: Values and collaboration (confirmed by {HIRING_MANAGER})")
    );
    let rows = loopbot::cli::export::rows(&snapshot, loopbot::cli::export::Table::Decisions);
    let csv = loopbot::cli::export::csv(&rows);
    assert!(
        csv.contains("decided without: Values and collaboration"),
        "{csv}"
    );
}

#[tokio::test]
async fn text_people_typed_never_pings_or_links_anywhere_slack_parses_it() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let name = "Ann <!channel> Lee <@UOUT> <https://evil.example|win>";
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start")
        .await;
    let view = latest_view(&world, COORDINATOR);
    let form = full_start_form().text("candidate", name);
    let r = app.slack.submit_view(COORDINATOR, &view.id, &form).await;
    assert!(r.text().await.unwrap().is_empty());
    app.run_jobs().await;
    let channel = loop_channel(&world);
    let screen = press_stage(&world, &app, SCREENER, 1).await;
    let typed = filled_scorecard(&screen.view, "3", EVIDENCE).text(
        "concerns",
        "<!here> probe <@UOUT> and <https://x.example|this>",
    );
    app.slack.submit_view(SCREENER, &screen.id, &typed).await;
    say(
        &world,
        &app,
        HIRING_MANAGER,
        "skip coding <!everyone> see <https://y.example|here>",
    )
    .await;
    world.clock.advance(Duration::from_secs(DAY));
    app.run_jobs().await;
    decide(&world, &app, HIRING_MANAGER, "hold").await;
    say(&world, &app, HIRING_MANAGER, "decide").await;
    let decide_form = latest_view(&world, HIRING_MANAGER);

    let topic = world.sim.channel(&channel.id).unwrap().topic;
    assert!(topic.contains("&lt;!channel&gt;"), "{topic}");
    let mut parsed: Vec<(String, String)> = vec![("topic".into(), topic)];
    // Every field Slack parses: message text and mrkdwn (plain_text is shown as typed).
    let mrkdwn_of = |view: &Value| -> String {
        let mut out = Vec::new();
        collect_mrkdwn(view, &mut out);
        out.join("\n")
    };
    for m in world.sim.all_messages(&channel.id) {
        parsed.push(("channel text".into(), m.text.clone()));
        parsed.push(("channel blocks".into(), mrkdwn_of(&m.blocks)));
    }
    for user in [COORDINATOR, HIRING_MANAGER, SCREENER, DESIGNER, CODER] {
        for m in world.sim.dms_to(user) {
            parsed.push((
                format!("DM to {user}"),
                format!("{} {}", m.text, mrkdwn_of(&m.blocks)),
            ));
        }
        for e in world.sim.ephemerals_for(user) {
            parsed.push((
                format!("ephemeral to {user}"),
                format!("{} {}", e.text, mrkdwn_of(&e.blocks)),
            ));
        }
    }
    parsed.push(("decision form".into(), mrkdwn_of(&decide_form.view)));
    parsed.push((
        "designer's form".into(),
        mrkdwn_of(&press_stage(&world, &app, DESIGNER, 2).await.view),
    ));
    assert!(parsed.len() > 20);
    for (where_, text) in &parsed {
        for raw in [
            "<!channel>",
            "<!here>",
            "<!everyone>",
            "<@UOUT>",
            "<https://evil",
            "<https://x.",
            "<https://y.",
        ] {
            assert!(
                !text.contains(raw),
                "{raw} reached Slack raw in the {where_}: {text}"
            );
        }
    }
    // Where Slack does not parse text (plain_text), the name is shown as typed.
    assert!(
        latest_view(&world, HIRING_MANAGER)
            .view
            .to_string()
            .contains("decide")
    );
    let header = world
        .sim
        .messages(&channel.id)
        .into_iter()
        .find(|m| m.text.starts_with("Interview loop summary"))
        .unwrap();
    assert_eq!(
        header.blocks[0]["text"]["text"],
        format!("Interview loop · {name}")
    );
}

fn collect_mrkdwn(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("mrkdwn")
                && let Some(text) = map.get("text").and_then(Value::as_str)
            {
                out.push(text.to_string());
            }
            for v in map.values() {
                collect_mrkdwn(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_mrkdwn(v, out)),
        _ => {}
    }
}
