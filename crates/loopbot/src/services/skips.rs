//! Missing and skipped stages: the once-per-stage warning, and deliberate skips with a reason
//! (by command or from the warning's button).

use anyhow::Context;
use sqlx::AnyConnection;

use crate::clock::UnixMillis;
use crate::db;
use crate::db::trip::Trip;
use crate::domain::button::Stale;
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus, MAX_REASON_CHARS, Skip};
use crate::domain::progress::LoopProgress;
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::services::{button_modal, home, owners_only, ready, stop_chasing};
use crate::slack::ids::{parse_stage_value, stage_value};
use crate::slack::mrkdwn::clip;
use crate::slack::payloads::SubmittedView;
use crate::slack::views;
use crate::slack::{InteractionReply, Modal};
use crate::state::AppState;

/// In the caller's transaction: one warning for each of `positions` not warned about before.
pub async fn warn_missing(
    tx: &mut AnyConnection,
    loop_id: LoopId,
    positions: &[u32],
    cause: &str,
    now: UnixMillis,
) -> sqlx::Result<usize> {
    let mut trip = Trip::new();
    let warnings = db::loops::insert_warnings_into(&mut trip, loop_id, positions, cause, now);
    let warned = warnings.new_ones(&trip.run(&mut *tx).await?);
    let mut after = Trip::new();
    warned_into(&mut after, loop_id, &warned, cause, now);
    after.run(tx).await?;
    Ok(warned.len())
}

/// What a first warning about each of `warned` asks for, added to `trip`: its post, its line
/// in the loop's history, and the summary refreshed.
pub fn warned_into(trip: &mut Trip, loop_id: LoopId, warned: &[u32], cause: &str, now: UnixMillis) {
    if warned.is_empty() {
        return;
    }
    let mut jobs: Vec<(Job, UnixMillis)> = warned
        .iter()
        .map(|&position| (Job::SkipWarning { loop_id, position }, now))
        .collect();
    jobs.push((Job::RefreshSummary { loop_id }, now));
    Job::queue_into(trip, &jobs, now);
    for position in warned {
        db::audit::record_into(
            trip,
            loop_id,
            "loopbot",
            "stage_missing",
            &format!("stage={position} cause={cause}"),
            now,
        );
    }
}

/// In the caller's transaction: warns, once per stage, about the stages the loop has moved on
/// without as of `now` (see [`LoopProgress::missing_before_feedback`]).
pub async fn check_missing(
    tx: &mut AnyConnection,
    state: &AppState,
    l: &InterviewLoop,
    cause: &str,
    now: UnixMillis,
) -> sqlx::Result<usize> {
    if l.status != LoopStatus::Open || l.decision.is_some() {
        return Ok(0);
    }
    let cards = db::scorecards::latest_for_loop(&mut *tx, l.id).await?;
    check_missing_in(
        tx,
        state,
        l,
        LoopProgress::from_scorecards(&cards),
        cause,
        now,
    )
    .await
}

/// [`check_missing`] with the loop's progress as the caller's transaction sees it.
pub async fn check_missing_in(
    tx: &mut AnyConnection,
    state: &AppState,
    l: &InterviewLoop,
    progress: LoopProgress,
    cause: &str,
    now: UnixMillis,
) -> sqlx::Result<usize> {
    let missing = missing_in(state, l, progress, now);
    warn_missing(tx, l.id, &missing, cause, now).await
}

/// The stages [`check_missing_in`] would warn about (none once the loop is decided or
/// closed); nothing is written.
pub fn missing_in(
    state: &AppState,
    l: &InterviewLoop,
    progress: LoopProgress,
    now: UnixMillis,
) -> Vec<u32> {
    if l.status != LoopStatus::Open || l.decision.is_some() {
        return Vec::new();
    }
    progress
        .at(now, state.timings(l))
        .missing_before_feedback(l)
}

/// `/loop skip <stage> <reason>`: the stage by key or number.
pub async fn skip_named(
    state: &AppState,
    l: &InterviewLoop,
    user: &str,
    stage: &str,
    reason: &str,
) -> AppResult<String> {
    let Some(found) = l.find_stage(stage) else {
        let names: Vec<String> = l.stages.iter().map(|s| format!("`{}`", s.key)).collect();
        return Err(AppError::refused(format!(
            "There is no stage `{}` in this loop. Use one of {} (or its number).",
            clip(stage, 40),
            names.join(", ")
        )));
    };
    skip(state, l, found.position, user, reason).await
}

/// Skips a stage on purpose; returns the confirmation, worded for the person.
pub async fn skip(
    state: &AppState,
    l: &InterviewLoop,
    position: u32,
    user: &str,
    reason: &str,
) -> AppResult<String> {
    let reason = reason.trim();
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(l, "skip a stage")));
    }
    if l.status == LoopStatus::Decided {
        return Err(AppError::refused(
            "The decision for this loop has been recorded; its stages can no longer change.",
        ));
    }
    let stage = l
        .stage_at(position)
        .ok_or_else(|| AppError::refused("That stage is not part of this loop."))?;
    let already = || AppError::refused(format!("{} is already skipped.", stage.name));
    if l.skip_of(position).is_some() {
        return Err(already());
    }
    if reason.is_empty() {
        return Err(AppError::refused(
            "Give a reason, so the record shows why the stage was skipped.",
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::refused(format!(
            "Keep the reason to {MAX_REASON_CHARS} characters."
        )));
    }
    let cards = db::scorecards::latest_for_loop(&state.db, l.id)
        .await
        .context("could not load scorecards for a skip")?;
    if LoopProgress::from_scorecards(&cards).has_feedback(position) {
        return Err(AppError::refused(format!(
            "{} already has feedback, so it cannot be skipped.",
            stage.name
        )));
    }
    let now = state.clock.now_ms();
    let skip = Skip {
        position,
        reason: reason.to_string(),
        skipped_by: user.to_string(),
        skipped_at: now,
    };
    let mut tx = state
        .begin_loop(l.id)
        .await
        .context("could not record a skip")?;
    if !db::loops::insert_skip(&mut *tx, l.id, &skip).await? {
        return Err(already());
    }
    db::audit::record(
        &mut *tx,
        l.id,
        user,
        "stage_skipped",
        &format!("stage={position} reason={reason}"),
        now,
    )
    .await?;
    Job::SkipNote {
        loop_id: l.id,
        position,
    }
    .enqueue(&mut *tx, now)
    .await?;
    stop_chasing::stop(&mut tx, l.id, Some(position), None, "skipped").await?;
    ready::tell_if_ready(&mut tx, state, l.id, now).await?;
    home::refresh_for(&mut tx, l.id, now).await?;
    Job::RefreshSummary { loop_id: l.id }
        .enqueue(&mut *tx, now)
        .await?;
    tx.commit().await.context("could not record a skip")?;
    Ok(format!(
        ":fast_forward: {} is skipped. The channel and the summary will show the reason.",
        stage.name
    ))
}

/// "Skip with a reason" on a warning: a small form for the reason.
pub async fn open_skip_form(
    state: &AppState,
    user: &str,
    trigger_id: &str,
    loop_id: LoopId,
    position: u32,
) -> AppResult<Modal> {
    let Some(l) = db::loops::get(&state.db, loop_id)
        .await
        .context("could not load a loop to skip a stage of")?
    else {
        return Err(Stale::NoSuchLoop.into());
    };
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(&l, "skip a stage")));
    }
    let stage = l.stage_at(position).ok_or(Stale::NoSuchStage)?;
    let view = views::skip_modal(&l, stage, &stage_value(loop_id, position));
    Ok(button_modal(trigger_id, view))
}

pub async fn submit_skip_form(
    state: &AppState,
    user: &str,
    view: &SubmittedView,
) -> AppResult<InteractionReply> {
    let Some((loop_id, position)) = parse_stage_value(&view.private_metadata) else {
        return Err(AppError::refused(
            "This form is out of date. Close it and try again.",
        ));
    };
    let Ok(Some(l)) = db::loops::get(&state.db, loop_id).await else {
        return Err(AppError::refused("This loop no longer exists."));
    };
    let reason = views::read_skip_reason(&view.values);
    skip(state, &l, position, user, &reason).await?;
    Ok(InteractionReply::Ack)
}
