//! Events API bodies (Slack's "Events API" envelopes: `url_verification`, `event_callback`,
//! `app_rate_limited`), turned into the few events Loopbot acts on. Read as plain JSON: of
//! each event Loopbot needs its `type` and one or two fields, so no event model is compiled in.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundEvent {
    UrlVerification { challenge: String },
    Callback { event_id: String, event: AppEvent },
    AppRateLimited,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppEvent {
    AppHomeOpened { user: String, tab: String },
    AppUninstalled,
    TokensRevoked,
    ChannelArchived { channel: String },
    ChannelUnarchived { channel: String },
    ChannelRenamed { channel: String, name: String },
    ChannelDeleted { channel: String },
    Other { kind: String },
}

/// Parses an Events API body; `None` when it is not one.
pub fn parse(body: &[u8]) -> Option<InboundEvent> {
    let body: Value = serde_json::from_slice(body).ok()?;
    let text = |key: &str| body.get(key).and_then(Value::as_str).map(str::to_string);
    Some(match text("type")?.as_str() {
        "url_verification" => InboundEvent::UrlVerification {
            challenge: text("challenge")?,
        },
        "app_rate_limited" => InboundEvent::AppRateLimited,
        "event_callback" => {
            let event = body.get("event").filter(|e| e.is_object())?;
            event.get("type").and_then(Value::as_str)?;
            InboundEvent::Callback {
                event_id: text("event_id")?,
                event: app_event(event),
            }
        }
        _ => return None,
    })
}

/// The event Loopbot acts on, from a callback's `event` object.
fn app_event(raw: &Value) -> AppEvent {
    let text = |key: &str| {
        raw.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let channel_id = || match raw.get("channel") {
        Some(Value::Object(c)) => c
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => text("channel"),
    };
    match text("type").as_str() {
        "app_home_opened" => AppEvent::AppHomeOpened {
            user: text("user"),
            tab: raw
                .get("tab")
                .and_then(Value::as_str)
                .unwrap_or("home")
                .to_string(),
        },
        "app_uninstalled" => AppEvent::AppUninstalled,
        "tokens_revoked" => AppEvent::TokensRevoked,
        "group_archive" | "channel_archive" => AppEvent::ChannelArchived {
            channel: channel_id(),
        },
        "group_unarchive" | "channel_unarchive" => AppEvent::ChannelUnarchived {
            channel: channel_id(),
        },
        "group_deleted" | "channel_deleted" => AppEvent::ChannelDeleted {
            channel: channel_id(),
        },
        "group_rename" | "channel_rename" => AppEvent::ChannelRenamed {
            channel: channel_id(),
            name: raw
                .pointer("/channel/name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
        },
        kind => AppEvent::Other {
            kind: kind.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn callback(event: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
            "event_id": "Ev1", "event_time": 1700000000, "event": event
        }))
        .unwrap()
    }

    #[test]
    fn url_verification_gives_the_challenge() {
        let body = br#"{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
        assert_eq!(
            parse(body),
            Some(InboundEvent::UrlVerification {
                challenge: "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P".into()
            })
        );
    }

    #[test]
    fn the_events_loopbot_acts_on_are_recognised() {
        let cases = [
            (
                json!({"type": "app_home_opened", "user": "U1", "channel": "D1", "tab": "home", "event_ts": "1.0"}),
                AppEvent::AppHomeOpened {
                    user: "U1".into(),
                    tab: "home".into(),
                },
            ),
            (
                json!({"type": "app_home_opened", "user": "U2", "channel": "D2", "event_ts": "1.0"}),
                AppEvent::AppHomeOpened {
                    user: "U2".into(),
                    tab: "home".into(),
                },
            ),
            (
                json!({"type": "app_uninstalled", "event_ts": "1.0"}),
                AppEvent::AppUninstalled,
            ),
            (
                json!({"type": "member_joined_channel", "user": "U1", "channel": "G1", "event_ts": "1.0"}),
                AppEvent::Other {
                    kind: "member_joined_channel".into(),
                },
            ),
            (
                json!({"type": "tokens_revoked", "tokens": {"bot": ["U0"]}, "event_ts": "1.0"}),
                AppEvent::TokensRevoked,
            ),
            (
                json!({"type": "group_archive", "channel": "G1", "user": "U1", "event_ts": "1.0"}),
                AppEvent::ChannelArchived {
                    channel: "G1".into(),
                },
            ),
            (
                json!({"type": "group_deleted", "channel": "G1", "event_ts": "1.0"}),
                AppEvent::ChannelDeleted {
                    channel: "G1".into(),
                },
            ),
            (
                json!({"type": "group_rename", "channel": {"id": "G1", "name": "new", "created": 1}, "event_ts": "1.0"}),
                AppEvent::ChannelRenamed {
                    channel: "G1".into(),
                    name: "new".into(),
                },
            ),
        ];
        for (event, expected) in cases {
            let parsed = parse(&callback(event.clone()));
            assert_eq!(
                parsed,
                Some(InboundEvent::Callback {
                    event_id: "Ev1".into(),
                    event: expected
                }),
                "{event}"
            );
        }
    }

    #[test]
    fn garbage_is_not_an_event() {
        assert_eq!(parse(b"{not json"), None);
        assert_eq!(parse(br#"{"type":"mystery"}"#), None);
        assert_eq!(
            parse(br#"{"type":"url_verification"}"#),
            None,
            "no challenge"
        );
        assert_eq!(
            parse(br#"{"type":"event_callback","event_id":"Ev1"}"#),
            None,
            "no event"
        );
        assert_eq!(
            parse(br#"{"type":"event_callback","event":{"type":"app_uninstalled"}}"#),
            None,
            "no event id"
        );
    }
}
