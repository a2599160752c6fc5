use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::clock::ManualClock;
use crate::sim::{Fault, Simulator};

const TOKEN: &str = "xoxb-test";
const T0: i64 = 1_795_000_000_000;

fn sim() -> (Simulator, Arc<ManualClock>) {
    crate::sim::test_sim(TOKEN)
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
fn invite_rules_and_partial_failure() {
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
    // the valid user was still added
    assert!(
        sim.channel(&id)
            .is_some_and(|c| c.members.contains(&"U2".to_string()))
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
    for method in crate::sim::state::METHODS {
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
