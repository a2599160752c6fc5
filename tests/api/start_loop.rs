//! `/loop start` end to end: the form, its validation, and the provisioned channel as people
//! see it.

use serde_json::Value;
use slack_sim::client::FormValues;

use crate::helpers::*;

fn ephemeral_text(r: &Value) -> String {
    r.to_string()
}

#[tokio::test]
async fn start_opens_a_prefilled_form_with_a_field_for_every_stage() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let r = app
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start  Ada Lovelace ")
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        r.text().await.unwrap().is_empty(),
        "a modal opens; nothing to say"
    );
    let view = latest_view(&world, COORDINATOR);
    let blocks = view.view["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["element"]["initial_value"], "Ada Lovelace");
    for key in ["technical-screen", "system-design", "coding", "values"] {
        assert!(
            blocks
                .iter()
                .any(|b| b["block_id"] == format!("panel:{key}")),
            "{key}"
        );
        assert!(
            blocks
                .iter()
                .any(|b| b["block_id"] == format!("time:{key}")),
            "{key}"
        );
    }
    assert!(blocks.iter().any(|b| b["block_id"] == "hiring_manager"));
}

#[tokio::test]
async fn a_submitted_form_becomes_a_complete_private_channel() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let r = start_standard_loop(&world, &app).await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().is_empty(), "the modal closes");
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 1);
    assert!(app.run_jobs().await >= 1);

    let channel = world
        .sim
        .channel_named("loop-ada-lovelace-senior-backend")
        .expect("channel created");
    assert!(channel.is_private);
    for person in [COORDINATOR, HIRING_MANAGER, SCREENER, DESIGNER, CODER] {
        assert!(
            channel.members.contains(&person.to_string()),
            "{person} invited"
        );
    }
    assert!(!channel.members.contains(&OUTSIDER.to_string()));
    assert!(channel.topic.contains("Ada Lovelace"));

    let messages = world.sim.messages(&channel.id);
    assert_eq!(messages.len(), 5, "one summary and four rubric messages");
    // What people wait for comes first: the summary, then the stages in order.
    let (summary, messages) = (&messages[0], &messages[1..]);
    let stage_names = [
        "Technical screen",
        "System design",
        "Coding",
        "Values and collaboration",
    ];
    for (i, name) in stage_names.iter().enumerate() {
        let text = blocks_text(&messages[i].blocks);
        assert!(text.contains(&format!("stage {} of 4", i + 1)), "{text}");
        assert_eq!(
            world.sim.replies(&channel.id, &messages[i].ts).len(),
            1,
            "the full rubric is in the thread"
        );
        assert!(text.contains(name));
    }
    let screen = blocks_text(&messages[0].blocks);
    assert!(screen.contains(&format!("<@{SCREENER}>")));
    assert!(screen.contains(&format!("<!date^{}^", START_MS / 1000 + 86_400)));
    let design = blocks_text(&messages[1].blocks);
    assert!(design.contains(&format!("<@{DESIGNER}>, <@{HIRING_MANAGER}>")));
    let coding = blocks_text(&messages[2].blocks);
    assert!(coding.contains("not scheduled yet"));

    assert_eq!(world.sim.pins(&channel.id), vec![summary.ts.clone()]);
    let summary_text = blocks_text(&summary.blocks);
    for needle in [
        "Ada Lovelace",
        "Senior Backend Engineer",
        &format!("<@{HIRING_MANAGER}>"),
        "not scheduled yet",
        "scheduled <!date^",
        "*0 of 4 in* · next: Technical screen",
    ] {
        assert!(summary_text.contains(needle), "summary shows {needle}");
    }

    let confirmations = world.sim.ephemerals_for(COORDINATOR);
    assert_eq!(confirmations.len(), 1);
    assert_eq!(confirmations[0].channel, world.hiring_channel);
    assert!(
        confirmations[0]
            .text
            .contains(&format!("<#{}>", channel.id)),
        "links the channel"
    );

    // Running the worker again changes nothing.
    assert_eq!(app.run_jobs().await, 0);
    assert_eq!(world.sim.messages(&channel.id).len(), 5);
    let status: String = sqlx::query_scalar("SELECT status FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "open");
}

#[tokio::test]
async fn field_errors_show_next_to_the_field_and_store_nothing() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start")
        .await;
    let view = latest_view(&world, COORDINATOR);
    let form = FormValues::new()
        .text("candidate", "   ")
        .empty("hiring_manager");
    let r = app.slack.submit_view(COORDINATOR, &view.id, &form).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["response_action"], "errors");
    assert_eq!(body["errors"]["candidate"], "Enter the candidate's name.");
    assert_eq!(
        body["errors"]["hiring_manager"],
        "Choose the hiring manager who owns this loop."
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);
}

#[tokio::test]
async fn a_stage_without_an_interviewer_is_allowed_and_flagged() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Grace Hopper")
        .await;
    let view = latest_view(&world, COORDINATOR);
    let form = FormValues::new()
        .user("hiring_manager", HIRING_MANAGER)
        .users("panel:technical-screen", &[SCREENER]);
    let r = app.slack.submit_view(COORDINATOR, &view.id, &form).await;
    assert!(r.text().await.unwrap().is_empty());
    app.run_jobs().await;
    let channel = world
        .sim
        .channel_named("loop-grace-hopper-senior-backend")
        .unwrap();
    let messages = world.sim.messages(&channel.id);
    assert!(blocks_text(&stage_post(&world, &channel.id, 2).blocks).contains("no interviewer yet"));
    let summary = blocks_text(&messages[0].blocks);
    assert_eq!(
        summary.matches("no interviewer").count(),
        3,
        "once per unstaffed stage: {summary}"
    );
    assert!(
        world.sim.ephemerals_for(COORDINATOR)[0]
            .text
            .contains("Still without an interviewer")
    );
}

#[tokio::test]
async fn the_same_form_submitted_twice_creates_one_loop() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    let view = latest_view(&world, COORDINATOR);
    let first = app
        .slack
        .submit_view(COORDINATOR, &view.id, &full_start_form())
        .await;
    let second = app
        .slack
        .submit_view(COORDINATOR, &view.id, &full_start_form())
        .await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    assert!(
        second.text().await.unwrap().is_empty(),
        "the retry also just closes the modal"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 1);
    app.run_jobs().await;
    let loop_channels = world
        .sim
        .channels()
        .into_iter()
        .filter(|c| c.name.starts_with("loop-"))
        .count();
    assert_eq!(loop_channels, 1);
}

#[tokio::test]
async fn a_taken_name_gets_a_suffix_and_initials_naming_hides_the_name() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    for _ in 0..2 {
        start_standard_loop(&world, &app).await;
    }
    app.run_jobs().await;
    assert!(
        world
            .sim
            .channel_named("loop-ada-lovelace-senior-backend")
            .is_some()
    );
    assert!(
        world
            .sim
            .channel_named("loop-ada-lovelace-senior-backend-2")
            .is_some()
    );
    app.stop().await;

    let app = world
        .spawn_app_with(&[("LOOPBOT_CHANNEL_NAMING", "initials")])
        .await;
    start_standard_loop(&world, &app).await;
    app.run_jobs().await;
    assert!(world.sim.channel_named("loop-al-senior-backend").is_some());
}

#[tokio::test]
async fn help_and_unknown_text_always_get_an_answer() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    for (text, expected) in [
        ("help", "Commands:"),
        ("", "Commands:"),
        ("dance wildly", "I didn't understand `dance wildly`"),
    ] {
        let r = app
            .slack
            .command(COORDINATOR, &world.hiring_channel, text)
            .await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["response_type"], "ephemeral");
        let shown = ephemeral_text(&body);
        assert!(shown.contains(expected), "{text:?}: {shown}");
        assert!(shown.contains("/loop start"), "lists the commands");
    }
    for word in ["decide", "skip coding no show", "panel", "remind"] {
        let r = app
            .slack
            .command(COORDINATOR, &world.hiring_channel, word)
            .await;
        let body: Value = r.json().await.unwrap();
        assert!(
            ephemeral_text(&body).contains("works inside a candidate's loop channel"),
            "{word}"
        );
    }
    assert!(world.sim.views_of(COORDINATOR).is_empty());
}

#[tokio::test]
async fn an_expired_trigger_gets_a_clear_answer_through_the_response_url() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let body = app
        .slack
        .command_body(COORDINATOR, &world.hiring_channel, "start Ada");
    world.clock.advance(std::time::Duration::from_secs(4));
    let r = app
        .slack
        .post_signed("/slack/commands", slack_sim::client::FORM, &body)
        .await;
    assert_eq!(r.status(), 200, "acknowledged first");
    app.slack.settle_body(&r, &body).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while world.sim.responses().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let responses = world.sim.responses();
    assert_eq!(responses.len(), 1, "{responses:?}");
    assert_eq!(responses[0].1["response_type"], "ephemeral");
    assert!(
        responses[0].1["text"]
            .as_str()
            .unwrap()
            .contains("run `/loop start` again")
    );
    assert!(world.sim.views_of(COORDINATOR).is_empty());
}

#[tokio::test]
async fn a_slow_views_open_is_acknowledged_at_once_and_the_form_still_opens() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    world
        .sim
        .set_latency(std::time::Duration::from_millis(2_000));
    let started = std::time::Instant::now();
    let r = app
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.text().await.unwrap(),
        "",
        "an empty acknowledgement, no apology"
    );
    assert_eq!(world.sim.views_of(COORDINATOR).len(), 1, "the form opened");
    world.sim.set_latency(std::time::Duration::ZERO);
    // Wait out the slow answer: nobody is told the form failed, because it did not.
    tokio::time::sleep(std::time::Duration::from_millis(2_300).saturating_sub(started.elapsed()))
        .await;
    assert!(
        world.sim.responses().is_empty(),
        "{:?}",
        world.sim.responses()
    );
}

#[tokio::test]
async fn choosing_another_rubric_rebuilds_the_stage_fields() {
    let world = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("staff-sre.toml"),
        include_str!("../fixtures/rubrics/staff-sre.toml"),
    )
    .unwrap();
    let app = world
        .spawn_app_with(&[("LOOPBOT_RUBRICS_DIR", dir.path().to_str().unwrap())])
        .await;
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Linus")
        .await;
    let view = latest_view(&world, COORDINATOR);
    let r = app
        .slack
        .pick_in_view(
            COORDINATOR,
            &view.id,
            "rubric",
            "rubric_select",
            "staff-sre",
        )
        .await;
    assert_eq!(r.status(), 200);
    let updated = latest_view(&world, COORDINATOR);
    assert_eq!(updated.id, view.id, "the same modal, updated in place");
    let text = updated.view.to_string();
    assert!(text.contains("panel:incident-review"), "{text}");
    assert!(!text.contains("panel:system-design"));
    let form = FormValues::new()
        .option("rubric", "staff-sre")
        .user("hiring_manager", HIRING_MANAGER);
    app.slack.submit_view(COORDINATOR, &view.id, &form).await;
    app.run_jobs().await;
    assert!(world.sim.channel_named("loop-linus-staff-sre").is_some());
}
