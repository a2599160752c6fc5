//! Messages: post (once, reconciled by metadata), reply, DM, edit, pin, delete.

use serde_json::{Value, json};

use crate::slack::answers::{POST_EVENT_TYPE, string_at};
use crate::slack::client::SlackApi;
use crate::slack::error::SlackError;
use crate::slack::messages::Message;
use crate::slack::wire::Method;

impl SlackApi {
    /// Deletes one of the bot's own messages. `Ok(false)` when Slack no longer has it
    /// (`message_not_found`: deleted already, by an earlier run or by a person), which is as
    /// good as done.
    pub async fn delete_message(&self, channel: &str, ts: &str) -> Result<bool, SlackError> {
        match self
            .call(Method::ChatDelete, &json!({ "channel": channel, "ts": ts }))
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("message_not_found") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The DM channel with a user (the same one every time, so asked once per process).
    pub async fn open_dm(&self, user: &str) -> Result<String, SlackError> {
        if let Some(channel) = self.dms.get(user) {
            return Ok(channel);
        }
        let answer = self
            .call(Method::ConversationsOpen, &json!({ "users": user }))
            .await?;
        let channel = string_at(&answer, "/channel/id")?;
        self.dms.remember(user, &channel);
        Ok(channel)
    }

    /// Posts a message tagged with `key` (message metadata), exactly once: when this run may
    /// repeat one that Slack acted on (a crash before the answer was stored, or an answer
    /// lost in a timeout or a 5xx), the channel's recent history is searched for a message
    /// with the same key first, and its `ts` is returned instead of posting again. Reading
    /// the history needs `groups:history` (loop channels) and `im:history` (direct messages).
    pub async fn post_message(
        &self,
        channel: &str,
        message: &Message,
        key: &str,
    ) -> Result<String, SlackError> {
        self.post(channel, None, message, key).await
    }

    /// Posts a reply in the thread of `parent`, exactly once (a retry looks in the thread's
    /// replies, which `conversations.history` does not list).
    pub async fn post_reply(
        &self,
        channel: &str,
        parent: &str,
        message: &Message,
        key: &str,
    ) -> Result<String, SlackError> {
        self.post(channel, Some(parent), message, key).await
    }

    async fn post(
        &self,
        channel: &str,
        thread: Option<&str>,
        message: &Message,
        key: &str,
    ) -> Result<String, SlackError> {
        if self.retrying
            && let Some(ts) = self
                .find_posted(channel, thread, key)
                .await
                .map_err(undecided)?
        {
            tracing::info!(channel, key, "found the message an earlier run posted");
            return Ok(ts);
        }
        let metadata = json!({ "event_type": POST_EVENT_TYPE, "event_payload": { "key": key } });
        let mut body = json!({ "channel": channel, "text": message.text, "blocks": message.blocks,
                               "metadata": metadata });
        if let Some(parent) = thread {
            body["thread_ts"] = json!(parent);
        }
        let answer = self.call(Method::ChatPostMessage, &body).await?;
        string_at(&answer, "/ts")
    }

    /// Posts a direct message to `user`, exactly once (see [`SlackApi::post_message`]).
    pub async fn send_dm(
        &self,
        user: &str,
        message: &Message,
        key: &str,
    ) -> Result<String, SlackError> {
        let dm = self.open_dm(user).await?;
        self.post_message(&dm, message, key).await
    }

    /// The `ts` of the bot's recent message in `channel` tagged with `key`, if any.
    async fn find_posted(
        &self,
        channel: &str,
        thread: Option<&str>,
        key: &str,
    ) -> Result<Option<String>, SlackError> {
        let answer = match thread {
            None => {
                self.call(
                    Method::ConversationsHistory,
                    &json!({ "channel": channel, "limit": 100, "include_all_metadata": true }),
                )
                .await?
            }
            Some(parent) => {
                self.call(
                    Method::ConversationsReplies,
                    &json!({ "channel": channel, "ts": parent, "limit": 200,
                             "include_all_metadata": true }),
                )
                .await?
            }
        };
        Ok(answer
            .get("messages")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|m| {
                m.pointer("/metadata/event_type").and_then(Value::as_str) == Some(POST_EVENT_TYPE)
                    && m.pointer("/metadata/event_payload/key")
                        .and_then(Value::as_str)
                        == Some(key)
            })
            .and_then(|m| m.get("ts").and_then(Value::as_str).map(str::to_string)))
    }

    pub async fn update_message(
        &self,
        channel: &str,
        ts: &str,
        message: &Message,
    ) -> Result<(), SlackError> {
        self.call(
            Method::ChatUpdate,
            &json!({ "channel": channel, "ts": ts, "text": message.text, "blocks": message.blocks }),
        )
        .await
        .map(drop)
    }

    pub async fn post_ephemeral(
        &self,
        channel: &str,
        user: &str,
        message: &Message,
    ) -> Result<(), SlackError> {
        self.call(
            Method::ChatPostEphemeral,
            &json!({ "channel": channel, "user": user, "text": message.text, "blocks": message.blocks }),
        )
        .await
        .map(drop)
    }

    /// Pinning a pinned message is not an error.
    pub async fn pin(&self, channel: &str, ts: &str) -> Result<(), SlackError> {
        match self
            .call(
                Method::PinsAdd,
                &json!({ "channel": channel, "timestamp": ts }),
            )
            .await
        {
            Err(e) if e.code() == Some("already_pinned") => Ok(()),
            other => other.map(drop),
        }
    }
}

/// What a failed look for an earlier copy means for the post it guards. Where Slack says the
/// conversation is out of reach, the post would be refused the same way: that answer stands
/// (permanent, or a refused token). Any other refusal (a malformed or unreadable request, a
/// missing `*:history` scope, a code we do not know) says nothing about the post: posting could
/// make a second copy and giving up could lose the only one, so the post waits and is tried
/// again, like an outage, with the refusal in its error for the operator.
fn undecided(e: SlackError) -> SlackError {
    match &e {
        SlackError::Api { code, .. }
            if !e.is_transient() && !e.is_auth_failure() && !conversation_out_of_reach(code) =>
        {
            SlackError::Unavailable(format!(
                "could not look for an earlier copy of the post: Slack answered `{code}`"
            ))
        }
        _ => e,
    }
}

/// Codes by which a history or replies lookup says the conversation or thread cannot be
/// posted to either.
fn conversation_out_of_reach(code: &str) -> bool {
    matches!(
        code,
        "channel_not_found" | "not_in_channel" | "is_archived" | "thread_not_found"
    )
}
