//! Socket Mode's wire format: the frames Slack sends over the WebSocket (`hello`,
//! `disconnect`, and envelopes carrying a slash command, an interaction or an Events API
//! callback) and the acknowledgement Loopbot sends back.
//!
//! An envelope is `{"envelope_id", "type", "payload", "accepts_response_payload",
//! "retry_attempt", "retry_reason"}`; its acknowledgement is `{"envelope_id"}` with, where the
//! envelope accepts one, the same `payload` an HTTP response body would carry.

use serde::Deserialize;
use serde_json::{Value, json};

/// What a slash command, interaction or event envelope carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvelopeKind {
    SlashCommands,
    Interactive,
    EventsApi,
}

impl EnvelopeKind {
    /// Slack's name for it (the envelope's `type`), also the metrics label.
    pub fn label(self) -> &'static str {
        match self {
            EnvelopeKind::SlashCommands => "slash_commands",
            EnvelopeKind::Interactive => "interactive",
            EnvelopeKind::EventsApi => "events_api",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub envelope_id: String,
    pub kind: EnvelopeKind,
    pub payload: Value,
    pub accepts_response_payload: bool,
    /// 0 on the first delivery; Slack's redeliveries count up (like `X-Slack-Retry-Num`).
    pub retry_attempt: u32,
    pub retry_reason: String,
}

/// Why Slack is closing a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// Slack rotates connections every few hours: open a new one now.
    RefreshRequested,
    /// The connection closes in a few seconds: open a new one now.
    Warning,
    /// Socket Mode was turned off for the app: do not reconnect.
    LinkDisabled,
    Other(String),
}

impl DisconnectReason {
    pub fn label(&self) -> &str {
        match self {
            DisconnectReason::RefreshRequested => "refresh_requested",
            DisconnectReason::Warning => "warning",
            DisconnectReason::LinkDisabled => "link_disabled",
            DisconnectReason::Other(reason) => reason,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Hello {
        num_connections: u32,
    },
    Disconnect {
        reason: DisconnectReason,
    },
    Envelope(Envelope),
    /// A frame Loopbot does not use (a type Slack added later, or one without an id).
    Other {
        kind: String,
    },
}

#[derive(Deserialize)]
struct RawFrame {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    envelope_id: Option<String>,
    #[serde(default)]
    payload: Value,
    #[serde(default)]
    accepts_response_payload: bool,
    #[serde(default)]
    retry_attempt: u32,
    #[serde(default)]
    retry_reason: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    num_connections: u32,
}

/// Reads one text frame. `Err` when it is not JSON at all.
pub fn parse_frame(text: &str) -> Result<Frame, String> {
    let raw: RawFrame =
        serde_json::from_str(text).map_err(|e| format!("not a Socket Mode frame: {e}"))?;
    let kind = match raw.kind.as_str() {
        "hello" => {
            return Ok(Frame::Hello {
                num_connections: raw.num_connections,
            });
        }
        "disconnect" => {
            let reason = match raw.reason.as_deref().unwrap_or_default() {
                "refresh_requested" => DisconnectReason::RefreshRequested,
                "warning" => DisconnectReason::Warning,
                "link_disabled" => DisconnectReason::LinkDisabled,
                other => DisconnectReason::Other(other.to_string()),
            };
            return Ok(Frame::Disconnect { reason });
        }
        "slash_commands" => EnvelopeKind::SlashCommands,
        "interactive" => EnvelopeKind::Interactive,
        "events_api" => EnvelopeKind::EventsApi,
        _ => return Ok(Frame::Other { kind: raw.kind }),
    };
    let Some(envelope_id) = raw.envelope_id.filter(|id| !id.is_empty()) else {
        return Ok(Frame::Other { kind: raw.kind });
    };
    Ok(Frame::Envelope(Envelope {
        envelope_id,
        kind,
        payload: raw.payload,
        accepts_response_payload: raw.accepts_response_payload,
        retry_attempt: raw.retry_attempt,
        retry_reason: raw.retry_reason.unwrap_or_default(),
    }))
}

/// The acknowledgement of an envelope, with the answer when there is one.
pub fn ack(envelope_id: &str, payload: Option<&Value>) -> String {
    match payload {
        Some(payload) => json!({ "envelope_id": envelope_id, "payload": payload }),
        None => json!({ "envelope_id": envelope_id }),
    }
    .to_string()
}

/// A slash command's payload over the socket is its form fields as a JSON object of strings.
pub fn command_fields(payload: &Value) -> Vec<(String, String)> {
    payload
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) => n.to_string(),
                _ => return None,
            };
            Some((k.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slacks_frames_parse() {
        let hello = r#"{"type":"hello","num_connections":2,"debug_info":{"host":"applink-1","build_number":10,"approximate_connection_time":18060},"connection_info":{"app_id":"A1"}}"#;
        assert_eq!(parse_frame(hello), Ok(Frame::Hello { num_connections: 2 }));
        for (reason, expected) in [
            ("refresh_requested", DisconnectReason::RefreshRequested),
            ("warning", DisconnectReason::Warning),
            ("link_disabled", DisconnectReason::LinkDisabled),
            ("too_many", DisconnectReason::Other("too_many".into())),
        ] {
            let frame = format!(
                r#"{{"type":"disconnect","reason":"{reason}","debug_info":{{"host":"h"}}}}"#
            );
            assert_eq!(
                parse_frame(&frame),
                Ok(Frame::Disconnect { reason: expected })
            );
        }
        let event = r#"{"envelope_id":"e-1","payload":{"type":"event_callback","event_id":"Ev1"},"type":"events_api","accepts_response_payload":false,"retry_attempt":2,"retry_reason":"timeout"}"#;
        let Ok(Frame::Envelope(e)) = parse_frame(event) else {
            panic!("an envelope")
        };
        assert_eq!(
            (e.kind, e.retry_attempt, e.retry_reason.as_str()),
            (EnvelopeKind::EventsApi, 2, "timeout")
        );
        assert_eq!(e.payload["event_id"], "Ev1");
        let command = r#"{"envelope_id":"e-2","payload":{"command":"/loop","text":"help"},"type":"slash_commands","accepts_response_payload":true}"#;
        let Ok(Frame::Envelope(c)) = parse_frame(command) else {
            panic!("an envelope")
        };
        assert!(c.accepts_response_payload);
        assert_eq!(c.retry_attempt, 0);
        assert!(command_fields(&c.payload).contains(&("text".to_string(), "help".to_string())));
        assert_eq!(
            parse_frame(r#"{"type":"interactive"}"#),
            Ok(Frame::Other {
                kind: "interactive".into()
            })
        );
        assert!(parse_frame("not json").is_err());
    }

    #[test]
    fn an_ack_carries_the_answer_only_when_there_is_one() {
        assert_eq!(ack("e-1", None), r#"{"envelope_id":"e-1"}"#);
        let body = json!({"response_action": "errors", "errors": {"b": "no"}});
        let text = ack("e-2", Some(&body));
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["payload"], body);
        assert_eq!(parsed["envelope_id"], "e-2");
    }
}
