//! Slack's rules per Web API method, as the simulator knows them: which methods it serves,
//! each one's rate tier and its required arguments. Written from Slack's published tiers
//! (`../shared/slack-reference/rate_limit_tiers.json`, as the Java SDK records them) and its
//! method pages on docs.slack.dev (each page's "Rate limits" and "Required arguments"), never
//! from Loopbot's own tables: a double that shares the client's assumptions cannot find the
//! client's mistakes. Which content types a method reads comes from Slack's OpenAPI spec, in
//! [`crate::contract`].

/// A rate tier as Slack's docs name it (<https://docs.slack.dev/apis/web-api/rate-limits>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// "1+ per minute".
    Tier1,
    /// "20+ per minute".
    Tier2,
    /// "50+ per minute".
    Tier3,
    /// "100+ per minute".
    Tier4,
    /// `chat.postMessage`: "1 per second" per channel, "short bursts >1 allowed", and
    /// "several hundred per minute" for the workspace.
    PostMessage,
    /// `auth.test`: "hundreds per minute".
    AuthTest,
}

impl Tier {
    /// The name Slack's published table gives the tier (`Tier2`,
    /// `SpecialTier_chat_postMessage` …).
    pub fn published_name(self) -> &'static str {
        match self {
            Tier1 => "Tier1",
            Tier2 => "Tier2",
            Tier3 => "Tier3",
            Tier4 => "Tier4",
            PostMessage => "SpecialTier_chat_postMessage",
            AuthTest => "SpecialTier_auth_test",
        }
    }
}

/// One method: its name, tier and the required arguments Slack checks before anything else.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub method: &'static str,
    pub tier: Tier,
    /// Required arguments whose absence Slack answers with `invalid_arguments`, `[ERROR]
    /// missing required field: <name>`, as its newer methods (the reads here) do. Older
    /// methods answer a missing argument with an error of their own (`channel_not_found`,
    /// `invalid_name_required`, `no_item_specified` …, from their pages' error tables),
    /// which the method's rules in [`crate::state`] give.
    pub required: &'static [&'static str],
}

const fn rule(method: &'static str, tier: Tier, required: &'static [&'static str]) -> Rule {
    Rule {
        method,
        tier,
        required,
    }
}

use Tier::*;

/// The methods the simulator serves.
pub const RULES: &[Rule] = &[
    rule("auth.test", AuthTest, &[]),
    rule("apps.connections.open", Tier1, &[]),
    rule("users.info", Tier4, &[]),
    // https://docs.slack.dev/reference/methods/users.lookupByEmail: Tier 3, `email` required.
    rule("users.lookupByEmail", Tier3, &["email"]),
    rule("conversations.create", Tier2, &[]),
    rule("conversations.invite", Tier3, &[]),
    rule("conversations.setTopic", Tier2, &[]),
    rule("conversations.open", Tier3, &[]),
    rule("conversations.archive", Tier2, &[]),
    rule("conversations.rename", Tier2, &[]),
    rule("conversations.list", Tier2, &[]),
    rule("conversations.members", Tier4, &["channel"]),
    rule("conversations.history", Tier3, &["channel"]),
    rule("conversations.replies", Tier3, &["channel", "ts"]),
    rule("conversations.info", Tier3, &["channel"]),
    rule("chat.postMessage", PostMessage, &[]),
    rule("chat.update", Tier3, &[]),
    rule("chat.delete", Tier3, &[]),
    rule("chat.postEphemeral", Tier4, &[]),
    rule("pins.add", Tier2, &[]),
    rule("views.open", Tier4, &[]),
    rule("views.update", Tier4, &[]),
    rule("views.publish", Tier4, &[]),
];

/// The rule of `method`, if the simulator serves it.
pub fn rule_of(method: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.method == method)
}

/// A budget of calls: at most `calls` in any `window_ms`, refilled as the window slides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub calls: u32,
    pub window_ms: i64,
}

const MINUTE: i64 = 60_000;

/// The workspace-wide budget of `tier`, per method. The docs give each tier a floor ("20+ per
/// minute"); the simulator allows exactly that floor, all of it at once if the client likes,
/// so a client that keeps to Slack's published numbers never meets a 429 here.
pub fn per_method(tier: Tier) -> Window {
    let per_minute = |calls| Window {
        calls,
        window_ms: MINUTE,
    };
    match tier {
        Tier1 => per_minute(1),
        Tier2 => per_minute(20),
        Tier3 => per_minute(50),
        Tier4 => per_minute(100),
        // "Several hundred per minute" for the workspace: the smallest reading.
        PostMessage => per_minute(300),
        // "Hundreds per minute".
        AuthTest => per_minute(200),
    }
}

/// `chat.postMessage` in one channel: a bucket of [`POST_BURST`] posts refilled at one a
/// second. Slack documents "1 per second" with "short bursts >1 allowed" and gives no burst
/// size; three in a row is the simulator's reading of a short burst.
pub const POST_BURST: u32 = 3;
/// One post's worth of the per-channel bucket comes back after this long.
pub const POST_REFILL_MS: i64 = 1_000;
