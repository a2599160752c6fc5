//! The start form and the panel form put people on a loop by the same rules: each stage's
//! interviewers at most five, each a person in the workspace (not an id Slack does not know,
//! not an app or bot), the hiring manager likewise. A problem shows next to its field, the
//! form stays open and nothing is stored; Slack's own trouble never blocks the form.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use slack_sim::client::FormValues;
use slack_sim::{Fault, SimUser};

use crate::helpers::*;

const BOT: &str = "UBOTTY";

fn add_bot(world: &World) {
    world.sim.add_user(SimUser {
        is_bot: true,
        ..SimUser::new(BOT, "botty", "Botty the app", "UTC", 0)
    });
}

/// Ids no workspace has: shaped like Slack's, so only Slack can say they are nobody.
fn nobodies(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("UNOBODY{i:03}")).collect()
}

fn as_strs(ids: &[String]) -> Vec<&str> {
    ids.iter().map(String::as_str).collect()
}

/// How many times Slack was asked who someone is, whatever it answered.
fn lookups(world: &World) -> usize {
    world
        .sim
        .calls()
        .iter()
        .filter(|c| c.method == "users.info")
        .count()
}

async fn errors_of(response: reqwest::Response) -> Value {
    let body: Value = response.json().await.expect("a response_action body");
    assert_eq!(body["response_action"], "errors", "{body}");
    body["errors"].clone()
}

const SIX: &str = "Choose at most 5 interviewers for one stage.";
const TWO_NOBODIES: &str =
    "2 of these people are not in this workspace. Choose people from the list.";
const A_BOT: &str = "An app or bot cannot run an interview. Choose a person.";

#[tokio::test]
async fn the_panel_form_refuses_six_interviewers_unknown_people_and_bots_next_to_each_field() {
    let world = World::new().await;
    add_bot(&world);
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    provisioned(&world, &app).await;
    let channel = loop_channel(&world);
    let rows = fingerprint(&app).await;
    let asked_before = lookups(&world);

    app.slack.command(COORDINATOR, &channel.id, "panel").await;
    let panel = latest_view(&world, COORDINATOR);
    assert_eq!(panel.view["callback_id"], "panel");
    let two_hundred = nobodies(200);
    let form = FormValues::new()
        .users(
            "panel:technical-screen",
            &[
                COORDINATOR,
                HIRING_MANAGER,
                SCREENER,
                DESIGNER,
                CODER,
                OUTSIDER,
            ],
        )
        .users("panel:system-design", &as_strs(&two_hundred))
        .users("panel:coding", &[CODER, "UNOBODY900", "UNOBODY901"])
        .users("panel:values", &[SCREENER, BOT]);
    let errors = errors_of(app.slack.submit_view(COORDINATOR, &panel.id, &form).await).await;
    assert_eq!(
        errors,
        json!({
            "panel:technical-screen": SIX,
            "panel:system-design": SIX,
            "panel:coding": TWO_NOBODIES,
            "panel:values": A_BOT,
        })
    );
    assert_eq!(
        lookups(&world) - asked_before,
        3,
        "only the newcomers of stages within the limit are looked up: two nobodies and the bot"
    );
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert_eq!(fingerprint(&app).await, rows, "nothing stored");

    // The same form, put right: saved.
    let fixed = FormValues::new()
        .users("panel:coding", &[CODER, OUTSIDER])
        .users("panel:values", &[SCREENER]);
    let r = app.slack.submit_view(COORDINATOR, &panel.id, &fixed).await;
    assert_eq!(r.text().await.unwrap(), "", "the form closes");
    let coding: Vec<String> = sqlx::query_scalar(
        "SELECT user_id FROM stage_interviewers WHERE position = 3 ORDER BY user_id",
    )
    .fetch_all(&app.state.db)
    .await
    .unwrap();
    assert_eq!(coding, [CODER, OUTSIDER]);
    app.stop().await;
}

#[tokio::test]
async fn the_start_form_applies_the_same_rules_and_stores_no_loop() {
    let world = World::new().await;
    add_bot(&world);
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    let view = latest_view(&world, COORDINATOR);
    let two_hundred = nobodies(200);
    let form = full_start_form()
        .user("hiring_manager", "UNOBODY999")
        .users(
            "panel:technical-screen",
            &[
                COORDINATOR,
                HIRING_MANAGER,
                SCREENER,
                DESIGNER,
                CODER,
                OUTSIDER,
            ],
        )
        .users("panel:system-design", &as_strs(&two_hundred))
        .users("panel:coding", &[CODER, "UNOBODY900", "UNOBODY901"])
        .users("panel:values", &[SCREENER, BOT]);
    let errors = errors_of(app.slack.submit_view(COORDINATOR, &view.id, &form).await).await;
    assert_eq!(
        errors,
        json!({
            "hiring_manager": "This person is not in this workspace. Choose someone from the list.",
            "panel:technical-screen": SIX,
            "panel:system-design": SIX,
            "panel:coding": TWO_NOBODIES,
            "panel:values": A_BOT,
        })
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM jobs").await, 0);

    // A bot as hiring manager is refused too; the rest put right, the loop starts.
    let bot_owner = full_start_form().user("hiring_manager", BOT);
    let errors = errors_of(
        app.slack
            .submit_view(COORDINATOR, &view.id, &bot_owner)
            .await,
    )
    .await;
    assert_eq!(
        errors,
        json!({ "hiring_manager": "An app or bot cannot own a loop. Choose a person." })
    );
    let r = app
        .slack
        .submit_view(COORDINATOR, &view.id, &full_start_form())
        .await;
    assert_eq!(r.text().await.unwrap(), "", "the form closes");
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 1);
    app.stop().await;
}

#[tokio::test]
async fn when_slack_cannot_say_who_someone_is_the_form_still_goes_through_in_time() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    let view = latest_view(&world, COORDINATOR);
    // The standard form names four people: Slack fails for two and hangs for two, far beyond
    // the 3 seconds Slack gives the answer.
    world.sim.inject_fault("users.info", Fault::Http(503));
    world
        .sim
        .inject_fault("users.info", Fault::Error("internal_error".into()));
    for _ in 0..2 {
        world
            .sim
            .inject_fault("users.info", Fault::Timeout { after_ms: 4_000 });
    }
    let sent = Instant::now();
    let r = app
        .slack
        .submit_view(COORDINATOR, &view.id, &full_start_form())
        .await;
    let took = sent.elapsed();
    assert_eq!(r.text().await.unwrap(), "", "let through: the form closes");
    assert!(took < Duration::from_millis(2_500), "answered in {took:?}");
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 1);
    app.stop().await;
}
