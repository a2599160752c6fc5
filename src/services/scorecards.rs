//! Scorecards: open the form (only for the stage's panel), store each submission as a new
//! version with its Slack follow-ups in one transaction, and show full scorecards to those
//! allowed to read them.

use crate::db;
use crate::domain::access::{self, Refusal};
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus};
use crate::domain::progress::LoopProgress;
use crate::domain::scorecard;
use crate::jobs::Job;
use crate::services::interactions::InteractionReply;
use crate::services::{SOMETHING_WENT_WRONG, home, reminders, skips};
use crate::slack::payloads::SubmittedView;
use crate::slack::scorecard_views::{self, ScorecardMetadata};
use crate::state::AppState;

async fn load(
    state: &AppState,
    loop_id: LoopId,
) -> anyhow::Result<Option<(InterviewLoop, LoopProgress)>> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(None);
    };
    let cards = db::scorecards::latest_for_loop(&state.db, loop_id).await?;
    Ok(Some((l, LoopProgress::from_scorecards(&cards))))
}

/// Shows a short notice in a modal (the trigger is single use; this is its one use).
async fn notice(state: &AppState, trigger_id: &str, title: &str, text: &str) {
    let view = scorecard_views::notice_modal(title, text);
    if let Err(e) = state.slack_inline.open_view(trigger_id, &view).await {
        tracing::warn!(error = %e, "could not show a notice");
    }
}

/// "Submit scorecard" / "Edit my scorecard" was pressed.
pub async fn open(state: &AppState, user: &str, trigger_id: &str, loop_id: LoopId, position: u32) {
    let loaded = match load(state, loop_id).await {
        Ok(Some(loaded)) => loaded,
        Ok(None) => {
            return notice(
                state,
                trigger_id,
                "Scorecard",
                "This loop no longer exists.",
            )
            .await;
        }
        Err(e) => {
            tracing::error!(error = %e, "could not load a loop");
            return notice(state, trigger_id, "Scorecard", SOMETHING_WENT_WRONG).await;
        }
    };
    let (l, _) = loaded;
    if let Err(refusal) = access::may_score(&l, position, user) {
        return notice(state, trigger_id, "Scorecard", &refusal.message()).await;
    }
    let (Some(stage), Some(stage_rubric)) = (
        l.stage_at(position),
        l.stage_at(position).and_then(|s| {
            state
                .rubrics
                .get(&l.rubric_id)
                .and_then(|r| r.stage(&s.key))
        }),
    ) else {
        return notice(
            state,
            trigger_id,
            "Scorecard",
            "The rubric of this stage is no longer available; ask your Loopbot admin.",
        )
        .await;
    };
    let existing = db::scorecards::latest(&state.db, loop_id, position, user)
        .await
        .ok()
        .flatten();
    let view = scorecard_views::scorecard_modal(&l, stage, stage_rubric, existing.as_ref());
    if let Err(e) = state.slack_inline.open_view(trigger_id, &view).await {
        tracing::warn!(error = %e, "could not open a scorecard form");
    }
}

/// The scorecard form was submitted.
pub async fn submit(state: &AppState, user: &str, view: &SubmittedView) -> InteractionReply {
    let reply = |message: &str| InteractionReply::Json(scorecard_views::refusal_response(message));
    let Ok(metadata) = serde_json::from_str::<ScorecardMetadata>(&view.private_metadata) else {
        return reply("This form is out of date. Close it and open the scorecard again.");
    };
    let l = match db::loops::get(&state.db, metadata.loop_id).await {
        Ok(Some(l)) => l,
        Ok(None) => return reply("This loop no longer exists."),
        Err(e) => {
            tracing::error!(error = %e, "could not load a loop");
            return reply(SOMETHING_WENT_WRONG);
        }
    };
    if let Err(refusal) = access::may_score(&l, metadata.position, user) {
        return reply(&refusal.message());
    }
    let Some(stage_rubric) = l.stage_at(metadata.position).and_then(|s| {
        state
            .rubrics
            .get(&l.rubric_id)
            .and_then(|r| r.stage(&s.key))
    }) else {
        return reply("The rubric of this stage is no longer available; ask your Loopbot admin.");
    };
    let input = scorecard_views::read_scorecard(&view.values, stage_rubric);
    let body = match scorecard::validate(&input, stage_rubric) {
        Ok(body) => body,
        Err(errors) => return InteractionReply::Json(scorecard_views::errors_response(&errors)),
    };
    match store(state, &l, metadata.position, user, &body, metadata.based_on).await {
        Ok(Stored::Saved | Stored::AlreadySaved) => InteractionReply::Ack,
        Ok(Stored::Decided) => reply(&Refusal::LoopDecided.message()),
        Err(e) => {
            tracing::error!(error = %e, "could not store a scorecard");
            reply(SOMETHING_WENT_WRONG)
        }
    }
}

enum Stored {
    Saved,
    AlreadySaved,
    Decided,
}

async fn store(
    state: &AppState,
    l: &InterviewLoop,
    position: u32,
    user: &str,
    body: &scorecard::ScorecardBody,
    based_on: i64,
) -> anyhow::Result<Stored> {
    let now = state.clock.now_ms();
    let mut tx = db::begin_write(&state.db).await?;
    let Some(stored) =
        db::scorecards::insert_version(&mut *tx, l.id, position, user, body, based_on, now).await?
    else {
        let decided = db::loops::status(&mut *tx, l.id).await? == Some(LoopStatus::Decided);
        return Ok(if decided {
            Stored::Decided
        } else {
            Stored::AlreadySaved
        });
    };
    let action = if stored.version == 1 {
        "scorecard_submitted"
    } else {
        "scorecard_edited"
    };
    let detail = format!("stage={position} version={}", stored.version);
    db::audit::record(&mut *tx, l.id, user, action, &detail, now).await?;
    Job::ScorecardNote {
        loop_id: l.id,
        scorecard_id: stored.id,
    }
    .enqueue(&mut *tx, now)
    .await?;
    Job::RefreshSummary { loop_id: l.id }
        .enqueue(&mut *tx, now)
        .await?;
    reminders::stop(&mut tx, l.id, Some(position), Some(user), "submitted").await?;
    home::refresh_for(&mut tx, l.id, now).await?;
    if stored.version == 1 {
        Job::RefreshRubric {
            loop_id: l.id,
            position,
        }
        .enqueue(&mut *tx, now)
        .await?;
        // A later stage has feedback now: any earlier stage without feedback is missing.
        let cards = db::scorecards::latest_for_loop(&mut *tx, l.id).await?;
        let missing = LoopProgress::from_scorecards(&cards).missing_before_feedback(l);
        skips::warn_missing(&mut tx, l.id, &missing, "out_of_order", now).await?;
    }
    tx.commit().await?;
    state.wake.notify_one();
    tracing::info!(
        loop_id = l.id,
        position,
        version = stored.version,
        "scorecard stored"
    );
    Ok(Stored::Saved)
}

/// "View scorecards" was pressed.
pub async fn view(state: &AppState, user: &str, trigger_id: &str, loop_id: LoopId) {
    let (l, progress) = match load(state, loop_id).await {
        Ok(Some(loaded)) => loaded,
        Ok(None) => {
            return notice(
                state,
                trigger_id,
                "Scorecards",
                "This loop no longer exists.",
            )
            .await;
        }
        Err(e) => {
            tracing::error!(error = %e, "could not load a loop");
            return notice(state, trigger_id, "Scorecards", SOMETHING_WENT_WRONG).await;
        }
    };
    if let Err(refusal) = access::may_view(&l, &progress, user) {
        return notice(state, trigger_id, "Scorecards", &refusal.message()).await;
    }
    let cards = db::scorecards::latest_for_loop(&state.db, loop_id)
        .await
        .unwrap_or_default();
    let view = scorecard_views::scorecards_modal(&l, state.rubrics.get(&l.rubric_id), &cards);
    if let Err(e) = state.slack_inline.open_view(trigger_id, &view).await {
        tracing::warn!(error = %e, "could not open the scorecards view");
    }
}
