//! Events API bodies, read with slack-morphism's models and turned into the few events
//! Loopbot acts on.

use serde_json::Value;
use slack_morphism::prelude::{SlackEventCallbackBody, SlackPushEvent};

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
    let event: SlackPushEvent = serde_json::from_slice(body).ok()?;
    Some(match event {
        SlackPushEvent::UrlVerification(v) => InboundEvent::UrlVerification {
            challenge: v.challenge,
        },
        SlackPushEvent::AppRateLimited(_) => InboundEvent::AppRateLimited,
        SlackPushEvent::EventCallback(cb) => InboundEvent::Callback {
            event_id: cb.event_id.to_string(),
            event: app_event(cb.event),
        },
    })
}

fn app_event(body: SlackEventCallbackBody) -> AppEvent {
    match body {
        SlackEventCallbackBody::AppHomeOpened(e) => AppEvent::AppHomeOpened {
            user: e.user.to_string(),
            tab: e.tab.unwrap_or_else(|| "home".into()),
        },
        SlackEventCallbackBody::AppUninstalled(_) => AppEvent::AppUninstalled,
        SlackEventCallbackBody::Unknown(raw) => unmodelled(&raw),
        other => AppEvent::Other {
            kind: serde_json::to_value(&other)
                .ok()
                .and_then(|v| v.get("type").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_default(),
        },
    }
}

/// Private-channel events (`group_*`) and `tokens_revoked` are not modelled by slack-morphism.
fn unmodelled(raw: &Value) -> AppEvent {
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
    }
}
