//! `views.*` methods.

use serde_json::{Value, json};

use super::{ApiError, Args, MethodResult, SimState, err, ok_body};
use crate::blockkit::{self, MAX_VIEW_BYTES};
use crate::{APP_ID, BOT_ID, SimView, TEAM_ID};

const TRIGGER_LIFE_MS: i64 = 3_000;

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
        let view = view_arg(args, blockkit::validate_modal)?;
        let user = match self.triggers.get_mut(&trigger_id) {
            Some(t) => {
                t.used = true;
                t.user.clone().unwrap_or_default()
            }
            None => String::new(),
        };
        let id = self.next_id('V');
        let hash = self.next_hash(now_ms);
        let body = json!({ "view": view_json(&view, &id, &hash) });
        self.views.push(SimView {
            id,
            user,
            view,
            hash,
            history: Vec::new(),
        });
        ok_body(body)
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
                (None, Some(ext)) => v.view.get("external_id").and_then(Value::as_str) == Some(ext),
                (None, None) => false,
            })
            .ok_or_else(|| err("not_found"))?;
        if let Some(hash) = args.str("hash")
            && hash != self.views[pos].hash
        {
            return Err(err("hash_conflict"));
        }
        let view = view_arg(args, blockkit::validate_modal)?;
        let hash = self.next_hash(now_ms);
        let entry = &mut self.views[pos];
        let previous = std::mem::replace(&mut entry.view, view);
        entry.history.push(previous);
        entry.hash = hash;
        let body = json!({ "view": view_json(&entry.view, &entry.id, &entry.hash) });
        ok_body(body)
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
        let view = view_arg(args, blockkit::validate_home)?;
        let id = self.next_id('V');
        let hash = self.next_hash(now_ms);
        let body = json!({ "view": view_json(&view, &id, &hash) });
        self.homes.insert(user, (view, hash));
        ok_body(body)
    }
}

/// The `view` argument, size-checked and validated by `validate`.
fn view_arg(
    args: &Args<'_>,
    validate: fn(&Value) -> Result<(), String>,
) -> Result<Value, ApiError> {
    let view = args
        .json("view")
        .map_err(|m| ApiError::with_messages("invalid_arguments", vec![m]))?
        .ok_or_else(|| {
            ApiError::with_messages(
                "invalid_arguments",
                vec!["missing required field: view".into()],
            )
        })?;
    if view.to_string().len() > MAX_VIEW_BYTES {
        return Err(err("view_too_large"));
    }
    validate(&view).map_err(|m| ApiError::with_messages("invalid_arguments", vec![m]))?;
    Ok(view)
}

fn view_json(view: &Value, id: &str, hash: &str) -> Value {
    let field = |k: &str, default: Value| view.get(k).cloned().unwrap_or(default);
    let mut v = json!({
        "id": id,
        "team_id": TEAM_ID,
        "type": field("type", json!("modal")),
        "blocks": field("blocks", json!([])),
        "private_metadata": field("private_metadata", json!("")),
        "callback_id": field("callback_id", json!("")),
        "external_id": field("external_id", json!("")),
        "state": { "values": {} },
        "hash": hash,
        "clear_on_close": field("clear_on_close", json!(false)),
        "notify_on_close": field("notify_on_close", json!(false)),
        "root_view_id": id,
        "previous_view_id": null,
        "app_id": APP_ID,
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
    });
    for key in ["title", "submit", "close"] {
        if let Some(t) = view.get(key).filter(|t| !t.is_null()) {
            v[key] = t.clone();
        }
    }
    v
}
