//! Channels: create, find, rename, read, invite, set the topic, archive.

use serde_json::{Value, json};

use crate::slack::answers::{
    ChannelInfo, InviteOutcome, ListedMessage, listed, next_cursor, string_at,
};
use crate::slack::client::{SlackApi, api_result};
use crate::slack::error::SlackError;
use crate::slack::wire::Method;

impl SlackApi {
    /// The channel's name and whether it is archived. Needs `groups:read` for private channels.
    pub async fn channel_info(&self, channel: &str) -> Result<ChannelInfo, SlackError> {
        let answer = self
            .call(Method::ConversationsInfo, &json!({ "channel": channel }))
            .await?;
        Ok(ChannelInfo {
            name: string_at(&answer, "/channel/name")?,
            is_archived: answer
                .pointer("/channel/is_archived")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        })
    }

    /// Renames a channel (only its creator, here the bot, may); returns the name Slack gave it.
    /// Needs `groups:write` for private channels.
    pub async fn rename_channel(&self, channel: &str, name: &str) -> Result<String, SlackError> {
        let answer = self
            .call(
                Method::ConversationsRename,
                &json!({ "channel": channel, "name": name }),
            )
            .await?;
        Ok(string_at(&answer, "/channel/name").unwrap_or_else(|_| name.to_string()))
    }

    /// Every top-level message of a conversation since `oldest` (a `ts`; `None`: all), newest
    /// first, page by page. Needs `groups:history` (private channels) or `im:history` (DMs).
    pub async fn history(
        &self,
        channel: &str,
        oldest: Option<&str>,
    ) -> Result<Vec<ListedMessage>, SlackError> {
        let mut messages = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut body = json!({ "channel": channel, "limit": 200,
                                   "include_all_metadata": true });
            if let Some(oldest) = oldest {
                body["oldest"] = json!(oldest);
            }
            if !cursor.is_empty() {
                body["cursor"] = json!(cursor);
            }
            let answer = self.call(Method::ConversationsHistory, &body).await?;
            messages.extend(listed(&answer));
            cursor = next_cursor(&answer);
            let more = answer.get("has_more").and_then(Value::as_bool) == Some(true);
            if cursor.is_empty() || !more {
                return Ok(messages);
            }
        }
    }

    /// The replies in the thread of `parent` (the parent itself left out), oldest first, page
    /// by page.
    pub async fn thread_replies(
        &self,
        channel: &str,
        parent: &str,
    ) -> Result<Vec<ListedMessage>, SlackError> {
        let mut messages = Vec::new();
        let mut cursor = String::new();
        loop {
            let mut body = json!({ "channel": channel, "ts": parent, "limit": 200,
                                   "include_all_metadata": true });
            if !cursor.is_empty() {
                body["cursor"] = json!(cursor);
            }
            let answer = self.call(Method::ConversationsReplies, &body).await?;
            messages.extend(listed(&answer).filter(|m| m.ts != parent));
            cursor = next_cursor(&answer);
            let more = answer.get("has_more").and_then(Value::as_bool) == Some(true);
            if cursor.is_empty() || !more {
                return Ok(messages);
            }
        }
    }

    /// Creates a private channel; `Err(Api { code: "name_taken" })` when the name is used.
    pub async fn create_private_channel(&self, name: &str) -> Result<String, SlackError> {
        let answer = self
            .call(
                Method::ConversationsCreate,
                &json!({ "name": name, "is_private": true }),
            )
            .await?;
        string_at(&answer, "/channel/id")
    }

    /// The id of the bot's own private channel named `name`, if it has one (a channel it
    /// created but whose id was lost with Slack's answer or a crash). Needs `groups:read`.
    pub async fn find_own_private_channel(&self, name: &str) -> Result<Option<String>, SlackError> {
        let mut cursor = String::new();
        loop {
            let answer = self
                .call(
                    Method::ConversationsList,
                    &json!({ "types": "private_channel", "exclude_archived": true,
                             "limit": 200, "cursor": cursor }),
                )
                .await?;
            let found = answer
                .get("channels")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
                .and_then(|c| c.get("id").and_then(Value::as_str).map(str::to_string));
            if found.is_some() {
                return Ok(found);
            }
            cursor = next_cursor(&answer);
            if cursor.is_empty() {
                return Ok(None);
            }
        }
    }

    /// Everyone in a channel. Needs `groups:read` for private channels.
    pub async fn members(&self, channel: &str) -> Result<Vec<String>, SlackError> {
        let mut members = Vec::new();
        let mut cursor = String::new();
        loop {
            let answer = self
                .call(
                    Method::ConversationsMembers,
                    &json!({ "channel": channel, "limit": 200, "cursor": cursor }),
                )
                .await?;
            members.extend(
                answer
                    .get("members")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_string),
            );
            cursor = next_cursor(&answer);
            if cursor.is_empty() {
                return Ok(members);
            }
        }
    }

    /// Invites the people of `users` who are not in the channel yet. Slack fails the whole
    /// call when any listed person cannot be invited, unless `force` is set; with it, the
    /// others are invited and the refused ones are reported (a deactivated account, the bot
    /// itself), never fatal.
    pub async fn invite(
        &self,
        channel: &str,
        users: &[String],
    ) -> Result<InviteOutcome, SlackError> {
        if users.is_empty() {
            return Ok(InviteOutcome::default());
        }
        let present = self.members(channel).await?;
        let missing: Vec<&str> = users
            .iter()
            .map(String::as_str)
            .filter(|u| !present.iter().any(|p| p == u))
            .collect();
        if missing.is_empty() {
            return Ok(InviteOutcome::default());
        }
        let body = json!({ "channel": channel, "users": missing.join(","), "force": true });
        let answer = self.call_raw(Method::ConversationsInvite, &body).await?;
        if answer.get("ok").and_then(Value::as_bool) == Some(true) && answer.get("errors").is_none()
        {
            return Ok(InviteOutcome::default());
        }
        let per_user: Vec<(String, String)> = answer
            .get("errors")
            .and_then(Value::as_array)
            .map(|errors| {
                errors
                    .iter()
                    .filter_map(|e| {
                        Some((
                            e.get("user")?.as_str()?.to_string(),
                            e.get("error")?.as_str()?.to_string(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        if per_user.is_empty() {
            return api_result(answer).map(|_| InviteOutcome::default());
        }
        Ok(InviteOutcome {
            refused: per_user
                .into_iter()
                .filter(|(_, e)| e != "already_in_channel")
                .collect(),
        })
    }

    pub async fn set_topic(&self, channel: &str, topic: &str) -> Result<(), SlackError> {
        self.call(
            Method::ConversationsSetTopic,
            &json!({ "channel": channel, "topic": topic }),
        )
        .await
        .map(drop)
    }

    /// Archiving an archived channel is not an error.
    pub async fn archive(&self, channel: &str) -> Result<(), SlackError> {
        match self
            .call(Method::ConversationsArchive, &json!({ "channel": channel }))
            .await
        {
            Err(e) if e.code() == Some("already_archived") => Ok(()),
            other => other.map(drop),
        }
    }
}
