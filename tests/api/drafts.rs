//! The sharper scorecard through signed interactions: Not assessed, red flags, and drafts that
//! survive closing the form (saved as the interviewer goes, restored on reopening, discarded
//! on submission), for the stage's panel only.

use serde_json::{Value, json};
use slack_sim::client::{FormValues, SlackSide};

use crate::helpers::*;

fn stage_rubric(position: usize) -> loopbot::domain::rubric::StageRubric {
    loopbot::domain::rubric::RubricSet::builtin()
        .default_rubric()
        .stages[position - 1]
        .clone()
}

async fn drafts(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM scorecard_drafts").await
}

async fn draft_state(app: &TestApp, user: &str) -> Value {
    let state: String =
        sqlx::query_scalar("SELECT state FROM scorecard_drafts WHERE interviewer_id = $1")
            .bind(user)
            .fetch_one(&app.state.db)
            .await
            .expect("a draft");
    serde_json::from_str(&state).unwrap()
}

/// Everything but the draft: scorecards, jobs, audit entries, messages and modals.
async fn everything_else(world: &World, app: &TestApp) -> (i64, i64, i64, usize, usize) {
    let channel = loop_channel(world);
    (
        app.count("SELECT COUNT(*) FROM scorecards").await,
        app.count("SELECT COUNT(*) FROM jobs").await,
        app.count("SELECT COUNT(*) FROM audit_log").await,
        world.sim.messages(&channel.id).len(),
        [SCREENER, DESIGNER, OUTSIDER]
            .iter()
            .map(|u| world.sim.views_of(u).len())
            .sum(),
    )
}

/// The option values of the red flags of a scorecard modal, in the rubric's order.
fn red_flag_values(view: &Value) -> Vec<String> {
    view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block_id"] == "red_flags")
        .expect("the red flags")["element"]["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["value"].as_str().unwrap().to_string())
        .collect()
}

fn block<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["block_id"] == id)
        .unwrap_or_else(|| panic!("block {id}"))
}

fn crit(position: usize, index: usize) -> String {
    format!("crit:{}", stage_rubric(position).criteria[index].key)
}

#[tokio::test]
async fn not_assessed_is_stored_apart_and_all_not_assessed_is_refused_next_to_the_field() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let stage = stage_rubric(1);

    let mut all_na = filled_scorecard(&view.view, "3", EVIDENCE);
    for c in &stage.criteria {
        all_na = all_na.option(&format!("crit:{}", c.key), "na");
    }
    let body: Value = app
        .slack
        .submit_view(SCREENER, &view.id, &all_na)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["response_action"], "errors", "{body}");
    let errors = body["errors"].as_object().unwrap();
    assert_eq!(errors.len(), 1, "{body}");
    assert!(
        errors[&crit(1, 0)]
            .as_str()
            .unwrap()
            .contains("at least one criterion"),
        "{body}"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM scorecards").await, 0);

    let one_na = filled_scorecard(&view.view, "3", EVIDENCE).option(&crit(1, 0), "na");
    let r = app.slack.submit_view(SCREENER, &view.id, &one_na).await;
    assert_eq!(r.text().await.unwrap(), "", "stored, the modal closes");
    let (ratings, not_assessed): (String, String) =
        sqlx::query_as("SELECT ratings, not_assessed FROM scorecards")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let ratings: Value = serde_json::from_str(&ratings).unwrap();
    let first = &stage.criteria[0].key;
    assert!(
        ratings.get(first).is_none(),
        "not assessed does not count: {ratings}"
    );
    assert_eq!(ratings.as_object().unwrap().len(), stage.criteria.len() - 1);
    assert_eq!(not_assessed, json!([first]).to_string());

    // Editing: the form opens with Not assessed chosen again.
    let again = press_stage(&world, &app, SCREENER, 1).await;
    assert_eq!(
        block(&again.view, &crit(1, 0))["element"]["initial_option"]["value"],
        "na"
    );
}

#[tokio::test]
async fn red_flags_ticked_are_stored_in_the_rubrics_words_and_shown_in_view_scorecards() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let stage = stage_rubric(1);
    let values = red_flag_values(&view.view);
    let form = filled_scorecard(&view.view, "2", EVIDENCE)
        .option(&crit(1, 1), "na")
        .checked("red_flags", &[&values[0], &values[2]]);
    let r = app.slack.submit_view(SCREENER, &view.id, &form).await;
    assert_eq!(r.text().await.unwrap(), "");
    let stored: String = sqlx::query_scalar("SELECT red_flags FROM scorecards")
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&stored).unwrap(),
        json!([stage.red_flags[0], stage.red_flags[2]])
    );
    app.run_jobs().await;

    let shown = press_view_scorecards(&world, &app, COORDINATOR).await;
    let text = shown.view.to_string();
    assert!(text.contains("Red flags:"), "{text}");
    assert!(text.contains(&stage.red_flags[0]), "{text}");
    assert!(!text.contains(&stage.red_flags[1]), "only the ticked ones");
    assert!(
        text.contains(&format!("{}: Not assessed", stage.criteria[1].name)),
        "{text}"
    );
}

#[tokio::test]
async fn a_draft_survives_closing_the_form_and_is_restored_then_discarded_on_submit() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let flags = red_flag_values(&view.view);
    let typed = FormValues::new()
        .option(&crit(1, 0), "4")
        .option(&crit(1, 1), "na")
        .checked("red_flags", &[&flags[1]])
        .text(
            "evidence",
            "Walked me through the billing service; half-way",
        );
    let before = everything_else(&world, &app).await;
    let r = app
        .slack
        .close_view(SCREENER, &view.id, &typed)
        .await
        .expect("the form asks to be told when it closes");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    assert_eq!(drafts(&app).await, 1);
    assert_eq!(
        everything_else(&world, &app).await,
        before,
        "only the draft"
    );

    let reopened = press_stage(&world, &app, SCREENER, 1).await;
    let v = &reopened.view;
    assert_eq!(
        v["submit"]["text"], "Submit scorecard",
        "still a first submission"
    );
    assert_eq!(
        block(v, &crit(1, 0))["element"]["initial_option"]["value"],
        "4"
    );
    assert_eq!(
        block(v, &crit(1, 1))["element"]["initial_option"]["value"],
        "na"
    );
    assert!(block(v, &crit(1, 2))["element"]["initial_option"].is_null());
    assert_eq!(
        block(v, "evidence")["element"]["initial_value"],
        "Walked me through the billing service; half-way"
    );
    assert_eq!(
        block(v, "red_flags")["element"]["initial_options"][0]["value"],
        flags[1].as_str()
    );
    assert!(v.to_string().contains("Restored what you typed"));

    // Finishing the restored form: the typed choices go in, the draft goes away.
    let finish = FormValues::new()
        .option(&crit(1, 2), "3")
        .option("overall", "3")
        .text("evidence", EVIDENCE);
    let r = app.slack.submit_view(SCREENER, &reopened.id, &finish).await;
    assert_eq!(r.text().await.unwrap(), "");
    assert_eq!(drafts(&app).await, 0, "submitting discards the draft");
    let (ratings, flags_stored): (String, String) =
        sqlx::query_as("SELECT ratings, red_flags FROM scorecards")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    let ratings: Value = serde_json::from_str(&ratings).unwrap();
    assert_eq!(ratings[&stage_rubric(1).criteria[0].key], 4);
    assert_eq!(
        serde_json::from_str::<Value>(&flags_stored).unwrap(),
        json!([stage_rubric(1).red_flags[1]])
    );
    let after = press_stage(&world, &app, SCREENER, 1).await;
    assert!(!after.view.to_string().contains("Restored what you typed"));
    assert_eq!(after.view["submit"]["text"], "Save changes");
}

#[tokio::test]
async fn what_is_typed_is_saved_as_the_interviewer_goes() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let before = everything_else(&world, &app).await;

    let typed = FormValues::new().text("evidence", "Typed so far");
    let r = app
        .slack
        .change_in_view(SCREENER, &view.id, "evidence", &typed)
        .await
        .expect("the evidence reports each character");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "", "a plain acknowledgement");
    assert_eq!(
        draft_state(&app, SCREENER).await["evidence"],
        "Typed so far"
    );

    let picked = typed.option(&crit(1, 0), "2");
    app.slack
        .change_in_view(SCREENER, &view.id, &crit(1, 0), &picked)
        .await
        .expect("a rating reports its choice");
    let flags = red_flag_values(&view.view);
    let ticked = picked.checked("red_flags", &[&flags[0]]);
    app.slack
        .change_in_view(SCREENER, &view.id, "red_flags", &ticked)
        .await
        .expect("the red flags report each tick");
    let state = draft_state(&app, SCREENER).await;
    assert_eq!(state["ratings"][&stage_rubric(1).criteria[0].key], 2);
    assert_eq!(state["red_flags"], json!([stage_rubric(1).red_flags[0]]));
    assert_eq!(state["evidence"], "Typed so far");
    assert_eq!(
        everything_else(&world, &app).await,
        before,
        "only the draft"
    );

    // The phone drops the form without a close: reopening still finds what was typed.
    let reopened = press_stage(&world, &app, SCREENER, 1).await;
    assert_eq!(
        block(&reopened.view, "evidence")["element"]["initial_value"],
        "Typed so far"
    );
    assert_eq!(
        block(&reopened.view, &crit(1, 0))["element"]["initial_option"]["value"],
        "2"
    );
}

#[tokio::test]
async fn a_draft_made_while_editing_is_restored_over_the_submitted_version() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    submit_stage(&world, &app, SCREENER, 1, "3").await;
    let editing = press_stage(&world, &app, SCREENER, 1).await;
    assert_eq!(editing.view["submit"]["text"], "Save changes");
    let changed = FormValues::new().text("concerns", "Probe their on-call story.");
    app.slack
        .close_view(SCREENER, &editing.id, &changed)
        .await
        .expect("told of the close");
    let reopened = press_stage(&world, &app, SCREENER, 1).await;
    let v = &reopened.view;
    assert_eq!(v["submit"]["text"], "Save changes");
    assert_eq!(
        block(v, "concerns")["element"]["initial_value"],
        "Probe their on-call story."
    );
    assert_eq!(
        block(v, "evidence")["element"]["initial_value"],
        EVIDENCE,
        "the rest as submitted"
    );
    let r = app
        .slack
        .submit_view(SCREENER, &reopened.id, &FormValues::new())
        .await;
    assert_eq!(r.text().await.unwrap(), "");
    assert_eq!(app.count("SELECT MAX(version) FROM scorecards").await, 2);
    assert_eq!(drafts(&app).await, 0);
}

/// A `view_closed` or a `block_actions` for someone else's scorecard form, sent as `user`.
fn forged(slack: &SlackSide, user: &str, view: &slack_sim::SimView, kind: &str) -> Value {
    let values = FormValues::new().text("evidence", "Not my interview at all, but here goes");
    let mut payload = slack.submission_of(user, &view.id, &view.hash, &view.view, &values);
    payload["type"] = json!(kind);
    if kind == "block_actions" {
        payload["container"] = json!({ "type": "view", "view_id": view.id });
        payload["actions"] = json!([{ "type": "plain_text_input", "action_id": "value",
            "block_id": "evidence", "value": "Not my interview at all, but here goes" }]);
    }
    payload
}

#[tokio::test]
async fn someone_not_on_the_panel_closing_or_typing_changes_nothing() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let before = everything_else(&world, &app).await;
    for user in [OUTSIDER, DESIGNER, HIRING_MANAGER] {
        for kind in ["view_closed", "block_actions"] {
            let payload = forged(&app.slack, user, &view, kind);
            let r = app
                .slack
                .post_signed(
                    "/slack/interactions",
                    slack_sim::client::FORM,
                    &SlackSide::interaction_body(&payload),
                )
                .await;
            assert_eq!(r.status(), 200, "{user} {kind}");
            assert_eq!(r.text().await.unwrap(), "", "{user} {kind}");
        }
    }
    assert_eq!(drafts(&app).await, 0, "no draft for anyone off the panel");
    assert_eq!(everything_else(&world, &app).await, before);

    // The screener's own form, reopened, is untouched by them.
    let reopened = press_stage(&world, &app, SCREENER, 1).await;
    assert!(block(&reopened.view, "evidence")["element"]["initial_value"].is_null());
}

#[tokio::test]
async fn an_unsigned_close_saves_nothing() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let view = press_stage(&world, &app, SCREENER, 1).await;
    let payload = forged(&app.slack, SCREENER, &view, "view_closed");
    let r = app
        .slack
        .post_raw(
            "/slack/interactions",
            slack_sim::client::FORM,
            &SlackSide::interaction_body(&payload),
            None,
        )
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(drafts(&app).await, 0);
    // The same close, signed: saved.
    let r = app
        .slack
        .post_signed(
            "/slack/interactions",
            slack_sim::client::FORM,
            &SlackSide::interaction_body(&payload),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(drafts(&app).await, 1);
}
