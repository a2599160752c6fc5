//! Loopbot's wire table (`slack::wire`) against Slack's spec as the simulator holds it
//! (`sim::contract`), and the two independent copies of Slack's rate tiers against each
//! other. Every other test in this binary is also held to the contract: its simulator fails
//! it, when dropped, if any call broke Slack's spec (see `sim::SimServer`).

use loopbot::jobs::tiers;
use loopbot::slack::wire::{Encoding, Method};
use serde_json::json;
use slack_sim::{contract, rules};

use crate::helpers::*;

#[test]
fn every_method_loopbot_calls_is_sent_as_slacks_spec_says_it_reads() {
    for method in Method::ALL {
        let spec = contract::methods()
            .get(method.name())
            .unwrap_or_else(|| panic!("{} is in Slack's spec or its additions", method.name()));
        let sent_as = match method.encoding() {
            Encoding::Form => contract::FORM,
            Encoding::Json => contract::JSON,
        };
        assert!(
            spec.consumes.iter().any(|c| c == sent_as),
            "{} is sent as {sent_as}; Slack reads {:?}",
            method.name(),
            spec.consumes
        );
    }
}

#[test]
fn the_simulator_serves_every_method_loopbot_calls_with_the_tier_slack_publishes() {
    for method in Method::ALL {
        let rule = rules::rule_of(method.name())
            .unwrap_or_else(|| panic!("the simulator serves {}", method.name()));
        // Two copies, written apart (the pacer's from the SDK's JSON, the simulator's from
        // Slack's pages): a disagreement is a mistake in one of them.
        assert_eq!(
            tiers::tier_of(method.name()),
            Some(rule.tier.published_name()),
            "{}",
            method.name()
        );
    }
}

/// What the contract check does to a test that sends Slack what it would not read: the call
/// is answered as Slack answers it, and kept as a violation that fails the test when its
/// simulator is dropped (taken here, so that this test passes).
#[tokio::test]
async fn a_json_body_to_a_read_method_is_caught_in_an_integration_test() {
    let world = World::new().await;
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "{}/conversations.history",
            world.sim_server.base_url
        ))
        .bearer_auth(BOT_TOKEN)
        .json(&json!({ "channel": world.hiring_channel }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["error"], "invalid_arguments", "{answer}");
    let violations = world.sim.take_contract_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].method, "conversations.history");
    assert!(
        violations[0].problem.contains("application/json"),
        "{violations:?}"
    );
}
