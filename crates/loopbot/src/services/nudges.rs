//! Nudges asked for by a loop's owner: `/loop remind` (everyone who owes feedback now) and
//! "Remind interviewers" on a missing-stage warning. Each queues one direct message per person.

use anyhow::Context;

use crate::db;
use crate::domain::button::Stale;
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus};
use crate::domain::progress::LoopProgress;
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::services::owners_only;
use crate::slack::mrkdwn::mentions;
use crate::state::AppState;

/// `/loop remind`: nudges everyone who owes feedback now: their interview has ended and they
/// have not submitted. Stages without a time are not chased.
pub async fn remind_owed(state: &AppState, l: &InterviewLoop, user: &str) -> AppResult<String> {
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(l, "send reminders")));
    }
    if l.status != LoopStatus::Open {
        return Err(AppError::refused(
            "This loop is not open any more, so nobody is reminded.",
        ));
    }
    let now = state.clock.now_ms();
    let rubric = state.rubrics.get(&l.rubric_id);
    let ended: Vec<u32> = l
        .stages
        .iter()
        .filter(|s| {
            let minutes = rubric
                .and_then(|r| r.stage(&s.key))
                .map(|r| r.planned_minutes())
                .unwrap_or(60);
            s.interview_at
                .is_some_and(|at| at + i64::from(minutes) * 60_000 <= now)
        })
        .map(|s| s.position)
        .collect();
    let people = nudge_all(state, l, &ended).await?;
    Ok(if people.is_empty() {
        "Nobody owes feedback right now: every interview that has happened has its scorecards, and unscheduled stages are not chased.".to_string()
    } else {
        format!(
            "Reminded {} by direct message, once.",
            mentions(&people, "")
        )
    })
}

/// "Remind interviewers" on a warning: a direct nudge to each of the stage's interviewers who
/// has not submitted.
pub async fn remind_stage(
    state: &AppState,
    user: &str,
    loop_id: LoopId,
    position: u32,
) -> AppResult<String> {
    let Some(l) = db::loops::get(&state.db, loop_id)
        .await
        .context("could not load a loop to remind")?
    else {
        return Err(Stale::NoSuchLoop.into());
    };
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(&l, "remind interviewers")));
    }
    if l.stage_at(position).is_none() {
        return Err(Stale::NoSuchStage.into());
    }
    let people = nudge_all(state, &l, &[position]).await?;
    Ok(if people.is_empty() {
        "There is nobody to remind: nobody is assigned to this stage, or everyone has submitted. Use `/loop panel` to assign someone.".to_string()
    } else {
        format!("Reminded {} by direct message.", mentions(&people, ""))
    })
}

/// Queues one nudge for each interviewer of `positions` who has not submitted; returns them.
async fn nudge_all(
    state: &AppState,
    l: &InterviewLoop,
    positions: &[u32],
) -> anyhow::Result<Vec<String>> {
    let cards = db::scorecards::latest_for_loop(&state.db, l.id)
        .await
        .context("could not load scorecards to remind")?;
    let progress = LoopProgress::from_scorecards(&cards);
    let now = state.clock.now_ms();
    let mut tx = state.begin_loop(l.id).await?;
    let mut people = Vec::new();
    for stage in l.stages.iter().filter(|s| positions.contains(&s.position)) {
        if l.skip_of(stage.position).is_some() {
            continue;
        }
        for user in stage
            .interviewers
            .iter()
            .filter(|u| !progress.has_submitted(stage.position, u))
        {
            Job::Nudge {
                loop_id: l.id,
                position: stage.position,
                user: user.clone(),
                asked_at: now,
            }
            .enqueue(&mut *tx, now)
            .await?;
            if !people.contains(user) {
                people.push(user.clone());
            }
        }
    }
    tx.commit().await.context("could not queue reminders")?;
    Ok(people)
}
