//! HTTP-level tests: a real server on 127.0.0.1:0, called with reqwest.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::clock::ManualClock;
use crate::{Fault, SimServer, Simulator};

const TOKEN: &str = "xoxb-http-test";

struct Harness {
    sim: Simulator,
    server: SimServer,
    client: reqwest::Client,
    _clock: Arc<ManualClock>,
}

async fn harness() -> Harness {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (sim, clock) = crate::test_sim(TOKEN);
    let server = sim.serve().await.expect("serve");
    let client = reqwest::Client::builder().build().expect("client");
    Harness {
        sim,
        server,
        client,
        _clock: clock,
    }
}

impl Harness {
    fn url(&self, method: &str) -> String {
        format!("{}/{method}", self.server.base_url)
    }

    async fn json(&self, method: &str, body: Value) -> Value {
        let resp = self
            .client
            .post(self.url(method))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json; charset=utf-8")
            .body(body.to_string())
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200);
        resp.json().await.expect("json body")
    }

    /// `args` (a JSON object) as form arguments, written as Slack's SDKs write them: strings
    /// as they are, other values as JSON text.
    async fn form_args(&self, method: &str, args: Value) -> Value {
        let fields: Vec<(String, String)> = args
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| {
                let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                (k.clone(), text)
            })
            .collect();
        let resp = self
            .client
            .post(self.url(method))
            .bearer_auth(TOKEN)
            .form(&fields)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200);
        resp.json().await.expect("json body")
    }

    async fn form(&self, method: &str, fields: &[(&str, &str)]) -> Value {
        let resp = self
            .client
            .post(self.url(method))
            .form(fields)
            .send()
            .await
            .expect("send");
        assert_eq!(resp.status(), 200);
        resp.json().await.expect("json body")
    }
}

#[tokio::test]
async fn json_and_form_bodies_both_work() {
    let h = harness().await;
    let created = h
        .form(
            "conversations.create",
            &[
                ("token", TOKEN),
                ("name", "loop-ada"),
                ("is_private", "true"),
            ],
        )
        .await;
    assert_eq!(created["ok"], json!(true), "{created}");
    let channel = created["channel"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert_eq!(created["channel"]["is_private"], json!(true));
    let blocks =
        json!([{"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}]).to_string();
    let posted = h
        .form(
            "chat.postMessage",
            &[
                ("token", TOKEN),
                ("channel", &channel),
                ("text", "hi"),
                ("blocks", &blocks),
            ],
        )
        .await;
    assert_eq!(posted["ok"], json!(true), "{posted}");
    let invited = h
        .form(
            "conversations.invite",
            &[("token", TOKEN), ("channel", &channel), ("users", "U1,U2")],
        )
        .await;
    assert_eq!(invited["ok"], json!(true), "{invited}");
    let via_json = h
        .json(
            "chat.postMessage",
            json!({"channel": channel, "text": "json"}),
        )
        .await;
    assert_eq!(via_json["ok"], json!(true), "{via_json}");
    let messages = h.sim.messages(&channel);
    assert_eq!(messages.len(), 2);
    assert!(messages[0].blocks.is_array());
    let users = h
        .sim
        .channel(&channel)
        .map(|c| c.members)
        .unwrap_or_default();
    assert_eq!(users.len(), 3);
}

#[tokio::test]
async fn users_info_via_get_query() {
    let h = harness().await;
    let resp = h
        .client
        .get(format!("{}?user=U1&token={TOKEN}", h.url("users.info")))
        .send()
        .await
        .expect("send");
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["user"]["real_name"], json!("Ada Lovelace"), "{body}");
}

#[tokio::test]
async fn token_errors_over_http() {
    let h = harness().await;
    let none: Value = h
        .client
        .post(h.url("auth.test"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(none["error"], json!("not_authed"));
    let wrong: Value = h
        .client
        .post(h.url("auth.test"))
        .bearer_auth("xoxb-wrong")
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    assert_eq!(wrong["error"], json!("invalid_auth"));
    h.sim.revoke_token();
    assert_eq!(
        h.json("auth.test", json!({})).await["error"],
        json!("token_revoked")
    );
    let bad_json = h
        .client
        .post(h.url("chat.postMessage"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .expect("send");
    assert_eq!(bad_json.status(), 200);
    let bad_json: Value = bad_json.json().await.expect("json");
    assert_eq!(bad_json["error"], json!("invalid_json"));
    assert_eq!(h.sim.calls().len(), 4);
    let violations = h.sim.take_contract_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(
        violations[0].problem,
        "the application/json body does not parse (invalid_json)"
    );
}

#[tokio::test]
async fn rate_limit_fault_sets_retry_after_and_changes_nothing() {
    let h = harness().await;
    h.sim.inject_fault(
        "conversations.create",
        Fault::RateLimited {
            retry_after_secs: 3,
        },
    );
    let resp = h
        .client
        .post(h.url("conversations.create"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "loop"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("3")
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body, json!({"ok": false, "error": "ratelimited"}));
    assert!(h.sim.channels().is_empty());
    assert_eq!(h.sim.call_count("conversations.create"), 0);
    assert_eq!(
        h.json("conversations.create", json!({"name": "loop"}))
            .await["ok"],
        json!(true)
    );
    assert_eq!(h.sim.call_count("conversations.create"), 1);
}

#[tokio::test]
async fn http_500_fault_has_a_non_json_body() {
    let h = harness().await;
    h.sim.inject_fault("*", Fault::Http(500));
    let resp = h
        .client
        .post(h.url("chat.postMessage"))
        .bearer_auth(TOKEN)
        .json(&json!({"channel": "U1", "text": "hi"}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 500);
    let text = resp.text().await.expect("text");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(h.sim.dms_to("U1").is_empty());
    let calls = h.sim.calls();
    assert_eq!((calls[0].http_status, calls[0].ok), (500, false));
}

#[tokio::test]
async fn timeout_fault_makes_the_client_time_out_and_changes_nothing() {
    let h = harness().await;
    h.sim
        .inject_fault("chat.postMessage", Fault::Timeout { after_ms: 5_000 });
    let result = h
        .client
        .post(h.url("chat.postMessage"))
        .bearer_auth(TOKEN)
        .timeout(std::time::Duration::from_millis(100))
        .json(&json!({"channel": "U1", "text": "hi"}))
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert!(h.sim.dms_to("U1").is_empty());
    assert_eq!(h.sim.calls()[0].http_status, 504);
}

#[tokio::test]
async fn unknown_method() {
    let h = harness().await;
    assert_eq!(
        h.json("chat.meMessage", json!({})).await["error"],
        json!("unknown_method")
    );
    let violations = h.sim.take_contract_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].method, "chat.meMessage");
}

/// As Slack does: a read method ignores a JSON body, and answers as if its arguments were
/// missing. The call is also a contract violation, which fails the test that made it.
#[tokio::test]
async fn a_json_body_to_a_read_method_is_ignored_and_recorded_as_a_violation() {
    let h = harness().await;
    let channel = h
        .sim
        .create_channel_by_user("general", "U1", &["U1", crate::BOT_USER_ID], false);
    for method in [
        "conversations.history",
        "conversations.members",
        "conversations.info",
    ] {
        let answer = h.json(method, json!({"channel": channel})).await;
        assert_eq!(
            answer,
            json!({"ok": false, "error": "invalid_arguments", "response_metadata":
                   {"messages": ["[ERROR] missing required field: channel"]}}),
            "{method}"
        );
        // The same arguments as a form, or a query string, are read.
        let answer = h.form_args(method, json!({"channel": channel})).await;
        assert_eq!(answer["ok"], json!(true), "{method}: {answer}");
        let resp = h
            .client
            .get(format!("{}?channel={channel}", h.url(method)))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("send");
        let answer: Value = resp.json().await.expect("json");
        assert_eq!(answer["ok"], json!(true), "{method}: {answer}");
    }
    let replies = h
        .json(
            "conversations.replies",
            json!({"channel": channel, "ts": "1.2"}),
        )
        .await;
    assert_eq!(
        replies["response_metadata"]["messages"],
        json!([
            "[ERROR] missing required field: channel",
            "[ERROR] missing required field: ts"
        ])
    );
    let json_calls: Vec<_> = h
        .sim
        .calls()
        .into_iter()
        .filter_map(|c| c.wire)
        .filter(|w| w.content_type == "application/json")
        .collect();
    assert_eq!(json_calls.len(), 4);
    assert_eq!(json_calls[0].arg_types["channel"], "string");
    let violations = h.sim.take_contract_violations();
    assert_eq!(
        violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "conversations.history: sent as application/json; it reads application/x-www-form-urlencoded",
            "conversations.members: sent as application/json; it reads application/x-www-form-urlencoded",
            "conversations.info: sent as application/json; it reads application/x-www-form-urlencoded",
            "conversations.replies: sent as application/json; it reads application/x-www-form-urlencoded",
        ]
    );
}

/// Slack ignores arguments a method does not take; the simulator answers as Slack does and
/// records the argument as a contract violation, with what it recorded of the call.
#[tokio::test]
async fn an_unknown_argument_is_answered_as_slack_does_and_recorded() {
    let h = harness().await;
    let answer = h
        .json(
            "conversations.create",
            json!({"name": "loop", "is_private": true, "private": true}),
        )
        .await;
    assert_eq!(answer["ok"], json!(true), "{answer}");
    let wire = h.sim.calls()[0].wire.clone().expect("an HTTP call");
    assert_eq!(wire.content_type, "application/json");
    assert_eq!(
        wire.arg_types.into_iter().collect::<Vec<_>>(),
        [
            ("is_private".to_string(), "boolean".to_string()),
            ("name".to_string(), "string".to_string()),
            ("private".to_string(), "boolean".to_string()),
        ]
    );
    let violations = h.sim.take_contract_violations();
    assert_eq!(
        violations
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["conversations.create: unknown argument `private`"]
    );
}

/// Every method reads form arguments and a query string, whatever else it reads.
#[tokio::test]
async fn query_strings_are_read_by_write_methods_too() {
    let h = harness().await;
    let resp = h
        .client
        .post(format!(
            "{}?name=loop-q&is_private=true",
            h.url("conversations.create")
        ))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("send");
    let answer: Value = resp.json().await.expect("json");
    assert_eq!(answer["ok"], json!(true), "{answer}");
    assert!(h.sim.channel_named("loop-q").is_some_and(|c| c.is_private));
    assert_eq!(h.sim.calls()[0].wire.as_ref().unwrap().content_type, "");
}

/// A test that sent Slack what Slack would not read fails when its simulator stops.
#[tokio::test]
async fn a_server_dropped_with_violations_fails_its_test() {
    let h = harness().await;
    h.json("conversations.members", json!({"channel": "C1"}))
        .await;
    let Harness { sim, server, .. } = h;
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(server)));
    let message = dropped.expect_err("the drop panics");
    let message = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        message.contains("conversations.members: sent as application/json"),
        "{message}"
    );
    assert_eq!(sim.contract_violations().len(), 1);
}

/// Offending paths: keys in `ours` that the sample does not have at the same place.
fn unknown_keys(ours: &Value, sample: &Value, path: &str, out: &mut Vec<String>) {
    match (ours, sample) {
        (_, Value::Object(s)) if s.is_empty() => {}
        (Value::Object(o), Value::Object(s)) => {
            for (key, value) in o {
                let p = format!("{path}.{key}");
                match s.get(key) {
                    Some(sv) => unknown_keys(value, sv, &p, out),
                    None => out.push(p),
                }
            }
        }
        (Value::Array(o), Value::Array(s)) => {
            let Some(element) = merged(s) else { return };
            for (i, value) in o.iter().enumerate() {
                unknown_keys(value, &element, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Union of the keys of all elements of a sample array (objects merged recursively).
fn merged(items: &[Value]) -> Option<Value> {
    let mut iter = items.iter();
    let mut acc = iter.next()?.clone();
    for item in iter {
        merge_into(&mut acc, item);
    }
    Some(acc)
}

fn merge_into(acc: &mut Value, other: &Value) {
    match (acc, other) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge_into(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            a.extend(b.iter().cloned());
            if let Some(m) = merged(a) {
                *a = vec![m];
            }
        }
        _ => {}
    }
}

fn sample(method: &str) -> Value {
    let path = format!(
        "{}/../../tests/fixtures/slack-reference/api-samples/{method}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test]
async fn success_responses_use_only_sample_field_names() {
    let h = harness().await;
    let mut responses: Vec<(&str, Value)> = Vec::new();
    responses.push(("auth.test", h.json("auth.test", json!({})).await));
    responses.push((
        "users.info",
        h.form_args("users.info", json!({"user": "U1"})).await,
    ));
    let created = h
        .json(
            "conversations.create",
            json!({"name": "loop", "is_private": true}),
        )
        .await;
    let channel = created["channel"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    responses.push(("conversations.create", created));
    responses.push((
        "conversations.invite",
        h.json(
            "conversations.invite",
            json!({"channel": channel, "users": "U1"}),
        )
        .await,
    ));
    responses.push((
        "conversations.setTopic",
        h.json(
            "conversations.setTopic",
            json!({"channel": channel, "topic": "Loop"}),
        )
        .await,
    ));
    let blocks = json!([
        {"type": "section", "block_id": "s", "text": {"type": "mrkdwn", "text": "*Rubric*"}},
        {"type": "actions", "block_id": "a", "elements": [
            {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "Go"}, "value": "1"}]}
    ]);
    let posted = h
        .json(
            "chat.postMessage",
            json!({"channel": channel, "text": "t", "blocks": blocks}),
        )
        .await;
    let ts = posted["ts"].as_str().unwrap_or_default().to_string();
    responses.push(("chat.postMessage", posted));
    responses.push((
        "chat.update",
        h.json(
            "chat.update",
            json!({"channel": channel, "ts": ts, "text": "t2", "blocks": blocks}),
        )
        .await,
    ));
    responses.push((
        "chat.postEphemeral",
        h.json(
            "chat.postEphemeral",
            json!({"channel": channel, "user": "U1", "text": "psst"}),
        )
        .await,
    ));
    responses.push((
        "pins.add",
        h.json("pins.add", json!({"channel": channel, "timestamp": ts}))
            .await,
    ));
    h.json("conversations.open", json!({"users": "U2"})).await;
    responses.push((
        "conversations.open",
        h.json("conversations.open", json!({"users": "U2"})).await,
    ));
    let modal = json!({"type": "modal", "callback_id": "scorecard", "private_metadata": "loop=1",
        "title": {"type": "plain_text", "text": "Scorecard"},
        "submit": {"type": "plain_text", "text": "Submit"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [{"type": "input", "block_id": "notes", "label": {"type": "plain_text", "text": "Notes"},
                    "element": {"type": "plain_text_input", "action_id": "notes", "multiline": true}}]});
    let opened = h
        .json(
            "views.open",
            json!({"trigger_id": h.sim.issue_trigger_id_for("U1"), "view": modal}),
        )
        .await;
    let view_id = opened["view"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    responses.push(("views.open", opened));
    responses.push((
        "views.update",
        h.json("views.update", json!({"view_id": view_id, "view": modal}))
            .await,
    ));
    responses.push((
        "views.publish",
        h.json(
            "views.publish",
            json!({"user_id": "U1", "view": {"type": "home", "blocks": blocks}}),
        )
        .await,
    ));
    responses.push((
        "conversations.archive",
        h.json("conversations.archive", json!({"channel": channel}))
            .await,
    ));
    for (method, body) in responses {
        assert_eq!(body["ok"], json!(true), "{method}: {body}");
        let mut bad = Vec::new();
        unknown_keys(&body, &sample(method), method, &mut bad);
        assert!(
            bad.is_empty(),
            "{method}: fields not in the sample: {bad:?}\n{body}"
        );
    }
}

#[test]
fn field_name_check_catches_unknown_fields() {
    let mut bad = Vec::new();
    let ours = json!({"ok": true, "bogus": 1, "channel": {"id": "D1", "nope": true}});
    unknown_keys(&ours, &sample("conversations.open"), "m", &mut bad);
    assert_eq!(bad, ["m.bogus", "m.channel.nope"]);
}

#[tokio::test]
async fn tiers_over_http_answer_429_with_retry_after() {
    let h = harness().await;
    let created = h
        .json("conversations.create", json!({"name": "loop"}))
        .await;
    let channel = created["channel"]["id"].as_str().unwrap_or_default();
    h.sim.enforce_tiers(true);
    let post = |text: &'static str| {
        h.client
            .post(h.url("chat.postMessage"))
            .bearer_auth(TOKEN)
            .json(&json!({"channel": channel, "text": text}))
            .send()
    };
    // A short burst into one channel is let through; the next post is one too many.
    for text in ["one", "two", "three"] {
        assert_eq!(post(text).await.expect("send").status(), 200, "{text}");
    }
    let resp = post("four").await.expect("send");
    assert_eq!(resp.status(), 429);
    assert_eq!(
        resp.headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body, json!({"ok": false, "error": "ratelimited"}));
    assert_eq!(h.sim.messages(channel).len(), 3);
    assert_eq!(h.sim.rate_limited_count(), 1);
}

#[tokio::test]
async fn latency_delays_http_answers_after_performing_the_call() {
    let h = harness().await;
    h.sim.set_latency(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let body = h.json("auth.test", json!({})).await;
    assert_eq!(body["ok"], json!(true));
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    // A client that gives up first still caused the effect.
    let result = h
        .client
        .post(h.url("conversations.create"))
        .bearer_auth(TOKEN)
        .timeout(std::time::Duration::from_millis(50))
        .json(&json!({"name": "slow"}))
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert!(h.sim.channel_named("slow").is_some());
    // In-process calls are not delayed.
    let started = std::time::Instant::now();
    assert!(h.sim.handle("auth.test", Some(TOKEN), json!({})).ok());
    assert!(started.elapsed() < std::time::Duration::from_millis(300));
    h.sim.set_latency(std::time::Duration::ZERO);
    assert_eq!(h.sim.latency(), std::time::Duration::ZERO);
}

#[tokio::test]
async fn lose_answer_over_http_keeps_the_effect_and_sends_no_json() {
    let h = harness().await;
    h.sim
        .inject_fault("conversations.create", Fault::LoseAnswer { status: 504 });
    let resp = h
        .client
        .post(h.url("conversations.create"))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "loop-lost", "is_private": true}))
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 504);
    let text = resp.text().await.expect("text");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    assert!(h.sim.channel_named("loop-lost").is_some());
    let retry = h
        .json("conversations.create", json!({"name": "loop-lost"}))
        .await;
    assert_eq!(retry["error"], json!("name_taken"));
}

#[tokio::test]
async fn form_bodies_carry_force_and_metadata() {
    let h = harness().await;
    let created = h
        .form(
            "conversations.create",
            &[("token", TOKEN), ("name", "loop"), ("is_private", "true")],
        )
        .await;
    let channel = created["channel"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let refused = h
        .form(
            "conversations.invite",
            &[
                ("token", TOKEN),
                ("channel", &channel),
                ("users", "U1,U404"),
            ],
        )
        .await;
    assert_eq!(refused["error"], json!("user_not_found"));
    assert_eq!(h.sim.channel(&channel).map(|c| c.members.len()), Some(1));
    let forced = h
        .form(
            "conversations.invite",
            &[
                ("token", TOKEN),
                ("channel", &channel),
                ("users", "U1,U404"),
                ("force", "true"),
            ],
        )
        .await;
    assert_eq!(forced["ok"], json!(false));
    assert_eq!(h.sim.channel(&channel).map(|c| c.members.len()), Some(2));
    let meta = json!({"event_type": "loop_summary", "event_payload": {"loop_id": 3}});
    let posted = h
        .form(
            "chat.postMessage",
            &[
                ("token", TOKEN),
                ("channel", &channel),
                ("text", "summary"),
                ("metadata", &meta.to_string()),
            ],
        )
        .await;
    assert_eq!(posted["ok"], json!(true), "{posted}");
    let history = h
        .form(
            "conversations.history",
            &[
                ("token", TOKEN),
                ("channel", &channel),
                ("include_all_metadata", "true"),
            ],
        )
        .await;
    assert_eq!(history["messages"][0]["metadata"], meta, "{history}");
}

/// Field names of the read methods' answers, from slackapi/java-slack-sdk's recorded samples
/// (json-logs/samples/api, main @ 86ff7ca9); those samples are not in tests/fixtures.
fn read_method_skeleton(method: &str) -> Value {
    let channel = json!({"context_team_id": "", "conversation_host_id": "", "created": 0,
        "creator": "", "id": "", "internal_team_ids": [], "is_archived": false, "is_channel": false,
        "is_ext_shared": false, "is_general": false, "is_global_shared": false, "is_group": false,
        "is_im": false, "is_member": false, "is_moved": 0, "is_mpim": false, "is_org_default": false,
        "is_org_mandatory": false, "is_org_shared": false, "is_pending_ext_shared": false,
        "is_private": false, "is_shared": false, "is_user_deleted": false, "name": "",
        "name_normalized": "", "num_members": 0, "pending_connected_team_ids": [],
        "pending_shared": [], "previous_names": [], "priority": 0, "properties": {},
        "purpose": {"value": "", "creator": "", "last_set": 0}, "shared_team_ids": [],
        "topic": {"value": "", "creator": "", "last_set": 0}, "unlinked": 0, "updated": 0,
        "user": ""});
    let message = json!({"app_id": "", "attachments": [], "blocks": [], "bot_id": "",
        "bot_profile": {}, "client_msg_id": "", "display_as_bot": false, "edited": {},
        "files": [], "icons": {}, "latest_reply": "", "metadata": {"event_type": "",
        "event_payload": {}}, "parent_user_id": "", "reactions": [], "reply_count": 0,
        "reply_users": [], "reply_users_count": 0, "root": {}, "subscribed": false, "subtype": "",
        "team": "", "text": "", "thread_ts": "", "ts": "", "type": "", "upload": false,
        "user": "", "username": ""});
    match method {
        "conversations.list" => json!({"ok": true, "channels": [channel],
            "response_metadata": {"next_cursor": ""}}),
        "conversations.members" => json!({"ok": true, "members": [""],
            "response_metadata": {"next_cursor": ""}}),
        "conversations.history" => json!({"ok": true, "messages": [message], "has_more": false,
            "pin_count": 0, "channel_actions_ts": null, "channel_actions_count": 0,
            "latest": "", "oldest": "", "response_metadata": {"next_cursor": ""}}),
        _ => Value::Null,
    }
}

#[tokio::test]
async fn read_methods_use_only_sample_field_names() {
    let h = harness().await;
    let created = h
        .json(
            "conversations.create",
            json!({"name": "loop", "is_private": true}),
        )
        .await;
    let channel = created["channel"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    h.json(
        "conversations.invite",
        json!({"channel": channel, "users": "U1,U2"}),
    )
    .await;
    h.json("conversations.open", json!({"users": "U1"})).await;
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]);
    let meta = json!({"event_type": "loop_summary", "event_payload": {"loop_id": 1}});
    let parent = h
        .json(
            "chat.postMessage",
            json!({"channel": channel, "text": "t", "blocks": blocks, "metadata": meta}),
        )
        .await;
    h.json(
        "chat.postMessage",
        json!({"channel": channel, "text": "reply", "thread_ts": parent["ts"]}),
    )
    .await;
    h.sim.post_message_by_user(&channel, "U1", "from a person");
    h.json("chat.postMessage", json!({"channel": channel, "text": "3"}))
        .await;
    let responses = [
        (
            "conversations.list",
            h.form_args(
                "conversations.list",
                json!({"types": "public_channel,private_channel,im", "limit": 1}),
            )
            .await,
        ),
        (
            "conversations.list",
            h.form_args(
                "conversations.list",
                json!({"types": "public_channel,private_channel,im"}),
            )
            .await,
        ),
        (
            "conversations.members",
            h.form_args("conversations.members", json!({"channel": channel}))
                .await,
        ),
        (
            "conversations.history",
            h.form_args(
                "conversations.history",
                json!({"channel": channel, "include_all_metadata": true, "limit": 2}),
            )
            .await,
        ),
        (
            "conversations.history",
            h.form_args(
                "conversations.history",
                json!({"channel": channel, "include_all_metadata": true}),
            )
            .await,
        ),
    ];
    for (method, body) in responses {
        assert_eq!(body["ok"], json!(true), "{method}: {body}");
        let mut bad = Vec::new();
        unknown_keys(&body, &read_method_skeleton(method), method, &mut bad);
        assert!(
            bad.is_empty(),
            "{method}: fields not in the sample: {bad:?}\n{body}"
        );
    }
}

#[tokio::test]
async fn a_json_body_without_a_charset_gets_slacks_missing_charset_warning() {
    let h = harness().await;
    let without = h
        .client
        .post(h.url("auth.test"))
        .bearer_auth(TOKEN)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(without["ok"], true);
    assert_eq!(without["warning"], "missing_charset");
    assert_eq!(
        without["response_metadata"]["warnings"],
        json!(["missing_charset"])
    );
    let with = h.json("auth.test", json!({})).await;
    assert_eq!(with["ok"], true);
    assert!(with.get("warning").is_none(), "{with}");
    let calls = h.sim.calls();
    assert_eq!(calls[0].warnings, ["missing_charset"]);
    assert!(calls[1].warnings.is_empty());
}

#[tokio::test]
async fn purge_methods_answer_with_slacks_field_names() {
    let h = harness().await;
    let created = h
        .json(
            "conversations.create",
            json!({"name": "loop-ada", "is_private": true}),
        )
        .await;
    let channel = created["channel"]["id"].as_str().unwrap().to_string();
    let posted = h
        .form(
            "chat.postMessage",
            &[("token", TOKEN), ("channel", &channel), ("text", "hi")],
        )
        .await;
    let ts = posted["ts"].as_str().unwrap().to_string();
    let info = h
        .form(
            "conversations.info",
            &[("token", TOKEN), ("channel", &channel)],
        )
        .await;
    let renamed = h
        .json(
            "conversations.rename",
            json!({"channel": channel, "name": "loop-1-purged"}),
        )
        .await;
    assert_eq!(renamed["channel"]["name"], "loop-1-purged", "{renamed}");
    // Form-encoded, as most SDKs send chat.delete.
    let deleted = h
        .form(
            "chat.delete",
            &[("token", TOKEN), ("channel", &channel), ("ts", &ts)],
        )
        .await;
    assert_eq!(deleted, json!({"ok": true, "channel": channel, "ts": ts}));
    assert!(h.sim.messages(&channel).is_empty());
    let again = h
        .json("chat.delete", json!({"channel": channel, "ts": ts}))
        .await;
    assert_eq!(again, json!({"ok": false, "error": "message_not_found"}));
    for (method, body) in [
        ("conversations.info", info),
        ("conversations.info", renamed),
    ] {
        assert_eq!(body["ok"], json!(true), "{method}: {body}");
        let mut bad = Vec::new();
        unknown_keys(&body, &sample(method), method, &mut bad);
        assert!(bad.is_empty(), "{method}: {bad:?}\n{body}");
    }
}

/// A view's answer is the same object however the view came: a JSON body spaced as the app
/// liked (answered from its text), a form field, or with a member Slack drops (answered from
/// the tree). The modal kept is the one sent.
#[tokio::test]
async fn a_views_answer_is_the_same_however_the_view_came() {
    let h = harness().await;
    let modal = json!({"type": "modal", "callback_id": "start", "private_metadata": "a\"b",
        "title": {"type": "plain_text", "text": "Stärt"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [{"type": "input", "block_id": "who", "label": {"type": "plain_text", "text": "Who"},
                    "element": {"type": "plain_text_input", "action_id": "who"}}]});
    let spaced = format!(
        "{{ \"trigger_id\" : \"{}\" ,\n \"view\" : {} }}",
        h.sim.issue_trigger_id_for("U1"),
        serde_json::to_string_pretty(&modal).expect("text")
    );
    let by_json: Value = h
        .client
        .post(h.url("views.open"))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json; charset=utf-8")
        .body(spaced)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json body");
    let by_form = h
        .form_args(
            "views.open",
            json!({"trigger_id": h.sim.issue_trigger_id_for("U1"), "view": modal}),
        )
        .await;
    let mut dropped = modal.clone();
    dropped["submit_disabled"] = json!(true);
    let by_tree = h
        .json(
            "views.open",
            json!({"trigger_id": h.sim.issue_trigger_id_for("U1"), "view": dropped}),
        )
        .await;
    let without_ids = |answer: &Value| {
        assert_eq!(answer["ok"], json!(true), "{answer}");
        let mut view = answer["view"].clone();
        for (name, value) in [("id", "V"), ("root_view_id", "V"), ("hash", "")] {
            let given = view[name].as_str().unwrap_or_default();
            assert!(
                given.starts_with(value) && !given.is_empty(),
                "{name}: {answer}"
            );
            view[name] = json!("-");
        }
        view
    };
    let expected = without_ids(&by_json);
    assert_eq!(expected["blocks"], modal["blocks"]);
    assert_eq!(expected["private_metadata"], json!("a\"b"));
    assert_eq!(expected["state"], json!({"values": {}}));
    assert_eq!(expected["clear_on_close"], json!(false));
    assert_eq!(without_ids(&by_form), expected);
    assert_eq!(without_ids(&by_tree), expected);
    let kept = h.sim.views_of("U1");
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[0].view, modal);
    assert_eq!(kept[1].view, modal);
}
