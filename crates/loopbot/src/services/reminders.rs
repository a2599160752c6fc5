//! Chasing overdue feedback: due times per interviewer, the sweep that queues reminders
//! exactly once, working hours in each person's time zone, one escalation, and "I didn't run
//! this interview".
//!
//! Reminders are counted by delivery ([`crate::domain::chase`]): the sweep queues one only when
//! none is in flight for that person and stage, and the next one falls due
//! `LOOPBOT_REMIND_EVERY` after Slack accepted the last. Counting, scheduling the next one and
//! the escalation are stored in one transaction with the delivery, so a restart neither repeats
//! nor skips them.

use std::sync::atomic::Ordering;

use anyhow::Context;
use sqlx::AnyConnection;

use crate::db;
use crate::db::reminders::ReminderRow;
use crate::domain::chase::Cadence;
use crate::domain::interview_loop::{InterviewLoop, LoopId, LoopStatus, Stage};
use crate::domain::schedule::due_at;
use crate::error::AppResult;
use crate::jobs::{Job, JobError};
use crate::services::working_hours::within_hours;
use crate::services::{home, interview_dms, panel_order};
use crate::slack::messages;
use crate::state::AppState;

/// How many due reminders one sweep queues at most (the next sweep takes the rest).
const SWEEP_BATCH: i64 = 500;

/// How many numbers a reminder tries when an earlier row's jobs hold the first ones.
const NUMBER_TRIES: i64 = 100;

/// The cadence the settings ask for.
fn cadence(state: &AppState) -> Cadence {
    Cadence {
        every: state.settings.remind_every,
        max: state.settings.remind_max,
        escalate_after: state.settings.escalate_after,
    }
}

/// In the caller's transaction: brings the reminder rows of a loop in line with its stages:
/// one row per scheduled (stage, interviewer); unscheduled stages and people no longer on
/// the panel are not chased.
pub async fn sync(
    tx: &mut AnyConnection,
    state: &AppState,
    loop_id: LoopId,
    rubric_id: &str,
    stages: &[Stage],
) -> sqlx::Result<()> {
    let rubric = state.rubrics.get(rubric_id);
    let feedback_due = rubric
        .and_then(|r| r.feedback_deadline)
        .unwrap_or(state.settings.feedback_due);
    let existing = db::reminders::for_loop(&mut *tx, loop_id).await?;
    let mut wanted: Vec<(u32, &str)> = Vec::new();
    for stage in stages {
        let Some(at) = stage.interview_at else {
            continue;
        };
        let minutes = rubric
            .and_then(|r| r.stage(&stage.key))
            .map(|s| s.planned_minutes())
            .unwrap_or(60);
        for user in &stage.interviewers {
            db::reminders::upsert(
                &mut *tx,
                loop_id,
                stage.position,
                user,
                due_at(at, minutes, feedback_due),
            )
            .await?;
            wanted.push((stage.position, user));
        }
    }
    for row in existing {
        if !wanted.contains(&(row.position, row.user_id.as_str())) && row.stopped_reason.is_none() {
            db::reminders::delete(&mut *tx, loop_id, row.position, &row.user_id).await?;
        }
    }
    interview_dms::plan(tx, state, loop_id, rubric_id, stages).await?;
    panel_order::note_if_shuffled(tx, loop_id, stages, state.clock.now_ms()).await
}

/// Finds due reminders (an indexed query) and queues each exactly once: the row is claimed
/// (its reminder in flight, nothing more due until Slack accepts it) in the same transaction
/// that queues the reminder job.
pub async fn sweep(state: &AppState) -> anyhow::Result<usize> {
    if state.paused.load(Ordering::SeqCst) {
        return Ok(0);
    }
    let now = state.clock.now_ms();
    let due = db::reminders::due(&state.db, now, SWEEP_BATCH).await?;
    let dms_due = !db::interview_dms::due(&state.db, now, 1).await?.is_empty();
    if due.is_empty() && !dms_due {
        return Ok(0);
    }
    // One transaction for the batch: each row is claimed (guarded by what it was read with)
    // together with the job that sends it.
    let mut queued = 0;
    let cadence = cadence(state);
    let mut tx = state.begin_sweep(now).await?;
    for row in due {
        if !cadence.wants_more(row.sent_count) {
            // Every reminder it may have was delivered (e.g. chasing resumed after the last).
            db::reminders::finish(&mut *tx, &row).await?;
            continue;
        }
        if !db::reminders::claim(&mut *tx, &row).await? {
            continue;
        }
        let seq = queue_reminder(&mut tx, &row, now).await?;
        if seq != row.queued_count + 1 {
            db::reminders::renumber(&mut *tx, &row, seq).await?;
        }
        if row.queued_count == 0 {
            // The stage has just become due: the summary says so.
            Job::RefreshSummary {
                loop_id: row.loop_id,
            }
            .enqueue(&mut *tx, now)
            .await?;
        }
        queued += 1;
    }
    // Briefs and nudges due now, in the same transaction.
    let dms = interview_dms::queue_due(&mut tx, state, now, SWEEP_BATCH).await?;
    tx.commit().await?;
    if queued > 0 || dms > 0 {
        tracing::info!(
            reminders = queued,
            briefs_and_nudges = dms,
            "direct messages queued"
        );
    }
    Ok(queued)
}

/// Queues the claimed reminder as number `queued_count + 1`, or the next number whose job key
/// is free (a person taken off the panel and put back has a new row whose count starts afresh,
/// while the jobs of the old one are still kept); returns the number it got.
async fn queue_reminder(
    tx: &mut AnyConnection,
    row: &ReminderRow,
    now: crate::clock::UnixMillis,
) -> sqlx::Result<i64> {
    let first = row.queued_count + 1;
    for seq in first..first + NUMBER_TRIES {
        let job = Job::Reminder {
            loop_id: row.loop_id,
            position: row.position,
            user: row.user_id.clone(),
            seq,
        };
        if db::jobs::enqueue(&mut *tx, &job.queue_at(now), now).await? {
            return Ok(seq);
        }
    }
    Err(sqlx::Error::Protocol(format!(
        "no free reminder number for loop {} stage {} user {}",
        row.loop_id, row.position, row.user_id
    )))
}

/// The loop and the reminder row, if the scorecard is still owed: the loop is open, the row
/// is not stopped, and nothing was submitted (a submission may have raced the reminder).
async fn still_owed(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> Result<Option<(InterviewLoop, ReminderRow)>, JobError> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(None);
    };
    crate::services::after_provisioning(&l, state.clock.now_ms())?;
    let Some(row) = db::reminders::get(&state.db, loop_id, position, user).await? else {
        return Ok(None);
    };
    let submitted = db::scorecards::latest(&state.db, loop_id, position, user)
        .await?
        .is_some();
    if submitted || l.status != LoopStatus::Open || row.stopped_reason.is_some() {
        return Ok(None);
    }
    Ok(Some((l, row)))
}

/// Sends the reminder queued as number `seq` if it is still the one in flight, then, in one
/// transaction, counts it as delivered, schedules the next one `LOOPBOT_REMIND_EVERY` from
/// now, and escalates once after `LOOPBOT_ESCALATE_AFTER` delivered reminders. A run repeated
/// after a crash finds its DM by its key (never a second one) and records it once.
pub async fn remind(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
    seq: i64,
) -> Result<(), JobError> {
    let Some((l, row)) = still_owed(state, loop_id, position, user).await? else {
        return Ok(());
    };
    if row.pending_seq != Some(seq) {
        // Delivered and recorded already, or replaced (the due time changed, chasing resumed).
        return Ok(());
    }
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    within_hours(state, user).await?;
    let dm = state.slack.open_dm(user).await?;
    let cadence = cadence(state);
    state
        .slack
        .post_message(
            &dm,
            // Numbered as the person counts them: the ones they received, and this one.
            &messages::reminder(&l, stage, row.due_at, row.sent_count + 1),
            &Job::Reminder {
                loop_id,
                position,
                user: user.to_string(),
                seq,
            }
            .dedupe_key(),
        )
        .await?;
    let now = state.clock.now_ms();
    let after = cadence.after_delivery(row.sent_count, row.escalated_at.is_some(), now);
    let mut tx = state.begin_loop(loop_id).await?;
    if !db::reminders::record_delivery(&mut *tx, &row, seq, after.next_at).await? {
        return Ok(());
    }
    db::audit::record(
        &mut *tx,
        loop_id,
        "loopbot",
        "reminder_sent",
        &format!("stage={position} user={user} n={}", after.delivered),
        now,
    )
    .await?;
    if after.escalate
        && db::reminders::mark_escalated(&mut *tx, loop_id, position, user, now).await?
    {
        notify_owners(&mut tx, &l, position, user, "escalation", now).await?;
        Job::RefreshSummary { loop_id }
            .enqueue(&mut *tx, now)
            .await?;
        home::refresh_for(&mut tx, l.id, now).await?;
        db::audit::record(
            &mut *tx,
            loop_id,
            "loopbot",
            "escalated",
            &format!("stage={position} user={user}"),
            now,
        )
        .await?;
    }
    if after.last {
        notify_owners(&mut tx, &l, position, user, "chase_ended", now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// In the caller's transaction: one notice for the hiring manager and one for the coordinator
/// (once when they are the same person), each sent in their own working hours.
async fn notify_owners(
    tx: &mut AnyConnection,
    l: &InterviewLoop,
    position: u32,
    user: &str,
    what: &str,
    now: crate::clock::UnixMillis,
) -> sqlx::Result<()> {
    let mut owners = vec![l.hiring_manager_id.clone(), l.coordinator_id.clone()];
    owners.dedup();
    for to in owners {
        Job::OwnerNotice {
            loop_id: l.id,
            position,
            user: user.to_string(),
            to,
            what: what.to_string(),
        }
        .enqueue(&mut *tx, now)
        .await?;
    }
    Ok(())
}

/// The escalation, or the end of chasing, for one owner, in their working hours.
pub async fn owner_notice(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
    to: &str,
    what: &str,
) -> Result<(), JobError> {
    let Some((l, row)) = still_owed(state, loop_id, position, user).await? else {
        return Ok(());
    };
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    within_hours(state, to).await?;
    let message = if what == "chase_ended" {
        messages::chase_ended(&l, stage, user, row.sent_count)
    } else {
        messages::escalation(&l, stage, user, row.due_at, row.sent_count)
    };
    let key = Job::OwnerNotice {
        loop_id,
        position,
        user: user.to_string(),
        to: to.to_string(),
        what: what.to_string(),
    }
    .dedupe_key();
    state.slack.send_dm(to, &message, &key).await?;
    Ok(())
}

/// The escalation as queued before it went to both owners (kept so queued jobs still run):
/// a direct message to the hiring manager.
pub async fn escalate(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> Result<(), JobError> {
    let Some((l, row)) = still_owed(state, loop_id, position, user).await? else {
        return Ok(());
    };
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    within_hours(state, &l.hiring_manager_id).await?;
    let (due, sent) = (row.due_at, row.sent_count);
    let dm = state.slack.open_dm(&l.hiring_manager_id).await?;
    state
        .slack
        .post_message(
            &dm,
            &messages::escalation(&l, stage, user, due, sent),
            &Job::Escalation {
                loop_id,
                position,
                user: user.to_string(),
            }
            .dedupe_key(),
        )
        .await?;
    Ok(())
}

/// "I didn't run this interview": stop chasing, and tell the coordinator.
pub async fn not_run(
    state: &AppState,
    user: &str,
    loop_id: LoopId,
    position: u32,
) -> AppResult<String> {
    Ok(
        match stop_not_run(state, user, loop_id, position)
            .await
            .context("could not record a not-run answer")?
        {
            Some(stage) => format!(
                "Thanks. Reminders for *{stage}* have stopped, and the coordinator has been told so they can fix the panel."
            ),
            None => "You are not on this stage's panel, so there is nothing to stop.".to_string(),
        },
    )
}

async fn stop_not_run(
    state: &AppState,
    user: &str,
    loop_id: LoopId,
    position: u32,
) -> anyhow::Result<Option<String>> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(None);
    };
    let Some(stage) = l
        .stage_at(position)
        .filter(|s| s.interviewers.iter().any(|u| u == user))
    else {
        return Ok(None);
    };
    let now = state.clock.now_ms();
    let mut tx = state.begin_loop(loop_id).await?;
    if db::reminders::stop(&mut *tx, loop_id, position, user, "not_run").await? {
        db::audit::record(
            &mut *tx,
            loop_id,
            user,
            "interview_not_run",
            &format!("stage={position}"),
            now,
        )
        .await?;
        Job::NotRunNotice {
            loop_id,
            position,
            user: user.to_string(),
        }
        .enqueue(&mut *tx, now)
        .await?;
    }
    tx.commit().await?;
    Ok(Some(stage.name.clone()))
}

pub async fn not_run_notice(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> Result<(), JobError> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(());
    };
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    let dm = state.slack.open_dm(&l.coordinator_id).await?;
    state
        .slack
        .post_message(
            &dm,
            &messages::not_run_notice(&l, stage, user),
            &Job::NotRunNotice {
                loop_id,
                position,
                user: user.to_string(),
            }
            .dedupe_key(),
        )
        .await?;
    Ok(())
}
