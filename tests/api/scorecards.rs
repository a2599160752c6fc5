//! Scorecards through signed interactions: the form, its rules, blindness, who may do what,
//! and the pinned summary kept current without flooding Slack.

use std::time::Duration;

use loopbot::slack::ids::SCORECARD_OPEN;
use serde_json::Value;
use slack_sim::client::FormValues;

use crate::helpers::*;

async fn versions(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM scorecards").await
}

#[tokio::test]
async fn the_form_is_worded_from_the_stage_rubric_per_criterion() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let v = &view.view;
    assert_eq!(v["title"]["text"], "Technical screen");
    assert_eq!(v["notify_on_close"], true, "closing the form is reported");
    let rubrics = loopbot::domain::rubric::RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[0];
    let blocks = v["blocks"].as_array().unwrap();
    let text = v.to_string();
    assert!(
        !text.contains("Only well prepared"),
        "the rubric's own words"
    );
    for criterion in &stage.criteria {
        let block = blocks
            .iter()
            .find(|b| b["block_id"] == format!("crit:{}", criterion.key))
            .expect("a rating per criterion");
        assert_eq!(block["label"]["text"], criterion.name.as_str());
        assert_eq!(block["dispatch_action"], true, "saved as they go");
        let hint = block["hint"]["text"].as_str().unwrap();
        assert!(hint.contains(&criterion.listen_for[..30]), "{hint}");
        assert!(hint.contains(&format!(
            "Merely well prepared: {}",
            criterion.well_prepared
        )));
        let options = block["element"]["options"].as_array().unwrap();
        let texts: Vec<&str> = options
            .iter()
            .map(|o| o["text"]["text"].as_str().unwrap())
            .collect();
        assert_eq!(
            texts,
            [
                "4 · Shows the strong signals",
                "3 · Mostly strong",
                "2 · Merely well prepared",
                "1 · Absent, or a red flag",
                "Not assessed"
            ]
        );
        let values: Vec<&str> = options
            .iter()
            .map(|o| o["value"].as_str().unwrap())
            .collect();
        assert_eq!(values, ["4", "3", "2", "1", "na"]);
        // Point 4 is described by the criterion's strong answer, point 2 by the merely
        // well-prepared one, in the rubric's words (clipped to Slack's 75 characters).
        let described = |i: usize| options[i]["description"]["text"].as_str().unwrap();
        assert!(
            described(0).starts_with(&criterion.strong[..40]),
            "{}",
            described(0)
        );
        assert!(described(2).starts_with(&criterion.well_prepared[..40]));
        assert!(described(0).chars().count() <= 75);
    }
    let flags = blocks
        .iter()
        .find(|b| b["block_id"] == "red_flags")
        .expect("the stage's red flags");
    assert_eq!(flags["optional"], true);
    assert_eq!(flags["element"]["type"], "checkboxes");
    let options = flags["element"]["options"].as_array().unwrap();
    assert_eq!(options.len(), stage.red_flags.len());
    for (option, flag) in options.iter().zip(&stage.red_flags) {
        let shown = format!(
            "{} {}",
            option["text"]["text"].as_str().unwrap(),
            option["description"]["text"].as_str().unwrap_or_default()
        );
        assert_eq!(shown.trim(), flag.as_str(), "every word of the flag");
    }
    let overall = blocks.iter().find(|b| b["block_id"] == "overall").unwrap();
    assert_eq!(overall["label"]["text"], "Worth the full loop?");
    let overall_texts: Vec<&str> = overall["element"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["text"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        overall_texts,
        ["1 · Strong no", "2 · No", "3 · Yes", "4 · Strong yes"],
        "no Not assessed for the overall"
    );
    for id in ["overall", "evidence", "concerns"] {
        assert!(blocks.iter().any(|b| b["block_id"] == id), "{id}");
    }
}

#[tokio::test]
async fn a_submission_is_stored_and_the_stage_thread_learns_it_is_in_but_not_who_or_the_scores() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let body = submit_stage(&world, &app, SCREENER, 1, "4").await;
    assert!(body.is_empty(), "the modal closes: {body}");
    let (position, user, version): (i64, String, i64) =
        sqlx::query_as("SELECT position, interviewer_id, version FROM scorecards")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!((position, user.as_str(), version), (1, SCREENER, 1));

    app.run_jobs().await;
    let channel = loop_channel(&world);
    assert_eq!(
        world.sim.messages(&channel.id).len(),
        5,
        "nothing new in the channel itself"
    );
    let screen_post = &stage_post(&world, &channel.id, 1);
    let thread = world.sim.replies(&channel.id, &screen_post.ts);
    assert_eq!(thread.len(), 2, "the full rubric, then the note");
    let note = thread.last().unwrap();
    assert!(
        note.text
            .contains("Technical screen: 1 of 1 scorecards in."),
        "{}",
        note.text
    );
    assert!(
        !note.text.contains(SCREENER),
        "the note does not name the submitter"
    );
    for secret in ["Strong yes", "4 ·", "sharded queue"] {
        assert!(!note.text.contains(secret) && !note.blocks.to_string().contains(secret));
    }
    let s = summary(&world);
    let text = s.blocks.to_string();
    assert!(text.contains("submitted"), "{text}");
    assert!(!text.contains("4 · "), "blind: no ratings yet");
    assert!(!text.contains("Strong yes"));
    assert_eq!(s.edits.len(), 1, "the summary was edited in place once");
    let rubric = &stage_post(&world, &channel.id, 1);
    assert_eq!(
        button(&rubric.blocks, SCORECARD_OPEN).unwrap().1,
        "Edit my scorecard"
    );
}

#[tokio::test]
async fn missing_fields_are_shown_next_to_the_field_and_nothing_is_stored() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let form = FormValues::new()
        .option("overall", "3")
        .text("evidence", "Good.");
    let r = app.slack.submit_view(SCREENER, &view.id, &form).await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["response_action"], "errors");
    let errors = body["errors"].as_object().unwrap();
    assert!(
        errors["evidence"]
            .as_str()
            .unwrap()
            .contains("at least 40 characters")
    );
    assert!(
        errors.keys().filter(|k| k.starts_with("crit:")).count() >= 3,
        "every unrated criterion"
    );
    assert!(!errors.contains_key("overall"));
    assert_eq!(versions(&app).await, 0);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM jobs WHERE kind NOT IN ('provision_loop', 'post_stages', 'rubric_detail')"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn submitting_again_edits_and_keeps_earlier_versions_while_a_repeat_has_one_effect() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    submit_stage(&world, &app, SCREENER, 1, "3").await;

    // Editing: the form opens prefilled.
    let view = press_stage(&world, &app, SCREENER, 1).await;
    assert_eq!(view.view["submit"]["text"], "Save changes");
    assert!(
        view.view.to_string().contains(EVIDENCE),
        "evidence prefilled"
    );
    let overall = view.view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block_id"] == "overall")
        .unwrap();
    assert_eq!(overall["element"]["initial_option"]["value"], "3");
    let edited = filled_scorecard(
        &view.view,
        "2",
        "On reflection the migration story fell apart under follow-up questions.",
    );
    // A double click: the same payload twice.
    let payload = app.slack.submission_payload(SCREENER, &view.id, &edited);
    let body = slack_sim::client::SlackSide::interaction_body(&payload);
    for _ in 0..2 {
        let r = app
            .slack
            .post_signed("/slack/interactions", slack_sim::client::FORM, &body)
            .await;
        assert_eq!(r.status(), 200);
        world.clock.advance(Duration::from_secs(1));
    }
    assert_eq!(versions(&app).await, 2, "version 1 kept, one version 2");
    let latest: (i64, i64) =
        sqlx::query_as("SELECT version, overall FROM scorecards ORDER BY version DESC LIMIT 1")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(latest, (2, 2));
    app.run_jobs().await;
    let channel = loop_channel(&world);
    let screen_post = &stage_post(&world, &channel.id, 1);
    let notes: Vec<String> = world
        .sim
        .replies(&channel.id, &screen_post.ts)
        .into_iter()
        .skip(1)
        .map(|m| m.text)
        .collect();
    assert_eq!(
        notes.len(),
        1,
        "an edit adds no note (the summary shows it): {notes:?}"
    );
    assert_eq!(
        world.sim.messages(&channel.id).len(),
        5,
        "the channel stays quiet"
    );
    let audit = app.count("SELECT COUNT(*) FROM audit_log WHERE action IN ('scorecard_submitted', 'scorecard_edited')").await;
    assert_eq!(audit, 2);
}

#[tokio::test]
async fn a_stage_thread_hears_once_when_the_stage_is_complete() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let channel = loop_channel(&world);
    let design = stage_post(&world, &channel.id, 2);
    let notes = || {
        world
            .sim
            .replies(&channel.id, &design.ts)
            .into_iter()
            .skip(1)
            .map(|m| m.text)
            .collect::<Vec<_>>()
    };
    // System design has two interviewers: the first scorecard shows on the summary only.
    submit_stage(&world, &app, DESIGNER, 2, "3").await;
    app.run_jobs().await;
    assert_eq!(notes(), Vec::<String>::new());
    submit_stage(&world, &app, HIRING_MANAGER, 2, "4").await;
    app.run_jobs().await;
    assert_eq!(
        notes(),
        vec![":white_check_mark: System design: 2 of 2 scorecards in."]
    );
}

/// A first scorecard moves the loop on whatever version its form says it was opened from (a
/// form opened before the scorecards were purged, say): the stage's thread hears that the
/// stage is complete, as from a fresh form.
#[tokio::test]
async fn a_first_scorecard_from_a_form_naming_an_earlier_version_still_moves_the_loop_on() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let mut stale = view.view.clone();
    let metadata: Value =
        serde_json::from_str(stale["private_metadata"].as_str().unwrap()).unwrap();
    assert_eq!(metadata["v"], 0, "a fresh form: {metadata}");
    let mut metadata = metadata;
    metadata["v"] = 3.into();
    stale["private_metadata"] = metadata.to_string().into();
    let form = filled_scorecard(&view.view, "4", EVIDENCE);
    let payload = app
        .slack
        .submission_of(SCREENER, &view.id, &view.hash, &stale, &form);
    let r = app.slack.interact(payload).await;
    assert_eq!(r.status(), 200);
    let version: i64 = app.count("SELECT MAX(version) FROM scorecards").await;
    assert_eq!(version, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'scorecard_submitted'")
            .await,
        1
    );

    app.run_jobs().await;
    let channel = loop_channel(&world);
    let screen_post = stage_post(&world, &channel.id, 1);
    let thread = world.sim.replies(&channel.id, &screen_post.ts);
    assert!(
        thread
            .last()
            .is_some_and(|m| m.text.contains("Technical screen: 1 of 1 scorecards in.")),
        "{thread:?}"
    );
}

#[tokio::test]
async fn who_may_open_submit_and_view_scorecards() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    // A loop where the hiring manager is not on the panel.
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    let form = FormValues::new()
        .user("hiring_manager", HIRING_MANAGER)
        .users("panel:technical-screen", &[SCREENER])
        .users("panel:system-design", &[DESIGNER])
        .users("panel:coding", &[CODER])
        .users("panel:values", &[CODER]);
    app.slack
        .submit_view(COORDINATOR, &latest_view(&world, COORDINATOR).id, &form)
        .await;
    app.run_jobs().await;

    // (person, may open stage 1, may submit stage 1, may view all before submitting anything)
    let table = [
        (COORDINATOR, false, false, true),
        (HIRING_MANAGER, false, false, true),
        (SCREENER, true, true, false),
        (DESIGNER, false, false, false),
        (OUTSIDER, false, false, false),
    ];
    let screener_view = press_stage(&world, &app, SCREENER, 1).await;
    for (who, may_open, _, _) in table {
        let view = press_stage(&world, &app, who, 1).await;
        if may_open {
            assert_eq!(
                view.view["callback_id"], "scorecard",
                "{who} opens the form"
            );
        } else {
            assert!(
                is_notice(&view, "Only the interviewers assigned to Technical screen"),
                "{who}: {}",
                view.view
            );
        }
    }
    for (who, _, _, may_view) in table {
        let view = press_view_scorecards(&world, &app, who).await;
        if may_view {
            assert_eq!(view.view["title"]["text"], "Scorecards", "{who}");
        } else {
            assert!(
                is_notice(&view, "Scorecards are blind"),
                "{who}: {}",
                view.view
            );
        }
    }
    for (who, _, may_submit, _) in table {
        let form = filled_scorecard(&screener_view.view, "3", EVIDENCE);
        // Everyone but the screener forges a submission of the screener's form.
        let payload = app.slack.submission_of(
            who,
            &screener_view.id,
            &screener_view.hash,
            &screener_view.view,
            &form,
        );
        let r = app
            .slack
            .post_signed(
                "/slack/interactions",
                slack_sim::client::FORM,
                &slack_sim::client::SlackSide::interaction_body(&payload),
            )
            .await;
        assert_eq!(r.status(), 200);
        let body = r.text().await.unwrap();
        if may_submit {
            assert!(body.is_empty(), "{who}: {body}");
        } else {
            let body: Value = serde_json::from_str(&body).unwrap();
            assert!(
                body["errors"]["evidence"]
                    .as_str()
                    .unwrap()
                    .contains("Only the interviewers assigned"),
                "{who}"
            );
        }
    }
    assert_eq!(
        versions(&app).await,
        1,
        "only the screener's scorecard was stored"
    );
    let stored: String = sqlx::query_scalar("SELECT interviewer_id FROM scorecards")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(stored, SCREENER);
    // Having submitted, the screener may now read the scorecards.
    let view = press_view_scorecards(&world, &app, SCREENER).await;
    assert_eq!(view.view["title"]["text"], "Scorecards");
    assert!(view.view.to_string().contains("sharded queue"));
    // Another stage's interviewer is still refused.
    assert!(is_notice(
        &press_view_scorecards(&world, &app, DESIGNER).await,
        "Scorecards are blind"
    ));
}

#[tokio::test]
async fn view_scorecards_shows_each_criterion_in_the_words_the_form_asked_it() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    // Every criterion at the top of its scale, the overall two points lower: the two scales'
    // words for a 4 differ, so a criterion shown on the recommendation scale would read
    // "4 · Strong yes".
    let form = press_stage(&world, &app, SCREENER, 1).await;
    let mut values = FormValues::new()
        .text("evidence", EVIDENCE)
        .option("overall", "2");
    for block in form.view["blocks"].as_array().unwrap() {
        if let Some(id) = block["block_id"]
            .as_str()
            .filter(|id| id.starts_with("crit:"))
        {
            values = values.option(id, "4");
        }
    }
    let answer = app.slack.submit_view(SCREENER, &form.id, &values).await;
    assert_eq!(answer.text().await.unwrap(), "", "stored, the form closes");
    app.run_jobs().await;

    let shown = press_view_scorecards(&world, &app, COORDINATOR)
        .await
        .view
        .to_string();
    let rubrics = loopbot::domain::rubric::RubricSet::builtin();
    for criterion in &rubrics.default_rubric().stages[0].criteria {
        let line = format!("• {}: 4 · Shows the strong signals", criterion.name);
        assert!(shown.contains(&line), "{line} in {shown}");
    }
    assert!(
        shown.contains(&format!("<@{SCREENER}> · overall *2 · No*")),
        "{shown}"
    );
    assert!(
        shown.contains("_Criteria: 4 shows the strong signals"),
        "{shown}"
    );
    assert!(!shown.contains("4 · Strong yes"), "{shown}");
    app.stop().await;
}

#[tokio::test]
async fn a_decided_loop_refuses_scorecards_with_the_reason() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    sqlx::query("UPDATE loops SET status = 'decided'")
        .execute(&app.state.db)
        .await
        .unwrap();
    let r = app
        .slack
        .submit_view(
            SCREENER,
            &view.id,
            &filled_scorecard(&view.view, "4", EVIDENCE),
        )
        .await;
    let body: Value = r.json().await.unwrap();
    assert!(
        body["errors"]["evidence"]
            .as_str()
            .unwrap()
            .contains("decision for this loop has been recorded")
    );
    let notice = press_stage(&world, &app, SCREENER, 1).await;
    assert!(is_notice(&notice, "can no longer be changed"));
    assert_eq!(versions(&app).await, 0);
}

#[tokio::test]
async fn recommendations_show_in_the_channel_once_every_stage_is_in() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    for (who, position, rating) in [
        (SCREENER, 1, "4"),
        (DESIGNER, 2, "3"),
        (HIRING_MANAGER, 2, "2"),
        (CODER, 3, "3"),
    ] {
        submit_stage(&world, &app, who, position, rating).await;
        world.clock.advance(Duration::from_secs(2));
        app.run_jobs().await;
        assert!(
            !summary(&world).blocks.to_string().contains(" · Yes*"),
            "still blind after {who}"
        );
    }
    submit_stage(&world, &app, SCREENER, 4, "4").await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    let text = summary(&world).blocks.to_string();
    assert!(
        text.contains(&format!("<@{SCREENER}> *4 · Strong yes*")),
        "{text}"
    );
    assert!(text.contains(&format!("<@{HIRING_MANAGER}> *2 · No*")));
    assert!(text.contains("Every stage is in"));
}

#[tokio::test]
async fn a_burst_of_submissions_makes_at_most_one_summary_edit_per_second_and_ends_current() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let channel = loop_channel(&world);
    let summary_ts = summary(&world).ts;

    // Three submissions in the same instant, then two more 300 ms apart.
    for (who, position) in [(SCREENER, 1), (DESIGNER, 2), (CODER, 3)] {
        submit_stage(&world, &app, who, position, "3").await;
    }
    app.run_jobs().await;
    world.clock.advance(Duration::from_millis(300));
    submit_stage(&world, &app, HIRING_MANAGER, 2, "3").await;
    app.run_jobs().await;
    world.clock.advance(Duration::from_millis(300));
    submit_stage(&world, &app, SCREENER, 4, "3").await;
    app.run_jobs().await;
    // Let every pending refresh run.
    for _ in 0..5 {
        world.clock.advance(Duration::from_millis(500));
        app.run_jobs().await;
    }

    let updates: Vec<i64> = world
        .sim
        .calls()
        .into_iter()
        .filter(|c| {
            c.method == "chat.update"
                && c.ok
                && c.params["ts"] == summary_ts.as_str()
                && c.params["channel"] == channel.id.as_str()
        })
        .map(|c| c.at_ms)
        .collect();
    assert!(
        updates.len() >= 2 && updates.len() <= 3,
        "coalesced: {updates:?}"
    );
    for pair in updates.windows(2) {
        assert!(
            pair[1] - pair[0] >= 1000,
            "at most one edit per second: {updates:?}"
        );
    }
    let text = summary(&world).blocks.to_string();
    assert!(
        text.contains("Every stage is in"),
        "the last edit shows the latest state"
    );
}

#[tokio::test]
async fn the_summary_catches_up_after_a_restart() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    // The process stops before the worker ran the refresh.
    app.stop().await;
    let app = world.spawn_app().await;
    app.run_jobs().await;
    let text = summary(&world).blocks.to_string();
    assert!(text.contains(":white_check_mark: submitted"), "{text}");
}

#[tokio::test]
async fn the_scorecard_opens_when_its_interview_starts_and_an_early_press_stores_nothing() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let channel = loop_channel(&world);
    let screen = stage_post(&world, &channel.id, 1);
    let (value, _) = button(&screen.blocks, SCORECARD_OPEN).unwrap();
    // The technical screen is tomorrow.
    let r = app
        .slack
        .press_button(SCREENER, &channel.id, &screen.ts, SCORECARD_OPEN, &value)
        .await;
    assert_eq!(r.status(), 200);
    let notice = latest_view(&world, SCREENER);
    assert!(
        is_notice(&notice, "opens when the interview starts"),
        "{}",
        notice.view
    );
    assert!(notice.view.to_string().contains("Nothing was saved"));
    assert_eq!(app.count("SELECT COUNT(*) FROM scorecards").await, 0);
    // At the interview's start it opens.
    interview_started(&world, &app, 1).await;
    let form = press_stage(&world, &app, SCREENER, 1).await;
    assert_eq!(form.view["callback_id"], "scorecard");
}

#[tokio::test]
async fn blind_per_stage_closes_the_holes_for_interviewing_owners_and_two_stage_interviewers() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    // The standard loop: Ines on the screen and on values, Harper (hiring manager) on system
    // design with Dev.
    provisioned(&world, &app).await;
    submit_stage(&world, &app, SCREENER, 1, "4").await;
    app.run_jobs().await;

    let harper = press_view_scorecards(&world, &app, HIRING_MANAGER).await;
    assert!(
        is_notice(&harper, "Still to submit: System design"),
        "the interviewing hiring manager is blind: {}",
        harper.view
    );
    let ines = press_view_scorecards(&world, &app, SCREENER).await;
    assert!(
        is_notice(&ines, "Still to submit: Values and collaboration"),
        "one scorecard of two is not enough: {}",
        ines.view
    );
    let coordinator = press_view_scorecards(&world, &app, COORDINATOR).await;
    assert_eq!(coordinator.view["title"]["text"], "Scorecards");

    submit_stage(&world, &app, HIRING_MANAGER, 2, "3").await;
    submit_stage(&world, &app, SCREENER, 4, "3").await;
    app.run_jobs().await;
    for who in [HIRING_MANAGER, SCREENER] {
        let view = press_view_scorecards(&world, &app, who).await;
        assert_eq!(
            view.view["title"]["text"], "Scorecards",
            "{who} reads them now"
        );
    }
}
