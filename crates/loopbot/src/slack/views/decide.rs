//! The decision form: outcome, rationale, and the confirmation when stages are missing.

use crate::domain::interview_loop::{InterviewLoop, Outcome};
use crate::slack::mrkdwn::{clip, escape};
use crate::slack::views::StateValues;
use serde_json::{Value, json};

use super::*;
use crate::slack::ids::*;

pub(crate) fn first_value<'a>(values: &'a StateValues, block: &str) -> Option<&'a Value> {
    values.get(block).and_then(|a| a.values().next())
}

/// The decision form: the debrief blocks (see [`crate::slack::views::debrief_blocks`]; the
/// caller passes the overview when the full matrix would not fit), the outcome, the rationale,
/// and, when `missing` names stages with no feedback and no skip, the confirmation box.
/// Blocks the decision form keeps for its own fields and notes.
const OWN_BLOCKS: usize = 8;

pub fn decide_modal(l: &InterviewLoop, missing: &[String], debrief: &[Value]) -> Value {
    let options: Vec<Value> = Outcome::ALL
        .iter()
        .map(|o| json!({ "text": plain(o.label()), "value": o.as_str() }))
        .collect();
    let mut blocks = vec![
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": clip(&format!("Record the decision for *{}* ({}). Hire, No hire and Withdrawn are final: scorecards freeze, every recommendation is revealed and the channel is archived later. Hold keeps the loop open.", escape(&l.candidate_name), escape(&l.role)), 3000) } }),
    ];
    // What the panel said, to decide from (within the modal's 100 blocks).
    blocks.extend(debrief.iter().take(100 - OWN_BLOCKS).cloned());
    blocks.extend([
        json!({ "type": "divider" }),
        json!({ "type": "input", "block_id": OUTCOME_BLOCK, "label": plain("Decision"), "element": { "type": "radio_buttons", "action_id": VALUE, "options": options } }),
        json!({ "type": "input", "block_id": RATIONALE_BLOCK, "label": plain("Rationale"), "hint": plain("Why, in terms of the evidence from the stages."), "element": { "type": "plain_text_input", "action_id": VALUE, "multiline": true, "max_length": 3000 } }),
    ]);
    if !missing.is_empty() {
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": clip(&format!(":rotating_light: *Missing stages:* {}. They have no feedback and were not skipped. A loop that decides without a stage usually finds the gap after the hire.", missing.join(", ")), 3000) } }));
        blocks.push(json!({
            "type": "input",
            "block_id": CONFIRM_BLOCK,
            "label": plain("Confirm"),
            "element": { "type": "checkboxes", "action_id": VALUE, "options": [ { "text": plain("I understand these stages are missing and want to decide anyway"), "value": "confirm" } ] },
        }));
    }
    json!({
        "type": "modal",
        "callback_id": DECIDE_CALLBACK,
        "title": plain("Record the decision"),
        "submit": plain("Record decision"),
        "close": plain("Cancel"),
        "private_metadata": l.id.to_string(),
        "blocks": blocks,
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecideInput {
    pub outcome: Option<Outcome>,
    pub rationale: String,
    pub confirmed_missing: bool,
}

pub fn read_decide(values: &StateValues) -> DecideInput {
    DecideInput {
        outcome: first_value(values, OUTCOME_BLOCK)
            .and_then(|v| v.pointer("/selected_option/value"))
            .and_then(Value::as_str)
            .and_then(Outcome::parse),
        rationale: first_value(values, RATIONALE_BLOCK)
            .and_then(|v| v.get("value"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .trim()
            .to_string(),
        confirmed_missing: first_value(values, CONFIRM_BLOCK)
            .and_then(|v| v.get("selected_options"))
            .and_then(Value::as_array)
            .is_some_and(|o| o.iter().any(|o| o["value"] == "confirm")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interview_loop::fixtures::sample_loop;
    use slack_sim::blockkit::validate_modal;

    #[test]
    fn the_forms_fit_slack_limits() {
        let l = sample_loop();
        assert_eq!(
            validate_modal(&decide_modal(&l, &["Coding".into()], &[])),
            Ok(())
        );
        assert_eq!(validate_modal(&decide_modal(&l, &[], &[])), Ok(()));
        assert_eq!(validate_modal(&panel_modal(&l)), Ok(()));
    }

    #[test]
    fn the_decision_form_reads_back() {
        let mut values = StateValues::new();
        values.insert(
            "outcome".into(),
            [(
                "value".to_string(),
                json!({"selected_option": {"value": "no_hire"}}),
            )]
            .into(),
        );
        values.insert(
            "rationale".into(),
            [(
                "value".to_string(),
                json!({"value": "  Design was weak.  "}),
            )]
            .into(),
        );
        values.insert(
            "confirm_missing".into(),
            [(
                "value".to_string(),
                json!({"selected_options": [{"value": "confirm"}]}),
            )]
            .into(),
        );
        assert_eq!(
            read_decide(&values),
            DecideInput {
                outcome: Some(Outcome::NoHire),
                rationale: "Design was weak.".into(),
                confirmed_missing: true
            }
        );
    }
}
