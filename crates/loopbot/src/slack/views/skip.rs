//! The form for skipping a stage with a reason.

use crate::slack::mrkdwn::clip;
use serde_json::{Value, json};

use super::*;
use crate::slack::ids::*;

/// The form for skipping a stage with a reason.
pub fn skip_modal(
    l: &crate::domain::interview_loop::InterviewLoop,
    stage: &crate::domain::interview_loop::Stage,
    metadata: &str,
) -> Value {
    json!({
        "type": "modal",
        "callback_id": SKIP_CALLBACK,
        "title": plain("Skip a stage"),
        "submit": plain("Skip stage"),
        "close": plain("Cancel"),
        "private_metadata": metadata,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": clip(&format!("Skip *{}* for *{}*? The reason goes on the loop's record and in the channel.", stage.name, crate::slack::mrkdwn::escape(&l.candidate_name)), 3000) } },
            {
                "type": "input",
                "block_id": SKIP_REASON_BLOCK,
                "label": plain("Reason"),
                "element": { "type": "plain_text_input", "action_id": VALUE, "multiline": true, "max_length": crate::domain::interview_loop::MAX_REASON_CHARS },
            },
        ],
    })
}

pub fn read_skip_reason(values: &StateValues) -> String {
    value_of(values, SKIP_REASON_BLOCK)
        .and_then(|v| v.get("value"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}
