//! Modals and the Home tab. Views are taken by value: they go into the call's arguments as
//! they are, without a copy of their blocks.

use serde_json::{Map, Value};

use crate::slack::answers::{OpenedView, opened_view};
use crate::slack::client::SlackApi;
use crate::slack::error::SlackError;
use crate::slack::replies::View;
use crate::slack::wire::Method;

/// `{key: value, …, "view": view}`, moving the view in.
fn with_view(pairs: &[(&str, &str)], view: Value) -> Value {
    let mut args: Map<String, Value> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    args.insert("view".into(), view);
    Value::Object(args)
}

impl SlackApi {
    pub async fn open_view(&self, trigger_id: &str, view: View) -> Result<OpenedView, SlackError> {
        let answer = match view {
            View::Tree(view) => {
                let args = with_view(&[("trigger_id", trigger_id)], view);
                self.call(Method::ViewsOpen, &args).await?
            }
            View::Text(view) => {
                let trigger = Value::String(trigger_id.to_string());
                let body = format!(r#"{{"trigger_id":{trigger},"view":{view}}}"#);
                self.call_text(Method::ViewsOpen, body).await?
            }
        };
        opened_view(&answer)
    }

    pub async fn update_view(
        &self,
        view_id: &str,
        hash: Option<&str>,
        view: Value,
    ) -> Result<OpenedView, SlackError> {
        let mut pairs = vec![("view_id", view_id)];
        if let Some(hash) = hash {
            pairs.push(("hash", hash));
        }
        let answer = self
            .call(Method::ViewsUpdate, &with_view(&pairs, view))
            .await?;
        opened_view(&answer)
    }

    pub async fn publish_home(&self, user: &str, view: Value) -> Result<(), SlackError> {
        self.call(Method::ViewsPublish, &with_view(&[("user_id", user)], view))
            .await
            .map(drop)
    }
}
