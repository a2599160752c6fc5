//! Inbound idempotency: Slack retries an event with the same `event_id`; it has one effect.
//! And replay protection: a signed request that changed something leaves its signature here,
//! written with its change ([`record`]), so the same bytes sent again are refused.

use sqlx::AnyExecutor;

use super::trip::Trip;

use crate::clock::UnixMillis;

/// Records `key` in the caller's transaction. A key recorded before fails the insert with the
/// database's unique violation ([`is_repeat`]), which aborts the transaction: nothing of a
/// repeated delivery is kept.
pub async fn record(db: impl AnyExecutor<'_>, key: &str, now: UnixMillis) -> sqlx::Result<()> {
    sqlx::query(RECORD)
        .bind(key)
        .bind(now)
        .execute(db)
        .await
        .map(drop)
}

const RECORD: &str = "INSERT INTO slack_receipts (receipt_key, received_at) VALUES ($1, $2)";

/// [`record`] in a trip with other statements (it stops the trip when the key was recorded
/// before).
pub fn record_into(trip: &mut Trip, key: &str, now: UnixMillis) {
    trip.push(RECORD, vec![key.into(), now.into()]);
}

/// Whether [`record`] failed because the key was recorded before.
pub fn is_repeat(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// Records `key`; returns `false` when it was seen before.
pub async fn record_once(
    db: impl AnyExecutor<'_>,
    key: &str,
    now: UnixMillis,
) -> sqlx::Result<bool> {
    let result = sqlx::query(
        "INSERT INTO slack_receipts (receipt_key, received_at) VALUES ($1, $2)
         ON CONFLICT (receipt_key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Receipts older than Slack's retry horizon are no longer needed.
pub async fn prune(db: impl AnyExecutor<'_>, older_than: UnixMillis) -> sqlx::Result<u64> {
    let result = sqlx::query("DELETE FROM slack_receipts WHERE received_at < $1")
        .bind(older_than)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}

/// Request signatures (`sig:` keys) are needed only while Slack's 5-minute window could let a
/// replay through; they go sooner than other receipts.
pub async fn prune_signatures(
    db: impl AnyExecutor<'_>,
    older_than: UnixMillis,
) -> sqlx::Result<u64> {
    let result = sqlx::query(
        "DELETE FROM slack_receipts WHERE receipt_key LIKE 'sig:%' AND received_at < $1",
    )
    .bind(older_than)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}
