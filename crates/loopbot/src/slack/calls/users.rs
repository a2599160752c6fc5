//! People: by id and by email.

use serde_json::{Value, json};

use crate::slack::answers::UserInfo;
use crate::slack::client::SlackApi;
use crate::slack::error::SlackError;
use crate::slack::wire::Method;

impl SlackApi {
    /// The Slack user with this email address (`users.lookupByEmail`), or `None` when Slack
    /// has nobody active with it (`users_not_found`).
    pub async fn lookup_by_email(&self, email: &str) -> Result<Option<String>, SlackError> {
        match self
            .call(Method::UsersLookupByEmail, &json!({ "email": email }))
            .await
        {
            Ok(answer) => Ok(answer["user"]["id"].as_str().map(str::to_string)),
            Err(SlackError::Api { code, .. }) if code == "users_not_found" => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn user_info(&self, user: &str) -> Result<UserInfo, SlackError> {
        let answer = self
            .call(Method::UsersInfo, &json!({ "user": user }))
            .await?;
        let u = answer.get("user").cloned().unwrap_or(Value::Null);
        let text = |key: &str| {
            u.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        Ok(UserInfo {
            id: text("id"),
            real_name: text("real_name"),
            tz: text("tz"),
            tz_offset_secs: u.get("tz_offset").and_then(Value::as_i64).unwrap_or(0) as i32,
            is_bot: u.get("is_bot").and_then(Value::as_bool).unwrap_or(false),
        })
    }
}
