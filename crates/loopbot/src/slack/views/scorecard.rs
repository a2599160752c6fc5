//! The scorecard form, built from the stage's rubric, and reading it back.

use crate::domain::interview_loop::{InterviewLoop, Stage};
use crate::domain::rubric::{Criterion, StageRubric};
use crate::domain::scorecard::{
    HandOff, MAX_TEXT_CHARS, NOT_ASSESSED, Rating, Scorecard, ScorecardError, ScorecardField,
    ScorecardInput,
};
use crate::slack::messages::hand_off_text;
use crate::slack::mrkdwn::{clip, escape};
use crate::slack::views::StateValues;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

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

/// Slack's limit for an option's text and for its description.
const OPTION_CHARS: usize = 75;

/// `text` in at most `max` characters, cut at a word boundary with "…" when it is longer.
fn clip_words(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = match head.rfind(char::is_whitespace) {
        Some(at) if at > head.len() / 2 => &head[..at],
        _ => head.as_str(),
    };
    format!("{}…", cut.trim_end_matches([' ', ',', ';', ':', '.', '(']))
}

/// `text` split for an option: the words that fit its text, and the rest (clipped) for its
/// description.
fn split_words(text: &str, max: usize) -> (String, Option<String>) {
    let text = text.trim();
    if text.chars().count() <= max {
        return (text.to_string(), None);
    }
    let head: String = text.chars().take(max).collect();
    let at = match head.rfind(char::is_whitespace) {
        Some(at) if at > 0 => at,
        _ => return (clip_words(text, max), None),
    };
    let rest = text[at..].trim();
    (
        head[..at].trim_end().to_string(),
        Some(clip_words(rest, max)),
    )
}

fn option_with(text: &str, value: &str, description: Option<&str>) -> Value {
    let mut option = json!({ "text": plain(text), "value": value });
    if let Some(d) = description.filter(|d| !d.trim().is_empty()) {
        option["description"] = plain(&clip_words(d, OPTION_CHARS));
    }
    option
}

/// An overall point: "3 · Yes".
fn option(rating: Rating) -> Value {
    option_with(
        &rating.recommendation_display(),
        &rating.score().to_string(),
        None,
    )
}

/// A criterion's choice: its point worded against the criterion's own rubric text, or
/// "Not assessed" (`None`).
fn criterion_option(criterion: &Criterion, rating: Option<Rating>) -> Value {
    let Some(rating) = rating else {
        return option_with(
            NOT_ASSESSED,
            NOT_ASSESSED_VALUE,
            Some("It did not come up in this interview. It does not count."),
        );
    };
    let description = match rating {
        Rating::StrongYes => criterion.strong.clone(),
        Rating::Yes => "Most of the strong signals, with a gap or two.".to_string(),
        Rating::No => criterion.well_prepared.clone(),
        Rating::StrongNo => "None of the signals, or one of this stage's red flags.".to_string(),
    };
    option_with(
        &rating.criterion_display(),
        &rating.score().to_string(),
        Some(&description),
    )
}

/// The choices of a criterion, strongest first, then "Not assessed".
fn criterion_options(criterion: &Criterion) -> Vec<Value> {
    Rating::ALL
        .iter()
        .rev()
        .map(|r| criterion_option(criterion, Some(*r)))
        .chain([criterion_option(criterion, None)])
        .collect()
}

/// An input block that tells Loopbot about each change, so a draft is saved as the
/// interviewer goes.
fn input_block(block_id: &str, label: &str, hint: &str, optional: bool, element: Value) -> Value {
    let mut block = json!({
        "type": "input",
        "block_id": block_id,
        "dispatch_action": true,
        "optional": optional,
        "label": plain(&clip(label, 2000)),
        "element": element,
    });
    if !hint.is_empty() {
        block["hint"] = plain(&clip(hint, 2000));
    }
    block
}

fn radio_input(
    block_id: &str,
    label: &str,
    hint: &str,
    options: Vec<Value>,
    initial: Option<Value>,
) -> Value {
    let mut element = json!({
        "type": "radio_buttons",
        "action_id": VALUE,
        "options": options,
    });
    if let Some(initial) = initial {
        element["initial_option"] = initial;
    }
    input_block(block_id, label, hint, false, element)
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
        "dispatch_action_config": { "trigger_actions_on": ["on_character_entered"] },
    });
    if let Some(initial) = initial.filter(|t| !t.is_empty()) {
        element["initial_value"] = json!(clip(initial, MAX_TEXT_CHARS));
    }
    input_block(block_id, label, hint, optional, element)
}

/// The value of a red flag's checkbox: stable for its text, within Slack's value limit.
fn red_flag_value(flag: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(flag.trim().as_bytes());
    format!("rf-{}", hex::encode(&digest[..6]))
}

fn red_flag_option(flag: &str) -> Value {
    let (text, rest) = split_words(flag, OPTION_CHARS);
    option_with(&text, &red_flag_value(flag), rest.as_deref())
}

/// The stage's red flags as optional checkboxes, `checked` ticked.
fn red_flags_input(flags: &[String], checked: &[String]) -> Value {
    let options: Vec<Value> = flags.iter().take(10).map(|f| red_flag_option(f)).collect();
    let initial: Vec<Value> = flags
        .iter()
        .take(10)
        .filter(|f| checked.iter().any(|c| c.trim() == f.trim()))
        .map(|f| red_flag_option(f))
        .collect();
    let mut element = json!({
        "type": "checkboxes",
        "action_id": VALUE,
        "options": options,
    });
    if !initial.is_empty() {
        element["initial_options"] = json!(initial);
    }
    // A flag too long for its checkbox is given in full here.
    let long: Vec<String> = flags
        .iter()
        .filter(|f| f.trim().chars().count() > 2 * OPTION_CHARS)
        .map(|f| format!("• {}", f.trim()))
        .collect();
    let hint = if long.is_empty() {
        "Tick each one you saw. Optional.".to_string()
    } else {
        format!("Tick each one you saw. Optional.\n{}", long.join("\n"))
    };
    input_block(RED_FLAGS_BLOCK, "Red flags you saw", &hint, true, element)
}

/// The scorecard form for `stage`: per criterion its points worded from the rubric (or Not
/// assessed), the stage's red flags, an overall recommendation, evidence, and optional
/// concerns. `existing` is the interviewer's current scorecard (the form then edits it);
/// `prefill` is what the fields start with (that scorecard, or a restored draft).
pub fn scorecard_modal(
    l: &InterviewLoop,
    stage: &Stage,
    stage_rubric: &StageRubric,
    existing: Option<&Scorecard>,
    prefill: Option<&ScorecardInput>,
    draft_restored: bool,
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
    let mut guide = format!(
        "Rate each criterion against its rubric: 4 shows the strong signals, 3 mostly strong, 2 the merely well-prepared answer, 1 absent or a red flag. {NOT_ASSESSED} when it did not come up: it does not count. No middle option: decide. Other interviewers cannot see your ratings until they have submitted their own. What you type is kept if you close the form."
    );
    if draft_restored {
        guide.push_str(" _Restored what you typed before closing the form._");
    }
    blocks.push(json!({
        "type": "context",
        "elements": [{ "type": "mrkdwn", "text": guide }],
    }));
    for criterion in &stage_rubric.criteria {
        let hint = format!(
            "Listen for: {}\nStrong: {}\nMerely well prepared: {}",
            criterion.listen_for, criterion.strong, criterion.well_prepared
        );
        let initial = prefill.and_then(|p| {
            if let Some(rating) = p.ratings.get(&criterion.key) {
                Some(criterion_option(criterion, Some(*rating)))
            } else if p.not_assessed.contains(&criterion.key) {
                Some(criterion_option(criterion, None))
            } else {
                None
            }
        });
        blocks.push(radio_input(
            &criterion_block(&criterion.key),
            &criterion.name,
            &hint,
            criterion_options(criterion),
            initial,
        ));
    }
    if !stage_rubric.red_flags.is_empty() {
        blocks.push(red_flags_input(
            &stage_rubric.red_flags,
            prefill.map(|p| p.red_flags.as_slice()).unwrap_or_default(),
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
    blocks.push(radio_input(
        OVERALL_BLOCK,
        overall_label,
        overall_hint,
        Rating::ALL.iter().map(|r| option(*r)).collect(),
        prefill.and_then(|p| p.overall).map(option),
    ));
    blocks.push(text_input(
        EVIDENCE_BLOCK,
        "Evidence",
        "What the candidate said or did that supports your ratings: quotes, decisions, code. Not impressions.",
        false,
        prefill.map(|p| p.evidence.as_str()),
    ));
    blocks.push(text_input(
        CONCERNS_BLOCK,
        "Concerns for the next stages",
        "What the next interviewers should probe. Optional.",
        true,
        prefill.map(|p| p.concerns.as_str()),
    ));
    json!({
        "type": "modal",
        "callback_id": SCORECARD_CALLBACK,
        "title": plain(&clip(&stage.name, 24)),
        "submit": plain(if existing.is_some() { "Save changes" } else { "Submit scorecard" }),
        "close": plain("Cancel"),
        // Closing the form tells Loopbot, which keeps what was typed as a draft.
        "notify_on_close": true,
        "private_metadata": serde_json::to_string(&metadata).unwrap_or_default(),
        "blocks": blocks,
    })
}

fn selected_value<'a>(values: &'a StateValues, block: &str) -> Option<&'a str> {
    values
        .get(block)?
        .values()
        .next()?
        .pointer("/selected_option/value")?
        .as_str()
}

fn selected_rating(values: &StateValues, block: &str) -> Option<Rating> {
    selected_value(values, block)?
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

/// The ticked red flags, as the rubric words them.
fn checked_flags(values: &StateValues, stage_rubric: &StageRubric) -> Vec<String> {
    let checked: BTreeSet<&str> = values
        .get(RED_FLAGS_BLOCK)
        .and_then(|a| a.values().next())
        .and_then(|v| v.get("selected_options"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|o| o.get("value").and_then(Value::as_str))
        .collect();
    stage_rubric
        .red_flags
        .iter()
        .filter(|f| checked.contains(red_flag_value(f).as_str()))
        .cloned()
        .collect()
}

/// The form's state (as submitted, or as typed so far) read back against the stage's rubric.
pub fn read_scorecard(values: &StateValues, stage_rubric: &StageRubric) -> ScorecardInput {
    let ratings: BTreeMap<String, Rating> = stage_rubric
        .criteria
        .iter()
        .filter_map(|c| {
            selected_rating(values, &criterion_block(&c.key)).map(|r| (c.key.clone(), r))
        })
        .collect();
    let not_assessed: BTreeSet<String> = stage_rubric
        .criteria
        .iter()
        .filter(|c| selected_value(values, &criterion_block(&c.key)) == Some(NOT_ASSESSED_VALUE))
        .map(|c| c.key.clone())
        .collect();
    ScorecardInput {
        ratings,
        not_assessed,
        overall: selected_rating(values, OVERALL_BLOCK),
        evidence: text_value(values, EVIDENCE_BLOCK),
        concerns: text_value(values, CONCERNS_BLOCK),
        red_flags: checked_flags(values, stage_rubric),
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
    use slack_sim::blockkit::validate_modal;

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
                let view = scorecard_modal(&l, &stage, stage_rubric, None, None, false, &notes);
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

    /// The state Slack would report for a form nobody touched: each field's initial value.
    fn initial_state(view: &Value) -> StateValues {
        let mut values = StateValues::default();
        for block in view["blocks"].as_array().unwrap() {
            let (Some(id), element) = (block["block_id"].as_str(), &block["element"]) else {
                continue;
            };
            let state = match element["type"].as_str() {
                Some("radio_buttons") => json!({"selected_option": element["initial_option"]}),
                Some("checkboxes") => json!({"selected_options": element
                    .get("initial_options").cloned().unwrap_or(json!([]))}),
                Some("plain_text_input") => json!({"value": element["initial_value"]}),
                _ => continue,
            };
            values.insert(id.to_string(), [(VALUE.to_string(), state)].into());
        }
        values
    }

    #[test]
    fn not_assessed_and_red_flags_read_back_and_prefill_the_form_again() {
        let rubrics = RubricSet::builtin();
        for rubric in rubrics.all() {
            let l = sample_loop();
            for (i, stage_rubric) in rubric.stages.iter().enumerate() {
                let mut stage = l.stages[0].clone();
                stage.position = i as u32 + 1;
                let mut input = ScorecardInput {
                    overall: Some(Rating::No),
                    evidence: "They said \"we\" throughout & never \"I\".".into(),
                    concerns: "Probe ownership.".into(),
                    red_flags: stage_rubric.red_flags.iter().step_by(2).cloned().collect(),
                    ..Default::default()
                };
                for (k, c) in stage_rubric.criteria.iter().enumerate() {
                    if k == 0 {
                        input.not_assessed.insert(c.key.clone());
                    } else {
                        input.ratings.insert(c.key.clone(), Rating::ALL[k % 4]);
                    }
                }
                let view = scorecard_modal(&l, &stage, stage_rubric, None, Some(&input), true, &[]);
                assert_eq!(validate_modal(&view), Ok(()), "{}", stage_rubric.key);
                assert!(view.to_string().contains("Restored what you typed"));
                let read = read_scorecard(&initial_state(&view), stage_rubric);
                assert_eq!(read, input, "{} / {}", rubric.id, stage_rubric.key);
            }
        }
    }

    #[test]
    fn long_rubric_words_are_clipped_at_a_word_boundary() {
        assert_eq!(clip_words("short enough", 75), "short enough");
        let clipped = clip_words(&"word ".repeat(40), 75);
        assert!(clipped.chars().count() <= 75, "{clipped}");
        assert!(clipped.ends_with("word…"), "{clipped}");
        let (head, rest) = split_words(&format!("{}tail", "alpha ".repeat(13)), 75);
        assert!(head.chars().count() <= 75 && !head.ends_with(' '));
        assert_eq!(rest.as_deref(), Some("alpha tail"));
        assert_eq!(split_words("fits", 75), ("fits".to_string(), None));
    }

    #[test]
    fn the_options_speak_the_rubric_and_never_only_well_prepared() {
        let rubrics = RubricSet::builtin();
        let stage_rubric = &rubrics.default_rubric().stages[1];
        let l = sample_loop();
        let view = scorecard_modal(&l, &l.stages[1], stage_rubric, None, None, false, &[]);
        let text = view.to_string();
        assert!(!text.contains("Only well prepared"));
        assert!(!text.contains("Restored what you typed"));
        let c = &stage_rubric.criteria[0];
        let options = criterion_options(c);
        assert_eq!(options.len(), 5);
        assert_eq!(options[0]["value"], "4");
        assert_eq!(
            options[0]["description"]["text"],
            clip_words(&c.strong, OPTION_CHARS)
        );
        assert_eq!(options[4]["value"], NOT_ASSESSED_VALUE);
        assert_eq!(options[4]["text"]["text"], NOT_ASSESSED);
    }
}
