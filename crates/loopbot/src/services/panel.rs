//! `/loop panel`: change a stage's interviewers or time.

use anyhow::Context;

use crate::db;
use crate::domain::button::Stale;
use crate::domain::interview_loop::{InterviewLoop, LoopStatus};
use crate::domain::people::{self, Directory, Person};
use crate::domain::start_form::FieldError;
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::services::{self, home, owners_only, reminders};
use crate::slack::ids::panel_block;
use crate::slack::payloads::SubmittedView;
use crate::slack::views;
use crate::slack::{InteractionReply, Modal};
use crate::state::AppState;

/// `/loop panel` (or "Change the panel"): the form, opened right after the acknowledgement.
pub fn open_form(
    l: &InterviewLoop,
    user: &str,
    trigger_id: &str,
    response_url: Option<&str>,
) -> AppResult<Modal> {
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(l, "change the panel")));
    }
    if l.status == LoopStatus::Decided {
        return Err(AppError::refused(DECIDED));
    }
    Ok(Modal {
        trigger_id: trigger_id.to_string(),
        view: views::panel_modal(l).into(),
        response_url: response_url.map(str::to_string),
        if_not_opened: "Slack did not open the panel form in time. Please try again.".into(),
    })
}

const DECIDED: &str =
    "The decision for this loop has been recorded; the panel can no longer change.";

/// "Change the panel" in the coordinator's notice.
pub async fn open_from_button(
    state: &AppState,
    user: &str,
    trigger_id: &str,
    loop_id: i64,
) -> AppResult<Modal> {
    let Some(l) = db::loops::get(&state.db, loop_id)
        .await
        .context("could not load a loop to change its panel")?
    else {
        return Err(Stale::NoSuchLoop.into());
    };
    open_form(&l, user, trigger_id, None)
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

/// The panel as the form asks for it, by the rules the start form follows too: each stage's
/// interviewers once, at most five, and every newcomer a person in the workspace (those on the
/// panel already were checked when they joined). Or each problem, next to its stage's field.
async fn checked_panel(
    state: &AppState,
    l: &InterviewLoop,
    wanted: Vec<Wanted>,
) -> Result<Vec<Wanted>, Vec<FieldError>> {
    let on_panel: Directory = l
        .stages
        .iter()
        .flat_map(|s| s.interviewers.iter())
        .map(|u| (u.clone(), Person::Member))
        .collect();
    let picked = || {
        wanted.iter().filter_map(|(position, users, _)| {
            let stage = l.stage_at(*position)?;
            Some((stage.key.as_str(), users.as_slice()))
        })
    };
    let ids = people::to_look_up(None, picked().map(|(_, users)| users), &on_panel);
    let known = services::people::look_up(state, ids, on_panel.clone()).await;
    let panel = people::check_panel(picked(), &known)?;
    Ok(wanted
        .iter()
        .filter(|(position, _, _)| l.stage_at(*position).is_some())
        .zip(panel)
        .map(|((position, _, at), users)| (*position, users, *at))
        .collect())
}

/// A stage's position, its interviewers and its interview time, as the form asks for them.
type Wanted = (u32, Vec<String>, Option<crate::clock::UnixMillis>);

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
    let wanted = match checked_panel(state, l, views::read_panel(&view.values, l)).await {
        Ok(wanted) => wanted,
        Err(errors) => return Ok(InteractionReply::Json(views::field_errors(&errors))),
    };
    let mut tx = state
        .begin_loop(l.id)
        .await
        .context("could not change the panel")?;
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
