//! The contract check: every Web API call the simulator receives over HTTP, held against
//! Slack's OpenAPI spec (the extract in `src/sim/spec/`, with [`additions`] for what Slack
//! documented since). An unknown method, an argument the method does not take, a content
//! type it does not read, an argument whose value cannot be of the spec's type, or a required
//! argument left out is a [`Violation`]: the simulator keeps it, and a test whose simulator
//! saw one fails ([`crate::SimServer`] checks when it is dropped).
//!
//! The simulator answers such calls as Slack would (it ignores a JSON body a method does not
//! read, and unknown arguments); the violation is what makes the mistake visible even when
//! the answer happens to look fine.

pub mod additions;

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use serde::Deserialize;
use serde_json::{Map, Value};

const SPEC_JSON: &str = include_str!("../spec/slack_web_methods.json");

pub const FORM: &str = "application/x-www-form-urlencoded";
pub const JSON: &str = "application/json";

/// A method as the spec (and the additions) describe it.
#[derive(Debug, Clone, Deserialize)]
pub struct MethodSpec {
    /// Content types it reads.
    pub consumes: Vec<String>,
    pub args: HashMap<String, ArgSpec>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ArgSpec {
    /// `string`, `boolean`, `integer` or `number`.
    #[serde(rename = "type")]
    pub kind: String,
    pub required: bool,
    /// The value is JSON (blocks, a view, metadata).
    pub json: bool,
}

#[derive(Deserialize)]
struct SpecFile {
    methods: HashMap<String, MethodSpec>,
}

/// The methods of the spec extract with the documented additions merged in.
pub fn methods() -> &'static HashMap<String, MethodSpec> {
    static METHODS: LazyLock<HashMap<String, MethodSpec>> = LazyLock::new(|| {
        let file: SpecFile =
            serde_json::from_str(SPEC_JSON).expect("src/sim/spec/slack_web_methods.json parses");
        let mut methods = file.methods;
        for added in additions::METHODS {
            methods.insert(
                added.name.to_string(),
                MethodSpec {
                    consumes: added.consumes.iter().map(|c| c.to_string()).collect(),
                    args: HashMap::new(),
                },
            );
        }
        for added in additions::ARGUMENTS {
            if let Some(method) = methods.get_mut(added.method) {
                method.args.insert(
                    added.name.to_string(),
                    ArgSpec {
                        kind: added.kind.to_string(),
                        required: false,
                        json: added.json,
                    },
                );
            }
        }
        methods
    });
    &METHODS
}

/// Whether `method` reads a body of `media_type` (e.g. `application/json`).
pub fn reads(method: &str, media_type: &str) -> bool {
    methods()
        .get(method)
        .is_some_and(|m| m.consumes.iter().any(|c| c == media_type))
}

/// One Web API call as it arrived: what the contract is checked on, and what the simulator
/// records of it ([`crate::SimCall::wire`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireCall {
    pub method: String,
    /// The body's media type (`application/json`), or "" when the call had no body.
    pub content_type: String,
    /// Each argument (body and query string, the token left out) and the JSON type it came
    /// as: `string` for every form or query argument.
    pub arg_types: BTreeMap<String, String>,
}

/// One way a call broke Slack's contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub method: String,
    pub problem: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.method, self.problem)
    }
}

/// The JSON type of a value, as [`WireCall::arg_types`] records it.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks one call: `content_type` is the body's media type ("" without a body), `body` its
/// arguments (as sent, even if the method ignores them), `query` the query string's.
pub fn check(
    method: &str,
    content_type: &str,
    body: &Map<String, Value>,
    query: &Map<String, Value>,
) -> Vec<Violation> {
    let violation = |problem: String| Violation {
        method: method.to_string(),
        problem,
    };
    let Some(spec) = methods().get(method) else {
        return vec![violation(
            "not a method of Slack's spec or its documented additions".into(),
        )];
    };
    let mut found = Vec::new();
    if !content_type.is_empty() && !spec.consumes.iter().any(|c| c == content_type) {
        found.push(violation(format!(
            "sent as {content_type}; it reads {}",
            spec.consumes.join(", ")
        )));
    }
    let mut given = Vec::new();
    for (name, value) in body.iter().chain(query.iter()) {
        if name == "token" {
            continue;
        }
        given.push(name.as_str());
        match spec.args.get(name) {
            None => found.push(violation(format!("unknown argument `{name}`"))),
            Some(arg) => {
                if let Err(why) = fits(arg, value) {
                    found.push(violation(format!("argument `{name}`: {why}")));
                }
            }
        }
    }
    let effective = |name: &str| {
        // A JSON body the method does not read is ignored: its arguments were not given.
        let body_read = content_type != JSON || spec.consumes.iter().any(|c| c == JSON);
        (body_read && body.contains_key(name)) || query.contains_key(name)
    };
    let mut required: Vec<&str> = spec
        .args
        .iter()
        .filter(|(name, arg)| arg.required && name.as_str() != "token")
        .map(|(name, _)| name.as_str())
        .collect();
    required.sort_unstable();
    for name in required {
        if !effective(name) {
            found.push(violation(format!("required argument `{name}` missing")));
        }
    }
    found
}

/// Whether `value` can be of the argument's spec type: form and query values are text, so
/// the text must read as one; JSON values must be of the type (or a string of it, as Slack
/// reads `"true"` and `"1234.5678"`), and JSON arguments may be objects or arrays.
fn fits(arg: &ArgSpec, value: &Value) -> Result<(), String> {
    let text_fits = |text: &str| match arg.kind.as_str() {
        "boolean" => matches!(text, "true" | "false" | "1" | "0"),
        "integer" => text.trim().parse::<i64>().is_ok(),
        "number" => text.trim().parse::<f64>().is_ok(),
        _ => true,
    };
    let ok = match (arg.kind.as_str(), value) {
        (_, Value::String(text)) => text_fits(text),
        ("boolean", Value::Bool(_)) => true,
        ("integer", Value::Number(n)) => n.is_i64() || n.is_u64(),
        ("number", Value::Number(_)) => true,
        ("string", Value::Array(_) | Value::Object(_)) => arg.json,
        _ => false,
    };
    if ok {
        return Ok(());
    }
    let expected = if arg.json { "JSON" } else { arg.kind.as_str() };
    Err(match value {
        Value::String(text) => format!("expected {expected}, got {text:?}"),
        other => format!("expected {expected}, got a JSON {}", json_type(other)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    fn problems(method: &str, content_type: &str, body: Value, query: Value) -> Vec<String> {
        check(method, content_type, &object(body), &object(query))
            .into_iter()
            .map(|v| v.problem)
            .collect()
    }

    #[test]
    fn what_loopbot_sends_keeps_the_contract() {
        let none: Vec<String> = Vec::new();
        let history = json!({"channel": "C1", "limit": "200", "include_all_metadata": "true",
                             "oldest": "1795000000.000100", "cursor": ""});
        assert_eq!(
            problems("conversations.history", FORM, history, json!({})),
            none
        );
        let post = json!({"channel": "C1", "text": "hi", "blocks": [{"type": "divider"}],
                          "thread_ts": "1.2",
                          "metadata": {"event_type": "loopbot_post", "event_payload": {}}});
        assert_eq!(problems("chat.postMessage", JSON, post, json!({})), none);
        let invite = json!({"channel": "C1", "users": "U1,U2", "force": true});
        assert_eq!(
            problems("conversations.invite", JSON, invite, json!({})),
            none
        );
        assert_eq!(
            problems("users.info", "", json!({}), json!({"user": "U1"})),
            none
        );
        assert_eq!(
            problems("apps.connections.open", FORM, json!({}), json!({})),
            none
        );
        // A form body may carry JSON arguments as text.
        let view = json!({"trigger_id": "1.2.3", "view": "{\"type\":\"modal\"}"});
        assert_eq!(problems("views.open", FORM, view, json!({})), none);
    }

    #[test]
    fn an_unknown_method_is_a_violation() {
        assert_eq!(
            problems(
                "chat.postMessages",
                JSON,
                json!({"channel": "C1"}),
                json!({})
            ),
            ["not a method of Slack's spec or its documented additions"]
        );
    }

    #[test]
    fn an_unknown_argument_is_a_violation() {
        assert_eq!(
            problems(
                "conversations.members",
                FORM,
                json!({"channel": "C1", "page_size": "10"}),
                json!({})
            ),
            ["unknown argument `page_size`"]
        );
    }

    #[test]
    fn a_json_body_to_a_read_method_is_a_violation() {
        assert_eq!(
            problems(
                "conversations.history",
                JSON,
                json!({"channel": "C1", "limit": 200}),
                json!({})
            ),
            ["sent as application/json; it reads application/x-www-form-urlencoded"]
        );
        assert_eq!(
            problems(
                "chat.postMessage",
                "text/plain",
                json!({"channel": "C1"}),
                json!({})
            ),
            ["sent as text/plain; it reads application/json, application/x-www-form-urlencoded"]
        );
    }

    #[test]
    fn a_value_that_cannot_be_of_the_spec_type_is_a_violation() {
        assert_eq!(
            problems(
                "conversations.list",
                FORM,
                json!({"limit": "lots", "exclude_archived": "yes"}),
                json!({})
            ),
            [
                "argument `exclude_archived`: expected boolean, got \"yes\"",
                "argument `limit`: expected integer, got \"lots\""
            ]
        );
        assert_eq!(
            problems(
                "conversations.invite",
                JSON,
                json!({"channel": "C1", "users": ["U1", "U2"]}),
                json!({})
            ),
            ["argument `users`: expected string, got a JSON array"]
        );
    }

    #[test]
    fn a_required_argument_left_out_is_a_violation() {
        assert_eq!(
            problems("chat.update", JSON, json!({"channel": "C1"}), json!({})),
            ["required argument `ts` missing"]
        );
        assert_eq!(
            problems("views.publish", JSON, json!({"view": {}}), json!({})),
            ["required argument `user_id` missing"]
        );
    }
}
