//! Missing and skipped stages: the once-per-stage warning, deliberate skips with a reason, and
//! reminding a stage's interviewers from the warning.

use sqlx::SqliteConnection;

use crate::clock::UnixMillis;
use crate::db;
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus, Skip};
use crate::domain::progress::LoopProgress;
use crate::jobs::Job;
use crate::services::SOMETHING_WENT_WRONG;
use crate::services::interactions::InteractionReply;
use crate::slack::actions::stage_value;
use crate::slack::mrkdwn::{mention, mentions};
use crate::slack::payloads::SubmittedView;
use crate::slack::scorecard_views::notice_modal;
use crate::state::AppState;

pub const SKIP_CALLBACK: &str = "stage_skip";
pub const MAX_REASON_CHARS: usize = 500;

/// In the caller's transaction: one warning for each of `positions` not warned about before.
pub async fn warn_missing(
    tx: &mut SqliteConnection,
    loop_id: LoopId,
    positions: &[u32],
    cause: &str,
    now: UnixMillis,
) -> sqlx::Result<usize> {
    let mut warned = 0;
    for position in positions {
        if db::loops::insert_warning(&mut *tx, loop_id, *position, cause, now).await? {
            Job::SkipWarning {
                loop_id,
                position: *position,
            }
            .enqueue(&mut *tx, now)
            .await?;
            db::audit::record(
                &mut *tx,
                loop_id,
                "loopbot",
                "stage_missing",
                &format!("stage={position} cause={cause}"),
                now,
            )
            .await?;
            warned += 1;
        }
    }
    if warned > 0 {
        Job::RefreshSummary { loop_id }
            .enqueue(&mut *tx, now)
            .await?;
    }
    Ok(warned)
}

/// Only the loop's owners may skip, decide, change the panel or nudge.
pub fn owners_only(l: &InterviewLoop, what: &str) -> String {
    format!(
        "Only the hiring manager ({}) or the coordinator ({}) can {what} in this loop.",
        mention(&l.hiring_manager_id),
        mention(&l.coordinator_id)
    )
}

/// Skips a stage on purpose. `Err` is the reason it was refused, worded for the person.
pub async fn skip(
    state: &AppState,
    l: &InterviewLoop,
    position: u32,
    user: &str,
    reason: &str,
) -> Result<String, String> {
    let reason = reason.trim();
    if !l.is_owner(user) {
        return Err(owners_only(l, "skip a stage"));
    }
    if l.status == LoopStatus::Decided {
        return Err(
            "The decision for this loop has been recorded; its stages can no longer change.".into(),
        );
    }
    let stage = l
        .stage_at(position)
        .ok_or("That stage is not part of this loop.")?;
    if l.skip_of(position).is_some() {
        return Err(format!("{} is already skipped.", stage.name));
    }
    if reason.is_empty() {
        return Err("Give a reason, so the record shows why the stage was skipped.".into());
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(format!("Keep the reason to {MAX_REASON_CHARS} characters."));
    }
    let cards = db::scorecards::latest_for_loop(&state.db, l.id)
        .await
        .map_err(|_| SOMETHING_WENT_WRONG.to_string())?;
    if LoopProgress::from_scorecards(&cards).has_feedback(position) {
        return Err(format!(
            "{} already has feedback, so it cannot be skipped.",
            stage.name
        ));
    }
    let now = state.clock.now_ms();
    let skip = Skip {
        position,
        reason: reason.to_string(),
        skipped_by: user.to_string(),
        skipped_at: now,
    };
    let stored = async {
        let mut tx = db::begin_write(&state.db).await?;
        if !db::loops::insert_skip(&mut *tx, l.id, &skip).await? {
            return Ok::<bool, sqlx::Error>(false);
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
        crate::services::reminders::stop(&mut tx, l.id, Some(position), None, "skipped").await?;
        crate::services::home::refresh_for(&mut tx, l.id, now).await?;
        Job::RefreshSummary { loop_id: l.id }
            .enqueue(&mut *tx, now)
            .await?;
        tx.commit().await?;
        Ok(true)
    }
    .await;
    match stored {
        Ok(true) => {
            state.wake.notify_one();
            Ok(format!(
                ":fast_forward: {} is skipped. The channel and the summary will show the reason.",
                stage.name
            ))
        }
        Ok(false) => Err(format!("{} is already skipped.", stage.name)),
        Err(e) => {
            tracing::error!(error = %e, "could not record a skip");
            Err(SOMETHING_WENT_WRONG.into())
        }
    }
}

async fn notice(state: &AppState, trigger_id: &str, title: &str, text: &str) {
    if let Err(e) = state
        .slack_inline
        .open_view(trigger_id, &notice_modal(title, text))
        .await
    {
        tracing::warn!(error = %e, "could not show a notice");
    }
}

/// "Skip with a reason" on a warning: a small form for the reason.
pub async fn open_skip_form(
    state: &AppState,
    user: &str,
    trigger_id: &str,
    loop_id: LoopId,
    position: u32,
) {
    let Ok(Some(l)) = db::loops::get(&state.db, loop_id).await else {
        return notice(
            state,
            trigger_id,
            "Skip a stage",
            "This loop no longer exists.",
        )
        .await;
    };
    if !l.is_owner(user) {
        return notice(
            state,
            trigger_id,
            "Skip a stage",
            &owners_only(&l, "skip a stage"),
        )
        .await;
    }
    let Some(stage) = l.stage_at(position) else {
        return;
    };
    let view = crate::slack::views::skip_modal(&l, stage, &stage_value(loop_id, position));
    if let Err(e) = state.slack_inline.open_view(trigger_id, &view).await {
        tracing::warn!(error = %e, "could not open the skip form");
    }
}

pub async fn submit_skip_form(
    state: &AppState,
    user: &str,
    view: &SubmittedView,
) -> InteractionReply {
    let error = |text: &str| InteractionReply::Json(crate::slack::views::skip_error(text));
    let Some((loop_id, position)) =
        crate::slack::actions::parse_stage_value(&view.private_metadata)
    else {
        return error("This form is out of date. Close it and try again.");
    };
    let Ok(Some(l)) = db::loops::get(&state.db, loop_id).await else {
        return error("This loop no longer exists.");
    };
    let reason = crate::slack::views::read_skip_reason(&view.values);
    match skip(state, &l, position, user, &reason).await {
        Ok(_) => InteractionReply::Ack,
        Err(text) => error(&text),
    }
}

/// "Remind interviewers" on a warning: a direct nudge to each of the stage's interviewers who
/// has not submitted.
pub async fn remind_stage(
    state: &AppState,
    user: &str,
    trigger_id: &str,
    loop_id: LoopId,
    position: u32,
) {
    let Ok(Some(l)) = db::loops::get(&state.db, loop_id).await else {
        return notice(state, trigger_id, "Remind", "This loop no longer exists.").await;
    };
    if !l.is_owner(user) {
        return notice(
            state,
            trigger_id,
            "Remind",
            &owners_only(&l, "remind interviewers"),
        )
        .await;
    }
    let text = match nudge_all(state, &l, &[position]).await {
        Ok(people) if people.is_empty() => "There is nobody to remind: nobody is assigned to this stage, or everyone has submitted. Use `/loop panel` to assign someone.".to_string(),
        Ok(people) => format!("Reminded {} by direct message.", mentions(&people, "")),
        Err(e) => {
            tracing::error!(error = %e, "could not queue reminders");
            SOMETHING_WENT_WRONG.to_string()
        }
    };
    notice(state, trigger_id, "Remind", &text).await;
}

/// Queues one nudge for each interviewer of `positions` who has not submitted; returns them.
pub async fn nudge_all(
    state: &AppState,
    l: &InterviewLoop,
    positions: &[u32],
) -> anyhow::Result<Vec<String>> {
    let cards = db::scorecards::latest_for_loop(&state.db, l.id).await?;
    let progress = LoopProgress::from_scorecards(&cards);
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
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
    tx.commit().await?;
    state.wake.notify_one();
    Ok(people)
}
