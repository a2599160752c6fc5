//! The screen sets the bar: once every screen scorecard is in, the hiring manager and the
//! coordinator each get a direct message asking whether the candidate is worth the full loop,
//! with **Continue the loop** and **Stop here** (which opens the decision form).

use anyhow::Context;

use crate::db;
use crate::domain::access;
use crate::domain::button::Stale;
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus};
use crate::domain::progress::LoopProgress;
use crate::error::{AppError, AppResult};
use crate::jobs::{Job, JobError};
use crate::services::owners_only;
use crate::slack::messages;
use crate::slack::mrkdwn::date_time;
use crate::state::AppState;

/// For the transaction that stored a first scorecard for `position` (`progress` counts it):
/// when that completes the screen (the first stage) of a loop with more stages, the question
/// for each owner, to queue.
pub fn questions_if_screen_done(
    l: &InterviewLoop,
    position: u32,
    progress: &LoopProgress,
) -> Vec<Job> {
    let Some(screen) = l.stages.first() else {
        return Vec::new();
    };
    if screen.position != position
        || l.stages.len() < 2
        || l.decision.is_some()
        || !progress.stage_complete(screen)
    {
        return Vec::new();
    }
    let mut owners = vec![l.hiring_manager_id.clone()];
    if l.coordinator_id != l.hiring_manager_id {
        owners.push(l.coordinator_id.clone());
    }
    owners
        .into_iter()
        .map(|to| Job::ScreenGate { loop_id: l.id, to })
        .collect()
}

/// The job: the question to one owner, with the screen's ratings if blindness lets them see
/// them.
pub async fn ask(state: &AppState, loop_id: LoopId, to: &str) -> Result<(), JobError> {
    let Some((l, progress)) = state.progress(loop_id).await? else {
        return Err(JobError::loop_gone(loop_id));
    };
    if l.status != LoopStatus::Open || l.decision.is_some() {
        return Ok(());
    }
    let Some(screen) = l.stages.first() else {
        return Ok(());
    };
    let ratings: Option<Vec<_>> = access::may_view(&l, &progress, to).is_ok().then(|| {
        progress
            .stage(screen.position)
            .map(|(u, r)| (u.to_string(), r))
            .collect()
    });
    let next = l
        .stages
        .iter()
        .skip(1)
        .find(|s| l.skip_of(s.position).is_none() && !progress.stage_complete(s));
    let key = Job::ScreenGate {
        loop_id,
        to: to.to_string(),
    }
    .dedupe_key();
    let message = messages::screen_gate(&l, screen, ratings.as_deref(), next);
    state.slack.send_dm(to, &message, &key).await?;
    Ok(())
}

/// **Continue the loop** was pressed: recorded, and the person is told what comes next.
pub async fn continue_loop(state: &AppState, user: &str, loop_id: LoopId) -> AppResult<String> {
    let Some(l) = db::loops::get(&state.db, loop_id)
        .await
        .context("could not load a loop to continue")?
    else {
        return Err(Stale::NoSuchLoop.into());
    };
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(&l, "continue the loop")));
    }
    if l.decision.is_some() {
        return Err(AppError::refused(
            "The decision for this loop is already recorded; it is shown on the pinned summary.",
        ));
    }
    let now = state.clock.now_ms();
    let mut tx = state
        .begin_loop(l.id)
        .await
        .context("could not continue a loop")?;
    db::audit::record(&mut *tx, l.id, user, "screen_continue", "", now).await?;
    tx.commit().await.context("could not continue a loop")?;
    let next = l
        .stages
        .iter()
        .skip(1)
        .find(|s| l.skip_of(s.position).is_none());
    Ok(match next {
        Some(s) => match s.interview_at {
            Some(at) => format!("The loop goes on. Next: {} on {}.", s.name, date_time(at)),
            None => format!(
                "The loop goes on. Next: {}, not scheduled yet: change the panel to set its time.",
                s.name
            ),
        },
        None => "The loop goes on.".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interview_loop::fixtures::{sample_loop, scorecard};
    use crate::domain::scorecard::Rating;

    #[test]
    fn the_owners_are_asked_once_the_screen_is_complete() {
        let l = sample_loop();
        let done = LoopProgress::from_scorecards(&[scorecard(1, "UA", Rating::Yes)]);
        let ask = |to: &str| Job::ScreenGate {
            loop_id: 1,
            to: to.into(),
        };
        assert_eq!(
            questions_if_screen_done(&l, 1, &done),
            vec![ask("UHM"), ask("UCOORD")]
        );
        assert_eq!(
            questions_if_screen_done(&l, 2, &done),
            vec![],
            "not the screen"
        );
        let none = LoopProgress::from_scorecards(&[]);
        assert_eq!(
            questions_if_screen_done(&l, 1, &none),
            vec![],
            "not complete"
        );
    }
}
