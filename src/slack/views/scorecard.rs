//! The scorecard form, built from the stage's rubric, and reading it back.

use crate::domain::interview_loop::{InterviewLoop, Stage};
use crate::domain::rubric::StageRubric;
use crate::domain::scorecard::{
    HandOff, MAX_TEXT_CHARS, Rating, Scorecard, ScorecardError, ScorecardField, ScorecardInput,
};
use crate::slack::messages::hand_off_text;
use crate::slack::mrkdwn::{clip, escape};
use crate::slack::views::StateValues;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use super::*;
use crate::slack::ids::*;

/// What the scorecard modal carries to its submission.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScorecardMetadata {
    #[serde(rename = "l")]
    pub loop_id: i64,
    #[serde(rename = "s")]
    pub position: u32,
    /// The version the form was opened from (0 for a first submission).
    #[serde(rename = "v")]
    pub based_on: i64,
}

fn option(rating: Rating) -> Value {
    json!({ "text": plain(&rating.display()), "value": rating.score().to_string() })
}

fn scale_input(block_id: &str, label: &str, hint: &str, initial: Option<Rating>) -> Value {
    let mut element = json!({
        "type": "radio_buttons",
        "action_id": VALUE,
        "options": Rating::ALL.iter().map(|r| option(*r)).collect::<Vec<_>>(),
    });
    if let Some(rating) = initial {
        element["initial_option"] = option(rating);
    }
    let mut block = json!({
        "type": "input",
        "block_id": block_id,
        "label": plain(&clip(label, 2000)),
        "element": element,
    });
    if !hint.is_empty() {
        block["hint"] = plain(&clip(hint, 2000));
    }
    block
}

fn text_input(
    block_id: &str,
    label: &str,
    hint: &str,
    optional: bool,
    initial: Option<&str>,
) -> Value {
    let mut element = json!({
        "type": "plain_text_input",
        "action_id": VALUE,
        "multiline": true,
        "max_length": MAX_TEXT_CHARS,
    });
    if let Some(initial) = initial.filter(|t| !t.is_empty()) {
        element["initial_value"] = json!(initial);
    }
    json!({
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label),
        "hint": plain(hint),
        "element": element,
    })
}

/// The scorecard form for `stage`: one 1–4 rating per criterion (its signals as help text),
/// an overall recommendation, evidence, and optional concerns. Prefilled when editing.
pub fn scorecard_modal(
    l: &InterviewLoop,
    stage: &Stage,
    stage_rubric: &StageRubric,
    existing: Option<&Scorecard>,
    hand_offs: &[HandOff],
) -> Value {
    let metadata = ScorecardMetadata {
        loop_id: l.id,
        position: stage.position,
        based_on: existing.map(|c| c.version).unwrap_or(0),
    };
    let mut blocks = vec![json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": clip(&format!(
            "*{}* · {} · stage {} of {}\n_{}_",
            escape(&l.candidate_name), stage.name, stage.position, l.stages.len(), stage_rubric.question
        ), 3000) },
    })];
    if let Some(notes) = hand_off_text(hand_offs) {
        blocks.push(json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": notes },
        }));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{ "type": "mrkdwn", "text": "1 strong no · 2 no · 3 yes · 4 strong yes. There is no middle option: decide. Other interviewers cannot see your ratings until they have submitted their own." }],
    }));
    for criterion in &stage_rubric.criteria {
        let hint = format!(
            "Listen for: {}\nStrong: {}\nOnly well prepared: {}",
            criterion.listen_for, criterion.strong, criterion.well_prepared
        );
        let initial = existing.and_then(|c| c.body.ratings.get(&criterion.key).copied());
        blocks.push(scale_input(
            &criterion_block(&criterion.key),
            &criterion.name,
            &hint,
            initial,
        ));
    }
    // The first stage is the screen: it sets the bar for the deeper investment of the rest.
    let (overall_label, overall_hint) = if stage.position == 1 && l.stages.len() > 1 {
        (
            "Worth the full loop?",
            "Is this candidate worth the deeper investment of the full loop, on the evidence of this screen?",
        )
    } else {
        (
            "Overall recommendation",
            "Should this candidate be hired, on the evidence of this stage?",
        )
    };
    blocks.push(scale_input(
        OVERALL_BLOCK,
        overall_label,
        overall_hint,
        existing.map(|c| c.body.overall),
    ));
    blocks.push(text_input(
        EVIDENCE_BLOCK,
        "Evidence",
        "What the candidate said or did that supports your ratings: quotes, decisions, code. Not impressions.",
        false,
        existing.map(|c| c.body.evidence.as_str()),
    ));
    blocks.push(text_input(
        CONCERNS_BLOCK,
        "Concerns for the next stages",
        "What the next interviewers should probe. Optional.",
        true,
        existing.map(|c| c.body.concerns.as_str()),
    ));
    json!({
        "type": "modal",
        "callback_id": SCORECARD_CALLBACK,
        "title": plain(&clip(&stage.name, 24)),
        "submit": plain(if existing.is_some() { "Save changes" } else { "Submit scorecard" }),
        "close": plain("Cancel"),
        "private_metadata": serde_json::to_string(&metadata).unwrap_or_default(),
        "blocks": blocks,
    })
}

fn selected_rating(values: &StateValues, block: &str) -> Option<Rating> {
    values
        .get(block)?
        .values()
        .next()?
        .pointer("/selected_option/value")?
        .as_str()?
        .parse::<i64>()
        .ok()
        .and_then(Rating::from_score)
}

fn text_value(values: &StateValues, block: &str) -> String {
    values
        .get(block)
        .and_then(|a| a.values().next())
        .and_then(|v| v.get("value"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub fn read_scorecard(values: &StateValues, stage_rubric: &StageRubric) -> ScorecardInput {
    let ratings: BTreeMap<String, Rating> = stage_rubric
        .criteria
        .iter()
        .filter_map(|c| {
            selected_rating(values, &criterion_block(&c.key)).map(|r| (c.key.clone(), r))
        })
        .collect();
    ScorecardInput {
        ratings,
        overall: selected_rating(values, OVERALL_BLOCK),
        evidence: text_value(values, EVIDENCE_BLOCK),
        concerns: text_value(values, CONCERNS_BLOCK),
    }
}

pub fn scorecard_block_for(field: &ScorecardField) -> String {
    match field {
        ScorecardField::Criterion(key) => criterion_block(key),
        ScorecardField::Overall => OVERALL_BLOCK.into(),
        ScorecardField::Evidence => EVIDENCE_BLOCK.into(),
        ScorecardField::Concerns => CONCERNS_BLOCK.into(),
    }
}

/// `{"response_action":"errors", ...}` keyed by the input blocks of the scorecard modal.
pub fn scorecard_errors(errors: &[ScorecardError]) -> Value {
    let map: serde_json::Map<String, Value> = errors
        .iter()
        .map(|e| {
            (
                scorecard_block_for(&e.field),
                Value::String(e.message.clone()),
            )
        })
        .collect();
    json!({ "response_action": "errors", "errors": map })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interview_loop::fixtures::sample_loop;
    use crate::domain::rubric::RubricSet;
    use crate::sim::blockkit::validate_modal;

    #[test]
    fn every_shipped_rubric_gives_modals_within_slack_limits() {
        let rubrics = RubricSet::builtin();
        let l = sample_loop();
        for rubric in rubrics.all() {
            for (i, stage_rubric) in rubric.stages.iter().enumerate() {
                let mut stage = l.stages[0].clone();
                stage.name = stage_rubric.name.clone();
                stage.position = i as u32 + 1;
                let notes = [HandOff {
                    stage: "Technical screen".into(),
                    note: "x".repeat(2_000),
                }];
                let view = scorecard_modal(&l, &stage, stage_rubric, None, &notes);
                assert_eq!(
                    validate_modal(&view),
                    Ok(()),
                    "{} / {}",
                    rubric.id,
                    stage_rubric.key
                );
                assert!(view["title"]["text"].as_str().unwrap().chars().count() <= 24);
            }
        }
    }

    #[test]
    fn the_form_reads_back_and_prefills_when_editing() {
        let rubrics = RubricSet::builtin();
        let stage_rubric = &rubrics.default_rubric().stages[0];
        let mut values: StateValues = Default::default();
        for c in &stage_rubric.criteria {
            values.insert(
                criterion_block(&c.key),
                [(
                    "value".to_string(),
                    json!({"type": "radio_buttons", "selected_option": {"value": "4"}}),
                )]
                .into(),
            );
        }
        values.insert(
            "overall".into(),
            [(
                "value".to_string(),
                json!({"selected_option": {"value": "3"}}),
            )]
            .into(),
        );
        values.insert(
            "evidence".into(),
            [("value".to_string(), json!({"value": "They said X"}))].into(),
        );
        let input = read_scorecard(&values, stage_rubric);
        assert_eq!(input.overall, Some(Rating::Yes));
        assert_eq!(input.ratings.len(), stage_rubric.criteria.len());
        assert_eq!(input.evidence, "They said X");
        assert_eq!(input.concerns, "");
    }
}
