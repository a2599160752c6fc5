//! `/loop panel`: change a stage's interviewers or time.

use crate::db;
use crate::domain::interview_loop::{InterviewLoop, LoopStatus};
use crate::jobs::Job;
use crate::services::commands::CommandReply;
use crate::services::interactions::InteractionReply;
use crate::services::skips::owners_only;
use crate::services::{SOMETHING_WENT_WRONG, home, reminders};
use crate::slack::Message;
use crate::slack::loop_views;
use crate::slack::payloads::SubmittedView;
use crate::state::AppState;

pub async fn open_form(
    state: &AppState,
    l: &InterviewLoop,
    user: &str,
    trigger_id: &str,
) -> CommandReply {
    if !l.is_owner(user) {
        return CommandReply::Ephemeral(Message::plain(owners_only(l, "change the panel")));
    }
    if l.status == LoopStatus::Decided {
        return CommandReply::Ephemeral(Message::plain(
            "The decision for this loop has been recorded; the panel can no longer change.",
        ));
    }
    match state
        .slack_inline
        .open_view(trigger_id, &loop_views::panel_modal(l))
        .await
    {
        Ok(_) => CommandReply::Empty,
        Err(e) => {
            tracing::warn!(error = %e, "could not open the panel form");
            CommandReply::Ephemeral(Message::plain(
                "The panel form could not be opened in time. Please run `/loop panel` again.",
            ))
        }
    }
}

/// "Change the panel" in the coordinator's notice.
pub async fn open_from_button(state: &AppState, user: &str, trigger_id: &str, loop_id: i64) {
    let Ok(Some(l)) = db::loops::get(&state.db, loop_id).await else {
        return;
    };
    if let CommandReply::Ephemeral(message) = open_form(state, &l, user, trigger_id).await {
        let view = crate::slack::scorecard_views::notice_modal("Change the panel", &message.text);
        if let Err(e) = state.slack_inline.open_view(trigger_id, &view).await {
            tracing::warn!(error = %e, "could not show a notice");
        }
    }
}

pub async fn submit(state: &AppState, user: &str, view: &SubmittedView) -> InteractionReply {
    let Ok(loop_id) = view.private_metadata.parse::<i64>() else {
        return InteractionReply::Ack;
    };
    let Ok(Some(l)) = db::loops::get(&state.db, loop_id).await else {
        return InteractionReply::Ack;
    };
    let first_block = l
        .stages
        .first()
        .map(|s| loop_views::panel_block_of(&s.key))
        .unwrap_or_default();
    let error =
        |text: String| InteractionReply::Json(loop_views::errors(&[(first_block.as_str(), text)]));
    if !l.is_owner(user) {
        return error(owners_only(&l, "change the panel"));
    }
    if l.status == LoopStatus::Decided {
        return error(
            "The decision for this loop has been recorded; the panel can no longer change.".into(),
        );
    }
    let now = state.clock.now_ms();
    let wanted = loop_views::read_panel(&view.values, &l);
    let stored = async {
        let mut tx = db::begin_write(&state.db).await?;
        let mut changed = 0;
        for (position, interviewers, at) in &wanted {
            let Some(stage) = l.stage_at(*position) else {
                continue;
            };
            if &stage.interviewers == interviewers && stage.interview_at == *at {
                continue;
            }
            db::loops::set_panel(&mut tx, l.id, *position, interviewers, *at).await?;
            let added: Vec<&String> = interviewers
                .iter()
                .filter(|u| !stage.interviewers.contains(u))
                .collect();
            let removed: Vec<&String> = stage
                .interviewers
                .iter()
                .filter(|u| !interviewers.contains(u))
                .collect();
            let detail =
                format!("stage={position} added={added:?} removed={removed:?} time={at:?}");
            db::audit::record(&mut *tx, l.id, user, "panel_changed", &detail, now).await?;
            Job::RefreshRubric {
                loop_id: l.id,
                position: *position,
            }
            .enqueue(&mut *tx, now)
            .await?;
            changed += 1;
        }
        if changed > 0 {
            let mut stages = l.stages.clone();
            for stage in &mut stages {
                if let Some((_, interviewers, at)) =
                    wanted.iter().find(|(p, _, _)| *p == stage.position)
                {
                    stage.interviewers = interviewers.clone();
                    stage.interview_at = *at;
                }
            }
            reminders::sync(&mut tx, state, l.id, &l.rubric_id, &stages).await?;
            home::refresh_for(&mut tx, l.id, now).await?;
            Job::InviteMembers { loop_id: l.id }
                .enqueue(&mut *tx, now)
                .await?;
            Job::RefreshSummary { loop_id: l.id }
                .enqueue(&mut *tx, now)
                .await?;
        }
        tx.commit().await
    }
    .await;
    match stored {
        Ok(()) => {
            state.wake.notify_one();
            InteractionReply::Ack
        }
        Err(e) => {
            tracing::error!(error = %e, "could not change the panel");
            error(SOMETHING_WENT_WRONG.into())
        }
    }
}
