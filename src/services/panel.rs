//! `/loop panel`: change a stage's interviewers or time.

use anyhow::Context;

use crate::db;
use crate::domain::interview_loop::{InterviewLoop, LoopStatus};
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::services::{home, owners_only, reminders};
use crate::slack::ids::panel_block;
use crate::slack::payloads::SubmittedView;
use crate::slack::views;
use crate::slack::{CommandReply, InteractionReply};
use crate::state::AppState;

pub async fn open_form(
    state: &AppState,
    l: &InterviewLoop,
    user: &str,
    trigger_id: &str,
) -> AppResult<CommandReply> {
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(l, "change the panel")));
    }
    if l.status == LoopStatus::Decided {
        return Err(AppError::refused(DECIDED));
    }
    match state
        .slack_inline
        .open_view(trigger_id, &views::panel_modal(l))
        .await
    {
        Ok(_) => Ok(CommandReply::Empty),
        Err(e) => {
            tracing::warn!(error = %e, "could not open the panel form");
            Ok(CommandReply::say(
                "The panel form could not be opened in time. Please run `/loop panel` again.",
            ))
        }
    }
}

const DECIDED: &str =
    "The decision for this loop has been recorded; the panel can no longer change.";

/// "Change the panel" in the coordinator's notice.
pub async fn open_from_button(
    state: &AppState,
    user: &str,
    trigger_id: &str,
    loop_id: i64,
) -> AppResult<Option<String>> {
    let Ok(Some(l)) = db::loops::get(&state.db, loop_id).await else {
        return Ok(None);
    };
    Ok(match open_form(state, &l, user, trigger_id).await? {
        CommandReply::Ephemeral(message) => Some(message.text),
        CommandReply::Empty => None,
    })
}

/// The panel form was submitted. Refusals show next to the first stage's interviewers.
pub async fn submit(
    state: &AppState,
    user: &str,
    view: &SubmittedView,
) -> AppResult<InteractionReply> {
    let Ok(loop_id) = view.private_metadata.parse::<i64>() else {
        return Ok(InteractionReply::Ack);
    };
    let Ok(Some(l)) = db::loops::get(&state.db, loop_id).await else {
        return Ok(InteractionReply::Ack);
    };
    let first_block = l
        .stages
        .first()
        .map(|s| panel_block(&s.key))
        .unwrap_or_default();
    change(state, &l, user, view)
        .await
        .map_err(|e| e.at(first_block))
}

async fn change(
    state: &AppState,
    l: &InterviewLoop,
    user: &str,
    view: &SubmittedView,
) -> AppResult<InteractionReply> {
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(l, "change the panel")));
    }
    if l.status == LoopStatus::Decided {
        return Err(AppError::refused(DECIDED));
    }
    let now = state.clock.now_ms();
    let wanted = views::read_panel(&view.values, l);
    let mut tx = state.begin().await.context("could not change the panel")?;
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
        let detail = format!("stage={position} added={added:?} removed={removed:?} time={at:?}");
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
    tx.commit().await.context("could not change the panel")?;
    Ok(InteractionReply::Ack)
}
