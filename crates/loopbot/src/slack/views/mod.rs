//! Modals, one file per form: how each looks (rendering) and how its submission is read back
//! (parsing). The ids they use live in [`crate::slack::ids`].

use std::collections::HashMap;

use serde_json::{Value, json};

mod debrief;
mod decide;
mod home;
mod notice;
mod panel;
mod scorecard;
mod scorecards;
mod skip;
mod start;

pub use debrief::*;
pub use decide::*;
pub use home::*;
pub use notice::*;
pub use panel::*;
pub use scorecard::*;
pub use scorecards::*;
pub use skip::*;
pub use start::*;

/// `view.state.values`: block id → action id → value object.
pub type StateValues = HashMap<String, HashMap<String, Value>>;

pub(crate) fn value_of<'a>(values: &'a StateValues, block: &str) -> Option<&'a Value> {
    values
        .get(block)
        .and_then(|actions| actions.values().next())
}

pub(crate) fn plain(text: &str) -> Value {
    json!({ "type": "plain_text", "text": text, "emoji": true })
}

/// `{"response_action":"errors","errors":{block_id: message}}` for the given pairs.
pub fn errors(pairs: &[(&str, String)]) -> Value {
    let map: serde_json::Map<String, Value> = pairs
        .iter()
        .map(|(block, message)| (block.to_string(), Value::String(message.clone())))
        .collect();
    json!({ "response_action": "errors", "errors": map })
}
