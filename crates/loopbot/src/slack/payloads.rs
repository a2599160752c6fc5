//! Slash-command forms and interactivity payloads, read into plain structs.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::slack::views::StateValues;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCommand {
    pub command: String,
    pub text: String,
    pub user_id: String,
    pub channel_id: String,
    pub trigger_id: String,
    /// Where a late answer goes (an ephemeral message), for half an hour after the command.
    pub response_url: Option<String>,
}

/// Reads a slash-command form body. `Err` names what is missing.
pub fn parse_command(body: &[u8]) -> Result<SlashCommand, String> {
    command_from_fields(super::form::pairs(body).collect())
}

/// Reads a slash command's fields, however they came (a form body over HTTP, a JSON object
/// over Socket Mode).
pub fn command_from_fields(fields: HashMap<String, String>) -> Result<SlashCommand, String> {
    let get = |name: &str| -> Result<String, String> {
        fields
            .get(name)
            .filter(|v| !v.is_empty())
            .cloned()
            .ok_or_else(|| format!("missing field `{name}`"))
    };
    Ok(SlashCommand {
        command: get("command")?,
        text: fields.get("text").cloned().unwrap_or_default(),
        user_id: get("user_id")?,
        channel_id: get("channel_id")?,
        trigger_id: get("trigger_id")?,
        response_url: get("response_url").ok(),
    })
}

/// Slack's occasional `ssl_check=1` probe of the command URL.
pub fn is_ssl_check(body: &[u8]) -> bool {
    // Slack writes the pair as it is; no need to decode every field of every command.
    body.split(|b| *b == b'&')
        .any(|pair| pair == b"ssl_check=1")
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubmittedView {
    pub id: String,
    pub hash: String,
    pub callback_id: String,
    pub private_metadata: String,
    pub values: StateValues,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub action_id: String,
    pub block_id: String,
    pub value: Option<String>,
    pub selected_option: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Interaction {
    ViewSubmission {
        user_id: String,
        view: SubmittedView,
    },
    BlockActions {
        user_id: String,
        trigger_id: Option<String>,
        /// Present for buttons in messages: where a late answer goes.
        response_url: Option<String>,
        channel_id: Option<String>,
        message_ts: Option<String>,
        view: Option<SubmittedView>,
        actions: Vec<Action>,
    },
    /// A modal opened with `notify_on_close` was closed (Cancel or ×), with its state then.
    ViewClosed {
        user_id: String,
        view: Option<SubmittedView>,
    },
    Other {
        kind: String,
    },
}

#[derive(Deserialize)]
struct RawInteraction {
    #[serde(rename = "type")]
    kind: String,
    user: RawUser,
    trigger_id: Option<String>,
    response_url: Option<String>,
    view: Option<RawView>,
    channel: Option<RawId>,
    container: Option<Value>,
    message: Option<Value>,
    #[serde(default)]
    actions: Vec<RawAction>,
}

#[derive(Deserialize)]
struct RawUser {
    id: String,
}

#[derive(Deserialize)]
struct RawId {
    id: String,
}

#[derive(Deserialize)]
struct RawView {
    id: String,
    #[serde(default)]
    hash: String,
    #[serde(default)]
    callback_id: String,
    #[serde(default)]
    private_metadata: String,
    #[serde(default)]
    state: Option<RawState>,
}

#[derive(Deserialize, Default)]
struct RawState {
    #[serde(default)]
    values: StateValues,
}

#[derive(Deserialize)]
struct RawAction {
    action_id: String,
    #[serde(default)]
    block_id: String,
    value: Option<String>,
    selected_option: Option<Value>,
}

impl From<RawView> for SubmittedView {
    fn from(v: RawView) -> Self {
        SubmittedView {
            id: v.id,
            hash: v.hash,
            callback_id: v.callback_id,
            private_metadata: v.private_metadata,
            values: v.state.unwrap_or_default().values,
        }
    }
}

/// Reads the `payload` field of an interactivity request.
pub fn parse_interaction(body: &[u8]) -> Result<Interaction, String> {
    let payload = super::form::field(body, "payload").ok_or("missing form field `payload`")?;
    let raw: RawInteraction =
        serde_json::from_str(&payload).map_err(|e| format!("payload is not valid: {e}"))?;
    interaction_from_raw(raw)
}

/// Reads an interaction payload that came as JSON (Socket Mode).
pub fn interaction_from_value(payload: Value) -> Result<Interaction, String> {
    let raw: RawInteraction =
        serde_json::from_value(payload).map_err(|e| format!("payload is not valid: {e}"))?;
    interaction_from_raw(raw)
}

fn interaction_from_raw(raw: RawInteraction) -> Result<Interaction, String> {
    let user_id = raw.user.id;
    Ok(match raw.kind.as_str() {
        "view_submission" => Interaction::ViewSubmission {
            user_id,
            view: raw.view.ok_or("view_submission without a view")?.into(),
        },
        "block_actions" => Interaction::BlockActions {
            user_id,
            trigger_id: raw.trigger_id,
            response_url: raw.response_url,
            channel_id: raw.channel.map(|c| c.id).or_else(|| {
                raw.container
                    .as_ref()
                    .and_then(|c| c.get("channel_id"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            }),
            message_ts: raw
                .message
                .as_ref()
                .and_then(|m| m.get("ts"))
                .and_then(Value::as_str)
                .map(str::to_string),
            view: raw.view.map(Into::into),
            actions: raw
                .actions
                .into_iter()
                .map(|a| Action {
                    action_id: a.action_id,
                    block_id: a.block_id,
                    value: a.value,
                    selected_option: a
                        .selected_option
                        .as_ref()
                        .and_then(|o| o.get("value"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                })
                .collect(),
        },
        "view_closed" => Interaction::ViewClosed {
            user_id,
            view: raw.view.map(Into::into),
        },
        other => Interaction::Other {
            kind: other.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(payload: &str) -> Vec<u8> {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", payload)
            .finish()
            .into_bytes()
    }

    #[test]
    fn slacks_sample_payloads_parse() {
        let submission = include_str!(
            "../../../../tests/fixtures/slack-reference/payload-samples/ViewSubmissionPayload.json"
        );
        assert!(matches!(
            parse_interaction(&form(submission)),
            Ok(Interaction::ViewSubmission { .. })
        ));
        let actions = include_str!(
            "../../../../tests/fixtures/slack-reference/payload-samples/BlockActionPayload.json"
        );
        assert!(matches!(
            parse_interaction(&form(actions)),
            Ok(Interaction::BlockActions { .. })
        ));
        let closed = include_str!(
            "../../../../tests/fixtures/slack-reference/payload-samples/ViewClosedPayload.json"
        );
        assert!(matches!(
            parse_interaction(&form(closed)),
            Ok(Interaction::ViewClosed { view: Some(_), .. })
        ));
    }

    #[test]
    fn a_closed_modal_and_an_action_in_a_modal_carry_its_state() {
        let closed = r#"{"type":"view_closed","user":{"id":"U1"},"is_cleared":false,
            "view":{"id":"V1","hash":"h","callback_id":"scorecard","private_metadata":"{}",
                    "state":{"values":{"evidence":{"value":{"type":"plain_text_input","value":"So far"}}}}}}"#;
        let Ok(Interaction::ViewClosed {
            user_id,
            view: Some(view),
        }) = parse_interaction(&form(closed))
        else {
            panic!("a view_closed with its view");
        };
        assert_eq!(
            (user_id.as_str(), view.callback_id.as_str()),
            ("U1", "scorecard")
        );
        assert_eq!(view.values["evidence"]["value"]["value"], "So far");
        let action = r#"{"type":"block_actions","user":{"id":"U1"},"trigger_id":"t",
            "container":{"type":"view","view_id":"V1"},
            "view":{"id":"V1","callback_id":"scorecard","private_metadata":"{}",
                    "state":{"values":{"crit:a":{"value":{"type":"radio_buttons","selected_option":{"value":"na"}}}}}},
            "actions":[{"type":"radio_buttons","action_id":"value","block_id":"crit:a",
                        "selected_option":{"value":"na"}}]}"#;
        let Ok(Interaction::BlockActions {
            view: Some(view),
            actions,
            ..
        }) = parse_interaction(&form(action))
        else {
            panic!("block_actions from a modal");
        };
        assert_eq!(
            view.values["crit:a"]["value"]["selected_option"]["value"],
            "na"
        );
        assert_eq!(actions[0].selected_option.as_deref(), Some("na"));
    }

    #[test]
    fn malformed_payloads_say_what_is_wrong() {
        assert!(
            parse_interaction(b"nothing=here")
                .unwrap_err()
                .contains("payload")
        );
        assert!(
            parse_interaction(&form("{"))
                .unwrap_err()
                .contains("not valid")
        );
    }

    #[test]
    fn commands_need_their_fields() {
        let ok =
            b"command=%2Floop&text=start+Ada&user_id=U1&channel_id=C1&trigger_id=t.1&team_id=T1";
        let cmd = parse_command(ok).unwrap();
        assert_eq!(
            (cmd.text.as_str(), cmd.user_id.as_str()),
            ("start Ada", "U1")
        );
        assert!(
            parse_command(b"command=%2Floop")
                .unwrap_err()
                .contains("user_id")
        );
        assert!(is_ssl_check(b"ssl_check=1&token=x"));
    }
}
