//! `views.*` methods.

use serde_json::{Map, Value, json};

use super::{ApiError, Args, MethodResult, SimState, err};
use crate::blockkit::{self, MAX_VIEW_BYTES};
use crate::{APP_ID, BOT_ID, SimView, TEAM_ID};

const TRIGGER_LIFE_MS: i64 = 3_000;

/// A modal as the simulator keeps it: the view as JSON text, not a parsed tree. A tree takes
/// about ten times the memory, and a load run opens a modal for every `/loop start`.
#[derive(Debug, Clone)]
pub struct KeptView {
    pub id: String,
    /// The user the modal was opened for ("" when the trigger named no user).
    pub user: String,
    /// The latest view, as the app sent it.
    pub text: String,
    /// Its `external_id`, to find it by.
    pub external_id: Option<String>,
    pub hash: String,
    /// Previous versions, oldest first.
    pub history: Vec<String>,
}

impl KeptView {
    /// The view as tests read it.
    pub fn to_sim_view(&self) -> SimView {
        let parse = |text: &str| serde_json::from_str(text).unwrap_or(Value::Null);
        SimView {
            id: self.id.clone(),
            user: self.user.clone(),
            view: parse(&self.text),
            hash: self.hash.clone(),
            history: self.history.iter().map(|t| parse(t)).collect(),
        }
    }
}

impl SimState {
    pub(super) fn check_trigger(&self, now_ms: i64, trigger_id: &str) -> Result<(), ApiError> {
        let trigger = self
            .triggers
            .get(trigger_id)
            .ok_or_else(|| err("invalid_trigger_id"))?;
        if trigger.used {
            return Err(err("exchanged_trigger_id"));
        }
        if now_ms - trigger.issued_ms > TRIGGER_LIFE_MS {
            return Err(err("expired_trigger_id"));
        }
        Ok(())
    }

    pub(super) fn next_hash(&mut self, now_ms: i64) -> String {
        let n = self.next();
        format!(
            "{}.{:08x}",
            now_ms.div_euclid(1000),
            n.wrapping_mul(2_654_435_761)
        )
    }

    pub(super) fn views_open(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let trigger_id = args.str("trigger_id").ok_or_else(|| {
            ApiError::with_messages(
                "invalid_arguments",
                vec!["missing required field: trigger_id".into()],
            )
        })?;
        self.check_trigger(now_ms, &trigger_id)?;
        let (view, text) = self.view_arg(args, blockkit::validate_modal)?;
        let user = match self.triggers.get_mut(&trigger_id) {
            Some(t) => {
                t.used = true;
                t.user.clone().unwrap_or_default()
            }
            None => String::new(),
        };
        let id = self.next_id('V');
        let hash = self.next_hash(now_ms);
        let external_id = external_id_of(&view);
        self.answer_view = view_json(&view, &text, &id, &hash);
        let body = view_body(view, &id, &hash);
        self.views.push(KeptView {
            id,
            user,
            text,
            external_id,
            hash,
            history: Vec::new(),
        });
        Ok(body)
    }

    pub(super) fn views_update(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let view_id = args.str("view_id");
        let external_id = args.str("external_id");
        if view_id.is_none() && external_id.is_none() {
            return Err(ApiError::with_messages(
                "invalid_arguments",
                vec!["either view_id or external_id is required".into()],
            ));
        }
        let pos = self
            .views
            .iter()
            .position(|v| match (&view_id, &external_id) {
                (Some(id), _) => v.id == *id,
                (None, Some(ext)) => v.external_id.as_deref() == Some(ext.as_str()),
                (None, None) => false,
            })
            .ok_or_else(|| err("not_found"))?;
        if let Some(hash) = args.str("hash")
            && hash != self.views[pos].hash
        {
            return Err(err("hash_conflict"));
        }
        let (view, text) = self.view_arg(args, blockkit::validate_modal)?;
        let hash = self.next_hash(now_ms);
        let entry = &mut self.views[pos];
        let answer = view_json(&view, &text, &entry.id, &hash);
        let previous = std::mem::replace(&mut entry.text, text);
        entry.history.push(previous);
        entry.external_id = external_id_of(&view);
        entry.hash = hash;
        let body = view_body(view, &entry.id, &entry.hash);
        self.answer_view = answer;
        Ok(body)
    }

    pub(super) fn views_publish(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let user = args.str("user_id").ok_or_else(|| err("user_not_found"))?;
        if self.user(&user).is_none() {
            return Err(err("user_not_found"));
        }
        if let (Some(hash), Some((_, current))) = (args.str("hash"), self.homes.get(&user))
            && hash != *current
        {
            return Err(err("hash_conflict"));
        }
        let (view, text) = self.view_arg(args, blockkit::validate_home)?;
        let id = self.next_id('V');
        let hash = self.next_hash(now_ms);
        self.answer_view = view_json(&view, &text, &id, &hash);
        let body = view_body(view.clone(), &id, &hash);
        self.homes.insert(user, (view, hash));
        Ok(body)
    }

    /// The `view` argument and its JSON text, size-checked and validated by `validate`. The
    /// text is also what the call's record keeps.
    fn view_arg(
        &mut self,
        args: &Args<'_>,
        validate: fn(&Value) -> Result<(), String>,
    ) -> Result<(Value, String), ApiError> {
        let (given, sent_text) = match self.given_view.take() {
            Some((view, text)) => (Some(view), text),
            // A view given as JSON text (a form body) is kept as that text.
            None => (
                args.json("view")
                    .map_err(|m| ApiError::with_messages("invalid_arguments", vec![m]))?,
                args.raw_str("view"),
            ),
        };
        let view = given.ok_or_else(|| {
            ApiError::with_messages(
                "invalid_arguments",
                vec!["missing required field: view".into()],
            )
        })?;
        // The text as the app sent it; written out (serde_json's own writer, a good deal
        // cheaper than `Display`) only for a view given as a tree in this process.
        let text = match sent_text {
            Some(text) => text,
            None => serde_json::to_string(&view).unwrap_or_default(),
        };
        self.view_text = Some(text.clone());
        if text.len() > MAX_VIEW_BYTES {
            return Err(err("view_too_large"));
        }
        validate(&view).map_err(|m| ApiError::with_messages("invalid_arguments", vec![m]))?;
        Ok((view, text))
    }
}

fn external_id_of(view: &Value) -> Option<String> {
    view.get("external_id")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The app's members Slack's answer carries with a default where the app left them out.
fn defaulted() -> [(&'static str, Value); 7] {
    [
        ("type", json!("modal")),
        ("blocks", json!([])),
        ("private_metadata", json!("")),
        ("callback_id", json!("")),
        ("external_id", json!("")),
        ("clear_on_close", json!(false)),
        ("notify_on_close", json!(false)),
    ]
}

/// The app's members Slack's answer carries only when given, and not null. It drops any
/// member neither these nor [`defaulted`] name.
const GIVEN_ONLY: [&str; 3] = ["title", "submit", "close"];

/// The members of Slack's answer that Slack fills in itself.
fn slack_members(id: &str, hash: &str) -> Map<String, Value> {
    let mut v = Map::new();
    v.insert("id".into(), json!(id));
    v.insert("team_id".into(), json!(TEAM_ID));
    v.insert("state".into(), json!({ "values": {} }));
    v.insert("hash".into(), json!(hash));
    v.insert("root_view_id".into(), json!(id));
    v.insert("previous_view_id".into(), Value::Null);
    v.insert("app_id".into(), json!(APP_ID));
    v.insert("app_installed_team_id".into(), json!(TEAM_ID));
    v.insert("bot_id".into(), json!(BOT_ID));
    v
}

/// The object `view_body` builds, written as JSON from the app's view `text` rather than by
/// writing the tree out: Slack's own members and the defaults of those the app left out,
/// then the app's members as it sent them. `None` where the two would differ (the app's view
/// has a member the answer drops, or a null title, submit or close): the tree is written then.
fn view_json(view: &Value, text: &str, id: &str, hash: &str) -> Option<String> {
    let fields = view.as_object()?;
    let defaults = defaulted();
    let echoed_whole = fields.iter().all(|(name, value)| {
        if GIVEN_ONLY.contains(&name.as_str()) {
            !value.is_null()
        } else {
            defaults.iter().any(|(d, _)| d == name)
        }
    });
    if !echoed_whole {
        return None;
    }
    let members = text.trim().strip_prefix('{')?.strip_suffix('}')?.trim();
    let mut slack = slack_members(id, hash);
    for (name, default) in defaults {
        if !fields.contains_key(name) {
            slack.insert(name.into(), default);
        }
    }
    // Room for the app's members from the start: growing a string of some kB took a third
    // of this function's time.
    let mut out = Vec::with_capacity(members.len() + 512);
    serde_json::to_writer(&mut out, &slack).ok()?;
    if !members.is_empty() {
        out.pop();
        out.push(b',');
        out.extend_from_slice(members.as_bytes());
        out.push(b'}');
    }
    String::from_utf8(out).ok()
}

/// `{"view": …}`: the view object Slack answers with, the app's view taken apart and Slack's
/// own fields. Built by moving the app's values, not through `json!`, which would copy each
/// of them (a modal's blocks are several kB).
fn view_body(view: Value, id: &str, hash: &str) -> Map<String, Value> {
    let mut view = match view {
        Value::Object(fields) => fields,
        _ => Map::new(),
    };
    let mut v = slack_members(id, hash);
    for (name, default) in defaulted() {
        v.insert(name.into(), view.remove(name).unwrap_or(default));
    }
    for key in GIVEN_ONLY {
        if let Some(t) = view.remove(key).filter(|t| !t.is_null()) {
            v.insert(key.into(), t);
        }
    }
    let mut body = Map::new();
    body.insert("view".into(), Value::Object(v));
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer written from the app's text is the object `view_body` builds, whatever the
    /// app left out or how it spaced its JSON; where they would differ it is not written.
    #[test]
    fn the_answer_from_the_apps_text_is_the_tree_written_out() {
        let texts = [
            r#"{"type":"modal","title":{"type":"plain_text","text":"Start"},"blocks":[]}"#,
            r#" { "type" : "modal", "callback_id": "start", "private_metadata": "a\"b",
                "title": {"type": "plain_text", "text": "Stärt"}, "submit": {"type":
                "plain_text", "text": "Go"}, "clear_on_close": true, "notify_on_close": true,
                "external_id": "x1", "close": {"type": "plain_text", "text": "No"},
                "blocks": [{"type": "divider"}] } "#,
            r#"{"type":"home","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"hi"}}]}"#,
            "{}",
        ];
        for text in texts {
            let view: Value = serde_json::from_str(text).unwrap();
            let written = view_json(&view, text, "V1", "1.ab").expect(text);
            let written: Value = serde_json::from_str(&written).expect(&written);
            assert_eq!(
                written,
                Value::Object(view_body(view, "V1", "1.ab"))["view"],
                "{text}"
            );
        }
        for text in [
            r#"{"type":"modal","blocks":[],"submit_disabled":true}"#,
            r#"{"type":"modal","blocks":[],"submit":null}"#,
            r#"{"type":"modal","blocks":[],"id":"V9"}"#,
        ] {
            let view: Value = serde_json::from_str(text).unwrap();
            assert_eq!(view_json(&view, text, "V1", "1.ab"), None, "{text}");
        }
    }
}
