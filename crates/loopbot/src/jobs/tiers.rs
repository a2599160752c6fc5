//! Slack's rate limits as data: each Web API method's tier (from Slack's own
//! `rate_limit_tiers.json`, copied from slackapi/java-slack-sdk with its MIT notice beside it)
//! and what a tier allows, for the pacer (outbound) and the job queue's budgets. The simulator
//! keeps its own copy of Slack's tiers (`slack_sim::rules`), written apart from this one: a test
//! double that enforced these numbers could never show that one of them is wrong.
//!
//! The model is a sliding window: at most `calls` in any `window_ms`. Slack documents Tier 1
//! as 1+ per minute, Tier 2 as 20+, Tier 3 as 50+, Tier 4 as 100+ ("+": bursts are tolerated),
//! and `chat.postMessage` as about one message per second per channel, with short bursts.

use std::collections::HashMap;
use std::sync::LazyLock;

const TIERS_JSON: &str = include_str!("rate_limit_tiers.json");

/// At most `calls` calls in any window of `window_ms`; `per_channel` when the budget is per
/// channel (keyed by the call's `channel` argument) rather than per workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub calls: u32,
    pub window_ms: i64,
    pub per_channel: bool,
}

const MINUTE: i64 = 60_000;

fn per_minute(calls: u32) -> Limit {
    Limit {
        calls,
        window_ms: MINUTE,
        per_channel: false,
    }
}

static TIERS: LazyLock<HashMap<String, String>> =
    LazyLock::new(|| serde_json::from_str(TIERS_JSON).unwrap_or_default());

/// The tier name Slack publishes for `method` (`Tier2`, `SpecialTier_chat_postMessage` …).
pub fn tier_of(method: &str) -> Option<&'static str> {
    TIERS.get(method).map(String::as_str)
}

/// The limit Loopbot keeps to for `method`. Unknown methods are treated as Tier 3.
pub fn limit_of(method: &str) -> Limit {
    match tier_of(method) {
        Some("Tier1") => per_minute(1),
        Some("Tier2") => per_minute(20),
        Some("Tier4") => per_minute(100),
        // "No more than one message per second per channel", with "short bursts" allowed:
        // three in any three seconds keeps the average and allows a short burst (Slack's Java
        // SDK is laxer still: 60 a minute per channel).
        Some("SpecialTier_chat_postMessage") => Limit {
            calls: 3,
            window_ms: 3_000,
            per_channel: true,
        },
        Some("SpecialTier_auth_test") => per_minute(600),
        _ => per_minute(50),
    }
}

/// The workspace-wide limit of a method whose calls are also limited per channel:
/// `chat.postMessage`'s page adds "several hundred messages per minute" for the workspace,
/// read here at its smallest, 300.
fn workspace_limit_of(method: &str) -> Limit {
    match limit_of(method) {
        Limit {
            per_channel: true, ..
        } => per_minute(300),
        limit => limit,
    }
}

/// The budget a call is named by: the method, and for per-channel limits the channel too
/// (`chat.postMessage:C1`). A job row names its first call's budget by this key.
pub fn budget_key(method: &str, channel: Option<&str>) -> String {
    match (limit_of(method).per_channel, channel) {
        (true, Some(channel)) => format!("{method}:{channel}"),
        _ => method.to_string(),
    }
}

/// The limit behind budget `key`: a channel's (`chat.postMessage:C1`), or the method's for
/// the whole workspace (`chat.postMessage`, `chat.update`).
pub fn limit_of_key(key: &str) -> Limit {
    match key.split_once(':') {
        Some((method, _)) => limit_of(method),
        None => workspace_limit_of(key),
    }
}

/// Every budget a call named by `key` spends, the workspace's first: a post to a channel
/// spends its channel's budget and the workspace's budget for posts.
pub fn budgets_spent(key: &str) -> Vec<String> {
    match key.split_once(':') {
        Some((method, _)) => vec![method.to_string(), key.to_string()],
        None => vec![key.to_string()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_methods_loopbot_calls_have_their_published_tiers() {
        assert_eq!(tier_of("conversations.create"), Some("Tier2"));
        assert_eq!(limit_of("conversations.create"), per_minute(20));
        assert_eq!(limit_of("conversations.setTopic"), per_minute(20));
        assert_eq!(limit_of("pins.add"), per_minute(20));
        assert_eq!(limit_of("chat.update"), per_minute(50));
        assert_eq!(limit_of("views.open"), per_minute(100));
        // What `loopbot purge --slack` calls.
        assert_eq!(tier_of("chat.delete"), Some("Tier3"));
        assert_eq!(limit_of("chat.delete"), per_minute(50));
        assert_eq!(tier_of("conversations.history"), Some("Tier3"));
        assert_eq!(tier_of("conversations.replies"), Some("Tier3"));
        assert_eq!(tier_of("conversations.info"), Some("Tier3"));
        assert_eq!(limit_of("conversations.rename"), per_minute(20));
        let post = limit_of("chat.postMessage");
        assert!(post.per_channel && post.calls == 3 && post.window_ms == 3_000);
        assert_eq!(
            budget_key("chat.postMessage", Some("C1")),
            "chat.postMessage:C1"
        );
        assert_eq!(budget_key("pins.add", Some("C1")), "pins.add");
        assert_eq!(limit_of("no.such.method"), per_minute(50));
    }

    #[test]
    fn a_post_spends_its_channels_budget_and_the_workspaces() {
        assert_eq!(
            budgets_spent("chat.postMessage:C1"),
            ["chat.postMessage", "chat.postMessage:C1"]
        );
        assert_eq!(
            limit_of_key("chat.postMessage:C1"),
            limit_of("chat.postMessage")
        );
        assert_eq!(limit_of_key("chat.postMessage"), per_minute(300));
        assert_eq!(budgets_spent("chat.update"), ["chat.update"]);
        assert_eq!(limit_of_key("chat.update"), per_minute(50));
        // The job claim's query names the one method limited per channel (`db::jobs`).
        let per_channel: Vec<&String> = TIERS
            .keys()
            .filter(|method| limit_of(method).per_channel)
            .collect();
        assert_eq!(per_channel, ["chat.postMessage"]);
    }
}
