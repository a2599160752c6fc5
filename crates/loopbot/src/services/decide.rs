//! `/loop decide`: the decision, with an explicit confirmation when stages are missing.

use anyhow::Context;

use crate::db;
use crate::domain::button::Stale;
use crate::domain::debrief::Debrief;
use crate::domain::interview_loop::{
    Decision, InterviewLoop, LoopId, LoopStatus, MAX_REASON_CHARS, MIN_RATIONALE_CHARS,
};
use crate::domain::progress::LoopProgress;
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::services::{ats_writeback, button_modal, home, owners_only, stop_chasing};
use crate::slack::ids::{CONFIRM_BLOCK, OUTCOME_BLOCK, RATIONALE_BLOCK};
use crate::slack::payloads::{SlashCommand, SubmittedView};
use crate::slack::views;
use crate::slack::{CommandReply, InteractionReply, Modal};
use crate::state::AppState;

fn missing_names(l: &InterviewLoop, progress: &LoopProgress) -> Vec<String> {
    progress
        .missing_for_decision(l)
        .into_iter()
        .filter_map(|p| l.stage_at(p).map(|s| s.name.clone()))
        .collect()
}

/// The decision form for `user`, refused to all but the owners of an undecided loop.
async fn form(
    state: &AppState,
    l: &InterviewLoop,
    user: &str,
) -> AppResult<(serde_json::Value, Vec<u32>)> {
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(l, "record the decision")));
    }
    if l.status == LoopStatus::Decided {
        return Err(AppError::refused(
            "The decision for this loop is already recorded; it is shown on the pinned summary.",
        ));
    }
    let cards = db::scorecards::latest_for_loop(&state.db, l.id)
        .await
        .context("could not load scorecards")?;
    let progress = LoopProgress::from_scorecards(&cards);
    let missing = progress.missing_for_decision(l);
    let debrief = debrief_for(state, l, &progress, &cards, user, DEBRIEF_ROOM);
    Ok((
        views::decide_modal(l, &missing_names(l, &progress), &debrief),
        missing,
    ))
}

/// The debrief blocks `user` may see in the decision form or the ready-to-decide message: the
/// full matrix when it fits, else the overview; a note instead while blindness holds (an owner
/// who is also on the panel and still owes a scorecard).
pub(crate) fn debrief_for(
    state: &AppState,
    l: &InterviewLoop,
    progress: &LoopProgress,
    cards: &[crate::domain::scorecard::Scorecard],
    user: &str,
    room: usize,
) -> Vec<serde_json::Value> {
    if let Err(refusal) = crate::domain::access::may_view(l, progress, user) {
        return vec![serde_json::json!({
            "type": "context",
            "elements": [{ "type": "mrkdwn", "text": refusal.message() }],
        })];
    }
    let debrief = Debrief::build(l, state.rubrics.get(&l.rubric_id), cards);
    let full = views::debrief_blocks(&debrief);
    if full.len() <= room {
        full
    } else {
        views::debrief_overview(&debrief)
    }
}

/// Blocks of debrief the decision form has room for.
const DEBRIEF_ROOM: usize = 80;

pub async fn open_form(
    state: &AppState,
    l: &InterviewLoop,
    user: &str,
    command: &SlashCommand,
) -> AppResult<CommandReply> {
    // Opening the form posts nothing: the stages without feedback are shown in it, and a
    // decision recorded without them says so.
    let (view, _) = form(state, l, user).await?;
    Ok(CommandReply::Modal(Modal {
        trigger_id: command.trigger_id.clone(),
        view: view.into(),
        response_url: command.response_url.clone(),
        if_not_opened:
            "Slack did not open the decision form in time. Please run `/loop decide` again.".into(),
    }))
}

/// The decision form from a button (**Stop here** after the screen): the stages still
/// without feedback are listed in it and need the explicit confirmation.
pub async fn open_from_button(
    state: &AppState,
    user: &str,
    trigger_id: &str,
    loop_id: LoopId,
) -> AppResult<Modal> {
    let Some(l) = db::loops::get(&state.db, loop_id)
        .await
        .context("could not load a loop to decide")?
    else {
        return Err(Stale::NoSuchLoop.into());
    };
    let (view, _) = form(state, &l, user).await?;
    Ok(button_modal(trigger_id, view))
}

/// The decision form was submitted. Refusals show next to the rationale unless they belong to
/// another field.
pub async fn submit(
    state: &AppState,
    user: &str,
    view: &SubmittedView,
) -> AppResult<InteractionReply> {
    let Ok(loop_id) = view.private_metadata.parse::<i64>() else {
        return Err(AppError::refused(
            "This form is out of date. Close it and run `/loop decide` again.",
        ));
    };
    let Ok(Some((l, progress))) = state.progress(loop_id).await else {
        return Err(AppError::refused("This loop no longer exists."));
    };
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(&l, "record the decision")));
    }
    let input = views::read_decide(&view.values);
    let mut problems = Vec::new();
    if input.outcome.is_none() {
        problems.push((OUTCOME_BLOCK, "Choose hire, no hire or hold.".to_string()));
    }
    if input.rationale.chars().count() < MIN_RATIONALE_CHARS {
        problems.push((
            RATIONALE_BLOCK,
            format!(
                "Write at least {MIN_RATIONALE_CHARS} characters: why, in terms of the evidence."
            ),
        ));
    }
    let missing_positions = progress.missing_for_decision(&l);
    let missing = missing_names(&l, &progress);
    let has_confirm_box = view.values.contains_key(CONFIRM_BLOCK);
    if !missing.is_empty() && !input.confirmed_missing {
        if has_confirm_box {
            problems.push((
                CONFIRM_BLOCK,
                format!(
                    "Confirm that you are deciding without: {}.",
                    missing.join(", ")
                ),
            ));
        } else {
            problems.push((RATIONALE_BLOCK, format!("Stages are missing now ({}). Close this form and run `/loop decide` again to confirm.", missing.join(", "))));
        }
    }
    if !problems.is_empty() {
        return Ok(InteractionReply::Json(views::errors(&problems)));
    }
    let Some(outcome) = input.outcome else {
        return Ok(InteractionReply::Ack);
    };
    let now = state.clock.now_ms();
    let decision = Decision {
        outcome,
        rationale: input.rationale,
        decided_by: user.to_string(),
        decided_at: now,
        without: missing_positions,
    };
    let mut tx = state
        .begin_loop(l.id)
        .await
        .context("could not record a decision")?;
    if !db::loops::record_decision(&mut *tx, l.id, &decision).await? {
        return Err(AppError::refused(
            "The decision for this loop was already recorded.",
        ));
    }
    let detail = format!(
        "decision={} missing_confirmed={}",
        outcome.as_str(),
        missing.join("|")
    );
    db::audit::record(&mut *tx, l.id, user, "decided", &detail, now).await?;
    Job::DecisionMessage {
        loop_id: l.id,
        at: now,
    }
    .enqueue(&mut *tx, now)
    .await?;
    // Hold keeps the loop open: scorecards stay editable, reminders go on, nothing is
    // archived.
    let is_final = outcome.is_final();
    if is_final {
        stop_chasing::stop(&mut tx, l.id, None, None, "decided").await?;
    }
    redraw(&mut tx, &l, now).await?;
    if let Some(after) = state.settings.archive_after.filter(|_| is_final) {
        let at = now + i64::try_from(after.as_millis()).unwrap_or(i64::MAX / 4);
        Job::ArchiveChannel { loop_id: l.id }
            .enqueue_at(&mut *tx, at, now)
            .await?;
    }
    // Queued last: a loop's jobs run in order, and a slow ATS must not hold up Slack's.
    ats_writeback::queue_decision(&mut tx, l.id, now, now).await?;
    tx.commit().await.context("could not record a decision")?;
    tracing::info!(
        loop_id = l.id,
        outcome = outcome.as_str(),
        "decision recorded"
    );
    Ok(InteractionReply::Ack)
}

/// `/loop reopen <reason>`: a loop with a final decision opens again while its channel is not
/// archived. The decision is cleared from the loop (the audit log keeps it with the reason),
/// scorecards can change, reminders resume, and the channel is told.
pub async fn reopen(
    state: &AppState,
    l: &InterviewLoop,
    user: &str,
    reason: &str,
) -> AppResult<String> {
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(l, "reopen the loop")));
    }
    let Some(decision) = l.decision.as_ref().filter(|_| l.is_decided()) else {
        return Err(AppError::refused(
            "This loop has no final decision to reopen: it is still open.",
        ));
    };
    if l.archived_at.is_some() {
        return Err(AppError::refused(
            "The channel is archived: a decided loop can be reopened only while its channel is open.",
        ));
    }
    let reason = reason.trim();
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::refused(format!(
            "Keep the reason under {MAX_REASON_CHARS} characters."
        )));
    }
    let now = state.clock.now_ms();
    let mut tx = state
        .begin_loop(l.id)
        .await
        .context("could not reopen a loop")?;
    if !db::loops::reopen(&mut *tx, l.id, now).await? {
        return Err(AppError::refused(
            "This loop cannot be reopened now; its channel may have just been archived.",
        ));
    }
    let detail = format!("from={} reason={reason}", decision.outcome.as_str());
    db::audit::record(&mut *tx, l.id, user, "reopened", &detail, now).await?;
    db::jobs::cancel_queued(
        &mut *tx,
        &Job::ArchiveChannel { loop_id: l.id }.dedupe_key(),
    )
    .await?;
    db::reminders::resume(&mut *tx, l.id, "decided", now).await?;
    Job::ReopenNote {
        loop_id: l.id,
        cycle: l.cycle + 1,
    }
    .enqueue(&mut *tx, now)
    .await?;
    redraw(&mut tx, l, now).await?;
    tx.commit().await.context("could not reopen a loop")?;
    tracing::info!(loop_id = l.id, "loop reopened");
    Ok(format!(
        "The loop for {} is open again: scorecards can change, reminders resume, and the decision can be recorded anew.",
        crate::slack::mrkdwn::escape(&l.candidate_name)
    ))
}

/// In the caller's transaction: every view of the loop is redrawn (its stage posts, the
/// summary, the App Home of its people) after a decision or a reopening.
async fn redraw(
    tx: &mut sqlx::AnyConnection,
    l: &InterviewLoop,
    now: crate::clock::UnixMillis,
) -> sqlx::Result<()> {
    home::refresh_for(tx, l.id, now).await?;
    for stage in &l.stages {
        Job::RefreshRubric {
            loop_id: l.id,
            position: stage.position,
        }
        .enqueue(&mut *tx, now)
        .await?;
    }
    Job::RefreshSummary { loop_id: l.id }
        .enqueue(&mut *tx, now)
        .await
}
