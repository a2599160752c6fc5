//! The job vocabulary that services write and the worker reads: the kinds of outbound work
//! and their payloads as stored in the jobs table, how to queue one in the caller's
//! transaction, and how a job can fail.

use serde::{Deserialize, Serialize};
use sqlx::AnyExecutor;

use crate::clock::UnixMillis;
use crate::db;
use crate::db::jobs::NewJob;
use crate::db::trip::Trip;
use crate::domain::interview_loop::LoopId;

/// At most one edit of the same message per this many milliseconds: one second (Slack allows
/// about one message per second per channel), or the spacing of `chat.update`'s tier if that
/// is longer (Tier 3: 50 a minute, 1.2 s), so that one busy loop's edits never use up the
/// workspace's budget in a burst and then stall.
pub fn message_edit_gap_ms() -> i64 {
    let tier = crate::jobs::tiers::limit_of("chat.update");
    (tier.window_ms / i64::from(tier.calls.max(1)) + 50).max(1_000)
}

/// The workspace's budget for `chat.postMessage` (Slack's "several hundred messages per
/// minute"), which every post spends besides its channel's.
pub const WORKSPACE_POSTS: &str = "chat.postMessage";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// What makes a new loop usable, in the order people need it: channel, invitations,
    /// summary, pin, the coordinator's confirmation; then it queues [`Job::PostStages`].
    ProvisionLoop { loop_id: LoopId },
    /// The rest of a new loop's channel: the topic and each stage's rubric post (each queues
    /// its thread, [`Job::RubricDetail`]).
    PostStages { loop_id: LoopId },
    /// Re-render the pinned summary from the current state (coalesced).
    RefreshSummary { loop_id: LoopId },
    /// Re-render one stage's rubric message (its button and who has submitted).
    RefreshRubric { loop_id: LoopId, position: u32 },
    /// Note in the stage's thread that a scorecard is in (never who, never the scores).
    ScorecardNote { loop_id: LoopId, scorecard_id: i64 },
    /// The full rubric of a stage, as the thread reply under its post.
    RubricDetail { loop_id: LoopId, position: u32 },
    /// The once-per-stage warning that a stage is missing.
    SkipWarning { loop_id: LoopId, position: u32 },
    /// Tell the channel a stage was skipped on purpose, by whom and why.
    SkipNote { loop_id: LoopId, position: u32 },
    /// Post the decision recorded at `at` in the channel (a Hold, then the final decision, or
    /// a decision after a reopening, each get their own message; 0 in jobs queued before).
    DecisionMessage {
        loop_id: LoopId,
        #[serde(default)]
        at: i64,
    },
    /// Tell the channel the loop was reopened (round `cycle`), by whom and why.
    ReopenNote { loop_id: LoopId, cycle: i64 },
    /// Archive the channel some time after the decision.
    ArchiveChannel { loop_id: LoopId },
    /// Invite everyone on the panel (after a panel change); people already there are fine.
    InviteMembers { loop_id: LoopId },
    /// A direct nudge to one interviewer about one stage, asked for by the loop's owner.
    Nudge {
        loop_id: LoopId,
        position: u32,
        user: String,
        asked_at: i64,
    },
    /// Reminder number `seq` for overdue feedback (claimed by the sweep before it is queued).
    Reminder {
        loop_id: LoopId,
        position: u32,
        user: String,
        seq: i64,
    },
    /// The one escalation to the hiring manager.
    Escalation {
        loop_id: LoopId,
        position: u32,
        user: String,
    },
    /// Tell one of the loop's owners (`to`) about a missing scorecard: the escalation, or that
    /// the person has had every reminder (`what`: `escalation` or `chase_ended`).
    OwnerNotice {
        loop_id: LoopId,
        position: u32,
        user: String,
        to: String,
        what: String,
    },
    /// Tell the coordinator that an interviewer says they did not run the interview.
    NotRunNotice {
        loop_id: LoopId,
        position: u32,
        user: String,
    },
    /// Re-render one person's App Home.
    PublishHome { user: String },
    /// Read one ATS application's interviews again and store them (after a webhook or a
    /// poll said it changed). Asked for again while pending, it runs once.
    AtsSync { ats: String, application_id: String },
    /// Tell the coordinator, once, about something in an ATS application Loopbot cannot act on:
    /// an interview the mapping does not name (`what`: `unmapped`, `subject`: the interview id)
    /// or a panel member with no Slack account (`no_slack`, `subject`: their email), or an owner
    /// with none (`no_slack_owner`). `about` is the interview's or the person's name as the ATS
    /// gives it; `to` is who owned the application in Slack when it was read (`None`: the linked
    /// loop's coordinator, found when the job runs; with neither the job fails, visibly, for
    /// `loopbot jobs retry`).
    AtsNotice {
        ats: String,
        application_id: String,
        what: String,
        subject: String,
        candidate: String,
        about: String,
        to: Option<String>,
    },
    /// `/loop link`: check that the ATS application exists (and is not another loop's), then
    /// link the loop to it and queue its read; `user` is told the outcome. Each asking
    /// (`asked_at`) is its own job.
    AtsLink {
        loop_id: LoopId,
        ats: String,
        application_id: String,
        user: String,
        asked_at: i64,
    },
    /// Ask one ATS what changed since the stored cursor and queue an [`Job::AtsSync`] for each
    /// changed application.
    AtsPoll { ats: String },
    /// Write one interviewer's scorecard for one stage back to the loop's ATS (Ashby: their
    /// feedback form; Greenhouse: a private note), once, whatever the number of edits.
    AtsWriteScorecard {
        loop_id: LoopId,
        position: u32,
        user: String,
    },
    /// Write the decision recorded at `at` back to the loop's ATS (Greenhouse: a private note).
    AtsWriteDecision { loop_id: LoopId, at: i64 },
    /// Tell the coordinator that the ATS refused write job `job_id`, and why: `user`'s
    /// scorecard for stage `position`, or (position 0, no user) the decision.
    AtsWriteRefused {
        loop_id: LoopId,
        job_id: i64,
        #[serde(default)]
        position: u32,
        #[serde(default)]
        user: String,
    },
    /// The interviewer's brief before an interview (claimed by the sweep before it is queued).
    Brief {
        loop_id: LoopId,
        position: u32,
        user: String,
        interview_at: i64,
    },
    /// One friendly nudge after the interview, before the scorecard is due.
    InterviewNudge {
        loop_id: LoopId,
        position: u32,
        user: String,
        interview_at: i64,
    },
    /// Tell the coordinator that setting up the loop's channel failed for good, and how to
    /// retry (`loopbot jobs retry <job_id>`).
    SetupFailedNotice { loop_id: LoopId, job_id: i64 },
    /// One quiet channel note that the panel is scheduled out of the rubric's order
    /// (`order`: the stage positions by interview time, e.g. `1,3,2`).
    OrderNote { loop_id: LoopId, order: String },
    /// Every stage is in: the debrief and **Record the decision**, to the hiring manager
    /// (once per round `cycle`).
    ReadyToDecide { loop_id: LoopId, cycle: i64 },
    /// No decision `LOOPBOT_DECIDE_WITHIN` after `ready_at`: one reminder to the hiring manager,
    /// or the note to the coordinator (`to`).
    DecideReminder {
        loop_id: LoopId,
        cycle: i64,
        ready_at: i64,
        to: String,
    },
    /// Tell one of the loop's owners (`to`) that the screen is in: continue, or stop here.
    ScreenGate { loop_id: LoopId, to: String },
    /// After `loopbot purge --slack` (or `LOOPBOT_RETAIN`): delete Loopbot's own messages about
    /// the loop in Slack (its channel, the channel's threads, the direct messages tagged with
    /// the loop), rename the channel to `loop-<id>-purged` and archive it. Asking again while
    /// it is queued or running changes nothing; once done or failed, it runs again.
    PurgeSlack { loop_id: LoopId },
    /// Tell the coordinator whom Slack would not add to the channel, and why.
    InviteRefusedNotice {
        loop_id: LoopId,
        /// (user, Slack's error code)
        refused: Vec<(String, String)>,
    },
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::ProvisionLoop { .. } => "provision_loop",
            Job::PostStages { .. } => "post_stages",
            Job::RefreshSummary { .. } => "refresh_summary",
            Job::RefreshRubric { .. } => "refresh_rubric",
            Job::ScorecardNote { .. } => "scorecard_note",
            Job::RubricDetail { .. } => "rubric_detail",
            Job::SkipWarning { .. } => "skip_warning",
            Job::SkipNote { .. } => "skip_note",
            Job::DecisionMessage { .. } => "decision_message",
            Job::ReopenNote { .. } => "reopen_note",
            Job::ArchiveChannel { .. } => "archive_channel",
            Job::InviteMembers { .. } => "invite_members",
            Job::Nudge { .. } => "nudge",
            Job::Reminder { .. } => "reminder",
            Job::Escalation { .. } => "escalation",
            Job::NotRunNotice { .. } => "not_run_notice",
            Job::PublishHome { .. } => "publish_home",
            Job::AtsSync { .. } => "ats_sync",
            Job::AtsPoll { .. } => "ats_poll",
            Job::AtsNotice { .. } => "ats_notice",
            Job::AtsLink { .. } => "ats_link",
            Job::AtsWriteScorecard { .. } => "ats_write_scorecard",
            Job::AtsWriteDecision { .. } => "ats_write_decision",
            Job::AtsWriteRefused { .. } => "ats_write_refused",
            Job::Brief { .. } => "brief",
            Job::OwnerNotice { .. } => "owner_notice",
            Job::InterviewNudge { .. } => "interview_nudge",
            Job::SetupFailedNotice { .. } => "setup_failed_notice",
            Job::InviteRefusedNotice { .. } => "invite_refused_notice",
            Job::OrderNote { .. } => "order_note",
            Job::ScreenGate { .. } => "screen_gate",
            Job::ReadyToDecide { .. } => "ready_to_decide",
            Job::DecideReminder { .. } => "decide_reminder",
            Job::PurgeSlack { .. } => "purge_slack",
        }
    }

    fn loop_id(&self) -> Option<LoopId> {
        Some(match self {
            Job::ProvisionLoop { loop_id }
            | Job::PostStages { loop_id }
            | Job::RefreshSummary { loop_id }
            | Job::RefreshRubric { loop_id, .. }
            | Job::ScorecardNote { loop_id, .. }
            | Job::RubricDetail { loop_id, .. }
            | Job::SkipWarning { loop_id, .. }
            | Job::SkipNote { loop_id, .. }
            | Job::DecisionMessage { loop_id, .. }
            | Job::ReopenNote { loop_id, .. }
            | Job::ArchiveChannel { loop_id }
            | Job::InviteMembers { loop_id }
            | Job::Nudge { loop_id, .. }
            | Job::Reminder { loop_id, .. }
            | Job::Escalation { loop_id, .. }
            | Job::NotRunNotice { loop_id, .. }
            | Job::SetupFailedNotice { loop_id, .. }
            | Job::Brief { loop_id, .. }
            | Job::OwnerNotice { loop_id, .. }
            | Job::InterviewNudge { loop_id, .. }
            | Job::InviteRefusedNotice { loop_id, .. }
            | Job::OrderNote { loop_id, .. }
            | Job::ScreenGate { loop_id, .. }
            | Job::ReadyToDecide { loop_id, .. }
            | Job::DecideReminder { loop_id, .. }
            | Job::AtsWriteScorecard { loop_id, .. }
            | Job::AtsWriteDecision { loop_id, .. }
            | Job::AtsWriteRefused { loop_id, .. }
            | Job::AtsLink { loop_id, .. }
            | Job::PurgeSlack { loop_id } => *loop_id,
            Job::PublishHome { .. }
            | Job::AtsSync { .. }
            | Job::AtsPoll { .. }
            | Job::AtsNotice { .. } => return None,
        })
    }

    /// Unique among all jobs ever queued (until pruned); also the key a job's posts are tagged
    /// with, so a retry finds what an earlier run posted.
    pub fn dedupe_key(&self) -> String {
        match self {
            Job::ProvisionLoop { loop_id } => format!("provision:{loop_id}"),
            Job::PostStages { loop_id } => format!("stages:{loop_id}"),
            Job::RefreshSummary { loop_id } => format!("summary:{loop_id}"),
            Job::RefreshRubric { loop_id, position } => format!("rubric:{loop_id}:{position}"),
            Job::ScorecardNote { scorecard_id, .. } => format!("note:scorecard:{scorecard_id}"),
            Job::RubricDetail { loop_id, position } => {
                format!("rubric_detail:{loop_id}:{position}")
            }
            Job::SkipWarning { loop_id, position } => format!("warning:{loop_id}:{position}"),
            Job::SkipNote { loop_id, position } => format!("skip:{loop_id}:{position}"),
            Job::DecisionMessage { loop_id, at: 0 } => format!("decision:{loop_id}"),
            Job::DecisionMessage { loop_id, at } => format!("decision:{loop_id}:{at}"),
            Job::ReopenNote { loop_id, cycle } => format!("reopen:{loop_id}:{cycle}"),
            Job::ArchiveChannel { loop_id } => format!("archive:{loop_id}"),
            Job::InviteMembers { loop_id } => format!("invite:{loop_id}"),
            Job::Nudge {
                loop_id,
                position,
                user,
                asked_at,
            } => {
                format!("nudge:{loop_id}:{position}:{user}:{asked_at}")
            }
            Job::Reminder {
                loop_id,
                position,
                user,
                seq,
            } => {
                format!("reminder:{loop_id}:{position}:{user}:{seq}")
            }
            Job::Escalation {
                loop_id,
                position,
                user,
            } => format!("escalation:{loop_id}:{position}:{user}"),
            Job::NotRunNotice {
                loop_id,
                position,
                user,
            } => format!("not_run:{loop_id}:{position}:{user}"),
            Job::PublishHome { user } => format!("home:{user}"),
            Job::AtsSync {
                ats,
                application_id,
            } => format!("ats_sync:{ats}:{application_id}"),
            Job::AtsPoll { ats } => format!("ats_poll:{ats}"),
            Job::AtsNotice {
                ats,
                application_id,
                what,
                subject,
                ..
            } => format!("ats_notice:{ats}:{application_id}:{what}:{subject}"),
            Job::AtsLink {
                loop_id,
                ats,
                application_id,
                asked_at,
                ..
            } => format!("ats_link:{loop_id}:{ats}:{application_id}:{asked_at}"),
            Job::AtsWriteScorecard {
                loop_id,
                position,
                user,
            } => format!("ats_scorecard:{loop_id}:{position}:{user}"),
            Job::AtsWriteDecision { loop_id, at } => format!("ats_decision:{loop_id}:{at}"),
            Job::AtsWriteRefused {
                loop_id, job_id, ..
            } => format!("ats_refused:{loop_id}:{job_id}"),
            Job::Brief {
                loop_id,
                position,
                user,
                interview_at,
            } => format!("brief:{loop_id}:{position}:{user}:{interview_at}"),
            Job::OwnerNotice {
                loop_id,
                position,
                user,
                to,
                what,
            } => format!("owner:{what}:{loop_id}:{position}:{user}:{to}"),
            Job::InterviewNudge {
                loop_id,
                position,
                user,
                interview_at,
            } => format!("interview_nudge:{loop_id}:{position}:{user}:{interview_at}"),
            Job::SetupFailedNotice { loop_id, job_id } => {
                format!("setup_failed:{loop_id}:{job_id}")
            }
            Job::OrderNote { loop_id, order } => format!("order:{loop_id}:{order}"),
            Job::ScreenGate { loop_id, to } => format!("screen_gate:{loop_id}:{to}"),
            Job::ReadyToDecide { loop_id, cycle } => format!("ready:{loop_id}:{cycle}"),
            Job::DecideReminder {
                loop_id, cycle, to, ..
            } => format!("decide_reminder:{loop_id}:{cycle}:{to}"),
            Job::InviteRefusedNotice { loop_id, refused } => {
                let users: Vec<&str> = refused.iter().map(|(u, _)| u.as_str()).collect();
                format!("invite_refused:{loop_id}:{}", users.join(","))
            }
            Job::PurgeSlack { loop_id } => format!("purge_slack:{loop_id}"),
        }
    }

    /// Refresh jobs re-render from the current state: asking again while one is pending
    /// costs nothing, and they run at most once per gap.
    fn is_refresh(&self) -> bool {
        matches!(
            self,
            Job::RefreshSummary { .. }
                | Job::RefreshRubric { .. }
                | Job::InviteMembers { .. }
                | Job::PublishHome { .. }
        )
    }

    /// Asked for again after it ran (done or failed), it runs again: refreshes, and the Slack
    /// clean-up of a purge (an operator may run `purge --slack` again, e.g. after unarchiving
    /// the channel so that it can be renamed).
    fn runs_again(&self) -> bool {
        self.is_refresh()
            || matches!(
                self,
                Job::PurgeSlack { .. } | Job::AtsSync { .. } | Job::AtsPoll { .. }
            )
    }

    /// How long to wait before running again when asked for again mid-run.
    pub fn rerun_gap_ms(&self) -> i64 {
        if self.is_refresh() {
            message_edit_gap_ms()
        } else {
            0
        }
    }

    /// How urgent the job is among due jobs (lower first): what someone is waiting on now
    /// (a new loop's channel and summary, a notice, an edit that shows a submission), then
    /// reminders and briefs, then the rest of a new channel, and clean-up last.
    pub fn priority(&self) -> i64 {
        match self {
            Job::ProvisionLoop { .. }
            | Job::SetupFailedNotice { .. }
            | Job::InviteRefusedNotice { .. }
            | Job::NotRunNotice { .. }
            | Job::AtsWriteRefused { .. }
            | Job::PublishHome { .. } => 0,
            Job::RefreshSummary { .. }
            | Job::ScorecardNote { .. }
            | Job::SkipWarning { .. }
            | Job::SkipNote { .. }
            | Job::DecisionMessage { .. }
            | Job::ReopenNote { .. }
            | Job::Nudge { .. }
            | Job::ScreenGate { .. }
            | Job::ReadyToDecide { .. }
            | Job::InviteMembers { .. } => 10,
            Job::Reminder { .. }
            | Job::Escalation { .. }
            | Job::OwnerNotice { .. }
            | Job::Brief { .. }
            | Job::InterviewNudge { .. }
            | Job::DecideReminder { .. }
            | Job::AtsSync { .. }
            | Job::AtsNotice { .. }
            | Job::AtsLink { .. }
            | Job::AtsPoll { .. }
            | Job::AtsWriteScorecard { .. }
            | Job::AtsWriteDecision { .. } => 20,
            Job::PostStages { .. } | Job::RefreshRubric { .. } | Job::OrderNote { .. } => 30,
            Job::RubricDetail { .. } => 40,
            Job::ArchiveChannel { .. } | Job::PurgeSlack { .. } => 50,
        }
    }

    /// The Slack budget the job's first call spends, which the claim reserves: a method's
    /// workspace budget, or posts into the loop's channel ([`db::jobs::LOOP_CHANNEL_POSTS`]).
    /// A job whose post goes to a person's DM names the workspace's budget for posts
    /// ([`WORKSPACE_POSTS`]): the DM's channel is known only as it runs, and its own budget
    /// (one post a second, one person) is reserved then. `None` for jobs that call Slack not
    /// at all, or only after an ATS answers.
    pub fn budget(&self) -> Option<&'static str> {
        Some(match self {
            Job::Nudge { .. }
            | Job::Reminder { .. }
            | Job::Escalation { .. }
            | Job::OwnerNotice { .. }
            | Job::NotRunNotice { .. }
            | Job::Brief { .. }
            | Job::InterviewNudge { .. }
            | Job::SetupFailedNotice { .. }
            | Job::InviteRefusedNotice { .. }
            | Job::ScreenGate { .. }
            | Job::ReadyToDecide { .. }
            | Job::DecideReminder { .. }
            | Job::AtsNotice { .. }
            | Job::AtsWriteRefused { .. } => WORKSPACE_POSTS,
            Job::ScorecardNote { .. }
            | Job::RubricDetail { .. }
            | Job::SkipWarning { .. }
            | Job::SkipNote { .. }
            | Job::DecisionMessage { .. }
            | Job::ReopenNote { .. }
            | Job::OrderNote { .. } => db::jobs::LOOP_CHANNEL_POSTS,
            Job::ProvisionLoop { .. } => "conversations.create",
            Job::RefreshSummary { .. } | Job::RefreshRubric { .. } => "chat.update",
            Job::InviteMembers { .. } => "conversations.members",
            Job::ArchiveChannel { .. } => "conversations.archive",
            Job::PublishHome { .. } => "views.publish",
            Job::PurgeSlack { .. } => "conversations.info",
            _ => return None,
        })
    }

    pub fn queue_at(&self, run_at: UnixMillis) -> NewJob {
        NewJob {
            kind: self.kind().to_string(),
            loop_id: self.loop_id(),
            payload: serde_json::to_string(self).unwrap_or_default(),
            dedupe_key: Some(self.dedupe_key()),
            run_at,
            budget: self.budget().map(str::to_string),
            priority: self.priority(),
        }
    }

    /// Queues the job in the caller's transaction, to run now.
    pub async fn enqueue(&self, db: impl AnyExecutor<'_>, now: UnixMillis) -> sqlx::Result<()> {
        self.enqueue_at(db, now, now).await
    }

    /// Queues the job in the caller's transaction, to run at `run_at`.
    pub async fn enqueue_at(
        &self,
        db: impl AnyExecutor<'_>,
        run_at: UnixMillis,
        now: UnixMillis,
    ) -> sqlx::Result<()> {
        let job = self.queue_at(run_at);
        if self.runs_again() {
            db::jobs::enqueue_refresh(db, &job, now, self.rerun_gap_ms()).await
        } else {
            db::jobs::enqueue(db, &job, now).await.map(drop)
        }
    }

    /// Queues `jobs`, each with when it runs, in the caller's transaction and in the order
    /// given (a loop's jobs run in the order they were queued): one statement for each run of
    /// neighbours that are queued alike, all in one trip ([`Job::queue_into`]).
    pub async fn enqueue_all(
        conn: &mut sqlx::AnyConnection,
        jobs: &[(Job, UnixMillis)],
        now: UnixMillis,
    ) -> sqlx::Result<()> {
        let mut trip = Trip::new();
        Job::queue_into(&mut trip, jobs, now);
        trip.run(conn).await.map(drop)
    }

    /// [`Job::enqueue_all`]'s statements added to `trip`, to go with other statements: every
    /// statement is a hop to the database while the change holds the writer.
    pub fn queue_into(trip: &mut Trip, jobs: &[(Job, UnixMillis)], now: UnixMillis) {
        let alike = |job: &Job| job.runs_again().then(|| job.rerun_gap_ms());
        for run in jobs.chunk_by(|(a, _), (b, _)| alike(a) == alike(b)) {
            let rows: Vec<_> = run.iter().map(|(job, at)| job.queue_at(*at)).collect();
            db::jobs::queue_into(trip, &rows, now, alike(&run[0].0));
        }
    }

    pub fn from_payload(payload: &str) -> Result<Job, serde_json::Error> {
        serde_json::from_str(payload)
    }
}

/// The loop a post's key (its message metadata, see [`Job::dedupe_key`]) names: keys are
/// `<kind>:<loop id>:…` (`owner:<what>:<loop id>:…` for owner notices); a scorecard note's
/// key names the scorecard, and a Home is not a post. `None` for keys of no loop.
pub fn loop_of_post_key(key: &str) -> Option<LoopId> {
    let mut parts = key.split(':');
    let id = match parts.next()? {
        "owner" => parts.nth(1)?,
        "note" | "home" => return None,
        _ => parts.next()?,
    };
    id.parse().ok().filter(|id: &LoopId| *id > 0)
}

#[cfg(test)]
mod tests;
