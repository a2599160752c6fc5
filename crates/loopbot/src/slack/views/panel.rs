//! The panel form: every stage's interviewers and time.

use crate::clock::UnixMillis;
use crate::domain::interview_loop::InterviewLoop;
use crate::domain::people::MAX_INTERVIEWERS_PER_STAGE;
use crate::slack::mrkdwn::{clip, escape};
use crate::slack::views::StateValues;
use serde_json::{Value, json};

use super::*;
use crate::slack::ids::*;

/// The panel form: every stage's interviewers and time, as they are now.
pub fn panel_modal(l: &InterviewLoop) -> Value {
    let mut blocks = vec![
        json!({ "type": "section", "text": { "type": "mrkdwn", "text": clip(&format!("Change the panel for *{}*. Newcomers are invited to the channel; reminders follow the new panel and times.", escape(&l.candidate_name)), 3000) } }),
    ];
    for stage in &l.stages {
        blocks.push(json!({ "type": "divider" }));
        blocks.push(json!({ "type": "section", "text": { "type": "mrkdwn", "text": format!("*Stage {}: {}*", stage.position, stage.name) } }));
        let mut users = json!({ "type": "multi_users_select", "action_id": VALUE, "max_selected_items": MAX_INTERVIEWERS_PER_STAGE, "placeholder": plain("Who runs this interview") });
        if !stage.interviewers.is_empty() {
            users["initial_users"] = json!(stage.interviewers);
        }
        blocks.push(json!({ "type": "input", "block_id": panel_block(&stage.key), "optional": true, "label": plain("Interviewers"), "element": users }));
        let mut time = json!({ "type": "datetimepicker", "action_id": VALUE });
        if let Some(at) = stage.interview_at {
            time["initial_date_time"] = json!(at.div_euclid(1000));
        }
        blocks.push(json!({ "type": "input", "block_id": time_block(&stage.key), "optional": true, "label": plain("Interview date and time"), "element": time }));
    }
    json!({
        "type": "modal",
        "callback_id": PANEL_CALLBACK,
        "title": plain("Change the panel"),
        "submit": plain("Save panel"),
        "close": plain("Cancel"),
        "private_metadata": l.id.to_string(),
        "blocks": blocks,
    })
}

/// Per stage position: (interviewers, interview time).
pub fn read_panel(
    values: &StateValues,
    l: &InterviewLoop,
) -> Vec<(u32, Vec<String>, Option<UnixMillis>)> {
    l.stages
        .iter()
        .map(|stage| {
            let mut users: Vec<String> = Vec::new();
            for u in first_value(values, &panel_block(&stage.key))
                .and_then(|v| v.get("selected_users"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !users.iter().any(|x| x == u) {
                    users.push(u.to_string());
                }
            }
            let at = first_value(values, &time_block(&stage.key))
                .and_then(|v| v.get("selected_date_time"))
                .and_then(Value::as_i64)
                .map(|s| s * 1000);
            (stage.position, users, at)
        })
        .collect()
}
