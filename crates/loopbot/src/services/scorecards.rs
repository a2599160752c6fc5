//! Scorecards: open the form (only for the stage's panel), keep what is typed as a draft until
//! it is submitted, store each submission as a new version with its Slack follow-ups in one
//! transaction, and show full scorecards to those allowed to read them.

use anyhow::Context;

use crate::db;
use crate::db::trip::Trip;
use crate::domain::access::{self, Refusal};
use crate::domain::button::Stale;
use crate::domain::debrief::Debrief;
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus};
use crate::domain::progress::LoopProgress;
use crate::domain::rubric::StageRubric;
use crate::domain::scorecard;
use crate::error::{AppError, AppResult};
use crate::jobs::Job;
use crate::services::button_modal;
use crate::services::{ats_writeback, home, ready, screen_gate, skips};
use crate::slack::payloads::SubmittedView;
use crate::slack::views::{self, ScorecardMetadata, StateValues};
use crate::slack::{InteractionReply, Modal};
use crate::state::AppState;

/// The loop, or a refusal when it no longer exists (its scorecards and reminders are not
/// read: opening and submitting a form need only the panel and the stages).
async fn load_loop(state: &AppState, loop_id: LoopId) -> AppResult<InterviewLoop> {
    db::loops::get(&state.db, loop_id)
        .await
        .context("could not load a loop")?
        .ok_or_else(|| Stale::NoSuchLoop.into())
}

/// The loop and its progress, or a refusal when it no longer exists.
async fn load(state: &AppState, loop_id: LoopId) -> AppResult<(InterviewLoop, LoopProgress)> {
    state
        .progress(loop_id)
        .await
        .context("could not load a loop")?
        .ok_or_else(|| Stale::NoSuchLoop.into())
}

/// The rubric of the stage, unless an operator removed it.
fn stage_rubric<'a>(
    state: &'a AppState,
    l: &InterviewLoop,
    position: u32,
) -> AppResult<&'a StageRubric> {
    l.stage_at(position)
        .and_then(|s| {
            state
                .rubrics
                .get(&l.rubric_id)
                .and_then(|r| r.stage(&s.key))
        })
        .ok_or_else(|| {
            AppError::refused(
                "The rubric of this stage is no longer available; ask your Loopbot admin.",
            )
        })
}

/// "Submit scorecard" / "Edit my scorecard" was pressed.
pub async fn open(
    state: &AppState,
    user: &str,
    trigger_id: &str,
    loop_id: LoopId,
    position: u32,
) -> AppResult<Modal> {
    let l = load_loop(state, loop_id).await?;
    access::may_score(&l, position, user, state.clock.now_ms())?;
    let stage_rubric = stage_rubric(state, &l, position)?;
    let stage = l.stage_at(position).ok_or(Stale::NoSuchStage)?;
    let existing = db::scorecards::latest(&state.db, loop_id, position, user)
        .await
        .ok()
        .flatten();
    let draft = db::scorecards::draft(&state.db, loop_id, position, user)
        .await
        .ok()
        .flatten();
    let prefill = scorecard::prefill(draft.as_ref(), existing.as_ref());
    let draft_restored = draft.is_some_and(|d| prefill.as_ref() == Some(&d.input))
        && existing
            .as_ref()
            .is_none_or(|c| prefill.as_ref() != Some(&scorecard::ScorecardInput::from(&c.body)));
    // What earlier stages asked the next interviewers to probe.
    let cards = db::scorecards::latest_for_loop(&state.db, loop_id)
        .await
        .context("could not load the hand-off notes")?;
    let notes = scorecard::hand_offs(&cards, position, |p| l.stage_at(p).map(|s| s.name.as_str()));
    let view = views::scorecard_modal(
        &l,
        stage,
        stage_rubric,
        existing.as_ref(),
        prefill.as_ref(),
        draft_restored,
        &notes,
    );
    Ok(button_modal(trigger_id, view))
}

/// The scorecard form was submitted. Refusals show next to the evidence field.
pub async fn submit(
    state: &AppState,
    user: &str,
    view: &SubmittedView,
) -> AppResult<InteractionReply> {
    let Ok(metadata) = serde_json::from_str::<ScorecardMetadata>(&view.private_metadata) else {
        return Err(AppError::refused(
            "This form is out of date. Close it and open the scorecard again.",
        ));
    };
    // On the writers' lane: the loop is read there (on SQLite from the lane's own connection,
    // whose pages its changes just wrote), and the change holds the process's turn at the
    // writer.
    let (owned, user_id, values) = (state.clone(), user.to_string(), view.values.clone());
    db::lane::run(&state.db, async move {
        Ok(check_and_store(&owned, &user_id, &metadata, &values).await)
    })
    .await
    .context("could not store a scorecard")?
}

/// [`submit`]'s checks, then the scorecard stored.
async fn check_and_store(
    state: &AppState,
    user: &str,
    metadata: &ScorecardMetadata,
    values: &StateValues,
) -> AppResult<InteractionReply> {
    let l = load_loop(state, metadata.loop_id).await?;
    access::may_score(&l, metadata.position, user, state.clock.now_ms())?;
    let stage_rubric = stage_rubric(state, &l, metadata.position)?;
    let input = views::read_scorecard(values, stage_rubric);
    let body = match scorecard::validate(&input, stage_rubric) {
        Ok(body) => body,
        Err(errors) => return Ok(InteractionReply::Json(views::scorecard_errors(&errors))),
    };
    let stored = store(state, &l, metadata.position, user, &body, metadata.based_on).await;
    match stored.context("could not store a scorecard")? {
        Stored::Saved | Stored::AlreadySaved => Ok(InteractionReply::Ack),
        Stored::Decided => Err(AppError::refused(Refusal::LoopDecided.message())),
    }
}

enum Stored {
    Saved,
    AlreadySaved,
    Decided,
}

/// Jobs to run at `when`.
fn at(jobs: impl IntoIterator<Item = Job>, when: i64) -> Vec<(Job, i64)> {
    jobs.into_iter().map(|job| (job, when)).collect()
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
    // The first trip stores the scorecard, replaces whatever was typed before it, stops the
    // chasing for it and reads who sees it on their Home. When nothing is stored, the change
    // is dropped and none of it stays. A first scorecard then reads the loop and its
    // scorecards as this transaction sees them, for the rules below (another change may have
    // come since the checks); an edit moves no stage, and reads nothing more. On SQLite's
    // writers' lane a trip is a call, not a hop ([`db::direct`]): a read that an edit would
    // not use costs more than the trip. The first trip begins the change and the last
    // commits it.
    let mut trip = Trip::new();
    let stored =
        db::scorecards::insert_version_into(&mut trip, l.id, position, user, body, based_on, now);
    db::scorecards::delete_draft_into(&mut trip, l.id, position, user);
    db::reminders::stop_into(&mut trip, l.id, position, user, "submitted");
    let viewers = db::reminders::home_viewers_of_loop_into(&mut trip, l.id);
    // The request's receipt goes first in this trip.
    let (mut tx, mut answers) = state.begin_loop_with(l.id, trip).await?;
    let Some(stored) = stored.take(&mut answers)? else {
        drop(tx);
        let decided = db::loops::status(&state.db, l.id).await? == Some(LoopStatus::Decided);
        return Ok(if decided {
            Stored::Decided
        } else {
            Stored::AlreadySaved
        });
    };
    let moved = if stored.version == 1 {
        let mut trip = Trip::new();
        let fresh = db::loops::get_into(&mut trip, l.id);
        let cards = db::scorecards::latest_for_loop_into(&mut trip, l.id);
        let mut answers = tx.run(trip).await?;
        let (fresh, cards) = (fresh.take(&mut answers)?, cards.take(&mut answers)?);
        let fresh = fresh.context("the loop of a stored scorecard is gone")?;
        Some((fresh, LoopProgress::from_scorecards(&cards)))
    } else {
        None
    };
    let (action, detail) = (
        if stored.version == 1 {
            "scorecard_submitted"
        } else {
            "scorecard_edited"
        },
        format!("stage={position} version={}", stored.version),
    );
    let mut jobs = Vec::new();
    // The pinned summary shows each submission; the stage's thread hears once, when the
    // stage is complete (a post is cheap, but every one is a notification), and the stage's
    // post is edited then too (its button reads "Edit my scorecard" once everyone on it has
    // submitted): `chat.update` is Tier 3 for the whole workspace, spent on the summary.
    if let Some((l, progress)) = &moved
        && l.stage_at(position)
            .is_some_and(|s| progress.stage_complete(s))
    {
        jobs.push(Job::ScorecardNote {
            loop_id: l.id,
            scorecard_id: stored.id,
        });
        jobs.push(Job::RefreshRubric {
            loop_id: l.id,
            position,
        });
    }
    jobs.push(Job::RefreshSummary { loop_id: l.id });
    jobs.extend(home::refreshes_of(viewers.take(&mut answers)?));
    // Then what the loop reaching this point asks for: the screen's question to the owners,
    // "ready to decide", and the ATS the loop came from (a hand-started loop: nothing). The
    // ATS's write is queued last: a loop's jobs run in order, and an ATS that is slow must
    // not hold up Slack's. A later stage has feedback now: an earlier stage whose feedback
    // time has passed (or that was never scheduled) and has none is missing, and is warned
    // about before those.
    let (later, missing) = match moved {
        Some((l, progress)) => {
            let mut later = at(
                screen_gate::questions_if_screen_done(&l, position, &progress),
                now,
            );
            later.extend(ready::jobs_if_ready(
                &l,
                &progress,
                state.settings.decide_within,
                now,
            ));
            later.extend(at(ats_writeback::scorecard_write(&l, position, user), now));
            (later, skips::missing_in(state, &l, progress, now))
        }
        None => (Vec::new(), Vec::new()),
    };
    // The second trip: the audit and the jobs (and, with no warning between them, the later
    // jobs too). With stages missing, the warnings go in it, and what the new ones ask for
    // goes ahead of the later jobs in a third. Every statement goes in a trip: on the
    // writers' lane they run on SQLite there ([`db::direct`]).
    let mut trip = Trip::new();
    db::audit::record_into(&mut trip, l.id, user, action, &detail, now);
    Job::queue_into(&mut trip, &at(jobs, now), now);
    if missing.is_empty() {
        Job::queue_into(&mut trip, &later, now);
        tx.commit_with(trip).await?;
    } else {
        let cause = "out_of_order";
        let warnings = db::loops::insert_warnings_into(&mut trip, l.id, &missing, cause, now);
        let warned = warnings.new_ones(&tx.run(trip).await?);
        let mut last = Trip::new();
        skips::warned_into(&mut last, l.id, &warned, cause, now);
        Job::queue_into(&mut last, &later, now);
        tx.commit_with(last).await?;
    }
    tracing::info!(
        loop_id = l.id,
        position,
        version = stored.version,
        "scorecard stored"
    );
    Ok(Stored::Saved)
}

/// The scorecard form changed (a choice, a tick, a character typed) or was closed: keep what is
/// in it as the interviewer's draft. Only for someone who may score that stage; anyone else,
/// or a form that is not a scorecard, changes nothing. Never an error for the person: a draft
/// that could not be saved is logged.
pub async fn save_draft(state: &AppState, user: &str, view: &SubmittedView) {
    if let Err(e) = try_save_draft(state, user, view).await {
        tracing::warn!(error = %e, "could not save a scorecard draft");
    }
}

async fn try_save_draft(state: &AppState, user: &str, view: &SubmittedView) -> anyhow::Result<()> {
    let Ok(metadata) = serde_json::from_str::<ScorecardMetadata>(&view.private_metadata) else {
        return Ok(());
    };
    let Some(l) = db::loops::get(&state.db, metadata.loop_id).await? else {
        return Ok(());
    };
    let now = state.clock.now_ms();
    if let Err(refusal) = access::may_score(&l, metadata.position, user, now) {
        tracing::debug!(?refusal, "a scorecard draft from someone who may not score");
        return Ok(());
    }
    let Ok(stage_rubric) = stage_rubric(state, &l, metadata.position) else {
        return Ok(());
    };
    let draft = scorecard::ScorecardDraft {
        based_on: metadata.based_on,
        input: views::read_scorecard(&view.values, stage_rubric),
        updated_at: now,
    };
    // A change like any other: on the request path its commit is the only one, and records
    // the request's receipt with it.
    let mut tx = state.begin_loop(l.id).await?;
    db::scorecards::save_draft(&mut *tx, l.id, metadata.position, user, &draft).await?;
    tx.commit().await?;
    Ok(())
}

/// The pages of "View scorecards" for `user`, if blindness lets them read them.
async fn pages(
    state: &AppState,
    user: &str,
    loop_id: LoopId,
) -> AppResult<(InterviewLoop, Vec<Vec<serde_json::Value>>)> {
    let (l, progress) = load(state, loop_id).await?;
    access::may_view(&l, &progress, user)?;
    let cards = db::scorecards::latest_for_loop(&state.db, loop_id)
        .await
        .context("could not load the scorecards")?;
    let rubric = state.rubrics.get(&l.rubric_id);
    let debrief = Debrief::build(&l, rubric, &cards);
    let pages = views::scorecard_pages(&l, rubric, &cards, &debrief);
    Ok((l, pages))
}

/// "View scorecards" was pressed: the debrief and every scorecard, first page.
pub async fn view(
    state: &AppState,
    user: &str,
    trigger_id: &str,
    loop_id: LoopId,
) -> AppResult<Modal> {
    let (l, pages) = pages(state, user, loop_id).await?;
    let view = views::scorecards_modal(&l, &pages, 0);
    Ok(button_modal(trigger_id, view))
}

/// "Previous page" / "Next page" in the scorecards modal: the same modal shows that page.
pub async fn turn_page(
    state: &AppState,
    user: &str,
    view_id: &str,
    loop_id: LoopId,
    page: usize,
) -> AppResult<()> {
    let (l, pages) = pages(state, user, loop_id).await?;
    let view = views::scorecards_modal(&l, &pages, page);
    state
        .slack_inline
        .update_view(view_id, None, view)
        .await
        .context("could not show another page of scorecards")?;
    Ok(())
}
