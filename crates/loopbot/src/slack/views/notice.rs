//! A small modal that only tells the person something.

use crate::slack::mrkdwn::clip;
use serde_json::{Value, json};

use super::*;

/// A small modal that just tells the person something (why they cannot do what they tried).
pub fn notice_modal(title: &str, text: &str) -> Value {
    json!({
        "type": "modal",
        "title": plain(&clip(title, 24)),
        "close": plain("OK"),
        "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": clip(text, 3000) } }],
    })
}
