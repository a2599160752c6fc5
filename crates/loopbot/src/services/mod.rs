//! Use cases: the only place that decides things. One file per use case; each returns
//! `Result<_, AppError>` (what the person is told apart from what is logged) or, for jobs,
//! `Result<(), JobError>`. Shared by the routes and the worker; a change is written with
//! [`AppState::begin`](crate::state::AppState::begin) and its jobs in one transaction.
//!
//! `commands` and `interactions` are the two dispatchers: they route a parsed slash command or
//! interaction to its use case. The use cases never import them back.

pub mod ats_link;
pub mod ats_notices;
pub mod ats_poll;
pub mod ats_sync;
pub mod ats_write_once;
pub mod ats_writeback;
pub mod buttons;
pub mod commands;
pub mod decide;
pub mod events;
pub mod home;
pub mod interactions;
pub mod interview_dms;
pub mod nudges;
pub mod panel;
pub mod panel_order;
pub mod people;
pub mod provision;
pub mod purge;
pub mod ready;
pub mod reminders;
pub mod scorecards;
pub mod screen_gate;
pub mod skips;
pub mod start_loop;
pub mod status;
pub mod stop_chasing;
pub mod working_hours;

use crate::domain::interview_loop::InterviewLoop;
use crate::slack::Modal;
use crate::slack::mrkdwn::mention;
use crate::slack::views::notice_modal;

/// Only the loop's owners may skip, decide, change the panel or nudge.
pub fn owners_only(l: &InterviewLoop, what: &str) -> String {
    format!(
        "Only the hiring manager ({}) or the coordinator ({}) can {what} in this loop.",
        mention(&l.hiring_manager_id),
        mention(&l.coordinator_id)
    )
}

/// A modal a button opens right after its acknowledgement.
pub fn button_modal(trigger_id: &str, view: serde_json::Value) -> Modal {
    Modal {
        trigger_id: trigger_id.to_string(),
        view: view.into(),
        response_url: None,
        if_not_opened: "Slack did not open the form in time. Please press the button again.".into(),
    }
}

/// A short notice in a modal: the answer to a button (its trigger is single use). If Slack
/// does not open it, the same words go by the response URL.
pub fn notice(trigger_id: &str, title: &str, text: &str) -> Modal {
    Modal {
        if_not_opened: text.to_string(),
        ..button_modal(trigger_id, notice_modal(title, text))
    }
}

/// How long a direct message about a loop still being provisioned waits before it looks again.
const PROVISIONING_WAIT_MS: i64 = 5_000;

/// Direct messages about a loop (reminders, briefs, nudges) wait for its channel: while the
/// loop is still provisioning they are deferred a few seconds, uncounted, never dropped. A
/// loop started with interviews already behind it has reminders due at once, and with several
/// replicas the reminder can run before another replica has finished the channel.
pub(crate) fn after_provisioning(
    l: &InterviewLoop,
    now: crate::clock::UnixMillis,
) -> Result<(), crate::jobs::JobError> {
    if l.status == crate::domain::interview_loop::LoopStatus::Provisioning {
        return Err(crate::jobs::JobError::Deferred {
            until: now + PROVISIONING_WAIT_MS,
        });
    }
    Ok(())
}
