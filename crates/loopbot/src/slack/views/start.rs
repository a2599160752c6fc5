//! The `/loop start` form: candidate, rubric, hiring manager, and per stage its panel and time.

use crate::domain::people::MAX_INTERVIEWERS_PER_STAGE;
use crate::domain::rubric::{Rubric, RubricSet};
use crate::domain::start_form::{Field, FieldError, StageInput, StartInput};
use crate::slack::mrkdwn::clip;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::*;
use crate::slack::ids::*;

/// The block a form problem is shown next to.
pub fn start_block_for(field: &Field) -> String {
    match field {
        Field::Candidate => CANDIDATE_BLOCK.into(),
        Field::Rubric => RUBRIC_BLOCK.into(),
        Field::HiringManager => HIRING_MANAGER_BLOCK.into(),
        Field::StageInterviewers(key) => panel_block(key),
        Field::StageTime(key) => time_block(key),
    }
}

/// `{"response_action":"errors","errors":{block_id: message}}`, for the start form and the
/// panel form (their people and time fields have the same block ids).
pub fn field_errors(errors: &[FieldError]) -> Value {
    let map: serde_json::Map<String, Value> = errors
        .iter()
        .map(|e| (start_block_for(&e.field), Value::String(e.message.clone())))
        .collect();
    json!({ "response_action": "errors", "errors": map })
}

/// What the start modal carries between opening and submission.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StartMetadata {
    /// Where `/loop start` was typed; the confirmation goes there.
    pub origin_channel: Option<String>,
    /// The rubric the stage fields were built from.
    pub rubric: String,
}

/// The `/loop start` modal.
pub fn start_modal(
    rubrics: &RubricSet,
    rubric: &Rubric,
    candidate: Option<&str>,
    metadata: &StartMetadata,
) -> Value {
    let mut view = start_modal_without_candidate(rubrics, rubric, metadata);
    if let Some(Value::Array(blocks)) = view.get_mut("blocks") {
        blocks.insert(0, candidate_block(candidate));
    }
    view
}

/// The form's first block: the candidate's name, filled in when the command named them.
fn candidate_block(candidate: Option<&str>) -> Value {
    let mut name_input = json!({
        "type": "plain_text_input",
        "action_id": VALUE,
        "max_length": crate::domain::start_form::MAX_CANDIDATE_NAME,
        "placeholder": plain("Full name, as the candidate writes it"),
    });
    if let Some(candidate) = candidate {
        name_input["initial_value"] = json!(clip(candidate.trim(), 80));
    }
    json!({
        "type": "input",
        "block_id": CANDIDATE_BLOCK,
        "label": plain("Candidate"),
        "element": name_input,
    })
}

/// [`start_modal`] as JSON text, for `views.open`. Everything but the candidate's block and
/// the metadata is the same for every `/loop start` with the same rubrics, so it is written
/// once per rubric set and rubric (a memo keyed by their contents) and copied in: a command
/// costs a few small allocations instead of a tree of a hundred objects.
pub fn start_modal_text(
    rubrics: &RubricSet,
    rubric: &Rubric,
    candidate: Option<&str>,
    metadata: &StartMetadata,
) -> String {
    let written = written_form(rubrics, rubric);
    let candidate = match candidate {
        None => written.no_candidate.clone(),
        Some(name) => {
            let (before, after) = &written.around_candidate;
            let name = Value::String(clip(name.trim(), 80)).to_string();
            [before.as_str(), &name, after].concat()
        }
    };
    let metadata = Value::String(serde_json::to_string(metadata).unwrap_or_default()).to_string();
    let mut text = String::with_capacity(
        written.blocks.len() + written.fields.len() + candidate.len() + metadata.len() + 40,
    );
    text.push_str(r#"{"blocks":["#);
    text.push_str(&candidate);
    if !written.blocks.is_empty() {
        text.push(',');
        text.push_str(&written.blocks);
    }
    text.push_str(r#"],"private_metadata":"#);
    text.push_str(&metadata);
    if !written.fields.is_empty() {
        text.push(',');
        text.push_str(&written.fields);
    }
    text.push('}');
    text
}

/// The written parts of a start form: its blocks after the candidate's, comma-separated,
/// and its members other than `blocks` and `private_metadata`, as `"key":value,…`.
struct WrittenForm {
    blocks: String,
    fields: String,
    /// The candidate's block with no name in it.
    no_candidate: String,
    /// The candidate's block before and after the name's JSON string.
    around_candidate: (String, String),
}

/// Stands for the candidate's name while its block is written (control characters, so no
/// name can look like it; JSON writes them as `\u0001`).
const NAME_MARK: &str = "\u{1}name\u{1}";

fn written_form(rubrics: &RubricSet, rubric: &Rubric) -> Arc<WrittenForm> {
    /// What a written form was made from: the rubric menu's options and the rubric.
    struct Made {
        options: Vec<(String, String)>,
        rubric: Rubric,
        form: Arc<WrittenForm>,
    }
    static MEMO: Mutex<Vec<Made>> = Mutex::new(Vec::new());
    let same_options = |options: &[(String, String)]| {
        options.len() == rubrics.all().len()
            && options
                .iter()
                .zip(rubrics.all())
                .all(|((id, role), r)| *id == r.id && *role == r.role)
    };
    if let Some(made) = MEMO
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|m| m.rubric == *rubric && same_options(&m.options))
    {
        return Arc::clone(&made.form);
    }
    let view = start_modal_without_candidate(rubrics, rubric, &StartMetadata::default());
    let Value::Object(members) = view else {
        unreachable!("a view is an object")
    };
    let mut blocks = String::new();
    let mut fields = Vec::new();
    for (key, value) in members {
        match (key.as_str(), value) {
            ("blocks", Value::Array(list)) => {
                let list: Vec<String> = list.iter().map(Value::to_string).collect();
                blocks = list.join(",");
            }
            ("private_metadata", _) => {}
            (_, value) => fields.push(format!("{}:{value}", Value::String(key))),
        }
    }
    let marked = candidate_block(Some(NAME_MARK)).to_string();
    let mark = Value::String(NAME_MARK.into()).to_string();
    let (before, after) = marked
        .split_once(&mark)
        .expect("the candidate's block holds the name it was given");
    let form = Arc::new(WrittenForm {
        blocks,
        fields: fields.join(","),
        no_candidate: candidate_block(None).to_string(),
        around_candidate: (before.to_string(), after.to_string()),
    });
    let mut memo = MEMO.lock().unwrap_or_else(|e| e.into_inner());
    // A handful of rubrics per process; bounded all the same.
    if memo.len() >= 64 {
        memo.clear();
    }
    memo.push(Made {
        options: rubrics
            .all()
            .iter()
            .map(|r| (r.id.clone(), r.role.clone()))
            .collect(),
        rubric: rubric.clone(),
        form: Arc::clone(&form),
    });
    form
}

/// The start modal without its first block (the candidate's name).
fn start_modal_without_candidate(
    rubrics: &RubricSet,
    rubric: &Rubric,
    metadata: &StartMetadata,
) -> Value {
    let mut blocks = Vec::new();
    let options: Vec<Value> = rubrics
        .all()
        .iter()
        .map(|r| json!({ "text": plain(&clip(&r.role, 75)), "value": r.id }))
        .collect();
    let selected = options
        .iter()
        .find(|o| o["value"] == json!(rubric.id))
        .cloned()
        .unwrap_or(Value::Null);
    blocks.push(json!({
        "type": "input",
        "block_id": RUBRIC_BLOCK,
        "dispatch_action": true,
        "label": plain("Role rubric"),
        "hint": plain("The stages and questions below come from this rubric."),
        "element": {
            "type": "static_select",
            "action_id": RUBRIC_SELECT_ACTION,
            "options": options,
            "initial_option": selected,
        },
    }));
    blocks.push(json!({
        "type": "input",
        "block_id": HIRING_MANAGER_BLOCK,
        "label": plain("Hiring manager"),
        "hint": plain("Owns the loop: can skip a stage with a reason and records the decision."),
        "element": { "type": "users_select", "action_id": VALUE, "placeholder": plain("Choose a person") },
    }));
    for (i, stage) in rubric.stages.iter().enumerate() {
        blocks.push(json!({ "type": "divider" }));
        blocks.push(json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": clip(&format!("*Stage {}: {}* ({})\n_{}_", i + 1, stage.name, stage.duration_label(), stage.question), 3000) },
        }));
        blocks.push(json!({
            "type": "input",
            "block_id": panel_block(&stage.key),
            "optional": true,
            "label": plain("Interviewers"),
            "hint": plain("You can leave this empty for now; the summary will flag the stage."),
            "element": {
                "type": "multi_users_select",
                "action_id": VALUE,
                "max_selected_items": MAX_INTERVIEWERS_PER_STAGE,
                "placeholder": plain("Who runs this interview"),
            },
        }));
        blocks.push(json!({
            "type": "input",
            "block_id": time_block(&stage.key),
            "optional": true,
            "label": plain("Interview date and time"),
            "element": { "type": "datetimepicker", "action_id": VALUE },
        }));
    }
    json!({
        "type": "modal",
        "callback_id": START_CALLBACK,
        "title": plain("Start interview loop"),
        "submit": plain("Start loop"),
        "close": plain("Cancel"),
        "private_metadata": serde_json::to_string(metadata).unwrap_or_default(),
        "blocks": blocks,
    })
}

/// Reads the start modal's answers; missing or malformed fields read as empty.
pub fn read_start(values: &StateValues, rubric: &Rubric) -> StartInput {
    let text = |block: &str| {
        value_of(values, block)
            .and_then(|v| v.get("value"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let stages = rubric
        .stages
        .iter()
        .map(|stage| StageInput {
            key: stage.key.clone(),
            interviewers: value_of(values, &panel_block(&stage.key))
                .and_then(|v| v.get("selected_users"))
                .and_then(Value::as_array)
                .map(|users| {
                    users
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            interview_at_secs: value_of(values, &time_block(&stage.key))
                .and_then(|v| v.get("selected_date_time"))
                .and_then(Value::as_i64),
        })
        .collect();
    StartInput {
        candidate: text(CANDIDATE_BLOCK),
        rubric_id: value_of(values, RUBRIC_BLOCK)
            .and_then(|v| v.pointer("/selected_option/value"))
            .and_then(Value::as_str)
            .map(str::to_string),
        hiring_manager: value_of(values, HIRING_MANAGER_BLOCK)
            .and_then(|v| v.get("selected_user"))
            .and_then(Value::as_str)
            .map(str::to_string),
        stages,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_written_form_is_the_same_json_as_the_built_one() {
        let rubrics = RubricSet::builtin();
        let rubric = rubrics.default_rubric();
        let mut other = rubric.clone();
        other.stages[0].question = "Can they \"ship\" it?".into();
        let metadata = StartMetadata {
            origin_channel: Some("C1".into()),
            rubric: rubric.id.clone(),
        };
        for (rubric, candidate, metadata) in [
            (rubric, None, StartMetadata::default()),
            (
                rubric,
                Some("Ada \"Countess\" Lovelace \u{e9}"),
                metadata.clone(),
            ),
            // Same id, other contents: written anew, not taken from the memo.
            (&other, Some("Grace"), metadata.clone()),
            (rubric, Some("Grace"), metadata.clone()),
        ] {
            let text = start_modal_text(&rubrics, rubric, candidate, &metadata);
            let read: Value = serde_json::from_str(&text).expect("the text is JSON");
            assert_eq!(read, start_modal(&rubrics, rubric, candidate, &metadata));
        }
    }

    fn values(pairs: &[(&str, Value)]) -> StateValues {
        pairs
            .iter()
            .map(|(block, v)| {
                (
                    block.to_string(),
                    HashMap::from([(VALUE.to_string(), v.clone())]),
                )
            })
            .collect()
    }

    #[test]
    fn the_modal_reads_back_what_was_entered() {
        let rubrics = RubricSet::builtin();
        let rubric = rubrics.default_rubric();
        let state = values(&[
            (
                "candidate",
                json!({"type": "plain_text_input", "value": "Ada"}),
            ),
            (
                "hiring_manager",
                json!({"type": "users_select", "selected_user": "UHM"}),
            ),
            (
                "panel:coding",
                json!({"type": "multi_users_select", "selected_users": ["UA", "UB"]}),
            ),
            (
                "time:coding",
                json!({"type": "datetimepicker", "selected_date_time": 1795000000}),
            ),
        ]);
        let input = read_start(&state, rubric);
        assert_eq!(input.candidate, "Ada");
        assert_eq!(input.hiring_manager.as_deref(), Some("UHM"));
        let coding = input.stages.iter().find(|s| s.key == "coding").unwrap();
        assert_eq!(coding.interviewers, ["UA", "UB"]);
        assert_eq!(coding.interview_at_secs, Some(1795000000));
    }

    #[test]
    fn the_modal_has_a_field_for_every_stage_and_fits_slack_limits() {
        let rubrics = RubricSet::builtin();
        for rubric in rubrics.all() {
            let view = start_modal(&rubrics, rubric, Some("Ada"), &StartMetadata::default());
            let blocks = view["blocks"].as_array().unwrap();
            assert!(blocks.len() <= 100);
            assert!(view["title"]["text"].as_str().unwrap().chars().count() <= 24);
            for stage in &rubric.stages {
                assert!(
                    blocks
                        .iter()
                        .any(|b| b["block_id"] == json!(format!("panel:{}", stage.key)))
                );
            }
            assert_eq!(blocks[0]["element"]["initial_value"], json!("Ada"));
        }
    }

    #[test]
    fn errors_are_keyed_by_the_block_they_belong_to() {
        let body = field_errors(&[FieldError {
            field: Field::HiringManager,
            message: "Choose".into(),
        }]);
        assert_eq!(
            body,
            json!({"response_action": "errors", "errors": {"hiring_manager": "Choose"}})
        );
    }
}
