//! Purging a candidate: their data in Loopbot's database (`loopbot purge`, `LOOPBOT_RETAIN`),
//! and, when asked (`--slack`, `LOOPBOT_RETAIN_SLACK=delete`), what Loopbot itself posted about
//! them in Slack.
//!
//! Both are decided in one transaction: the database purge, and a durable job
//! ([`Job::PurgeSlack`]) that a serving worker runs, paced by Slack's rate tiers like every
//! other call. The job is resumable: each run lists what is left and deletes it, so a run cut
//! short (a crash, a 5xx, the pacer's budget) is finished by the next one, and a message that
//! is already gone (`message_not_found`) counts as deleted. In order, it:
//!
//! 1. renames the loop's channel to `loop-<id>-purged`: its name is what the whole workspace
//!    sees. Slack lets no bot rename an archived channel (nor unarchive one), so an archived
//!    channel keeps its name, and the audit entry says so;
//! 2. deletes every message Loopbot posted in the channel, thread replies before their parent;
//! 3. deletes the direct messages Loopbot sent about the loop (briefs, nudges, reminders,
//!    notices): Loopbot does not store their `ts`, but it tags every post with a key naming
//!    its loop (message metadata), so it reads each person's conversation with it since the
//!    loop began and deletes the posts whose key names this loop;
//! 4. archives the channel;
//! 5. records it: `loops.slack_purged_at` and a `slack_purged` audit entry.
//!
//! Messages written by people are theirs: a bot token can delete only the bot's own messages,
//! and Loopbot does not try others.

use sqlx::AnyConnection;

use crate::clock::UnixMillis;
use crate::db::{self, Db};
use crate::domain::channel_name::purged_channel_name;
use crate::domain::interview_loop::LoopId;
use crate::jobs::{Job, JobError, loop_of_post_key};
use crate::metrics::label;
use crate::services::home;
use crate::slack::SlackError;
use crate::slack::client::BotIdentity;
use crate::state::AppState;

/// Who the audit log names for the Slack clean-up itself.
pub const ACTOR: &str = "loopbot";

/// How many names (`loop-7-purged`, `loop-7-purged-2`, …) a rename tries when one is taken.
const RENAME_TRIES: u32 = 5;

/// What [`purge`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    /// Loops whose candidate data was deleted now (not purged before).
    pub loops: usize,
    /// Slack clean-up jobs queued.
    pub slack_jobs: usize,
}

/// In one transaction: purges the candidate data of `loops` (those purged already are
/// skipped; `actor` is named in each audit log), and queues the Slack clean-up of
/// `slack_loops`. Rewrite the file afterwards with [`db::scrub_free_pages`] when something was
/// purged.
pub async fn purge(
    db: &Db,
    loops: &[LoopId],
    slack_loops: &[LoopId],
    actor: &str,
    now: UnixMillis,
) -> sqlx::Result<Purged> {
    let mut tx = db::begin_write(db).await?;
    // On PostgreSQL: a use case changing one of these loops waits for the purge, or the purge
    // for it; no scorecard comes in half-way.
    let all: Vec<LoopId> = loops.iter().chain(slack_loops).copied().collect();
    db::locks::lock_loops(&mut tx, &all).await?;
    let mut purged = 0;
    for &loop_id in loops {
        if db::purge::purge_loop(&mut tx, loop_id, actor, now).await? {
            purged += 1;
        }
    }
    for &loop_id in slack_loops {
        queue_slack_purge(&mut tx, loop_id, actor, now).await?;
    }
    // The App Homes that list these loops are redrawn, once each, at the end.
    home::refresh_for_each(&mut tx, slack_loops, now).await?;
    if !slack_loops.is_empty() {
        // A serving worker on PostgreSQL starts at once; on SQLite at its next tick.
        db::notify_work(&mut tx).await?;
    }
    tx.commit().await?;
    Ok(Purged {
        loops: purged,
        slack_jobs: slack_loops.len(),
    })
}

/// Queues the Slack clean-up of one loop. From now on Loopbot says nothing more about the
/// candidate: the loop's queued posts, its reminders and its unsent briefs and nudges are
/// dropped (a job of the loop that is running finishes first: a loop's jobs run one at a time,
/// in order). The caller redraws the App Homes that list the loop.
async fn queue_slack_purge(
    tx: &mut AnyConnection,
    loop_id: LoopId,
    actor: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    let job = Job::PurgeSlack { loop_id };
    db::jobs::cancel_loop_queued(&mut *tx, loop_id, job.kind()).await?;
    db::reminders::stop_all(&mut *tx, loop_id, None, "purged").await?;
    db::interview_dms::delete_unsent(&mut *tx, loop_id).await?;
    job.enqueue(&mut *tx, now).await?;
    db::audit::record(&mut *tx, loop_id, actor, "slack_purge_queued", "", now).await
}

/// Slack answers that mean "this is not possible here", not "try again": the clean-up notes
/// them and goes on with what it can do.
const CHANNEL_GONE: &[&str] = &["channel_not_found", "not_in_channel"];
const RENAME_REFUSED: &[&str] = &[
    "is_archived",
    "not_authorized",
    "not_in_channel",
    "channel_not_found",
    "method_not_supported_for_channel_type",
    "user_is_restricted",
];
const DELETE_REFUSED: &[&str] = &[
    "cant_delete_message",
    "compliance_exports_prevent_deletion",
    "is_archived",
    "channel_not_found",
    "not_in_channel",
    "no_permission",
];
const ARCHIVE_REFUSED: &[&str] = &[
    "not_in_channel",
    "channel_not_found",
    "cant_archive_general",
    "restricted_action",
    "method_not_supported_for_channel_type",
    "not_supported",
];
const NO_DM: &[&str] = &[
    "user_not_found",
    "user_disabled",
    "cannot_dm_bot",
    "user_not_visible",
    "channel_not_found",
    "not_in_channel",
];

/// Slack's error code when it is one of `codes`.
fn refused<'e>(e: &'e SlackError, codes: &[&str]) -> Option<&'e str> {
    e.code().filter(|code| codes.contains(code))
}

/// What one run did, for the log and the audit entry (never the candidate's name).
#[derive(Debug, Default)]
struct Report {
    deleted_in_channel: usize,
    deleted_in_dms: usize,
    renamed: Option<String>,
    archived: bool,
    /// What could not be done, and why.
    notes: Vec<String>,
}

impl Report {
    fn detail(&self, channel: Option<&str>) -> String {
        let mut parts = Vec::new();
        match channel {
            Some(channel) => {
                parts.push(format!(
                    "Loopbot's messages deleted in channel {channel} and in direct messages"
                ));
                if let Some(name) = &self.renamed {
                    parts.push(format!("channel renamed {name}"));
                }
                if self.archived {
                    parts.push("channel archived".to_string());
                }
            }
            None => parts.push("no channel; Loopbot's direct messages deleted".to_string()),
        }
        parts.extend(self.notes.iter().cloned());
        parts.join("; ")
    }
}

/// The job: cleans up what Loopbot posted about the loop in Slack (see the module's text).
pub async fn purge_slack(state: &AppState, loop_id: LoopId) -> Result<(), JobError> {
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::loop_gone(loop_id))?;
    let me = state.slack.bot_identity().await?;
    let mut report = Report::default();
    if let Some(channel) = &l.channel_id {
        clean_channel(state, &me, loop_id, channel, &mut report).await?;
    }
    clean_direct_messages(state, &me, loop_id, l.created_at, &mut report).await?;
    let now = state.clock.now_ms();
    let mut tx = state.begin_loop(loop_id).await?;
    if let Some(name) = &report.renamed {
        db::loops::set_channel_name(&mut *tx, loop_id, name, now).await?;
    }
    if report.archived && l.archived_at.is_none() {
        db::loops::set_archived(&mut *tx, loop_id, Some(now), now).await?;
    }
    db::purge::mark_slack_purged(&mut *tx, loop_id, now).await?;
    let detail = report.detail(l.channel_id.as_deref());
    db::audit::record(&mut *tx, loop_id, ACTOR, "slack_purged", &detail, now).await?;
    tx.commit().await?;
    tracing::info!(
        loop_id,
        deleted_in_channel = report.deleted_in_channel,
        deleted_in_dms = report.deleted_in_dms,
        renamed = report.renamed.as_deref().unwrap_or(""),
        archived = report.archived,
        notes = report.notes.len(),
        "deleted Loopbot's own messages about a purged loop in Slack"
    );
    for note in &report.notes {
        tracing::warn!(
            loop_id,
            note,
            "Slack clean-up of a purged loop: not everything was possible"
        );
    }
    Ok(())
}

fn is_purged_name(name: &str, loop_id: LoopId) -> bool {
    (1..=RENAME_TRIES).any(|attempt| purged_channel_name(loop_id, attempt) == name)
}

async fn clean_channel(
    state: &AppState,
    me: &BotIdentity,
    loop_id: LoopId,
    channel: &str,
    report: &mut Report,
) -> Result<(), JobError> {
    let info = match state.slack.channel_info(channel).await {
        Ok(info) => info,
        Err(e) => {
            let Some(code) = refused(&e, CHANNEL_GONE) else {
                return Err(e.into());
            };
            report.notes.push(format!(
                "channel {channel}: Slack answered `{code}` (deleted, or Loopbot removed from it): nothing there Loopbot can reach"
            ));
            return Ok(());
        }
    };
    if is_purged_name(&info.name, loop_id) {
        report.renamed = Some(info.name.clone());
    } else if info.is_archived {
        report.notes.push(format!(
            "channel {channel} is archived: Slack lets no bot rename or unarchive a channel, so it keeps its name (unarchive it and purge again, or delete it)"
        ));
    } else {
        rename(state, loop_id, channel, report).await?;
    }
    delete_in_channel(state, me, channel, report).await?;
    if !info.is_archived {
        match state.slack.archive(channel).await {
            Ok(()) => report.archived = true,
            Err(e) => {
                let Some(code) = refused(&e, ARCHIVE_REFUSED) else {
                    return Err(e.into());
                };
                report.notes.push(format!(
                    "channel {channel} could not be archived: Slack answered `{code}`"
                ));
            }
        }
    }
    Ok(())
}

async fn rename(
    state: &AppState,
    loop_id: LoopId,
    channel: &str,
    report: &mut Report,
) -> Result<(), JobError> {
    for attempt in 1..=RENAME_TRIES {
        let name = purged_channel_name(loop_id, attempt);
        match state.slack.rename_channel(channel, &name).await {
            Ok(given) => {
                report.renamed = Some(given);
                return Ok(());
            }
            Err(e) if e.code() == Some("name_taken") => continue,
            Err(e) => {
                let Some(code) = refused(&e, RENAME_REFUSED) else {
                    return Err(e.into());
                };
                report.notes.push(format!(
                    "channel {channel} could not be renamed: Slack answered `{code}`"
                ));
                return Ok(());
            }
        }
    }
    report.notes.push(format!(
        "channel {channel} could not be renamed: {} and the next names are taken",
        purged_channel_name(loop_id, 1)
    ));
    Ok(())
}

/// Deletes one of the bot's messages. `Ok(false)`: Slack refuses deletions in this
/// conversation (noted); stop trying there.
async fn delete(
    state: &AppState,
    conversation: &str,
    ts: &str,
    place: &str,
    report: &mut Report,
) -> Result<bool, JobError> {
    match state.slack.delete_message(conversation, ts).await {
        Ok(gone_now) => {
            if gone_now {
                if place == "dm" {
                    report.deleted_in_dms += 1;
                } else {
                    report.deleted_in_channel += 1;
                }
                state
                    .metrics
                    .inc("loopbot_slack_messages_deleted_total", label("in", place));
            }
            Ok(true)
        }
        Err(e) => {
            let Some(code) = refused(&e, DELETE_REFUSED) else {
                return Err(e.into());
            };
            report.notes.push(format!(
                "{conversation}: Slack refused to delete Loopbot's messages (`{code}`)"
            ));
            Ok(false)
        }
    }
}

/// Every message the bot posted in the channel: in each thread first (replies under anyone's
/// message), then the top-level ones.
async fn delete_in_channel(
    state: &AppState,
    me: &BotIdentity,
    channel: &str,
    report: &mut Report,
) -> Result<(), JobError> {
    let messages = match state.slack.history(channel, None).await {
        Ok(messages) => messages,
        Err(e) => {
            let Some(code) = refused(&e, CHANNEL_GONE) else {
                return Err(e.into());
            };
            report.notes.push(format!(
                "channel {channel}: its messages could not be read (`{code}`)"
            ));
            return Ok(());
        }
    };
    for message in &messages {
        if message.reply_count > 0 {
            let replies = match state.slack.thread_replies(channel, &message.ts).await {
                Ok(replies) => replies,
                Err(e) if e.code() == Some("thread_not_found") => Vec::new(),
                Err(e) => return Err(e.into()),
            };
            for reply in replies.iter().filter(|r| r.is_by(me)) {
                if !delete(state, channel, &reply.ts, "thread", report).await? {
                    return Ok(());
                }
            }
        }
        if message.is_by(me) && !delete(state, channel, &message.ts, "channel", report).await? {
            return Ok(());
        }
    }
    Ok(())
}

/// The direct messages the bot sent about the loop, to everyone who may have had one.
async fn clean_direct_messages(
    state: &AppState,
    me: &BotIdentity,
    loop_id: LoopId,
    created_at: UnixMillis,
    report: &mut Report,
) -> Result<(), JobError> {
    // Nothing about the loop was sent before it existed.
    let oldest = format!("{}.000000", (created_at.div_euclid(1000) - 1).max(0));
    for person in db::purge::people_of(&state.db, loop_id).await? {
        let dm = match state.slack.open_dm(&person).await {
            Ok(dm) => dm,
            Err(e) => {
                let Some(code) = refused(&e, NO_DM) else {
                    return Err(e.into());
                };
                report.notes.push(format!(
                    "no direct messages with {person} to look at (`{code}`)"
                ));
                continue;
            }
        };
        let messages = match state.slack.history(&dm, Some(&oldest)).await {
            Ok(messages) => messages,
            Err(e) => {
                let Some(code) = refused(&e, CHANNEL_GONE) else {
                    return Err(e.into());
                };
                report.notes.push(format!(
                    "direct messages with {person} could not be read (`{code}`)"
                ));
                continue;
            }
        };
        let about_this_loop = messages.iter().filter(|m| {
            m.is_by(me) && m.key.as_deref().and_then(loop_of_post_key) == Some(loop_id)
        });
        for message in about_this_loop {
            if !delete(state, &dm, &message.ts, "dm", report).await? {
                break;
            }
        }
    }
    Ok(())
}
