//! What Slack documents today that the spec extract (`src/sim/spec/`, Slack's OpenAPI spec as
//! of 2021) does not have yet: methods and arguments added since, each with the page that
//! documents it. The contract check reads the spec and these as one.

/// An argument a method's page documents and the spec lacks.
#[derive(Debug, Clone, Copy)]
pub struct AddedArgument {
    pub method: &'static str,
    pub name: &'static str,
    /// The spec's type vocabulary: `string`, `boolean`, `integer`, `number`.
    pub kind: &'static str,
    /// The value is JSON (sent as JSON text in a form, as JSON in a JSON body).
    pub json: bool,
    pub docs: &'static str,
}

/// A method newer than the spec.
#[derive(Debug, Clone, Copy)]
pub struct AddedMethod {
    pub name: &'static str,
    pub consumes: &'static [&'static str],
    pub docs: &'static str,
}

const FORM: &str = "application/x-www-form-urlencoded";

pub const ARGUMENTS: &[AddedArgument] = &[
    // Message metadata, `{"event_type", "event_payload"}`: Loopbot tags each post with a key
    // so that a retried job can find a post an earlier attempt made.
    AddedArgument {
        method: "chat.postMessage",
        name: "metadata",
        kind: "string",
        json: true,
        docs: "https://docs.slack.dev/reference/methods/chat.postMessage",
    },
    AddedArgument {
        method: "chat.update",
        name: "metadata",
        kind: "string",
        json: true,
        docs: "https://docs.slack.dev/reference/methods/chat.update",
    },
    // Invite the people who can be invited and report the others, rather than fail the call.
    AddedArgument {
        method: "conversations.invite",
        name: "force",
        kind: "boolean",
        json: false,
        docs: "https://docs.slack.dev/reference/methods/conversations.invite",
    },
    // Return messages' metadata when listing (how Loopbot finds its tagged posts).
    AddedArgument {
        method: "conversations.history",
        name: "include_all_metadata",
        kind: "boolean",
        json: false,
        docs: "https://docs.slack.dev/reference/methods/conversations.history",
    },
    AddedArgument {
        method: "conversations.replies",
        name: "include_all_metadata",
        kind: "boolean",
        json: false,
        docs: "https://docs.slack.dev/reference/methods/conversations.replies",
    },
];

pub const METHODS: &[AddedMethod] = &[
    // Socket Mode (2021, after the spec snapshot): a WebSocket URL for an app-level token.
    // It takes no arguments; its page lists form encoding.
    AddedMethod {
        name: "apps.connections.open",
        consumes: &[FORM],
        docs: "https://docs.slack.dev/reference/methods/apps.connections.open",
    },
];
