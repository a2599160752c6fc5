//! The one way to read a loop with where it stands: the loop, the latest scorecard of each
//! interviewer and stage, and how far chasing each missing scorecard has gone. The pinned
//! summary, `/loop status`, the App Home and the scorecard flows all read it from here, so
//! they cannot disagree (an "overdue" mark in one and not in another).

use crate::db::{Db, loops, reminders, scorecards};
use crate::domain::interview_loop::{InterviewLoop, LoopId};
use crate::domain::progress::{Chase, LoopProgress};

/// The loop and its full progress, or `None` when the loop does not exist.
pub async fn load(db: &Db, loop_id: LoopId) -> sqlx::Result<Option<(InterviewLoop, LoopProgress)>> {
    let Some(l) = loops::get(db, loop_id).await? else {
        return Ok(None);
    };
    let cards = scorecards::latest_for_loop(db, loop_id).await?;
    let chases = chases(db, loop_id).await?;
    Ok(Some((
        l,
        LoopProgress::from_scorecards(&cards).with_chases(&chases),
    )))
}

/// How far chasing each (stage, interviewer) of the loop has gone.
pub async fn chases(db: &Db, loop_id: LoopId) -> sqlx::Result<Vec<Chase>> {
    Ok(reminders::for_loop(db, loop_id)
        .await?
        .into_iter()
        .map(|r| Chase {
            position: r.position,
            user: r.user_id,
            due_at: r.due_at,
            reminders_sent: r.sent_count,
            escalated: r.escalated_at.is_some(),
            stopped: r.stopped_reason.is_some(),
        })
        .collect())
}
