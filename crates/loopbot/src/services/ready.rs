//! Ready to decide: once every stage is in or skipped, the hiring manager gets the debrief by
//! direct message with **Record the decision**. If no decision follows within
//! `LOOPBOT_DECIDE_WITHIN` of working time (in their own time zone and working days), they get
//! one reminder and the coordinator is told. Once per round (a reopened loop starts a new one).

use sqlx::AnyConnection;

use crate::clock::UnixMillis;
use crate::db;
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus};
use crate::domain::progress::LoopProgress;
use crate::domain::schedule::after_working_time;
use crate::jobs::{Job, JobError};
use crate::services::{decide, working_hours};
use crate::slack::messages;
use crate::state::AppState;

/// Debrief blocks a direct message has room for (Slack allows 50 per message).
const DM_DEBRIEF_ROOM: usize = 40;

/// Every stage has a complete panel or was skipped.
fn all_in(l: &InterviewLoop, progress: &LoopProgress) -> bool {
    l.stages
        .iter()
        .all(|s| progress.stage_complete(s) || l.skip_of(s.position).is_some())
}

/// In the transaction of a submission or a skip: when that makes every stage in, queues the
/// message to the hiring manager and the later reminders (each once per round).
pub async fn tell_if_ready(
    tx: &mut AnyConnection,
    state: &AppState,
    loop_id: LoopId,
    now: UnixMillis,
) -> sqlx::Result<()> {
    let Some(l) = db::loops::get_in(&mut *tx, loop_id).await? else {
        return Ok(());
    };
    let cards = db::scorecards::latest_for_loop(&mut *tx, loop_id).await?;
    let progress = LoopProgress::from_scorecards(&cards);
    let jobs = jobs_if_ready(&l, &progress, state.settings.decide_within, now);
    Job::enqueue_all(tx, &jobs, now).await
}

/// What [`tell_if_ready`] queues, each with when it runs, for the loop and its progress as
/// the transaction sees them: nothing unless every stage is in.
pub fn jobs_if_ready(
    l: &InterviewLoop,
    progress: &LoopProgress,
    decide_within: std::time::Duration,
    now: UnixMillis,
) -> Vec<(Job, UnixMillis)> {
    if l.status != LoopStatus::Open
        || l.decision.as_ref().is_some_and(|d| d.outcome.is_final())
        || !all_in(l, progress)
    {
        return Vec::new();
    }
    let (loop_id, cycle) = (l.id, l.cycle);
    let mut jobs = vec![(Job::ReadyToDecide { loop_id, cycle }, now)];
    let mut told = vec![l.hiring_manager_id.clone()];
    if l.coordinator_id != l.hiring_manager_id {
        told.push(l.coordinator_id.clone());
    }
    // Not before LOOPBOT_DECIDE_WITHIN of calendar time; the job itself counts working days
    // in the recipient's time zone and waits for the rest.
    let within = i64::try_from(decide_within.as_millis()).unwrap_or(i64::MAX / 4);
    let at = now + within;
    for to in told {
        let reminder = Job::DecideReminder {
            loop_id,
            cycle,
            ready_at: now,
            to,
        };
        jobs.push((reminder, at));
    }
    jobs
}

/// The job: the debrief and the button, to the hiring manager.
pub async fn tell(state: &AppState, loop_id: LoopId, cycle: i64) -> Result<(), JobError> {
    let Some((l, progress)) = state.progress(loop_id).await? else {
        return Err(JobError::loop_gone(loop_id));
    };
    if l.cycle != cycle || l.status != LoopStatus::Open || l.is_decided() {
        return Ok(());
    }
    let cards = db::scorecards::latest_for_loop(&state.db, loop_id).await?;
    let debrief = decide::debrief_for(
        state,
        &l,
        &progress,
        &cards,
        &l.hiring_manager_id,
        DM_DEBRIEF_ROOM,
    );
    let key = Job::ReadyToDecide { loop_id, cycle }.dedupe_key();
    state
        .slack
        .send_dm(
            &l.hiring_manager_id,
            &messages::ready_to_decide(&l, &debrief),
            &key,
        )
        .await?;
    Ok(())
}

/// The job: no decision `LOOPBOT_DECIDE_WITHIN` after every stage was in. The hiring manager
/// is reminded once; the coordinator is told. Each in their own working hours.
pub async fn remind(
    state: &AppState,
    loop_id: LoopId,
    cycle: i64,
    ready_at: UnixMillis,
    to: &str,
) -> Result<(), JobError> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(());
    };
    if l.cycle != cycle || l.status != LoopStatus::Open || l.decision.is_some() {
        return Ok(());
    }
    let tz = working_hours::tz_of(state, to).await?;
    let due = after_working_time(
        ready_at,
        state.settings.decide_within,
        &tz,
        state.settings.work_days,
    );
    if state.clock.now_ms() < due {
        return Err(JobError::Deferred { until: due });
    }
    working_hours::within_hours(state, to).await?;
    let message = if to == l.hiring_manager_id {
        messages::decide_reminder(&l, ready_at)
    } else {
        messages::decide_overdue_notice(&l, ready_at)
    };
    let key = Job::DecideReminder {
        loop_id,
        cycle,
        ready_at,
        to: to.to_string(),
    }
    .dedupe_key();
    state.slack.send_dm(to, &message, &key).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::interview_loop::fixtures::{sample_loop, scorecard};
    use crate::domain::scorecard::Rating;

    #[test]
    fn ready_once_every_stage_is_in_with_a_reminder_for_each_owner_later() {
        let mut l = sample_loop();
        l.stages[2].interviewers = vec!["UC".into()];
        let mut cards: Vec<_> = l
            .stages
            .iter()
            .flat_map(|s| {
                s.interviewers
                    .iter()
                    .map(|who| scorecard(s.position, who, Rating::Yes))
            })
            .collect();
        let within = std::time::Duration::from_secs(3_600);
        let jobs = jobs_if_ready(&l, &LoopProgress::from_scorecards(&cards), within, 1_000);
        let reminder = |to: &str| Job::DecideReminder {
            loop_id: 1,
            cycle: 0,
            ready_at: 1_000,
            to: to.into(),
        };
        assert_eq!(
            jobs,
            vec![
                (
                    Job::ReadyToDecide {
                        loop_id: 1,
                        cycle: 0
                    },
                    1_000
                ),
                (reminder("UHM"), 1_000 + 3_600_000),
                (reminder("UCOORD"), 1_000 + 3_600_000),
            ]
        );
        cards.pop();
        let progress = LoopProgress::from_scorecards(&cards);
        assert_eq!(
            jobs_if_ready(&l, &progress, within, 1_000),
            vec![],
            "one still out"
        );
    }
}
