//! Missing and skipped stages, decisions, panel changes, status, reminders on request, and
//! Slack events about the loop's channel and the app itself.

use std::time::Duration;

use loopbot::slack::ids::{STAGE_REMIND, STAGE_SKIP};
use serde_json::{Value, json};
use slack_sim::client::FormValues;

use crate::helpers::*;

async fn command_in_loop(world: &World, app: &TestApp, user: &str, text: &str) -> Value {
    let channel = loop_channel(world);
    let r = app.slack.command(user, &channel.id, text).await;
    assert_eq!(r.status(), 200);
    let body = r.text().await.unwrap();
    if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&body).unwrap()
    }
}

fn warnings(world: &World) -> Vec<slack_sim::SimMessage> {
    let channel = loop_channel(world);
    world
        .sim
        .messages(&channel.id)
        .into_iter()
        .filter(|m| m.text.ends_with("has no feedback"))
        .collect()
}

async fn skipped(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM stage_skips").await
}

#[tokio::test]
async fn feedback_out_of_order_warns_once_per_missing_stage_and_never_before_its_interview() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    // Coding (unscheduled) comes in while the screen and system design are still ahead: the
    // panel is merely out of order, which is no alarm.
    submit_stage(&world, &app, CODER, 3, "3").await;
    app.run_jobs().await;
    assert!(
        warnings(&world).is_empty(),
        "no alarm before the interviews"
    );
    assert!(!summary(&world).blocks.to_string().contains("*missing*"));

    // Wednesday 11:00: the screen's feedback was due at 09:30 and none came; system design
    // ended at 10:00 and its interviewers still have until Thursday. A later stage's feedback
    // arrives: only the screen is missing.
    world
        .clock
        .advance(Duration::from_secs(2 * 86_400 + 2 * 3600));
    submit_stage(&world, &app, SCREENER, 4, "3").await;
    app.run_jobs().await;
    assert_eq!(warnings(&world).len(), 1, "the screen is missing");
    assert!(
        !summary(&world)
            .blocks
            .to_string()
            .contains("System design has no feedback"),
        "system design's interviewers still have time to write"
    );
    // Thursday 10:00: system design's feedback is due and none came. Nobody submits anything:
    // the clock alone makes it missing.
    world.clock.advance(Duration::from_secs(23 * 3600));
    app.run_jobs().await;
    let first = warnings(&world);
    assert_eq!(
        first.len(),
        2,
        "technical screen and system design are missing"
    );
    let text = first[0].blocks.to_string();
    assert!(
        text.contains("Technical screen has no feedback, but a later stage does"),
        "{text}"
    );
    assert!(
        text.contains("Is this person worth the deeper investment"),
        "says why the loop needs it"
    );
    assert!(
        button(&first[0].blocks, STAGE_REMIND).is_some()
            && button(&first[0].blocks, STAGE_SKIP).is_some()
    );
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert!(summary(&world).blocks.to_string().contains("*missing*"));

    // More events: an edit. No warning is repeated.
    world.clock.advance(Duration::from_secs(2));
    submit_stage(&world, &app, CODER, 3, "2").await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert_eq!(warnings(&world).len(), 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM skip_warnings").await, 2);
}

#[tokio::test]
async fn skip_by_command_is_for_the_owners_and_leaves_a_record() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;

    let refused = command_in_loop(&world, &app, SCREENER, "skip coding Not needed").await;
    assert!(
        refused.to_string().contains("Only the hiring manager"),
        "{refused}"
    );
    let unknown = command_in_loop(&world, &app, HIRING_MANAGER, "skip painting Not needed").await;
    assert!(unknown.to_string().contains("There is no stage `painting`"));
    assert!(unknown.to_string().contains("`technical-screen`"));
    let usage = command_in_loop(&world, &app, HIRING_MANAGER, "skip coding").await;
    assert!(usage.to_string().contains("&lt;reason&gt;"));
    assert!(
        !usage.to_string().contains("<reason>"),
        "escaped for mrkdwn"
    );
    assert_eq!(skipped(&app).await, 0);

    let ok = command_in_loop(
        &world,
        &app,
        HIRING_MANAGER,
        "skip coding Candidate withdrew before the coding round",
    )
    .await;
    assert!(ok.to_string().contains("Coding is skipped"), "{ok}");
    let again = command_in_loop(&world, &app, COORDINATOR, "skip 3 Again").await;
    assert!(again.to_string().contains("already skipped"));
    let (reason, by): (String, String) =
        sqlx::query_as("SELECT reason, skipped_by FROM stage_skips")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        (reason.as_str(), by.as_str()),
        ("Candidate withdrew before the coding round", HIRING_MANAGER)
    );
    app.run_jobs().await;
    let channel = loop_channel(&world);
    let note = world.sim.messages(&channel.id).into_iter().last().unwrap();
    assert!(
        note.text.contains(&format!(
            "<@{HIRING_MANAGER}> skipped *Coding*. Reason: _Candidate withdrew"
        )),
        "{}",
        note.text
    );
    assert!(
        summary(&world)
            .blocks
            .to_string()
            .contains("skipped: _Candidate withdrew before the coding round_")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'stage_skipped'")
            .await,
        1
    );

    // A stage with feedback cannot be skipped.
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    let has = command_in_loop(
        &world,
        &app,
        COORDINATOR,
        "skip technical-screen Done already",
    )
    .await;
    assert!(has.to_string().contains("already has feedback"));
    assert_eq!(skipped(&app).await, 1);
}

#[tokio::test]
async fn the_warning_buttons_skip_with_a_reason_or_remind_the_interviewers() {
    let world = World::new().await;
    // Only the nudge asked for: no automatic brief or nudge in the way.
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    submit_stage(&world, &app, DESIGNER, 2, "3").await;
    app.run_jobs().await;
    assert!(
        warnings(&world).is_empty(),
        "the screen's feedback is not due yet"
    );
    // Past the screen's feedback time with nothing from it: the screen is missing.
    world.clock.advance(Duration::from_secs(3600));
    app.run_jobs().await;
    let warning = warnings(&world).remove(0);
    let channel = loop_channel(&world);
    let (value, _) = button(&warning.blocks, STAGE_SKIP).unwrap();

    // An interviewer is told why not.
    app.slack
        .press_button(SCREENER, &channel.id, &warning.ts, STAGE_SKIP, &value)
        .await;
    assert!(is_notice(
        &latest_view(&world, SCREENER),
        "Only the hiring manager"
    ));

    // Remind: the screener gets a direct message with a button to the scorecard (beside
    // the automatic reminder their due feedback already brought).
    let before = world.sim.dms_to(SCREENER).len();
    app.slack
        .press_button(COORDINATOR, &channel.id, &warning.ts, STAGE_REMIND, &value)
        .await;
    assert!(
        latest_view(&world, COORDINATOR)
            .view
            .to_string()
            .contains(&format!("Reminded <@{SCREENER}>"))
    );
    app.run_jobs().await;
    let dms = world.sim.dms_to(SCREENER);
    assert_eq!(dms.len(), before + 1);
    let dm = dms.last().unwrap();
    assert!(dm.text.contains("Technical screen"));
    assert_eq!(
        button(&dm.blocks, loopbot::slack::ids::SCORECARD_OPEN)
            .unwrap()
            .1,
        "Submit scorecard"
    );

    // Skip with a reason, through the form.
    app.slack
        .press_button(HIRING_MANAGER, &channel.id, &warning.ts, STAGE_SKIP, &value)
        .await;
    let form = latest_view(&world, HIRING_MANAGER);
    assert_eq!(form.view["callback_id"], "stage_skip");
    let empty = app
        .slack
        .submit_view(
            HIRING_MANAGER,
            &form.id,
            &FormValues::new().text("skip_reason", " "),
        )
        .await;
    let body: Value = empty.json().await.unwrap();
    assert!(
        body["errors"]["skip_reason"]
            .as_str()
            .unwrap()
            .contains("Give a reason")
    );
    let r = app
        .slack
        .submit_view(
            HIRING_MANAGER,
            &form.id,
            &FormValues::new().text("skip_reason", "Referred by the CTO; screen waived"),
        )
        .await;
    assert!(r.text().await.unwrap().is_empty());
    assert_eq!(skipped(&app).await, 1);
}

#[tokio::test]
async fn deciding_with_a_missing_stage_needs_confirmation_then_freezes_the_loop() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    for (who, position) in [
        (SCREENER, 1),
        (DESIGNER, 2),
        (HIRING_MANAGER, 2),
        (CODER, 3),
    ] {
        submit_stage(&world, &app, who, position, "3").await;
    }
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;

    let refused = command_in_loop(&world, &app, CODER, "decide").await;
    assert!(refused.to_string().contains("Only the hiring manager"));
    let opened = command_in_loop(&world, &app, HIRING_MANAGER, "decide").await;
    assert_eq!(opened, Value::Null, "a modal opens");
    let form = latest_view(&world, HIRING_MANAGER);
    assert!(
        form.view
            .to_string()
            .contains("Missing stages:* Values and collaboration")
    );
    // Opening the form posts nothing: the missing stage is shown in the form, and asking
    // again (or cancelling) says nothing to the channel either.
    app.run_jobs().await;
    command_in_loop(&world, &app, COORDINATOR, "decide").await;
    app.run_jobs().await;
    assert!(warnings(&world).is_empty(), "no alarm on opening the form");
    let before = world.sim.messages(&loop_channel(&world).id).len();

    let unconfirmed = FormValues::new().option("outcome", "hire").text(
        "rationale",
        "Strong design and coding evidence across the panel.",
    );
    let r = app
        .slack
        .submit_view(HIRING_MANAGER, &form.id, &unconfirmed)
        .await;
    let body: Value = r.json().await.unwrap();
    assert!(
        body["errors"]["confirm_missing"]
            .as_str()
            .unwrap()
            .contains("Values and collaboration")
    );
    let short = FormValues::new()
        .option("outcome", "hire")
        .text("rationale", "ok")
        .checked("confirm_missing", &["confirm"]);
    let body: Value = app
        .slack
        .submit_view(HIRING_MANAGER, &form.id, &short)
        .await
        .json()
        .await
        .unwrap();
    assert!(body["errors"]["rationale"].is_string());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM loops WHERE status = 'decided'")
            .await,
        0
    );

    let confirmed = unconfirmed.checked("confirm_missing", &["confirm"]);
    let r = app
        .slack
        .submit_view(HIRING_MANAGER, &form.id, &confirmed)
        .await;
    assert!(r.text().await.unwrap().is_empty());
    let (decision, by): (String, String) = sqlx::query_as("SELECT decision, decided_by FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!((decision.as_str(), by.as_str()), ("hire", HIRING_MANAGER));
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    let channel = loop_channel(&world);
    let posted = world.sim.messages(&channel.id);
    assert_eq!(posted.len(), before + 1, "the decision message alone");
    let decided = posted
        .iter()
        .find(|m| m.text.contains("Decision for Ada Lovelace: Hire"))
        .expect("the decision message");
    let without =
        format!("decided without: Values and collaboration (confirmed by <@{HIRING_MANAGER}>)");
    assert!(
        decided.blocks.to_string().contains(&without),
        "{}",
        decided.blocks
    );
    let text = summary(&world).blocks.to_string();
    assert!(text.contains("*Decision: Hire*"), "{text}");
    assert!(text.contains(&without), "{text}");
    assert!(
        text.contains(&format!("<@{CODER}> *3 · Yes*")),
        "every recommendation is revealed"
    );
    assert!(
        !text.contains("*missing*") && !text.contains("rotating_light"),
        "no stale warning after the decision: {text}"
    );

    let rubric = world.sim.message(&channel.id, &posted[0].ts).unwrap();
    assert!(
        rubric
            .edits
            .iter()
            .any(|e| button(&e.blocks, loopbot::slack::ids::SCORECARD_OPEN).is_some()),
        "the rubric message had a button before the decision"
    );
    assert!(
        button(&rubric.blocks, loopbot::slack::ids::SCORECARD_OPEN).is_none(),
        "and none after it"
    );
    assert!(button(&summary(&world).blocks, loopbot::slack::ids::SCORECARD_OPEN).is_none());
    // Frozen: scorecards (a stale button, e.g. in an old reminder), skips, panel and a second
    // decision are refused.
    let stale = loopbot::slack::ids::stage_value(1, 1);
    app.slack
        .press_button(
            SCREENER,
            &channel.id,
            &rubric.ts,
            loopbot::slack::ids::SCORECARD_OPEN,
            &stale,
        )
        .await;
    assert!(is_notice(
        &latest_view(&world, SCREENER),
        "can no longer be changed"
    ));
    assert!(
        command_in_loop(&world, &app, HIRING_MANAGER, "skip values Not needed")
            .await
            .to_string()
            .contains("decision for this loop has been recorded")
    );
    assert!(
        command_in_loop(&world, &app, COORDINATOR, "panel")
            .await
            .to_string()
            .contains("can no longer change")
    );
    assert!(
        command_in_loop(&world, &app, HIRING_MANAGER, "decide")
            .await
            .to_string()
            .contains("already recorded")
    );

    // Archived after LOOPBOT_ARCHIVE_AFTER (7 days by default).
    world.clock.advance(Duration::from_secs(6 * 86_400));
    app.run_jobs().await;
    assert!(!world.sim.channel(&channel.id).unwrap().is_archived);
    world.clock.advance(Duration::from_secs(86_400));
    app.run_jobs().await;
    assert!(world.sim.channel(&channel.id).unwrap().is_archived);
}

#[tokio::test]
async fn a_complete_loop_decides_without_confirmation_and_never_keeps_the_channel() {
    let world = World::new().await;
    let app = world
        .spawn_app_with(&[("LOOPBOT_ARCHIVE_AFTER", "never")])
        .await;
    provisioned(&world, &app).await;
    for (who, position) in [(SCREENER, 1), (DESIGNER, 2), (CODER, 3)] {
        submit_stage(&world, &app, who, position, "3").await;
    }
    command_in_loop(
        &world,
        &app,
        HIRING_MANAGER,
        "skip values Hiring freeze; decided on three stages",
    )
    .await;
    command_in_loop(&world, &app, COORDINATOR, "decide").await;
    let form = latest_view(&world, COORDINATOR);
    assert!(!form.view.to_string().contains("confirm_missing"));
    let r = app
        .slack
        .submit_view(
            COORDINATOR,
            &form.id,
            &FormValues::new()
                .option("outcome", "hold")
                .text("rationale", "Waiting for headcount approval next quarter."),
        )
        .await;
    assert!(r.text().await.unwrap().is_empty());
    world.clock.advance(Duration::from_secs(30 * 86_400));
    app.run_jobs().await;
    assert!(!loop_channel(&world).is_archived);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE kind = 'archive_channel'")
            .await,
        0
    );
}

#[tokio::test]
async fn the_panel_changes_and_newcomers_are_invited() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    assert!(
        command_in_loop(&world, &app, SCREENER, "panel")
            .await
            .to_string()
            .contains("Only the hiring manager")
    );
    command_in_loop(&world, &app, COORDINATOR, "panel").await;
    let form = latest_view(&world, COORDINATOR);
    assert_eq!(form.view["callback_id"], "panel");
    let values = form.view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block_id"] == "panel:technical-screen")
        .unwrap();
    assert_eq!(
        values["element"]["initial_users"],
        json!([SCREENER]),
        "prefilled"
    );
    let later = START_MS / 1000 + 5 * 86_400;
    let change = FormValues::new()
        .users("panel:values", &[OUTSIDER])
        .date_time("time:values", later);
    let r = app.slack.submit_view(COORDINATOR, &form.id, &change).await;
    assert!(r.text().await.unwrap().is_empty());
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    let channel = loop_channel(&world);
    assert!(
        channel.members.contains(&OUTSIDER.to_string()),
        "the newcomer is invited"
    );
    let values_rubric = &stage_post(&world, &channel.id, 4);
    assert!(
        values_rubric
            .blocks
            .to_string()
            .contains(&format!("<@{OUTSIDER}>")),
        "the rubric message names them"
    );
    assert!(
        values_rubric
            .blocks
            .to_string()
            .contains(&format!("<!date^{later}^"))
    );
    assert!(
        summary(&world)
            .blocks
            .to_string()
            .contains(&format!("<@{OUTSIDER}>"))
    );
    let audit: String =
        sqlx::query_scalar("SELECT detail FROM audit_log WHERE action = 'panel_changed'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(
        audit.contains("stage=4") && audit.contains(OUTSIDER),
        "{audit}"
    );
    // The newcomer can now submit for that stage.
    assert_eq!(
        press_stage(&world, &app, OUTSIDER, 4).await.view["callback_id"],
        "scorecard"
    );
}

#[tokio::test]
async fn status_shows_the_summary_in_a_loop_channel_and_what_you_owe_elsewhere() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let here = command_in_loop(&world, &app, OUTSIDER, "status").await;
    assert_eq!(here["response_type"], "ephemeral");
    assert!(here.to_string().contains("Interview loop · Ada Lovelace"));
    let elsewhere: Value = app
        .slack
        .command(SCREENER, &world.hiring_channel, "status")
        .await
        .json()
        .await
        .unwrap();
    let text = elsewhere.to_string();
    assert!(
        text.contains("Ada Lovelace") && text.contains("you are interviewer"),
        "{text}"
    );
    assert!(
        text.contains("You owe a scorecard for: Technical screen"),
        "{text}"
    );
    assert!(text.contains("Values and collaboration (not scheduled yet)"));
    let nothing: Value = app
        .slack
        .command(OUTSIDER, &world.hiring_channel, "status")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        nothing
            .to_string()
            .contains("You have no open interview loops")
    );
}

#[tokio::test]
async fn remind_nudges_everyone_who_owes_feedback_now_once() {
    let world = World::new().await;
    // Automatic reminders are far off (30 days): only the nudge asked for is sent.
    let app = world
        .spawn_app_with(&[
            ("LOOPBOT_FEEDBACK_DUE", "30d"),
            NO_BRIEF_OR_NUDGE[0],
            NO_BRIEF_OR_NUDGE[1],
        ])
        .await;
    provisioned(&world, &app).await;
    assert!(
        command_in_loop(&world, &app, SCREENER, "remind")
            .await
            .to_string()
            .contains("Only the hiring manager")
    );
    let early = command_in_loop(&world, &app, COORDINATOR, "remind").await;
    assert!(early.to_string().contains("Nobody owes feedback right now"));
    // Both scheduled interviews (day 1 and day 2) are over.
    world.clock.advance(Duration::from_secs(3 * 86_400));
    let r = command_in_loop(&world, &app, COORDINATOR, "remind").await;
    assert!(r.to_string().contains(&format!("<@{SCREENER}>")), "{r}");
    app.run_jobs().await;
    assert_eq!(world.sim.dms_to(SCREENER).len(), 1);
    assert_eq!(world.sim.dms_to(DESIGNER).len(), 1);
    assert_eq!(
        world.sim.dms_to(CODER).len(),
        0,
        "coding is not scheduled: not chased"
    );
    app.run_jobs().await;
    assert_eq!(world.sim.dms_to(SCREENER).len(), 1, "once");
}

#[tokio::test]
async fn channel_events_outside_loopbot_update_the_loop() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let channel = loop_channel(&world);
    let renamed = app.slack.event("EvR", json!({"type": "group_rename", "channel": {"id": channel.id, "name": "loop-ada-2026", "created": 1}, "event_ts": "1.0"})).await;
    assert_eq!(renamed.status(), 200);
    let name: String = sqlx::query_scalar("SELECT channel_name FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(name, "loop-ada-2026");
    app.slack.event("EvA", json!({"type": "group_archive", "channel": channel.id, "user": COORDINATOR, "event_ts": "1.0"})).await;
    let status: String = sqlx::query_scalar("SELECT status FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "closed");
    app.slack.event("EvU", json!({"type": "group_unarchive", "channel": channel.id, "user": COORDINATOR, "event_ts": "1.0"})).await;
    let status: String = sqlx::query_scalar("SELECT status FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "open");
    app.slack
        .event(
            "EvD",
            json!({"type": "group_deleted", "channel": channel.id, "event_ts": "1.0"}),
        )
        .await;
    let status: String = sqlx::query_scalar("SELECT status FROM loops")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(status, "closed");
    // Work for a deleted channel is dropped quietly, not retried into errors.
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    app.run_jobs().await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM jobs WHERE state = 'failed'")
            .await,
        0
    );
    let actions: Vec<String> =
        sqlx::query_scalar("SELECT action FROM audit_log WHERE actor_id = 'slack' ORDER BY id")
            .fetch_all(&app.state.db)
            .await
            .unwrap();
    assert_eq!(
        actions,
        [
            "channel_renamed",
            "channel_archived",
            "channel_unarchived",
            "channel_deleted"
        ]
    );
}

#[tokio::test]
async fn uninstalling_or_revoking_stops_outbound_work_without_an_error_storm() {
    for event in ["app_uninstalled", "tokens_revoked"] {
        let world = World::new().await;
        let app = world.spawn_app().await;
        let event_body =
            json!({"type": event, "tokens": {"bot": ["U0LOOPBOT"]}, "event_ts": "1.0"});
        // A loop is stored; before its work runs, the app is uninstalled.
        start_standard_loop(&world, &app).await;
        world.sim.revoke_token();
        assert_eq!(app.slack.event("EvX", event_body).await.status(), 200);
        for _ in 0..5 {
            world.clock.advance(Duration::from_secs(3600));
            assert_eq!(
                app.run_jobs().await,
                0,
                "{event}: nothing is sent while paused"
            );
        }
        let failed_calls = world.sim.calls().iter().filter(|c| !c.ok).count();
        assert_eq!(failed_calls, 0, "{event}: no calls at all");
        assert!(
            app.get("/metrics")
                .await
                .text()
                .await
                .unwrap()
                .contains("loopbot_outbound_paused{reason=\"token\"} 1")
        );
        assert_eq!(
            app.count("SELECT COUNT(*) FROM jobs WHERE state = 'queued'")
                .await,
            1,
            "the work is kept"
        );
        app.stop().await;
        // A reinstall gives a working token: the next start resumes the queued work.
        world.sim.restore_token();
        let app = world.spawn_app().await;
        app.run_jobs().await;
        assert!(
            world
                .sim
                .channels()
                .iter()
                .any(|c| c.name.starts_with("loop-")),
            "{event}"
        );
    }
}

#[tokio::test]
async fn a_token_refused_mid_work_pauses_after_one_failed_call() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    start_standard_loop(&world, &app).await;
    world.sim.revoke_token();
    for _ in 0..5 {
        app.run_jobs().await;
        world.clock.advance(Duration::from_secs(600));
    }
    let failed = world
        .sim
        .calls()
        .iter()
        .filter(|c| c.error.as_deref() == Some("token_revoked"))
        .count();
    assert_eq!(failed, 1, "one refused call, then silence");
    let (state, attempts): (String, i64) = sqlx::query_as("SELECT state, attempts FROM jobs")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        (state.as_str(), attempts),
        ("queued", 0),
        "kept and not counted against the job"
    );
}
