//! A panel scheduled out of the rubric's order is normal (people's calendars decide), so it
//! gets one quiet channel note per arrangement, when the loop starts or the panel changes,
//! and never an alarm: a stage is only called missing once its own feedback time has passed.

use sqlx::AnyConnection;

use crate::clock::UnixMillis;
use crate::db;
use crate::domain::interview_loop::{LoopId, LoopStatus, Stage, time_order_if_shuffled};
use crate::jobs::{Job, JobError};
use crate::slack::messages;
use crate::state::AppState;

/// How long the note waits for the loop's channel while it is being set up.
const WAIT_FOR_CHANNEL_MS: i64 = 5_000;

fn order_key(stages: &[&Stage]) -> String {
    let positions: Vec<String> = stages.iter().map(|s| s.position.to_string()).collect();
    positions.join(",")
}

/// In the caller's transaction (loop start, panel change): queues the note when `stages` are
/// scheduled out of order in a way the channel has not been told about.
pub async fn note_if_shuffled(
    tx: &mut AnyConnection,
    loop_id: LoopId,
    stages: &[Stage],
    now: UnixMillis,
) -> sqlx::Result<()> {
    let order = time_order_if_shuffled(stages).map(|timed| order_key(&timed));
    let noted = db::loops::order_noted(&mut *tx, loop_id).await?;
    if order == noted {
        return Ok(());
    }
    db::loops::set_order_noted(&mut *tx, loop_id, order.as_deref()).await?;
    if let Some(order) = order {
        Job::OrderNote { loop_id, order }
            .enqueue(&mut *tx, now)
            .await?;
    }
    Ok(())
}

/// The job: posts the note if the panel is still in that order.
pub async fn post_note(state: &AppState, loop_id: LoopId, order: &str) -> Result<(), JobError> {
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::loop_gone(loop_id))?;
    if l.status != LoopStatus::Provisioning && l.status != LoopStatus::Open {
        return Ok(());
    }
    let Some(channel) = l.channel_id.clone() else {
        // Set-up that has not made the channel within the hour has failed; the coordinator
        // was told, and the note is not worth waiting for.
        if state.clock.now_ms() - l.created_at > 3_600_000 {
            return Ok(());
        }
        return Err(JobError::Deferred {
            until: state.clock.now_ms() + WAIT_FOR_CHANNEL_MS,
        });
    };
    let Some(timed) = time_order_if_shuffled(&l.stages) else {
        return Ok(());
    };
    if order_key(&timed) != order {
        return Ok(());
    }
    let key = Job::OrderNote {
        loop_id,
        order: order.to_string(),
    }
    .dedupe_key();
    state
        .slack
        .post_message(&channel, &messages::order_note(&timed), &key)
        .await?;
    Ok(())
}
