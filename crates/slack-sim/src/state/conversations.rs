//! `conversations.*` methods.

use serde_json::{Value, json};

use super::{ApiError, Args, MethodResult, SimState, TopicMeta, err, ok_body};
use crate::{BOT_USER_ID, SimChannel, TEAM_ID};

const TOPIC_MAX: usize = 250;

impl SimState {
    /// A channel usable by the bot: exists, bot is a member, not archived.
    pub(super) fn writable_channel(&self, id: &str) -> Result<&SimChannel, ApiError> {
        let channel = self.channel(id).ok_or_else(|| err("channel_not_found"))?;
        if !channel.members.iter().any(|m| m == BOT_USER_ID) {
            return Err(err("not_in_channel"));
        }
        if channel.is_archived {
            return Err(err("is_archived"));
        }
        Ok(channel)
    }

    pub(super) fn channel_json(&self, channel: &SimChannel, now_ms: i64) -> Value {
        let topic = self.topics.get(&channel.id).cloned().unwrap_or_default();
        let previous = self
            .previous_names
            .get(&channel.id)
            .cloned()
            .unwrap_or_default();
        json!({
            "id": channel.id,
            "name": channel.name,
            "is_channel": !channel.is_im,
            "is_group": false,
            "is_im": channel.is_im,
            "is_mpim": false,
            "is_private": channel.is_private,
            "created": channel.created,
            "is_archived": channel.is_archived,
            "is_general": false,
            "unlinked": 0,
            "name_normalized": channel.name,
            "is_shared": false,
            "is_ext_shared": false,
            "is_org_shared": false,
            "is_pending_ext_shared": false,
            "pending_shared": [],
            "pending_connected_team_ids": [],
            "shared_team_ids": [TEAM_ID],
            "context_team_id": TEAM_ID,
            "creator": channel.creator,
            "is_member": channel.members.iter().any(|m| m == BOT_USER_ID),
            "last_read": "0000000000.000000",
            "topic": { "value": channel.topic, "creator": topic.creator, "last_set": topic.last_set },
            "purpose": { "value": "", "creator": "", "last_set": 0 },
            "previous_names": previous,
            "updated": now_ms,
        })
    }

    pub(super) fn conversations_create(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let name = args.raw_str("name").unwrap_or_default();
        validate_channel_name(&name).map_err(err)?;
        let taken = self.channels.iter().any(|c| !c.is_im && c.name == name)
            || self.previous_names.values().flatten().any(|n| *n == name);
        if taken {
            return Err(err("name_taken"));
        }
        let channel = SimChannel {
            id: self.next_id('C'),
            name,
            is_private: args.bool("is_private"),
            is_archived: false,
            is_im: false,
            members: vec![BOT_USER_ID.to_string()],
            topic: String::new(),
            creator: BOT_USER_ID.to_string(),
            created: now_ms.div_euclid(1000),
        };
        let body = json!({ "channel": self.channel_json(&channel, now_ms) });
        self.channels.push(channel);
        ok_body(body)
    }

    /// Slack's all-or-nothing invite: any refused user (already a member, the bot itself,
    /// unknown, deactivated) fails the call and nobody is added. With `force`, the valid users
    /// are added and the refusals still come back as `ok:false` + `errors`.
    pub(super) fn conversations_invite(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let id = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        if self.writable_channel(&id)?.is_im {
            return Err(err("method_not_supported_for_channel_type"));
        }
        let users = args.list("users");
        if users.is_empty() {
            return Err(err("no_user"));
        }
        if users.len() > 1000 {
            return Err(err("too_many_users"));
        }
        let force = args.bool("force");
        let mut errors = Vec::new();
        let mut valid = Vec::new();
        for user in users {
            match self.invite_check(&id, &user, &valid) {
                Ok(()) => valid.push(user),
                Err(code) => errors.push(json!({ "user": user, "ok": false, "error": code })),
            }
        }
        // Without `force`, one refused user fails the whole call and nobody is added.
        if (errors.is_empty() || force)
            && let Some(c) = self.channel_mut(&id)
        {
            c.members.extend(valid);
        }
        if let Some(first) = errors.first() {
            let code = first["error"].as_str().unwrap_or("cant_invite").to_string();
            let mut e = err(&code);
            e.extra.insert("errors".into(), Value::Array(errors));
            return Err(e);
        }
        let channel = self
            .channel(&id)
            .cloned()
            .ok_or_else(|| err("channel_not_found"))?;
        ok_body(json!({ "channel": self.channel_json(&channel, now_ms) }))
    }

    pub(super) fn invite_check(
        &self,
        channel: &str,
        user: &str,
        added: &[String],
    ) -> Result<(), &'static str> {
        if user == BOT_USER_ID {
            return Err("cant_invite_self");
        }
        let Some(u) = self.user(user) else {
            return Err("user_not_found");
        };
        if u.deleted {
            return Err("cant_invite");
        }
        let member = self
            .channel(channel)
            .is_some_and(|c| c.members.iter().any(|m| m == user));
        if member || added.iter().any(|a| a == user) {
            return Err("already_in_channel");
        }
        Ok(())
    }

    pub(super) fn conversations_set_topic(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let id = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        self.writable_channel(&id)?;
        let topic = args.raw_str("topic").unwrap_or_default();
        if topic.chars().count() > TOPIC_MAX {
            return Err(err("too_long"));
        }
        if let Some(c) = self.channel_mut(&id) {
            c.topic = topic;
        }
        self.topics.insert(
            id.clone(),
            TopicMeta {
                creator: BOT_USER_ID.to_string(),
                last_set: now_ms.div_euclid(1000),
            },
        );
        let channel = self
            .channel(&id)
            .cloned()
            .ok_or_else(|| err("channel_not_found"))?;
        ok_body(json!({ "channel": self.channel_json(&channel, now_ms) }))
    }

    pub(super) fn conversations_archive(&mut self, args: &Args<'_>) -> MethodResult {
        let id = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        let channel = self.channel(&id).ok_or_else(|| err("channel_not_found"))?;
        if channel.is_im {
            return Err(err("method_not_supported_for_channel_type"));
        }
        if channel.is_archived {
            return Err(err("already_archived"));
        }
        if !channel.members.iter().any(|m| m == BOT_USER_ID) {
            return Err(err("not_in_channel"));
        }
        if let Some(c) = self.channel_mut(&id) {
            c.is_archived = true;
        }
        ok_body(json!({}))
    }

    /// Slack's `conversations.rename`: only the channel's creator may rename it
    /// (`not_authorized`); the bot must be in it (`not_in_channel`; a private channel it is not
    /// in is `channel_not_found`); archived channels cannot be renamed (`is_archived`); DMs
    /// are `method_not_supported_for_channel_type`. The new name follows the rules of
    /// `conversations.create` and must not be another channel's name, now or before
    /// (`name_taken`). Renaming a channel to the name it has changes nothing.
    pub(super) fn conversations_rename(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let id = args
            .str("channel")
            .ok_or_else(|| err("channel_not_found"))?;
        let channel = self.channel(&id).ok_or_else(|| err("channel_not_found"))?;
        if channel.is_im {
            return Err(err("method_not_supported_for_channel_type"));
        }
        if !channel.members.iter().any(|m| m == BOT_USER_ID) {
            return Err(err(if channel.is_private {
                "channel_not_found"
            } else {
                "not_in_channel"
            }));
        }
        if channel.is_archived {
            return Err(err("is_archived"));
        }
        if channel.creator != BOT_USER_ID {
            return Err(err("not_authorized"));
        }
        let name = args.raw_str("name").unwrap_or_default();
        validate_channel_name(&name).map_err(err)?;
        if name != channel.name {
            let taken = self
                .channels
                .iter()
                .any(|c| !c.is_im && c.id != id && c.name == name)
                || self
                    .previous_names
                    .iter()
                    .any(|(c, names)| *c != id && names.contains(&name));
            if taken {
                return Err(err("name_taken"));
            }
            self.rename_channel(&id, &name);
        }
        let channel = self
            .channel(&id)
            .cloned()
            .ok_or_else(|| err("channel_not_found"))?;
        ok_body(json!({ "channel": self.channel_json(&channel, now_ms) }))
    }

    /// The DM channel with `user`, created on first use. Returns (id, already existed).
    pub(super) fn open_dm(&mut self, now_ms: i64, user: &str) -> Result<(String, bool), ApiError> {
        if user == BOT_USER_ID {
            return Err(err("cannot_dm_bot"));
        }
        let u = self.user(user).ok_or_else(|| err("user_not_found"))?;
        if u.deleted {
            return Err(err("user_disabled"));
        }
        if let Some(id) = self.dms.get(user) {
            return Ok((id.clone(), true));
        }
        let id = self.next_id('D');
        self.channels.push(SimChannel {
            id: id.clone(),
            name: user.to_string(),
            is_private: true,
            is_archived: false,
            is_im: true,
            members: vec![BOT_USER_ID.to_string(), user.to_string()],
            topic: String::new(),
            creator: BOT_USER_ID.to_string(),
            created: now_ms.div_euclid(1000),
        });
        self.dms.insert(user.to_string(), id.clone());
        Ok((id, false))
    }

    pub(super) fn conversations_open(&mut self, now_ms: i64, args: &Args<'_>) -> MethodResult {
        let users = args.list("users");
        match users.len() {
            0 => return Err(err("users_list_not_supplied")),
            1 => {}
            9.. => return Err(err("too_many_users")),
            _ => {
                return Err(ApiError::with_messages(
                    "invalid_arguments",
                    vec!["the simulator supports only one-to-one DMs".into()],
                ));
            }
        }
        let (id, existed) = self.open_dm(now_ms, &users[0])?;
        let mut body = json!({ "channel": { "id": id } });
        if existed {
            body["no_op"] = json!(true);
            body["already_open"] = json!(true);
        }
        ok_body(body)
    }
}

/// Slack's channel-name rules for `conversations.create`.
pub fn validate_channel_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("invalid_name_required");
    }
    if name.chars().count() > 80 {
        return Err("invalid_name_maxlength");
    }
    if name.chars().all(|c| c.is_ascii_punctuation()) {
        return Err("invalid_name_punctuation");
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if !name.chars().all(allowed) {
        return Err("invalid_name_specials");
    }
    Ok(())
}
