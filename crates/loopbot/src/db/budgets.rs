//! Slack's rate budgets as rows, shared by every replica and read by the job claim. A row
//! holds the pacer's text form and `free_at`, when the budget next has room (what the claim's
//! query compares); the arithmetic is the pacer's.

use sqlx::{AnyExecutor, Row};

use crate::clock::UnixMillis;
use crate::db::Backend;
use crate::db::trip::{Read, Trip, Value};

/// Holds budgets `keys` (created empty when missing) in the caller's transaction until it
/// commits: read their texts with [`texts_in_order`]. Callers name a call's budgets in one
/// order (the workspace's before a channel's), so two transactions never wait on each other
/// crosswise.
pub fn lock_into(
    trip: &mut Trip,
    backend: Backend,
    keys: &[String],
    now: UnixMillis,
) -> Read<Vec<(String, String)>> {
    let rows = (0..keys.len()).map(|i| format!("(${}, '', $1)", i + 2));
    let mut values: Vec<Value> = vec![now.into()];
    values.extend(keys.iter().map(|k| Value::from(k.as_str())));
    trip.push(
        format!(
            "INSERT INTO slack_budgets (budget_key, state, updated_at) VALUES {}
             ON CONFLICT (budget_key) DO NOTHING",
            rows.collect::<Vec<_>>().join(", ")
        ),
        values,
    );
    let wanted = (1..=keys.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>();
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " ORDER BY budget_key FOR UPDATE",
    };
    trip.read(
        format!(
            "SELECT budget_key, state FROM slack_budgets WHERE budget_key IN ({}){lock}",
            wanted.join(", ")
        ),
        keys.iter().map(|k| Value::from(k.as_str())).collect(),
        |rows| {
            rows.iter()
                .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
                .collect()
        },
    )
}

/// The texts of budgets `keys`, in that order, from what [`lock_into`] read.
pub fn texts_in_order(keys: &[String], found: Vec<(String, String)>) -> Vec<String> {
    keys.iter()
        .map(|key| {
            found
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, state)| state.clone())
                .unwrap_or_default()
        })
        .collect()
}

/// A budget's row to store: its key, its text, and when it next has room.
pub type BudgetRow = (String, String, UnixMillis);

/// Stores each budget's new text, and when it next has room, in the transaction that holds
/// them.
pub fn store_into(trip: &mut Trip, budgets: &[BudgetRow], now: UnixMillis) {
    for (key, state, free_at) in budgets {
        trip.push(
            "UPDATE slack_budgets SET state = $2, free_at = $3, updated_at = $4
              WHERE budget_key = $1",
            vec![
                key.as_str().into(),
                state.as_str().into(),
                (*free_at).into(),
                now.into(),
            ],
        );
    }
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
