//! Direct messages tied to an interview's time: each interviewer's brief
//! (`LOOPBOT_BRIEF_BEFORE` before the interview) and one friendly nudge (`LOOPBOT_NUDGE_AFTER`
//! after it ends, in the interviewer's working hours, only while the scorecard is not yet
//! due). Both are planned whenever the
//! panel or times change and queued exactly once by the sweep; a changed time gets a new
//! brief.

use sqlx::AnyConnection;

use crate::clock::UnixMillis;
use crate::db;
use crate::db::interview_dms::InterviewDm;
use crate::domain::interview_loop::{LoopId, LoopStatus, Stage};
use crate::domain::scorecard::hand_offs;
use crate::jobs::{Job, JobError};
use crate::services::{home, skips, working_hours};
use crate::slack::messages;
use crate::state::AppState;

const BRIEF: &str = "brief";
const NUDGE: &str = "nudge";
/// Clock moments of a stage, for nobody in particular (an empty user).
const STARTS: &str = "starts";
const ENDS: &str = "ends";
const FEEDBACK_DUE: &str = "feedback_due";

fn ms(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// In the caller's transaction: the briefs and nudges the loop's panel and times call for now.
/// A brief whose interview has started, or a nudge whose scorecard is already due, is not
/// planned.
pub async fn plan(
    tx: &mut AnyConnection,
    state: &AppState,
    loop_id: LoopId,
    rubric_id: &str,
    stages: &[Stage],
) -> sqlx::Result<()> {
    let now = state.clock.now_ms();
    let mut wanted = Vec::new();
    for stage in stages {
        let Some(timing) = state.timing(rubric_id, stage) else {
            continue;
        };
        let at = timing.start;
        let dm = |kind: &str, user: &str, send_at: UnixMillis| InterviewDm {
            loop_id,
            position: stage.position,
            user_id: user.to_string(),
            kind: kind.into(),
            interview_at: at,
            send_at,
        };
        for user in &stage.interviewers {
            if let Some(before) = state.settings.brief_before
                && at > now
            {
                wanted.push(dm(BRIEF, user, (at - ms(before)).max(now)));
            }
            if let Some(after) = state.settings.nudge_after {
                let send_at = timing.end + ms(after);
                if send_at < timing.due && send_at > now {
                    wanted.push(dm(NUDGE, user, send_at));
                }
            }
        }
        // The moments the stage's status changes by the clock alone: the summary is redrawn
        // then, and once its feedback is due the loop is checked for missing stages.
        for (kind, send_at) in [
            (STARTS, timing.start),
            (ENDS, timing.end),
            (FEEDBACK_DUE, timing.due),
        ] {
            if send_at > now {
                wanted.push(dm(kind, "", send_at));
            }
        }
    }
    db::interview_dms::replace_unsent(tx, loop_id, &wanted).await
}

/// For the sweep, in its transaction: queues every brief and nudge due now, each once, and
/// acts on the stages whose status the clock has changed (the summary is redrawn; once a
/// stage's feedback is due, the loop is checked for stages it moved on without).
pub async fn queue_due(
    tx: &mut AnyConnection,
    state: &AppState,
    now: UnixMillis,
    batch: i64,
) -> sqlx::Result<usize> {
    let mut queued = 0;
    // The App Homes of loops whose stages changed by the clock: redrawn together at the end,
    // in one batch (see `db::locks` on rows shared by loops).
    let mut homes = Vec::new();
    for dm in db::interview_dms::due(&mut *tx, now, batch).await? {
        if !db::interview_dms::claim(&mut *tx, &dm, now).await? {
            continue;
        }
        let (loop_id, position, user, interview_at) =
            (dm.loop_id, dm.position, dm.user_id.clone(), dm.interview_at);
        let job = match dm.kind.as_str() {
            BRIEF => Job::Brief {
                loop_id,
                position,
                user,
                interview_at,
            },
            NUDGE => Job::InterviewNudge {
                loop_id,
                position,
                user,
                interview_at,
            },
            kind => {
                if kind == FEEDBACK_DUE
                    && let Some(l) = db::loops::get_in(&mut *tx, loop_id).await?
                {
                    skips::check_missing(tx, state, &l, "interview_over", now).await?;
                }
                homes.push(loop_id);
                Job::RefreshSummary { loop_id }
            }
        };
        job.enqueue(&mut *tx, now).await?;
        queued += 1;
    }
    home::refresh_for_each(tx, &homes, now).await?;
    Ok(queued)
}

/// The stage, if the message still applies: the loop is open, the person is still on the
/// panel, and the interview is still at that time.
async fn current_stage(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
    interview_at: i64,
) -> Result<Option<(crate::domain::interview_loop::InterviewLoop, Stage)>, JobError> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(None);
    };
    crate::services::after_provisioning(&l, state.clock.now_ms())?;
    let Some(stage) = l.stage_at(position).cloned() else {
        return Ok(None);
    };
    let still = l.status == LoopStatus::Open
        && l.skip_of(position).is_none()
        && stage.interview_at == Some(interview_at)
        && stage.interviewers.iter().any(|u| u == user);
    Ok(still.then_some((l, stage)))
}

pub async fn brief(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
    interview_at: i64,
) -> Result<(), JobError> {
    let Some((l, stage)) = current_stage(state, loop_id, position, user, interview_at).await?
    else {
        return Ok(());
    };
    let Some(sr) = state
        .rubrics
        .get(&l.rubric_id)
        .and_then(|r| r.stage(&stage.key))
    else {
        return Ok(());
    };
    // The hand-off: earlier stages' "concerns for the next stages", never ratings or evidence.
    let cards = db::scorecards::latest_for_loop(&state.db, loop_id).await?;
    let hand_offs = hand_offs(&cards, position, |p| l.stage_at(p).map(|s| s.name.as_str()));
    let key = Job::Brief {
        loop_id,
        position,
        user: user.to_string(),
        interview_at,
    }
    .dedupe_key();
    state
        .slack
        .send_dm(user, &messages::brief(&l, &stage, sr, &hand_offs), &key)
        .await?;
    Ok(())
}

pub async fn nudge(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
    interview_at: i64,
) -> Result<(), JobError> {
    let Some((l, stage)) = current_stage(state, loop_id, position, user, interview_at).await?
    else {
        return Ok(());
    };
    if db::scorecards::latest(&state.db, loop_id, position, user)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let due = db::reminders::get(&state.db, loop_id, position, user)
        .await?
        .map(|r| r.due_at);
    // A friendly word in working hours, or none: once the scorecard is due, reminders speak.
    if due.is_some_and(|d| state.clock.now_ms() >= d) {
        return Ok(());
    }
    working_hours::within_hours(state, user).await?;
    let key = Job::InterviewNudge {
        loop_id,
        position,
        user: user.to_string(),
        interview_at,
    }
    .dedupe_key();
    state
        .slack
        .send_dm(user, &messages::interview_nudge(&l, &stage, due), &key)
        .await?;
    Ok(())
}
