//! Writes for `loopbot purge`: remove a decided loop's candidate data, keep its counts.

use sqlx::AnyExecutor;

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;

/// Text that replaces a purged candidate's name.
pub const PURGED_NAME: &str = "Purged candidate";
/// Text that replaces a purged skip reason.
pub const PURGED_REASON: &str = "[purged]";

/// Loops decided before `before` (unix ms) that are not purged yet, oldest decision first.
pub async fn due(db: impl AnyExecutor<'_>, before: UnixMillis) -> sqlx::Result<Vec<LoopId>> {
    sqlx::query_scalar(
        "SELECT id FROM loops
          WHERE decided_at IS NOT NULL AND decided_at < $1 AND purged_at IS NULL
          ORDER BY decided_at, id",
    )
    .bind(before)
    .fetch_all(db)
    .await
}

/// Keeps, per stage, how many interviewers had a (current) scorecard.
pub async fn count_scorecards(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE stages
            SET scorecards_purged = scorecards_purged
                + (SELECT COUNT(DISTINCT s.interviewer_id) FROM scorecards s
                    WHERE s.loop_id = stages.loop_id AND s.position = stages.position)
          WHERE loop_id = $1",
    )
    .bind(loop_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes every unsubmitted scorecard draft of the loop.
pub async fn delete_drafts(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("DELETE FROM scorecard_drafts WHERE loop_id = $1")
            .bind(loop_id)
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// Deletes every version of every scorecard of the loop.
pub async fn delete_scorecards(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<u64> {
    Ok(sqlx::query("DELETE FROM scorecards WHERE loop_id = $1")
        .bind(loop_id)
        .execute(db)
        .await?
        .rows_affected())
}

/// Replaces the candidate's name, drops the channel name and the decision's rationale (the
/// decision, who made it and when are kept) and marks the loop purged. Returns false when the
/// loop was already purged.
pub async fn scrub_loop(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE loops
            SET candidate_name = $2, channel_name = NULL, decision_rationale = NULL,
                purged_at = $3, updated_at = $3
          WHERE id = $1 AND purged_at IS NULL",
    )
    .bind(loop_id)
    .bind(PURGED_NAME)
    .bind(now)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn scrub_skips(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<()> {
    sqlx::query("UPDATE stage_skips SET reason = $2 WHERE loop_id = $1")
        .bind(loop_id)
        .bind(PURGED_REASON)
        .execute(db)
        .await?;
    Ok(())
}

/// Audit details may quote the candidate; the entries themselves (who, what, when) are kept.
pub async fn scrub_audit(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<()> {
    sqlx::query("UPDATE audit_log SET detail = '' WHERE loop_id = $1")
        .bind(loop_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Purges one loop's candidate data in the caller's transaction, recording `actor` in the
/// audit log. Returns false (and changes nothing) when it was purged already.
pub async fn purge_loop(
    conn: &mut sqlx::AnyConnection,
    loop_id: LoopId,
    actor: &str,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    let purged: Option<Option<i64>> =
        sqlx::query_scalar("SELECT purged_at FROM loops WHERE id = $1")
            .bind(loop_id)
            .fetch_optional(&mut *conn)
            .await?;
    if !matches!(purged, Some(None)) {
        return Ok(false);
    }
    count_scorecards(&mut *conn, loop_id).await?;
    let versions = delete_scorecards(&mut *conn, loop_id).await?;
    delete_drafts(&mut *conn, loop_id).await?;
    scrub_loop(&mut *conn, loop_id, now).await?;
    scrub_skips(&mut *conn, loop_id).await?;
    scrub_audit(&mut *conn, loop_id).await?;
    let detail = format!("{versions} scorecard versions deleted");
    crate::db::audit::record(&mut *conn, loop_id, actor, "purged", &detail, now).await?;
    Ok(true)
}

/// The loop `target` names: its number, its channel's id, or its channel's name (with or
/// without `#`).
pub async fn find(db: impl AnyExecutor<'_>, target: &str) -> sqlx::Result<Option<LoopId>> {
    let target = target.trim().trim_start_matches('#');
    sqlx::query_scalar(
        "SELECT id FROM loops
          WHERE CAST(id AS TEXT) = $1 OR channel_id = $1 OR channel_name = $1
          ORDER BY id LIMIT 1",
    )
    .bind(target)
    .fetch_optional(db)
    .await
}

/// Whether the loop is purged already, or `None` when there is no such loop.
pub async fn is_purged(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<Option<bool>> {
    let purged: Option<Option<i64>> =
        sqlx::query_scalar("SELECT purged_at FROM loops WHERE id = $1")
            .bind(loop_id)
            .fetch_optional(db)
            .await?;
    Ok(purged.map(|p| p.is_some()))
}

/// Loops decided before `before` whose Slack clean-up has not finished (purged or not yet),
/// oldest decision first: what `loopbot purge --decided-before DATE --slack` queues.
pub async fn slack_due(db: impl AnyExecutor<'_>, before: UnixMillis) -> sqlx::Result<Vec<LoopId>> {
    sqlx::query_scalar(
        "SELECT id FROM loops
          WHERE decided_at IS NOT NULL AND decided_at < $1 AND slack_purged_at IS NULL
          ORDER BY decided_at, id",
    )
    .bind(before)
    .fetch_all(db)
    .await
}

/// The Slack clean-up of the loop is done.
pub async fn mark_slack_purged(
    db: impl AnyExecutor<'_>,
    loop_id: LoopId,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE loops SET slack_purged_at = $2, updated_at = $2 WHERE id = $1")
        .bind(loop_id)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// Everyone Loopbot may have sent a direct message about the loop: its owners, the panel, and
/// whoever was reminded or briefed (someone taken off the panel since included), each once.
/// (`interview_dms` rows for no one mark a stage's clock moments; they are left out.)
pub async fn people_of(db: impl AnyExecutor<'_>, loop_id: LoopId) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT coordinator_id FROM loops WHERE id = $1
         UNION SELECT hiring_manager_id FROM loops WHERE id = $1
         UNION SELECT user_id FROM stage_interviewers WHERE loop_id = $1
         UNION SELECT user_id FROM reminders WHERE loop_id = $1
         UNION SELECT user_id FROM interview_dms WHERE loop_id = $1 AND user_id <> ''
         ORDER BY 1",
    )
    .bind(loop_id)
    .fetch_all(db)
    .await
}
