//! How each Web API method Loopbot calls goes on the wire: the one table of methods and their
//! encodings, and the encoders.
//!
//! Slack reads `application/x-www-form-urlencoded` arguments (or a query string) for every
//! method, and a JSON body only for the methods that accept one: "most write methods", in the
//! words of its Web API page. A read method sent a JSON body ignores it and fails as if its
//! arguments were missing (`invalid_arguments`, `[ERROR] missing required field: channel`).
//! So the table is read from Slack's OpenAPI spec, whose `consumes` list says per method which
//! content types it takes (`conversations.history`: form only; `chat.postMessage`: form and
//! JSON), and from Slack's method pages where the spec is older than the method
//! (`apps.connections.open`) or than an argument Loopbot sends (`metadata` on chat posts,
//! `force` on `conversations.invite`, `include_all_metadata` on history and replies). The
//! extract of the spec the simulator checks calls against is `src/sim/spec/`.
//!
//! The rule the table follows: a method whose spec entry lists `application/json` and that
//! writes (it takes blocks, views or metadata, which are JSON already) is sent as JSON with
//! `charset=utf-8`; every other method as form arguments. A method missing from the table
//! cannot be called: [`Method`] is the client's only way to name one.
//!
//! Why the client is hand-written rather than slack-morphism's typed calls (which send read
//! methods as GET query arguments and write methods as JSON, and would fit the encoding):
//! its requests lack arguments Loopbot depends on (`force` on `conversations.invite`, whose
//! `users` it sends as a JSON array where Slack documents a comma-separated string;
//! `include_all_metadata` on `conversations.replies`, needed to find a thread reply an
//! earlier run posted), its throttle counts per tier per team (one budget for every Tier 2
//! method, `chat.postMessage` per team rather than per channel) in the process's memory, where
//! Loopbot's budgets are per method and per channel and shared by replicas through the
//! database, and its own retry re-sends a rate-limited post where Loopbot must first look
//! whether an earlier attempt was acted on. The client here keeps pacing, metrics and that
//! reconciliation in one place; slack-morphism stays for Socket Mode and models.

use serde_json::Value;

/// How a method's arguments are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// `application/x-www-form-urlencoded`: every method reads it.
    Form,
    /// `application/json; charset=utf-8`: only where Slack's spec lists `application/json`.
    Json,
}

/// `Content-Type` of a JSON body: Slack warns `missing_charset` on a JSON call without it.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";
/// `Content-Type` of form arguments.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The table: one row per method, `Variant => "slack.name", Encoding;`.
macro_rules! methods {
    ($($(#[$doc:meta])* $variant:ident => $name:literal, $encoding:ident;)*) => {
        /// A Web API method Loopbot calls, with its name and encoding in [`Method::name`] and
        /// [`Method::encoding`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Method {
            $($(#[$doc])* $variant,)*
        }

        impl Method {
            /// Every row of the table.
            pub const ALL: &'static [Method] = &[$(Method::$variant,)*];

            /// Slack's name for the method (`conversations.history`).
            pub fn name(self) -> &'static str {
                match self {
                    $(Method::$variant => $name,)*
                }
            }

            /// How its arguments are sent.
            pub fn encoding(self) -> Encoding {
                match self {
                    $(Method::$variant => Encoding::$encoding,)*
                }
            }
        }
    };
}

methods! {
    // Reads. The spec lists form only (`consumes: [application/x-www-form-urlencoded]`).
    /// Spec: form only.
    ConversationsHistory => "conversations.history", Form;
    /// Spec: form only.
    ConversationsReplies => "conversations.replies", Form;
    /// Spec: form only.
    ConversationsMembers => "conversations.members", Form;
    /// Spec: form only.
    ConversationsList => "conversations.list", Form;
    /// Spec: form only.
    ConversationsInfo => "conversations.info", Form;
    /// Spec: form only.
    UsersInfo => "users.info", Form;
    /// Spec: form only. Needs the `users:read.email` scope.
    UsersLookupByEmail => "users.lookupByEmail", Form;
    // No arguments: form, as Slack's SDKs send them.
    /// Spec: form and JSON; it takes no arguments.
    AuthTest => "auth.test", Form;
    /// Not in the 2021 spec; its method page names form arguments and the app-level token.
    AppsConnectionsOpen => "apps.connections.open", Form;
    // Writes. The spec lists form and JSON.
    /// Spec: form and JSON. `metadata` is documented on its method page since.
    ChatPostMessage => "chat.postMessage", Json;
    /// Spec: form and JSON.
    ChatUpdate => "chat.update", Json;
    /// Spec: form and JSON.
    ChatPostEphemeral => "chat.postEphemeral", Json;
    /// Spec: form and JSON.
    ChatDelete => "chat.delete", Json;
    /// Spec: form and JSON.
    ConversationsCreate => "conversations.create", Json;
    /// Spec: form and JSON. `force` is documented on its method page since.
    ConversationsInvite => "conversations.invite", Json;
    /// Spec: form and JSON.
    ConversationsSetTopic => "conversations.setTopic", Json;
    /// Spec: form and JSON.
    ConversationsArchive => "conversations.archive", Json;
    /// Spec: form and JSON.
    ConversationsRename => "conversations.rename", Json;
    /// Spec: form and JSON.
    ConversationsOpen => "conversations.open", Json;
    /// Spec: form and JSON.
    PinsAdd => "pins.add", Json;
    /// Spec: form and JSON.
    ViewsOpen => "views.open", Json;
    /// Spec: form and JSON.
    ViewsUpdate => "views.update", Json;
    /// Spec: form and JSON.
    ViewsPublish => "views.publish", Json;
}

impl Method {
    /// The row named `name`, if Loopbot calls it.
    pub fn named(name: &str) -> Option<Method> {
        Method::ALL.iter().copied().find(|m| m.name() == name)
    }
}

/// A request body for `method`: its `Content-Type` and the bytes. `args` is a JSON object;
/// `null` arguments are left out.
pub fn encode(method: Method, args: &Value) -> (&'static str, String) {
    match method.encoding() {
        Encoding::Json => (
            JSON_CONTENT_TYPE,
            serde_json::to_string(&WithoutNulls(args)).unwrap_or_default(),
        ),
        Encoding::Form => (FORM_CONTENT_TYPE, form_body(args)),
    }
}

/// Writes a JSON object without its `null` members, straight from the arguments (a view's
/// blocks are not copied to drop a top-level null).
struct WithoutNulls<'a>(&'a Value);

impl serde::Serialize for WithoutNulls<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Value::Object(map) = self.0 else {
            return self.0.serialize(serializer);
        };
        let mut out = serializer.serialize_map(None)?;
        for (key, value) in map.iter().filter(|(_, v)| !v.is_null()) {
            out.serialize_entry(key, value)?;
        }
        out.end()
    }
}

/// Form arguments as Slack's SDKs write them: strings as they are, numbers and booleans as
/// their text (`200`, `true`), objects and arrays as JSON text (`blocks=[...]`).
pub fn form_body(args: &Value) -> String {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    if let Value::Object(map) = args {
        for (key, value) in map {
            if let Some(text) = form_value(value) {
                form.append_pair(key, &text);
            }
        }
    }
    form.finish()
}

fn form_value(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => Some(value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn read_methods_go_as_form_arguments() {
        for name in [
            "conversations.history",
            "conversations.replies",
            "conversations.members",
            "conversations.list",
            "conversations.info",
            "users.info",
            "users.lookupByEmail",
            "auth.test",
            "apps.connections.open",
        ] {
            let method = Method::named(name).unwrap_or_else(|| panic!("{name} is in the table"));
            assert_eq!(method.encoding(), Encoding::Form, "{name}");
        }
    }

    #[test]
    fn each_method_has_one_row() {
        for (i, a) in Method::ALL.iter().enumerate() {
            assert_eq!(Method::named(a.name()), Some(*a));
            for b in &Method::ALL[i + 1..] {
                assert_ne!(a.name(), b.name());
            }
        }
        assert_eq!(Method::named("chat.meMessage"), None);
    }

    #[test]
    fn form_values_are_written_as_slacks_sdks_write_them() {
        let (content_type, body) = encode(
            Method::ConversationsHistory,
            &json!({ "channel": "C1", "limit": 200, "include_all_metadata": true,
                     "cursor": "", "oldest": null, "blocks": [{"type": "divider"}] }),
        );
        assert_eq!(content_type, "application/x-www-form-urlencoded");
        let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        pairs.sort();
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            pairs,
            vec![
                pair("blocks", r#"[{"type":"divider"}]"#),
                pair("channel", "C1"),
                pair("cursor", ""),
                pair("include_all_metadata", "true"),
                pair("limit", "200"),
            ]
        );
    }

    #[test]
    fn json_bodies_name_their_charset_and_drop_nulls() {
        let (content_type, body) = encode(
            Method::ChatPostMessage,
            &json!({ "channel": "C1", "text": "hi", "thread_ts": null }),
        );
        assert_eq!(content_type, "application/json; charset=utf-8");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap(),
            json!({ "channel": "C1", "text": "hi" })
        );
    }
}
