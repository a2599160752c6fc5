//! Slack's rate budgets as rows, shared by every replica and read by the job claim. A row
//! holds the pacer's text form and `free_at`, when the budget next has room (what the claim's
//! query compares); the arithmetic is the pacer's.

use sqlx::AnyExecutor;

use crate::clock::UnixMillis;
use crate::db::Backend;

/// Holds budget `key` (created empty when missing) in the caller's transaction until it
/// commits; returns the budget's text.
pub async fn lock_in(
    tx: &mut crate::db::WriteTx,
    backend: Backend,
    key: &str,
    now: UnixMillis,
) -> sqlx::Result<String> {
    sqlx::query(
        "INSERT INTO slack_budgets (budget_key, state, updated_at) VALUES ($1, '', $2)
         ON CONFLICT (budget_key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    let select = match backend {
        Backend::Sqlite => "SELECT state FROM slack_budgets WHERE budget_key = $1",
        Backend::Postgres => "SELECT state FROM slack_budgets WHERE budget_key = $1 FOR UPDATE",
    };
    sqlx::query_scalar(select)
        .bind(key)
        .fetch_one(&mut **tx)
        .await
}

/// Stores budget `key`'s new text, and when it next has room, in the transaction that
/// holds it.
pub async fn store(
    tx: &mut crate::db::WriteTx,
    key: &str,
    state: &str,
    free_at: UnixMillis,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE slack_budgets SET state = $2, free_at = $3, updated_at = $4 WHERE budget_key = $1",
    )
    .bind(key)
    .bind(state)
    .bind(free_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Budgets untouched since `older_than` hold nothing that still matters (every window is a
/// minute at most, every Retry-After is short).
pub async fn prune(db: impl AnyExecutor<'_>, older_than: UnixMillis) -> sqlx::Result<u64> {
    let result = sqlx::query("DELETE FROM slack_budgets WHERE updated_at < $1")
        .bind(older_than)
        .execute(db)
        .await?;
    Ok(result.rows_affected())
}
