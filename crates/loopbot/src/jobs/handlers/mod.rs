//! Each job kind's handler: one place that says which code runs a kind. The handlers of the
//! messages that track a loop's channel live here by family (summary and rubric edits, thread
//! and channel notes, the channel itself); the rest are use cases in `services/`.

pub mod channel;
pub mod edits;
pub mod notes;

use crate::jobs::{Job, JobError};
use crate::services::{
    ats_writeback, home, interview_dms, panel_order, provision, purge, ready, reminders,
    screen_gate,
};
use crate::state::AppState;

pub async fn execute(state: &AppState, job: &Job) -> Result<(), JobError> {
    match job {
        Job::ProvisionLoop { loop_id } => provision::provision_loop(state, *loop_id).await,
        Job::AtsSync {
            ats,
            application_id,
        } => crate::services::ats_sync::sync_application(state, ats, application_id).await,
        Job::AtsPoll { ats } => crate::services::ats_poll::poll(state, ats).await,
        Job::AtsLink {
            loop_id,
            ats,
            application_id,
            user,
            asked_at,
        } => {
            crate::services::ats_link::link(state, *loop_id, ats, application_id, user, *asked_at)
                .await
        }
        Job::AtsNotice {
            ats,
            application_id,
            what,
            subject,
            candidate,
            about,
            to,
        } => {
            let notice = crate::services::ats_notices::Notice {
                what: what.clone(),
                subject: subject.clone(),
                about: about.clone(),
            };
            crate::services::ats_notices::tell(
                state,
                ats,
                application_id,
                candidate,
                &notice,
                to.as_deref(),
            )
            .await
        }
        Job::AtsWriteScorecard {
            loop_id,
            position,
            user,
        } => ats_writeback::write_scorecard(state, *loop_id, *position, user).await,
        Job::AtsWriteDecision { loop_id, at } => {
            ats_writeback::write_decision(state, *loop_id, *at).await
        }
        Job::AtsWriteRefused {
            loop_id,
            job_id,
            position,
            user,
        } => ats_writeback::refused_notice(state, *loop_id, *job_id, *position, user).await,
        Job::PostStages { loop_id } => provision::post_stages(state, *loop_id).await,
        Job::RefreshSummary { loop_id } => edits::summary(state, *loop_id).await,
        Job::RefreshRubric { loop_id, position } => edits::rubric(state, *loop_id, *position).await,
        Job::ScorecardNote {
            loop_id,
            scorecard_id,
        } => notes::scorecard_note(state, *loop_id, *scorecard_id).await,
        Job::RubricDetail { loop_id, position } => {
            notes::rubric_detail(state, *loop_id, *position).await
        }
        Job::SkipWarning { loop_id, position } => {
            notes::skip_warning(state, *loop_id, *position).await
        }
        Job::SkipNote { loop_id, position } => notes::skip_note(state, *loop_id, *position).await,
        Job::DecisionMessage { loop_id, at } => notes::decision_message(state, *loop_id, *at).await,
        Job::ReopenNote { loop_id, cycle } => notes::reopen_note(state, *loop_id, *cycle).await,
        Job::ArchiveChannel { loop_id } => channel::archive_channel(state, *loop_id).await,
        Job::InviteMembers { loop_id } => channel::invite_members(state, *loop_id).await,
        Job::Nudge {
            loop_id,
            position,
            user,
            asked_at,
        } => channel::nudge(state, *loop_id, *position, user, *asked_at).await,
        Job::Reminder {
            loop_id,
            position,
            user,
            seq,
        } => reminders::remind(state, *loop_id, *position, user, *seq).await,
        Job::Escalation {
            loop_id,
            position,
            user,
        } => reminders::escalate(state, *loop_id, *position, user).await,
        Job::OwnerNotice {
            loop_id,
            position,
            user,
            to,
            what,
        } => reminders::owner_notice(state, *loop_id, *position, user, to, what).await,
        Job::NotRunNotice {
            loop_id,
            position,
            user,
        } => reminders::not_run_notice(state, *loop_id, *position, user).await,
        Job::PublishHome { user } => home::publish(state, user).await,
        Job::Brief {
            loop_id,
            position,
            user,
            interview_at,
        } => interview_dms::brief(state, *loop_id, *position, user, *interview_at).await,
        Job::InterviewNudge {
            loop_id,
            position,
            user,
            interview_at,
        } => interview_dms::nudge(state, *loop_id, *position, user, *interview_at).await,
        Job::SetupFailedNotice { loop_id, job_id } => {
            provision::setup_failed_notice(state, *loop_id, *job_id).await
        }
        Job::InviteRefusedNotice { loop_id, refused } => {
            provision::invite_refused_notice(state, *loop_id, refused).await
        }
        Job::OrderNote { loop_id, order } => panel_order::post_note(state, *loop_id, order).await,
        Job::ScreenGate { loop_id, to } => screen_gate::ask(state, *loop_id, to).await,
        Job::ReadyToDecide { loop_id, cycle } => ready::tell(state, *loop_id, *cycle).await,
        Job::DecideReminder {
            loop_id,
            cycle,
            ready_at,
            to,
        } => ready::remind(state, *loop_id, *cycle, *ready_at, to).await,
        Job::PurgeSlack { loop_id } => purge::purge_slack(state, *loop_id).await,
    }
}
