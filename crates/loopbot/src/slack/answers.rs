//! What Slack's answers say, as the rest of the app reads them: a user, a channel, a listed
//! message, an opened view, the bot's own identity, an invite's refusals.

/// A view Slack has opened, for later `views.update`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedView {
    pub id: String,
    pub hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub id: String,
    pub real_name: String,
    pub tz: String,
    pub tz_offset_secs: i32,
    pub is_bot: bool,
}

/// Per-user results of an invite that Slack partly refused (e.g. a deactivated account).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InviteOutcome {
    pub refused: Vec<(String, String)>,
}

/// Who the bot token speaks for, as `auth.test` says: the bot's user id (`U…`, the `user` of
/// its messages) and its bot id (`B…`, their `bot_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotIdentity {
    pub user_id: String,
    pub bot_id: String,
}

/// A message as `conversations.history` or `conversations.replies` lists it, with what a
/// clean-up needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedMessage {
    pub ts: String,
    /// The poster's user id ("" when none, e.g. some app or workflow messages).
    pub user: String,
    /// The posting app's bot id ("" for people).
    pub bot_id: String,
    /// The key Loopbot tagged the message with (its metadata), if any.
    pub key: Option<String>,
    /// Replies in its thread (0 when it has none or is itself a reply).
    pub reply_count: u64,
}

impl ListedMessage {
    /// Posted by this bot (its user id, or its bot id).
    pub fn is_by(&self, bot: &BotIdentity) -> bool {
        (!self.user.is_empty() && self.user == bot.user_id)
            || (!self.bot_id.is_empty() && self.bot_id == bot.bot_id)
    }
}

/// What `conversations.info` says about a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelInfo {
    pub name: String,
    pub is_archived: bool,
}
