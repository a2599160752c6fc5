//! Slack's rate budgets kept in the database, so every replica, and the job claim, draw from
//! the same budget: the pacer's arithmetic ([`Budget`]) over the rows of
//! [`crate::db::budgets`].

use crate::clock::UnixMillis;
use crate::db::{self, Backend, Db};
use crate::slack::pacer::{Budget, BudgetOp, SharedBudgets, StoreFuture, method_of_key, pace_of};

#[derive(Debug, Clone)]
pub struct DbBudgets {
    db: Db,
}

impl DbBudgets {
    pub fn new(db: Db) -> DbBudgets {
        DbBudgets { db }
    }
}

/// Applies `op` to budget `key` in the caller's transaction (which holds the row until it
/// commits): a reservation's slot, or when the budget next has room.
pub async fn apply_in(
    tx: &mut crate::db::WriteTx,
    backend: Backend,
    key: &str,
    op: &BudgetOp,
    now: UnixMillis,
) -> sqlx::Result<Result<UnixMillis, UnixMillis>> {
    let text = db::budgets::lock_in(tx, backend, key, now).await?;
    let mut budget = Budget::decode(&text);
    let result = budget.apply(op, now);
    let free_at = budget.free_at(pace_of(method_of_key(key)));
    db::budgets::store(tx, key, &budget.encode(), free_at, now).await?;
    Ok(result)
}

impl SharedBudgets for DbBudgets {
    fn apply<'a>(&'a self, key: &'a str, op: &'a BudgetOp, now: UnixMillis) -> StoreFuture<'a> {
        Box::pin(async move {
            let backend = Backend::of(&self.db);
            // One writer at a time on SQLite: its write lock is the row lock.
            let mut tx = db::begin_write(&self.db).await.map_err(|e| e.to_string())?;
            let result = apply_in(&mut tx, backend, key, op, now)
                .await
                .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            Ok(result)
        })
    }
}
