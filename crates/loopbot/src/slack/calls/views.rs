//! Modals and the Home tab.

use serde_json::{Value, json};

use crate::slack::answers::{OpenedView, opened_view};
use crate::slack::client::SlackApi;
use crate::slack::error::SlackError;
use crate::slack::wire::Method;

impl SlackApi {
    pub async fn open_view(
        &self,
        trigger_id: &str,
        view: &Value,
    ) -> Result<OpenedView, SlackError> {
        let answer = self
            .call(
                Method::ViewsOpen,
                &json!({ "trigger_id": trigger_id, "view": view }),
            )
            .await?;
        opened_view(&answer)
    }

    pub async fn update_view(
        &self,
        view_id: &str,
        hash: Option<&str>,
        view: &Value,
    ) -> Result<OpenedView, SlackError> {
        let mut body = json!({ "view_id": view_id, "view": view });
        if let Some(hash) = hash {
            body["hash"] = json!(hash);
        }
        let answer = self.call(Method::ViewsUpdate, &body).await?;
        opened_view(&answer)
    }

    pub async fn publish_home(&self, user: &str, view: &Value) -> Result<(), SlackError> {
        self.call(
            Method::ViewsPublish,
            &json!({ "user_id": user, "view": view }),
        )
        .await
        .map(drop)
    }
}
