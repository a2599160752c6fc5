//! Slack's rate budgets as rows, for pacing shared by every replica. The rows hold the
//! pacer's text form; the arithmetic is the pacer's.

use sqlx::{Any, AnyExecutor, Transaction};

use crate::clock::UnixMillis;
use crate::db::{Backend, Db};

/// Begins a transaction holding budget `key` (created empty when missing) so no other replica
/// can change it until commit; returns the budget's text.
pub async fn lock(
    db: &Db,
    key: &str,
    now: UnixMillis,
) -> sqlx::Result<(Transaction<'static, Any>, String)> {
    let backend = Backend::of(db);
    let mut tx = match backend {
        // One writer at a time on SQLite: taking the write lock at once is the row lock.
        Backend::Sqlite => db.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => db.begin().await?,
    };
    sqlx::query(
        "INSERT INTO slack_budgets (budget_key, state, updated_at) VALUES ($1, '', $2)
         ON CONFLICT (budget_key) DO NOTHING",
    )
    .bind(key)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    let select = match backend {
        Backend::Sqlite => "SELECT state FROM slack_budgets WHERE budget_key = $1",
        Backend::Postgres => "SELECT state FROM slack_budgets WHERE budget_key = $1 FOR UPDATE",
    };
    let state: String = sqlx::query_scalar(select)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
    Ok((tx, state))
}

/// Stores budget `key`'s new text in the transaction [`lock`] began.
pub async fn store(
    tx: &mut Transaction<'static, Any>,
    key: &str,
    state: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query("UPDATE slack_budgets SET state = $2, updated_at = $3 WHERE budget_key = $1")
        .bind(key)
        .bind(state)
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
