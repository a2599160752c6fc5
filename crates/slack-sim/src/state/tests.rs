use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::clock::ManualClock;
use crate::{Answer, BOT_USER_ID, Fault, SimUser, Simulator};

const TOKEN: &str = "xoxb-test";
const T0: i64 = 1_795_000_000_000;

fn sim() -> (Simulator, Arc<ManualClock>) {
    crate::test_sim(TOKEN)
}

fn call(sim: &Simulator, method: &str, params: Value) -> Value {
    sim.handle(method, Some(TOKEN), params)
        .json_body()
        .cloned()
        .unwrap_or(Value::Null)
}

fn error(sim: &Simulator, method: &str, params: Value) -> String {
    let body = call(sim, method, params);
    assert_eq!(body["ok"], json!(false), "{body}");
    body["error"].as_str().unwrap_or("").to_string()
}

fn create(sim: &Simulator, name: &str) -> String {
    let body = call(
        sim,
        "conversations.create",
        json!({"name": name, "is_private": true}),
    );
    assert_eq!(body["ok"], json!(true), "{body}");
    body["channel"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A channel the bot is not a member of (created by a person).
fn foreign_channel(sim: &Simulator) -> String {
    sim.create_channel_by_user("foreign", "U1", &["U1"], false)
}

fn post(sim: &Simulator, channel: &str, text: &str) -> String {
    let body = call(
        sim,
        "chat.postMessage",
        json!({"channel": channel, "text": text}),
    );
    assert_eq!(body["ok"], json!(true), "{body}");
    body["ts"].as_str().unwrap_or_default().to_string()
}

fn modal(title: &str) -> Value {
    json!({"type": "modal", "title": {"type": "plain_text", "text": title},
           "submit": {"type": "plain_text", "text": "Save"},
           "blocks": [{"type": "input", "block_id": "b", "label": {"type": "plain_text", "text": "Notes"},
                       "element": {"type": "plain_text_input", "action_id": "a"}}]})
}

#[test]
fn create_channel_makes_bot_creator_and_member() {
    let (sim, _) = sim();
    let id = create(&sim, "loop-ada_1");
    let c = sim.channel(&id).expect("channel");
    assert_eq!(c.creator, sim.bot_user_id());
    assert_eq!(c.members, vec![sim.bot_user_id()]);
    assert!(c.is_private);
    assert_eq!(sim.channel_named("loop-ada_1").map(|c| c.id), Some(id));
}

#[test]
fn channel_name_rules() {
    let (sim, _) = sim();
    let cases = [
        ("", "invalid_name_required"),
        (&"a".repeat(81) as &str, "invalid_name_maxlength"),
        ("---", "invalid_name_punctuation"),
        ("Loop", "invalid_name_specials"),
        ("loop ada", "invalid_name_specials"),
        ("loop.ada", "invalid_name_specials"),
        ("lööp", "invalid_name_specials"),
    ];
    for (name, expected) in cases {
        assert_eq!(
            error(&sim, "conversations.create", json!({"name": name})),
            expected,
            "{name:?}"
        );
    }
    assert_eq!(
        error(&sim, "conversations.create", json!({})),
        "invalid_name_required"
    );
    create(&sim, &"a".repeat(80));
    assert!(sim.channels().len() == 1);
}

#[test]
fn name_taken_includes_archived_channels() {
    let (sim, _) = sim();
    let id = create(&sim, "loop-1");
    assert_eq!(
        error(&sim, "conversations.create", json!({"name": "loop-1"})),
        "name_taken"
    );
    sim.archive_channel_by_user(&id);
    assert_eq!(
        error(&sim, "conversations.create", json!({"name": "loop-1"})),
        "name_taken"
    );
    sim.rename_channel_by_user(&id, "loop-renamed");
    assert_eq!(
        error(
            &sim,
            "conversations.create",
            json!({"name": "loop-renamed"})
        ),
        "name_taken"
    );
}

#[test]
fn invite_rules_and_all_or_nothing_failure() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    let body = call(
        &sim,
        "conversations.invite",
        json!({"channel": id, "users": "U1"}),
    );
    assert_eq!(body["ok"], json!(true), "{body}");
    let body = call(
        &sim,
        "conversations.invite",
        json!({"channel": id, "users": format!("U404,{},U1,U2", sim.bot_user_id())}),
    );
    assert_eq!(body["error"], json!("user_not_found"));
    let errors: Vec<&str> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["error"].as_str())
        .collect();
    assert_eq!(
        errors,
        ["user_not_found", "cant_invite_self", "already_in_channel"]
    );
    // Without `force` one refusal fails the whole call: the valid user was not added.
    assert!(
        sim.channel(&id)
            .is_some_and(|c| !c.members.contains(&"U2".to_string()))
    );
    assert_eq!(
        error(
            &sim,
            "conversations.invite",
            json!({"channel": "C404", "users": "U1"})
        ),
        "channel_not_found"
    );
    assert_eq!(
        error(&sim, "conversations.invite", json!({"users": "U1"})),
        "channel_not_found"
    );
}

#[test]
fn not_in_channel_for_invite_post_set_topic() {
    let (sim, _) = sim();
    let id = foreign_channel(&sim);
    assert_eq!(
        error(
            &sim,
            "conversations.invite",
            json!({"channel": id, "users": "U2"})
        ),
        "not_in_channel"
    );
    assert_eq!(
        error(
            &sim,
            "chat.postMessage",
            json!({"channel": id, "text": "hi"})
        ),
        "not_in_channel"
    );
    assert_eq!(
        error(
            &sim,
            "conversations.setTopic",
            json!({"channel": id, "topic": "t"})
        ),
        "not_in_channel"
    );
    assert!(sim.messages(&id).is_empty());
}

#[test]
fn archived_channels_refuse_writes() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    sim.archive_channel_by_user(&id);
    assert_eq!(
        error(
            &sim,
            "chat.postMessage",
            json!({"channel": id, "text": "hi"})
        ),
        "is_archived"
    );
    assert_eq!(
        error(
            &sim,
            "conversations.setTopic",
            json!({"channel": id, "topic": "t"})
        ),
        "is_archived"
    );
    assert_eq!(
        error(&sim, "conversations.archive", json!({"channel": id})),
        "already_archived"
    );
}

#[test]
fn set_topic_and_length_limit() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    let body = call(
        &sim,
        "conversations.setTopic",
        json!({"channel": id, "topic": "Loop for Ada"}),
    );
    assert_eq!(body["channel"]["topic"]["value"], json!("Loop for Ada"));
    assert_eq!(
        error(
            &sim,
            "conversations.setTopic",
            json!({"channel": id, "topic": "x".repeat(251)})
        ),
        "too_long"
    );
    assert_eq!(
        sim.channel(&id).map(|c| c.topic),
        Some("Loop for Ada".to_string())
    );
}

#[test]
fn archive_rules() {
    let (sim, _) = sim();
    let id = foreign_channel(&sim);
    assert_eq!(
        error(&sim, "conversations.archive", json!({"channel": id})),
        "not_in_channel"
    );
    assert_eq!(
        error(&sim, "conversations.archive", json!({"channel": "C404"})),
        "channel_not_found"
    );
    let mine = create(&sim, "mine");
    assert_eq!(
        call(&sim, "conversations.archive", json!({"channel": mine}))["ok"],
        json!(true)
    );
    assert!(sim.channel(&mine).is_some_and(|c| c.is_archived));
}

#[test]
fn dm_opened_twice_gives_same_id() {
    let (sim, _) = sim();
    let first = call(&sim, "conversations.open", json!({"users": "U1"}));
    let second = call(&sim, "conversations.open", json!({"users": ["U1"]}));
    assert_eq!(first["channel"]["id"], second["channel"]["id"]);
    assert!(
        first["channel"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with('D'))
    );
    assert_eq!(second["already_open"], json!(true));
    assert_eq!(first.get("already_open"), None);
    assert_eq!(
        error(&sim, "conversations.open", json!({"users": "U404"})),
        "user_not_found"
    );
    // posting to a user id lands in the same DM
    post(&sim, "U1", "reminder");
    assert_eq!(
        sim.dm_channel_of("U1").as_deref(),
        first["channel"]["id"].as_str()
    );
    assert_eq!(sim.dms_to("U1").len(), 1);
}

#[test]
fn post_message_rules_and_ts_order() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    assert_eq!(
        error(&sim, "chat.postMessage", json!({"channel": id})),
        "no_text"
    );
    assert_eq!(
        error(
            &sim,
            "chat.postMessage",
            json!({"channel": "C404", "text": "x"})
        ),
        "channel_not_found"
    );
    assert_eq!(
        error(&sim, "chat.postMessage", json!({"text": "x"})),
        "channel_not_found"
    );
    let a = post(&sim, &id, "one");
    let b = post(&sim, &id, &"x".repeat(40_001));
    assert!(a < b, "{a} {b}");
    assert_eq!(a.len(), "1795000000.000101".len());
    assert_eq!(
        sim.message(&id, &b).map(|m| m.text.chars().count()),
        Some(40_000)
    );
    let blocks: Vec<Value> = (0..51).map(|_| json!({"type": "divider"})).collect();
    let body = call(
        &sim,
        "chat.postMessage",
        json!({"channel": id, "blocks": blocks}),
    );
    assert_eq!(body["error"], json!("invalid_blocks"));
    assert!(
        body["response_metadata"]["messages"][0]
            .as_str()
            .is_some_and(|m| m.contains("50"))
    );
    assert_eq!(sim.messages(&id).len(), 2);
}

#[test]
fn update_keeps_edit_history_and_block_semantics() {
    let (sim, clock) = sim();
    let id = create(&sim, "loop");
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "v1"}}]);
    let body = call(
        &sim,
        "chat.postMessage",
        json!({"channel": id, "text": "v1", "blocks": blocks}),
    );
    let ts = body["ts"].as_str().unwrap_or_default().to_string();
    clock.advance(Duration::from_secs(5));
    let body = call(&sim, "chat.update", json!({"channel": id, "ts": ts}));
    assert_eq!(body["ok"], json!(true));
    assert_eq!(
        sim.message(&id, &ts).map(|m| m.blocks),
        Some(blocks.clone())
    );
    call(
        &sim,
        "chat.update",
        json!({"channel": id, "ts": ts, "text": "v2"}),
    );
    let m = sim.message(&id, &ts).expect("message");
    assert_eq!(m.text, "v2");
    assert_eq!(m.blocks, Value::Null);
    assert_eq!(m.edits.len(), 2);
    assert_eq!(m.edits[0].text, "v1");
    assert_eq!(m.edits[0].blocks, blocks);
    assert_eq!(m.edits[0].replaced_at_ms, T0 + 5000);
    assert_eq!(
        error(&sim, "chat.update", json!({"channel": id, "ts": "1.2"})),
        "message_not_found"
    );
    assert_eq!(
        error(
            &sim,
            "chat.update",
            json!({"channel": id, "ts": ts, "text": "x".repeat(4001)})
        ),
        "msg_too_long"
    );
}

#[test]
fn cannot_update_someone_elses_message() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    call(
        &sim,
        "conversations.invite",
        json!({"channel": id, "users": "U1"}),
    );
    let ts = sim.post_message_by_user(&id, "U1", "hello");
    assert_eq!(
        error(
            &sim,
            "chat.update",
            json!({"channel": id, "ts": ts, "text": "x"})
        ),
        "cant_update_message"
    );
}

#[test]
fn ephemeral_rules() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    assert_eq!(
        error(
            &sim,
            "chat.postEphemeral",
            json!({"channel": id, "user": "U1", "text": "x"})
        ),
        "user_not_in_channel"
    );
    call(
        &sim,
        "conversations.invite",
        json!({"channel": id, "users": "U1"}),
    );
    let body = call(
        &sim,
        "chat.postEphemeral",
        json!({"channel": id, "user": "U1", "text": "only you"}),
    );
    assert!(body["message_ts"].is_string(), "{body}");
    assert_eq!(sim.ephemerals_for("U1").len(), 1);
    let other = foreign_channel(&sim);
    assert_eq!(
        error(
            &sim,
            "chat.postEphemeral",
            json!({"channel": other, "user": "U1", "text": "x"})
        ),
        "not_in_channel"
    );
}

#[test]
fn pins_rules() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    let ts = post(&sim, &id, "summary");
    assert_eq!(
        error(&sim, "pins.add", json!({"channel": id})),
        "no_item_specified"
    );
    assert_eq!(
        error(&sim, "pins.add", json!({"channel": id, "timestamp": "1.1"})),
        "message_not_found"
    );
    assert_eq!(
        call(&sim, "pins.add", json!({"channel": id, "timestamp": ts}))["ok"],
        json!(true)
    );
    assert_eq!(
        error(&sim, "pins.add", json!({"channel": id, "timestamp": ts})),
        "already_pinned"
    );
    assert_eq!(
        error(
            &sim,
            "pins.add",
            json!({"channel": "C404", "timestamp": ts})
        ),
        "channel_not_found"
    );
    assert_eq!(sim.pins(&id), vec![ts]);
}

#[test]
fn trigger_is_single_use() {
    let (sim, _) = sim();
    let trigger = sim.issue_trigger_id_for("U1");
    let body = call(
        &sim,
        "views.open",
        json!({"trigger_id": trigger, "view": modal("Scorecard")}),
    );
    assert_eq!(body["ok"], json!(true), "{body}");
    assert!(
        body["view"]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with('V'))
    );
    assert_eq!(
        error(
            &sim,
            "views.open",
            json!({"trigger_id": trigger, "view": modal("Again")})
        ),
        "exchanged_trigger_id"
    );
    assert_eq!(sim.views_of("U1").len(), 1);
}

#[test]
fn trigger_expires_after_three_seconds() {
    let (sim, clock) = sim();
    let ok_trigger = sim.issue_trigger_id();
    let late = sim.issue_trigger_id();
    clock.advance(Duration::from_millis(3000));
    assert_eq!(
        call(
            &sim,
            "views.open",
            json!({"trigger_id": ok_trigger, "view": modal("T")})
        )["ok"],
        json!(true)
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(
        error(
            &sim,
            "views.open",
            json!({"trigger_id": late, "view": modal("T")})
        ),
        "expired_trigger_id"
    );
}

#[test]
fn unknown_trigger_and_invalid_modal() {
    let (sim, _) = sim();
    assert_eq!(
        error(
            &sim,
            "views.open",
            json!({"trigger_id": "nope", "view": modal("T")})
        ),
        "invalid_trigger_id"
    );
    let trigger = sim.issue_trigger_id();
    let body = call(
        &sim,
        "views.open",
        json!({"trigger_id": trigger, "view": modal(&"t".repeat(25))}),
    );
    assert_eq!(body["error"], json!("invalid_arguments"));
    assert!(
        body["response_metadata"]["messages"][0]
            .as_str()
            .is_some_and(|m| m.contains("title"))
    );
    // a rejected view does not use up the trigger
    assert_eq!(
        call(
            &sim,
            "views.open",
            json!({"trigger_id": trigger, "view": modal("T")})
        )["ok"],
        json!(true)
    );
}

#[test]
fn view_too_large() {
    let (sim, _) = sim();
    let trigger = sim.issue_trigger_id();
    let mut view = modal("T");
    view["private_metadata"] = json!("m".repeat(260_000));
    assert_eq!(
        error(
            &sim,
            "views.open",
            json!({"trigger_id": trigger, "view": view})
        ),
        "view_too_large"
    );
}

#[test]
fn views_update_hash_and_history() {
    let (sim, _) = sim();
    let trigger = sim.issue_trigger_id_for("U1");
    let mut first = modal("One");
    first["external_id"] = json!("ext-1");
    let body = call(
        &sim,
        "views.open",
        json!({"trigger_id": trigger, "view": first}),
    );
    let id = body["view"]["id"].as_str().unwrap_or_default().to_string();
    let hash = body["view"]["hash"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let body = call(
        &sim,
        "views.update",
        json!({"view_id": id, "hash": hash, "view": modal("Two")}),
    );
    assert_eq!(body["ok"], json!(true), "{body}");
    assert_ne!(body["view"]["hash"].as_str(), Some(hash.as_str()));
    assert_eq!(
        error(
            &sim,
            "views.update",
            json!({"view_id": id, "hash": hash, "view": modal("Three")})
        ),
        "hash_conflict"
    );
    assert_eq!(
        error(
            &sim,
            "views.update",
            json!({"view_id": "V404", "view": modal("x")})
        ),
        "not_found"
    );
    assert_eq!(
        error(
            &sim,
            "views.update",
            json!({"external_id": "ext-1", "view": modal("x")})
        ),
        "not_found"
    );
    let views = sim.views_of("U1");
    assert_eq!(views[0].history.len(), 1);
    assert_eq!(views[0].view["title"]["text"], json!("Two"));
}

#[test]
fn views_publish_home() {
    let (sim, _) = sim();
    let home = json!({"type": "home", "blocks": [{"type": "divider"}]});
    assert_eq!(
        call(
            &sim,
            "views.publish",
            json!({"user_id": "U1", "view": home.to_string()})
        )["ok"],
        json!(true)
    );
    assert_eq!(sim.home_of("U1"), Some(home));
    assert_eq!(
        error(
            &sim,
            "views.publish",
            json!({"user_id": "U404", "view": {"type": "home", "blocks": []}})
        ),
        "user_not_found"
    );
    assert_eq!(
        error(
            &sim,
            "views.publish",
            json!({"user_id": "U1", "view": modal("x")})
        ),
        "invalid_arguments"
    );
}

#[test]
fn users_info_and_auth_test() {
    let (sim, _) = sim();
    let body = call(&sim, "users.info", json!({"user": "U1"}));
    assert_eq!(body["user"]["tz"], json!("Europe/Berlin"));
    assert_eq!(body["user"]["tz_label"], json!("CET"));
    assert_eq!(body["user"]["profile"]["real_name"], json!("Ada Lovelace"));
    assert_eq!(
        error(&sim, "users.info", json!({"user": "U404"})),
        "user_not_found"
    );
    assert_eq!(error(&sim, "users.info", json!({})), "user_not_found");
    let body = call(&sim, "auth.test", json!({}));
    assert_eq!(body["user_id"], json!("U0LOOPBOT"));
    assert_eq!(body["bot_id"], json!("B0LOOPBOT"));
}

#[test]
fn token_errors() {
    let (sim, _) = sim();
    let answer = sim.handle("auth.test", None, json!({}));
    assert_eq!(answer.error().as_deref(), Some("not_authed"));
    assert_eq!(
        sim.handle("auth.test", Some("xoxb-wrong"), json!({}))
            .error()
            .as_deref(),
        Some("invalid_auth")
    );
    sim.revoke_token();
    assert_eq!(
        sim.handle("auth.test", Some(TOKEN), json!({}))
            .error()
            .as_deref(),
        Some("token_revoked")
    );
    assert_eq!(error(&sim, "nope.method", json!({})), "unknown_method");
}

#[test]
fn faults_are_fifo_and_change_nothing() {
    let (sim, _) = sim();
    sim.inject_fault(
        "conversations.create",
        Fault::RateLimited {
            retry_after_secs: 7,
        },
    );
    sim.inject_fault("*", Fault::Error("fatal_error".into()));
    let answer = sim.handle("conversations.create", Some(TOKEN), json!({"name": "a"}));
    assert_eq!((answer.status, answer.retry_after), (429, Some(7)));
    assert!(sim.channels().is_empty());
    assert_eq!(error(&sim, "auth.test", json!({})), "fatal_error");
    create(&sim, "a");
    assert_eq!(sim.call_count("conversations.create"), 1);
    let calls = sim.calls();
    assert_eq!(calls.len(), 3);
    assert_eq!(calls[0].http_status, 429);
    assert_eq!(calls[0].error.as_deref(), Some("ratelimited"));
    assert_eq!(calls[0].at_ms, T0);
}

#[test]
fn garbage_input_never_panics() {
    let (sim, _) = sim();
    let junk = [
        json!(null),
        json!([1, 2]),
        json!({"channel": 5, "users": {"a": 1}, "blocks": "{not json",
        "view": "[", "trigger_id": true, "ts": null, "text": ["x"], "name": 12}),
    ];
    for method in crate::rules::RULES.iter().map(|r| r.method) {
        for params in &junk {
            let answer = sim.handle(method, Some(TOKEN), params.clone());
            assert!(answer.json_body().is_some(), "{method}");
        }
    }
}

#[test]
fn bot_added_by_a_person_can_post() {
    let (sim, _) = sim();
    let id = foreign_channel(&sim);
    assert_eq!(
        error(
            &sim,
            "chat.postMessage",
            json!({"channel": id, "text": "x"})
        ),
        "not_in_channel"
    );
    sim.add_member_by_user(&id, &sim.bot_user_id());
    post(&sim, &id, "now I can");
    assert_eq!(
        error(
            &sim,
            "conversations.open",
            json!({"users": sim.bot_user_id()})
        ),
        "cannot_dm_bot"
    );
    let dm = call(&sim, "conversations.open", json!({"users": "U1"}));
    let dm = dm["channel"]["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        error(
            &sim,
            "conversations.invite",
            json!({"channel": dm, "users": "U2"})
        ),
        "method_not_supported_for_channel_type"
    );
}

// --- rate tiers -------------------------------------------------------------------------

#[test]
fn tiers_are_off_by_default() {
    let (sim, _) = sim();
    for i in 0..25 {
        create(&sim, &format!("loop-{i}"));
    }
    let id = create(&sim, "posts");
    post(&sim, &id, "one");
    post(&sim, &id, "two");
    assert_eq!(sim.rate_limited_count(), 0);
}

#[test]
fn tier2_burst_gives_twenty_then_429_until_the_window_moves() {
    let (sim, clock) = sim();
    sim.enforce_tiers(true);
    let mut answers = Vec::new();
    for i in 0..25 {
        answers.push(sim.handle(
            "conversations.create",
            Some(TOKEN),
            json!({"name": format!("loop-{i}")}),
        ));
        clock.advance(Duration::from_millis(100));
    }
    let ok = answers.iter().filter(|a| a.ok()).count();
    assert_eq!(ok, 20);
    assert!(answers[..20].iter().all(Answer::ok));
    for a in &answers[20..] {
        assert_eq!(a.status, 429);
        assert_eq!(
            a.json_body(),
            Some(&json!({"ok": false, "error": "ratelimited"}))
        );
    }
    // The oldest call (at T0) leaves the window at T0 + 60 s; the 21st call came at T0 + 2 s.
    assert_eq!(answers[20].retry_after, Some(58));
    assert_eq!(sim.channels().len(), 20, "429s change nothing");
    assert_eq!(sim.rate_limited_count(), 5);
    assert_eq!(sim.call_count("conversations.create"), 20);
    let calls = sim.calls();
    assert_eq!(calls[20].http_status, 429);
    assert_eq!(calls[20].error.as_deref(), Some("ratelimited"));

    // Now T0 + 2.5 s. Rounded up, never 0.
    clock.advance(Duration::from_millis(57_200));
    let almost = sim.handle("conversations.create", Some(TOKEN), json!({"name": "x"}));
    assert_eq!((almost.status, almost.retry_after), (429, Some(1)));
    clock.advance(Duration::from_millis(300));
    // T0 + 60 s: the first call has left the window, one slot is free.
    create(&sim, "after-the-window");
    let again = sim.handle("conversations.create", Some(TOKEN), json!({"name": "y"}));
    assert_eq!(again.status, 429);
    clock.advance(Duration::from_secs(2));
    create(&sim, "later");
    // Other methods have their own budgets.
    assert_eq!(call(&sim, "auth.test", json!({}))["ok"], json!(true));
}

#[test]
fn post_message_budget_is_per_channel_one_a_second_after_a_short_burst() {
    let (sim, clock) = sim();
    let a = create(&sim, "a");
    let b = create(&sim, "b");
    sim.enforce_tiers(true);
    for text in ["first in a", "second in a", "third in a"] {
        post(&sim, &a, text);
    }
    post(&sim, &b, "first in b");
    clock.advance(Duration::from_millis(400));
    let fourth = sim.handle(
        "chat.postMessage",
        Some(TOKEN),
        json!({"channel": a, "text": "too soon"}),
    );
    assert_eq!((fourth.status, fourth.retry_after), (429, Some(1)));
    assert_eq!(sim.messages(&a).len(), 3);
    // One post's worth comes back each second, not a whole burst.
    clock.advance(Duration::from_millis(600));
    post(&sim, &a, "a second later");
    let again = sim.handle(
        "chat.postMessage",
        Some(TOKEN),
        json!({"channel": a, "text": "too soon again"}),
    );
    assert_eq!(again.status, 429);
    clock.advance(Duration::from_secs(1));
    post(&sim, &a, "another second later");
    assert_eq!(sim.messages(&a).len(), 5);
    assert_eq!(sim.rate_limited_count(), 2);
}

#[test]
fn posting_at_one_a_second_never_meets_a_429() {
    let (sim, clock) = sim();
    let a = create(&sim, "a");
    sim.enforce_tiers(true);
    for i in 0..30 {
        post(&sim, &a, &format!("post {i}"));
        clock.advance(Duration::from_secs(1));
    }
    assert_eq!(sim.rate_limited_count(), 0);
}

#[test]
fn refused_calls_count_against_the_tier_but_429s_do_not() {
    let (sim, clock) = sim();
    sim.enforce_tiers(true);
    // pins.add is Tier 2: 20 a minute, errors included.
    for _ in 0..20 {
        assert_eq!(
            error(
                &sim,
                "pins.add",
                json!({"channel": "C404", "timestamp": "1.0"})
            ),
            "channel_not_found"
        );
    }
    for _ in 0..3 {
        let a = sim.handle("pins.add", Some(TOKEN), json!({"channel": "C404"}));
        assert_eq!(a.status, 429);
    }
    clock.advance(Duration::from_secs(60));
    assert_eq!(
        error(
            &sim,
            "pins.add",
            json!({"channel": "C404", "timestamp": "1.0"})
        ),
        "channel_not_found"
    );
    // Switching enforcement off lets everything through.
    sim.enforce_tiers(false);
    for _ in 0..30 {
        error(
            &sim,
            "pins.add",
            json!({"channel": "C404", "timestamp": "1.0"}),
        );
    }
    assert_eq!(sim.rate_limited_count(), 3);
}

// --- faults: the answer is lost ---------------------------------------------------------

#[test]
fn lose_answer_performs_the_call_and_answers_500() {
    let (sim, _) = sim();
    sim.inject_fault("conversations.create", Fault::LoseAnswer { status: 500 });
    let answer = sim.handle(
        "conversations.create",
        Some(TOKEN),
        json!({"name": "loop-lost", "is_private": true}),
    );
    assert_eq!(answer.status, 500);
    assert!(answer.json_body().is_none(), "non-JSON body");
    assert!(!answer.ok());
    let channel = sim
        .channel_named("loop-lost")
        .expect("the channel was created");
    assert!(channel.is_private);
    // One-shot: the retry reaches Slack, which already has the channel.
    assert_eq!(
        error(&sim, "conversations.create", json!({"name": "loop-lost"})),
        "name_taken"
    );
    let calls = sim.calls();
    assert_eq!((calls[0].http_status, calls[0].ok), (500, false));
    assert_eq!(calls[0].error.as_deref(), Some("http_500"));
}

#[test]
fn lose_answer_keeps_a_posted_message_and_matches_by_method() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    sim.inject_fault("chat.postMessage", Fault::LoseAnswer { status: 504 });
    // Other methods are not affected.
    assert_eq!(call(&sim, "auth.test", json!({}))["ok"], json!(true));
    let answer = sim.handle(
        "chat.postMessage",
        Some(TOKEN),
        json!({"channel": id, "text": "hello"}),
    );
    assert_eq!(answer.status, 504);
    assert_eq!(sim.messages(&id).len(), 1);
    assert_eq!(sim.messages(&id)[0].text, "hello");
    // A call Slack refuses still loses its answer (and changes nothing).
    sim.inject_fault("*", Fault::LoseAnswer { status: 500 });
    let refused = sim.handle(
        "chat.postMessage",
        Some(TOKEN),
        json!({"channel": "C404", "text": "x"}),
    );
    assert_eq!(refused.status, 500);
    post(&sim, &id, "normal again");
}

#[test]
fn hold_answer_performs_the_call_then_answers_late_without_json() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    sim.inject_fault("chat.postMessage", Fault::HoldAnswer { after_ms: 1_500 });
    let answer = sim.handle(
        "chat.postMessage",
        Some(TOKEN),
        json!({"channel": id, "text": "held"}),
    );
    assert_eq!((answer.status, answer.delay_ms), (504, 1_500));
    assert!(answer.json_body().is_none());
    assert_eq!(sim.messages(&id).len(), 1, "Slack posted it");
}

#[test]
fn an_outage_fails_every_call_until_it_ends_and_queued_faults_wait_for_its_end() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    sim.inject_fault("chat.postMessage", Fault::Error("is_archived".into()));
    sim.start_outage(Fault::Http(503));
    for method in ["auth.test", "chat.postMessage", "conversations.history"] {
        let answer = sim.handle(method, Some(TOKEN), json!({"channel": id, "text": "x"}));
        assert_eq!(answer.status, 503, "{method}");
    }
    assert!(sim.messages(&id).is_empty(), "nothing was performed");
    // Slack acts but every answer is lost.
    sim.start_outage(Fault::LoseAnswer { status: 502 });
    let answer = sim.handle(
        "chat.postMessage",
        Some(TOKEN),
        json!({"channel": id, "text": "lost"}),
    );
    assert_eq!(answer.status, 502);
    assert_eq!(sim.messages(&id).len(), 1);
    sim.end_outage();
    assert_eq!(
        error(
            &sim,
            "chat.postMessage",
            json!({"channel": id, "text": "x"})
        ),
        "is_archived",
        "the queued fault comes after the outage"
    );
    post(&sim, &id, "normal again");
}

#[test]
fn lose_answer_counts_against_the_tier() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    sim.enforce_tiers(true);
    sim.inject_fault("chat.postMessage", Fault::LoseAnswer { status: 500 });
    let lost = sim.handle(
        "chat.postMessage",
        Some(TOKEN),
        json!({"channel": id, "text": "lost"}),
    );
    assert_eq!(lost.status, 500);
    // The lost post took one of the channel's burst of three.
    post(&sim, &id, "retry");
    post(&sim, &id, "another");
    let third = sim.handle(
        "chat.postMessage",
        Some(TOKEN),
        json!({"channel": id, "text": "one too many"}),
    );
    assert_eq!(third.status, 429);
    assert_eq!(sim.messages(&id).len(), 3);
}

// --- conversations.invite ---------------------------------------------------------------

fn deactivated_user(sim: &Simulator) {
    let mut gone = SimUser::new("U3", "cyd", "Cyd Gone", "Europe/Paris", 3600);
    gone.deleted = true;
    sim.add_user(gone);
}

fn members_of(sim: &Simulator, id: &str) -> Vec<String> {
    sim.channel(id).map(|c| c.members).unwrap_or_default()
}

#[test]
fn invite_without_force_adds_nobody_when_one_user_fails() {
    let (sim, _) = sim();
    deactivated_user(&sim);
    let id = create(&sim, "loop");
    for bad in ["U404", "U3", BOT_USER_ID] {
        let body = call(
            &sim,
            "conversations.invite",
            json!({"channel": id, "users": format!("U1,{bad},U2")}),
        );
        assert_eq!(body["ok"], json!(false), "{body}");
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(1), "{body}");
        assert_eq!(body["errors"][0]["user"], json!(bad));
        assert_eq!(body["errors"][0]["ok"], json!(false));
        assert_eq!(body["error"], body["errors"][0]["error"]);
        assert_eq!(members_of(&sim, &id), [BOT_USER_ID], "nobody added");
    }
    assert_eq!(
        error(
            &sim,
            "conversations.invite",
            json!({"channel": id, "users": "U3"})
        ),
        "cant_invite"
    );
    // Already a member counts as a failure too.
    call(
        &sim,
        "conversations.invite",
        json!({"channel": id, "users": "U1"}),
    );
    assert_eq!(
        error(
            &sim,
            "conversations.invite",
            json!({"channel": id, "users": "U1,U2"})
        ),
        "already_in_channel"
    );
    assert_eq!(members_of(&sim, &id), [BOT_USER_ID, "U1"]);
}

#[test]
fn invite_with_force_adds_the_valid_users_and_reports_the_rest() {
    let (sim, _) = sim();
    deactivated_user(&sim);
    let id = create(&sim, "loop");
    call(
        &sim,
        "conversations.invite",
        json!({"channel": id, "users": "U1"}),
    );
    let body = call(
        &sim,
        "conversations.invite",
        json!({"channel": id, "users": "U1,U404,U2,U3", "force": true}),
    );
    assert_eq!(body["ok"], json!(false), "{body}");
    assert_eq!(body["error"], json!("already_in_channel"));
    let errors: Vec<(&str, &str)> = body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e["user"].as_str()?, e["error"].as_str()?)))
        .collect();
    assert_eq!(
        errors,
        [
            ("U1", "already_in_channel"),
            ("U404", "user_not_found"),
            ("U3", "cant_invite")
        ]
    );
    assert_eq!(members_of(&sim, &id), [BOT_USER_ID, "U1", "U2"]);

    // Form-style "true"/"1", and no failure at all: ok:true with the channel.
    let other = create(&sim, "other");
    for (users, force) in [("U1", "1"), ("U2", "true")] {
        let body = call(
            &sim,
            "conversations.invite",
            json!({"channel": other, "users": users, "force": force}),
        );
        assert_eq!(body["ok"], json!(true), "{body}");
        assert_eq!(body["channel"]["id"], json!(other));
    }
    assert_eq!(members_of(&sim, &other), [BOT_USER_ID, "U1", "U2"]);
    // `force` does not change channel-level errors.
    assert_eq!(
        error(
            &sim,
            "conversations.invite",
            json!({"channel": "C404", "users": "U1", "force": true})
        ),
        "channel_not_found"
    );
}

// --- conversations.list / conversations.members ------------------------------------------

/// Pages through a cursor-paginated method; returns the pages' `key` arrays.
fn pages(sim: &Simulator, method: &str, params: Value, key: &str) -> Vec<Vec<Value>> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let mut p = params.clone();
        if !cursor.is_empty() {
            p["cursor"] = json!(cursor);
        }
        let body = call(sim, method, p);
        assert_eq!(body["ok"], json!(true), "{body}");
        out.push(body[key].as_array().cloned().unwrap_or_default());
        cursor = body["response_metadata"]["next_cursor"]
            .as_str()
            .expect("next_cursor is always there")
            .to_string();
        if cursor.is_empty() || out.len() > 20 {
            return out;
        }
    }
}

fn ids(page: &[Value], field: &str) -> Vec<String> {
    page.iter()
        .filter_map(|c| c[field].as_str().map(str::to_string))
        .collect()
}

#[test]
fn list_private_channels_the_bot_is_in_with_pagination() {
    let (sim, _) = sim();
    let mine: Vec<String> = (0..5).map(|i| create(&sim, &format!("loop-{i}"))).collect();
    sim.create_channel_by_user("secret", "U1", &["U1"], true);
    let public = sim.create_channel_by_user("general", "U1", &["U1"], false);
    let joined = sim.create_channel_by_user("joined", "U1", &["U1", BOT_USER_ID], true);
    call(&sim, "conversations.open", json!({"users": "U1"}));
    sim.archive_channel_by_user(&mine[1]);

    let all = pages(
        &sim,
        "conversations.list",
        json!({"types": "private_channel", "limit": 2}),
        "channels",
    );
    assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [2, 2, 2]);
    let listed: Vec<String> = all.iter().flat_map(|p| ids(p, "id")).collect();
    let mut expected = mine.clone();
    expected.push(joined.clone());
    assert_eq!(listed, expected);
    let first = &all[0][0];
    assert_eq!(first["name"], json!("loop-0"));
    assert_eq!(first["is_private"], json!(true));
    assert_eq!(first["is_member"], json!(true));
    assert_eq!(first["num_members"], json!(1));
    assert!(first.get("last_read").is_none());
    assert_eq!(all[0][1]["is_archived"], json!(true));

    let active = pages(
        &sim,
        "conversations.list",
        json!({"types": "private_channel", "exclude_archived": "true"}),
        "channels",
    );
    assert_eq!(active.len(), 1);
    assert_eq!(ids(&active[0], "id").len(), 5);
    assert!(!ids(&active[0], "id").contains(&mine[1]));

    // Default type: public channels, member or not.
    let default = pages(&sim, "conversations.list", json!({}), "channels");
    assert_eq!(ids(&default[0], "id"), [public]);
    assert_eq!(default[0][0]["is_member"], json!(false));
    let both = pages(
        &sim,
        "conversations.list",
        json!({"types": "public_channel,private_channel,im"}),
        "channels",
    );
    assert_eq!(both[0].len(), 8);
    let im = both[0].iter().find(|c| c["is_im"] == json!(true)).unwrap();
    assert_eq!(im["user"], json!("U1"));

    assert_eq!(
        error(&sim, "conversations.list", json!({"cursor": "bogus"})),
        "invalid_cursor"
    );
    assert_eq!(
        error(&sim, "conversations.list", json!({"limit": "many"})),
        "invalid_limit"
    );
}

#[test]
fn members_with_pagination_and_visibility() {
    let (sim, _) = sim();
    for i in 3..9 {
        sim.add_user(SimUser::new(format!("U{i}"), "p", "P", "UTC", 0));
    }
    let id = create(&sim, "loop");
    call(
        &sim,
        "conversations.invite",
        json!({"channel": id, "users": "U1,U2,U3,U4,U5,U6,U7,U8"}),
    );
    let all = pages(
        &sim,
        "conversations.members",
        json!({"channel": id, "limit": 4}),
        "members",
    );
    assert_eq!(all.iter().map(Vec::len).collect::<Vec<_>>(), [4, 4, 1]);
    let members: Vec<Value> = all.into_iter().flatten().collect();
    assert_eq!(members[0], json!(BOT_USER_ID));
    assert_eq!(members[8], json!("U8"));
    let one = call(&sim, "conversations.members", json!({"channel": id}));
    assert_eq!(one["members"].as_array().map(Vec::len), Some(9));
    assert_eq!(one["response_metadata"]["next_cursor"], json!(""));

    // A public channel can be read without being in it; a private one is invisible.
    let public = sim.create_channel_by_user("general", "U1", &["U1", "U2"], false);
    let body = call(&sim, "conversations.members", json!({"channel": public}));
    assert_eq!(body["members"], json!(["U1", "U2"]));
    let private = sim.create_channel_by_user("secret", "U1", &["U1"], true);
    assert_eq!(
        error(&sim, "conversations.members", json!({"channel": private})),
        "channel_not_found"
    );
    assert_eq!(
        error(&sim, "conversations.members", json!({"channel": "C404"})),
        "channel_not_found"
    );
    assert_eq!(
        error(&sim, "conversations.members", json!({})),
        "invalid_arguments"
    );
    assert_eq!(
        error(
            &sim,
            "conversations.members",
            json!({"channel": id, "cursor": "00"})
        ),
        "invalid_cursor"
    );
}

// --- message metadata / conversations.history --------------------------------------------

fn post_with(sim: &Simulator, channel: &str, text: &str, metadata: Value) -> Value {
    call(
        sim,
        "chat.postMessage",
        json!({"channel": channel, "text": text, "metadata": metadata}),
    )
}

#[test]
fn post_message_stores_metadata() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    let meta = json!({"event_type": "loop_summary", "event_payload": {"loop_id": 7}});
    let body = post_with(&sim, &id, "summary", meta.clone());
    assert_eq!(body["ok"], json!(true), "{body}");
    assert_eq!(body["message"]["metadata"], meta);
    assert!(body.get("warning").is_none());
    // Form bodies send it JSON-encoded.
    let body = post_with(&sim, &id, "again", json!(meta.to_string()));
    assert_eq!(body["ok"], json!(true), "{body}");
    let plain = post(&sim, &id, "no metadata");
    let messages = sim.messages(&id);
    assert_eq!(messages[0].metadata, meta);
    assert_eq!(messages[1].metadata, meta);
    assert_eq!(
        sim.message(&id, &plain).map(|m| m.metadata),
        Some(Value::Null)
    );
    assert!(
        call(
            &sim,
            "chat.postMessage",
            json!({"channel": id, "text": "x"})
        )["message"]
            .get("metadata")
            .is_none()
    );
}

#[test]
fn metadata_format_errors_and_schema_warnings() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    for bad in [json!("{not json"), json!("[1,2]"), json!([1]), json!(5)] {
        let body = post_with(&sim, &id, "x", bad.clone());
        assert_eq!(body["error"], json!("invalid_metadata_format"), "{bad}");
    }
    assert!(sim.messages(&id).is_empty(), "format errors post nothing");
    // Slack's metadata guide: an invalid event_type is a warning; the metadata is dropped.
    for schema in [
        json!({"event_payload": {}}),
        json!({"event_type": "", "event_payload": {}}),
        json!({"event_type": "loop.summary", "event_payload": {}}),
        json!({"event_type": 5, "event_payload": {}}),
        json!({"event_type": "loop_summary"}),
        json!({"event_type": "loop_summary", "event_payload": "x"}),
    ] {
        let body = post_with(&sim, &id, "posted anyway", schema.clone());
        assert_eq!(body["ok"], json!(true), "{schema}: {body}");
        assert_eq!(
            body["warning"],
            json!("invalid_metadata_schema"),
            "{schema}"
        );
        assert_eq!(
            body["response_metadata"]["warnings"],
            json!(["invalid_metadata_schema"])
        );
        assert!(body["message"].get("metadata").is_none());
    }
    assert!(sim.messages(&id).iter().all(|m| m.metadata.is_null()));
    assert_eq!(sim.messages(&id).len(), 6);
}

#[test]
fn history_newest_first_with_metadata_only_on_request() {
    let (sim, clock) = sim();
    let id = create(&sim, "loop");
    let meta = json!({"event_type": "loop_summary", "event_payload": {"loop_id": 7}});
    let first = post_with(&sim, &id, "first", meta.clone())["ts"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    clock.advance(Duration::from_secs(1));
    let by_ada = sim.post_message_by_user(&id, "U1", "hello from ada");
    clock.advance(Duration::from_secs(1));
    let reply = call(
        &sim,
        "chat.postMessage",
        json!({"channel": id, "text": "in thread", "thread_ts": first}),
    );
    assert_eq!(reply["ok"], json!(true));
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*b*"}}]);
    let last = call(
        &sim,
        "chat.postMessage",
        json!({"channel": id, "text": "last", "blocks": blocks}),
    )["ts"]
        .as_str()
        .unwrap_or_default()
        .to_string();

    let body = call(&sim, "conversations.history", json!({"channel": id}));
    assert_eq!(body["ok"], json!(true), "{body}");
    assert_eq!(body["has_more"], json!(false));
    assert!(body.get("response_metadata").is_none());
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(ids(&messages, "text"), ["last", "hello from ada", "first"]);
    assert_eq!(
        ids(&messages, "ts"),
        [last.clone(), by_ada.clone(), first.clone()]
    );
    assert!(messages.iter().all(|m| m["type"] == json!("message")));
    assert!(messages.iter().all(|m| m.get("metadata").is_none()));
    assert_eq!(messages[0]["blocks"], blocks);
    assert_eq!(messages[0]["user"], json!(BOT_USER_ID));
    assert_eq!(messages[1]["user"], json!("U1"));
    assert!(messages[1].get("bot_id").is_none());
    assert_eq!(messages[2]["reply_count"], json!(1));
    assert_eq!(messages[2]["thread_ts"], json!(first));

    let with = call(
        &sim,
        "conversations.history",
        json!({"channel": id, "include_all_metadata": "true"}),
    );
    let messages = with["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(messages[2]["metadata"], meta);
    assert!(
        messages[0].get("metadata").is_none(),
        "only where there is some"
    );
}

#[test]
fn history_pagination_bounds_and_access() {
    let (sim, clock) = sim();
    let id = create(&sim, "loop");
    let mut ts = Vec::new();
    for i in 0..7 {
        ts.push(post(&sim, &id, &format!("m{i}")));
        clock.advance(Duration::from_secs(1));
    }
    let mut texts = Vec::new();
    let mut cursor: Option<String> = None;
    let mut sizes = Vec::new();
    loop {
        let mut p = json!({"channel": id, "limit": 3});
        if let Some(c) = &cursor {
            p["cursor"] = json!(c);
        }
        let body = call(&sim, "conversations.history", p);
        assert_eq!(body["ok"], json!(true), "{body}");
        let page = body["messages"].as_array().cloned().unwrap_or_default();
        sizes.push(page.len());
        texts.extend(ids(&page, "text"));
        match body["response_metadata"]["next_cursor"].as_str() {
            Some(c) if !c.is_empty() => {
                assert_eq!(body["has_more"], json!(true));
                cursor = Some(c.to_string());
            }
            _ => {
                assert_eq!(body["has_more"], json!(false));
                break;
            }
        }
    }
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(texts, ["m6", "m5", "m4", "m3", "m2", "m1", "m0"]);

    let range = call(
        &sim,
        "conversations.history",
        json!({"channel": id, "oldest": ts[1], "latest": ts[4]}),
    );
    let page = range["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(ids(&page, "text"), ["m3", "m2"], "exclusive bounds");
    let range = call(
        &sim,
        "conversations.history",
        json!({"channel": id, "oldest": ts[1], "latest": ts[4], "inclusive": true}),
    );
    let page = range["messages"].as_array().cloned().unwrap_or_default();
    assert_eq!(ids(&page, "text"), ["m4", "m3", "m2", "m1"]);
    let huge = call(
        &sim,
        "conversations.history",
        json!({"channel": id, "limit": 5000}),
    );
    assert_eq!(huge["messages"].as_array().map(Vec::len), Some(7));

    assert_eq!(
        error(
            &sim,
            "conversations.history",
            json!({"channel": id, "oldest": "yesterday"})
        ),
        "invalid_ts_oldest"
    );
    assert_eq!(
        error(
            &sim,
            "conversations.history",
            json!({"channel": id, "cursor": "zz"})
        ),
        "invalid_cursor"
    );
    let public = foreign_channel(&sim);
    assert_eq!(
        error(&sim, "conversations.history", json!({"channel": public})),
        "not_in_channel"
    );
    let private = sim.create_channel_by_user("secret", "U1", &["U1"], true);
    assert_eq!(
        error(&sim, "conversations.history", json!({"channel": private})),
        "channel_not_found"
    );
    assert_eq!(
        error(&sim, "conversations.history", json!({"channel": "C404"})),
        "channel_not_found"
    );
    let empty = create(&sim, "empty");
    let body = call(&sim, "conversations.history", json!({"channel": empty}));
    assert_eq!(body["messages"], json!([]));
    assert_eq!(body["pin_count"], json!(0));
}

// --- chat.delete / conversations.rename / conversations.info ------------------------------

#[test]
fn delete_removes_only_the_bots_own_message_and_its_pin() {
    let (sim, _) = sim();
    let id = create(&sim, "loop-ada");
    call(
        &sim,
        "conversations.invite",
        json!({"channel": id, "users": "U1"}),
    );
    let bot = post(&sim, &id, "summary");
    let other = post(&sim, &id, "rubric");
    call(&sim, "pins.add", json!({"channel": id, "timestamp": bot}));
    let person = sim.post_message_by_user(&id, "U1", "my own words");

    let body = call(&sim, "chat.delete", json!({"channel": id, "ts": bot}));
    assert_eq!(body, json!({"ok": true, "channel": id, "ts": bot}));
    assert!(sim.message(&id, &bot).is_none());
    assert!(sim.pins(&id).is_empty(), "a deleted message is unpinned");
    assert_eq!(
        error(&sim, "chat.delete", json!({"channel": id, "ts": bot})),
        "message_not_found",
        "deleted already"
    );
    assert_eq!(
        error(&sim, "chat.delete", json!({"channel": id, "ts": person})),
        "cant_delete_message",
        "a bot deletes only what it posted"
    );
    assert!(sim.message(&id, &person).is_some());
    for (params, code) in [
        (json!({"channel": id}), "message_not_found"),
        (
            json!({"channel": id, "ts": "1.000001"}),
            "message_not_found",
        ),
        (json!({"ts": other}), "channel_not_found"),
        (json!({"channel": "C404", "ts": other}), "channel_not_found"),
    ] {
        assert_eq!(error(&sim, "chat.delete", params.clone()), code, "{params}");
    }
    let private = sim.create_channel_by_user("secret", "U1", &["U1"], true);
    let theirs = sim.post_message_by_user(&private, "U1", "hi");
    assert_eq!(
        error(
            &sim,
            "chat.delete",
            json!({"channel": private, "ts": theirs})
        ),
        "channel_not_found",
        "a private channel the bot is not in is invisible to it"
    );
    // Archived: Slack documents no archived-channel error for chat.delete.
    sim.archive_channel_by_user(&id);
    call(&sim, "chat.delete", json!({"channel": id, "ts": other}));
    assert_eq!(sim.all_messages(&id).len(), 1, "only the person's message");
}

#[test]
fn deleting_a_thread_parent_keeps_its_replies_reachable() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    let parent = post(&sim, &id, "rubric");
    let reply = call(
        &sim,
        "chat.postMessage",
        json!({"channel": id, "text": "detail", "thread_ts": parent}),
    );
    let reply = reply["ts"].as_str().unwrap().to_string();
    call(&sim, "chat.delete", json!({"channel": id, "ts": parent}));
    let thread = call(
        &sim,
        "conversations.replies",
        json!({"channel": id, "ts": reply}),
    );
    assert_eq!(
        ids(thread["messages"].as_array().unwrap(), "ts"),
        vec![reply.clone()]
    );
    call(&sim, "chat.delete", json!({"channel": id, "ts": reply}));
    assert!(sim.all_messages(&id).is_empty());
}

#[test]
fn rename_rules() {
    let (sim, _) = sim();
    let id = create(&sim, "loop-ada-lovelace");
    let other = create(&sim, "loop-grace");
    let body = call(
        &sim,
        "conversations.rename",
        json!({"channel": id, "name": "loop-1-purged"}),
    );
    assert_eq!(body["ok"], json!(true), "{body}");
    assert_eq!(body["channel"]["name"], "loop-1-purged");
    assert_eq!(
        body["channel"]["previous_names"],
        json!(["loop-ada-lovelace"])
    );
    assert_eq!(sim.channel(&id).unwrap().name, "loop-1-purged");
    let again = call(
        &sim,
        "conversations.rename",
        json!({"channel": id, "name": "loop-1-purged"}),
    );
    assert_eq!(again["ok"], json!(true), "its own name: nothing changes");
    assert_eq!(
        again["channel"]["previous_names"],
        json!(["loop-ada-lovelace"])
    );
    for (params, code) in [
        (
            json!({"channel": other, "name": "loop-1-purged"}),
            "name_taken",
        ),
        (
            json!({"channel": other, "name": "loop-ada-lovelace"}),
            "name_taken",
        ),
        (
            json!({"channel": other, "name": "Loop Grace"}),
            "invalid_name_specials",
        ),
        (json!({"channel": other}), "invalid_name_required"),
        (json!({"channel": "C404", "name": "x"}), "channel_not_found"),
        (json!({"name": "x"}), "channel_not_found"),
    ] {
        assert_eq!(
            error(&sim, "conversations.rename", params.clone()),
            code,
            "{params}"
        );
    }
    let theirs = sim.create_channel_by_user("theirs", "U1", &["U1", BOT_USER_ID], true);
    assert_eq!(
        error(
            &sim,
            "conversations.rename",
            json!({"channel": theirs, "name": "mine"})
        ),
        "not_authorized",
        "only the creator renames"
    );
    let public = foreign_channel(&sim);
    assert_eq!(
        error(
            &sim,
            "conversations.rename",
            json!({"channel": public, "name": "x"})
        ),
        "not_in_channel"
    );
    let dm = call(&sim, "conversations.open", json!({"users": "U1"}));
    assert_eq!(
        error(
            &sim,
            "conversations.rename",
            json!({"channel": dm["channel"]["id"], "name": "x"})
        ),
        "method_not_supported_for_channel_type"
    );
    sim.archive_channel_by_user(&other);
    assert_eq!(
        error(
            &sim,
            "conversations.rename",
            json!({"channel": other, "name": "loop-2-purged"})
        ),
        "is_archived"
    );
    assert_eq!(sim.channel(&other).unwrap().name, "loop-grace");
}

#[test]
fn info_shows_name_and_archived_state_to_members() {
    let (sim, _) = sim();
    let id = create(&sim, "loop-ada");
    let body = call(&sim, "conversations.info", json!({"channel": id}));
    assert_eq!(body["ok"], json!(true), "{body}");
    assert_eq!(body["channel"]["name"], "loop-ada");
    assert_eq!(body["channel"]["is_archived"], json!(false));
    sim.archive_channel_by_user(&id);
    let body = call(&sim, "conversations.info", json!({"channel": id}));
    assert_eq!(body["channel"]["is_archived"], json!(true));
    let private = sim.create_channel_by_user("secret", "U1", &["U1"], true);
    assert_eq!(
        error(&sim, "conversations.info", json!({"channel": private})),
        "channel_not_found"
    );
    let public = foreign_channel(&sim);
    let body = call(&sim, "conversations.info", json!({"channel": public}));
    assert_eq!(body["channel"]["is_member"], json!(false));
}

#[test]
fn replies_page_with_a_cursor() {
    let (sim, clock) = sim();
    let id = create(&sim, "loop");
    let parent = post(&sim, &id, "parent");
    let mut replies = Vec::new();
    for i in 0..4 {
        clock.advance(Duration::from_secs(1));
        let r = call(
            &sim,
            "chat.postMessage",
            json!({"channel": id, "text": format!("r{i}"), "thread_ts": parent}),
        );
        replies.push(r["ts"].as_str().unwrap().to_string());
    }
    let mut texts: Vec<Vec<String>> = Vec::new();
    let mut cursor = String::new();
    loop {
        let mut p = json!({"channel": id, "ts": parent, "limit": 2});
        if !cursor.is_empty() {
            p["cursor"] = json!(cursor);
        }
        let body = call(&sim, "conversations.replies", p);
        texts.push(ids(body["messages"].as_array().unwrap(), "text"));
        match body["response_metadata"]["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(body["has_more"], json!(true));
                cursor = next.to_string();
            }
            None => {
                assert_eq!(body["has_more"], json!(false));
                break;
            }
        }
    }
    assert_eq!(texts, [vec!["parent", "r0"], vec!["r1", "r2"], vec!["r3"]]);
    assert_eq!(
        error(
            &sim,
            "conversations.replies",
            json!({"channel": id, "ts": parent, "cursor": "zz"})
        ),
        "invalid_cursor"
    );
}

#[test]
fn a_fault_on_a_later_call_lets_the_earlier_ones_through() {
    let (sim, _) = sim();
    let id = create(&sim, "loop");
    sim.inject_fault_on_call("chat.postMessage", 3, Fault::Http(500));
    post(&sim, &id, "1");
    create(&sim, "other");
    post(&sim, &id, "2");
    let answer = sim.handle(
        "chat.postMessage",
        Some(TOKEN),
        json!({"channel": id, "text": "3"}),
    );
    assert_eq!(answer.status, 500);
    post(&sim, &id, "4");
    assert_eq!(
        ids(
            &sim.all_messages(&id)
                .iter()
                .map(|m| json!({"text": m.text}))
                .collect::<Vec<_>>(),
            "text"
        ),
        ["1", "2", "4"]
    );
}

#[test]
fn a_view_is_kept_once_and_its_call_records_it_as_text() {
    let (sim, _) = sim();
    let trigger = sim.issue_trigger_id_for("U1");
    let sent = modal("Scorecard");
    let body = call(
        &sim,
        "views.open",
        json!({"trigger_id": trigger, "view": sent.clone()}),
    );
    // Slack's answer and the kept view both hold the view as the app sent it.
    assert_eq!(body["view"]["blocks"], sent["blocks"], "{body}");
    assert_eq!(body["view"]["title"], sent["title"], "{body}");
    // And Slack's own fields beside them.
    let view = &body["view"];
    assert_eq!(view["type"], json!("modal"), "{body}");
    assert_eq!(view["root_view_id"], view["id"], "{body}");
    assert_eq!(view["previous_view_id"], Value::Null, "{body}");
    assert_eq!(view["state"], json!({"values": {}}), "{body}");
    assert!(
        view["hash"].as_str().is_some_and(|h| !h.is_empty()),
        "{body}"
    );
    assert!(
        view["app_id"].is_string() && view["bot_id"].is_string(),
        "{body}"
    );
    assert_eq!(sim.views_of("U1")[0].view, sent);
    let calls = sim.calls();
    let recorded = calls[0].params["view"].as_str().unwrap_or_default();
    assert_eq!(
        serde_json::from_str::<Value>(recorded).ok(),
        Some(sent.clone())
    );
    // A call refused before the view was read keeps it as it came.
    assert_eq!(
        error(
            &sim,
            "views.open",
            json!({"trigger_id": "nope", "view": sent.clone()})
        ),
        "invalid_trigger_id"
    );
    assert_eq!(sim.calls()[1].params["view"], sent);
    // Updated: the latest is kept, the first in its history.
    let id = body["view"]["id"].as_str().unwrap_or_default();
    assert_eq!(
        call(
            &sim,
            "views.update",
            json!({"view_id": id, "view": modal("Two")})
        )["ok"],
        json!(true)
    );
    let views = sim.views_of("U1");
    assert_eq!(views[0].view, modal("Two"));
    assert_eq!(views[0].history, vec![sent]);
}
