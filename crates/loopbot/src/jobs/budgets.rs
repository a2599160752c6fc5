//! Slack's rate budgets kept in the database, so every replica, and the job claim, draw from
//! the same budget: the pacer's arithmetic ([`Budget`]) over the rows of
//! [`crate::db::budgets`].

use crate::clock::UnixMillis;
use crate::db::trip::Trip;
use crate::db::{self, Backend, Db};
use crate::jobs::pacing::{
    Budget, BudgetOp, Pace, SharedBudgets, StoreFuture, apply_together, pace_of_key,
};
#[cfg(doc)]
use crate::jobs::tiers::budgets_spent;

#[derive(Debug, Clone)]
pub struct DbBudgets {
    db: Db,
}

impl DbBudgets {
    pub fn new(db: Db) -> DbBudgets {
        DbBudgets { db }
    }
}

/// Applies `op` to the budgets `keys` (one call's, [`budgets_spent`]) in the caller's
/// transaction, which holds their rows until it commits: a reservation's slot, or when they
/// next have room.
pub async fn apply_in(
    tx: &mut crate::db::WriteTx,
    backend: Backend,
    keys: &[String],
    op: &BudgetOp,
    now: UnixMillis,
) -> sqlx::Result<Result<UnixMillis, UnixMillis>> {
    let mut trip = Trip::new();
    let held = db::budgets::lock_into(&mut trip, backend, keys, now);
    let mut answers = trip.run(tx).await?;
    let texts = db::budgets::texts_in_order(keys, held.take(&mut answers)?);
    let (result, rows) = apply_to(keys, &texts, op, now);
    let mut trip = Trip::new();
    db::budgets::store_into(&mut trip, &rows, now);
    trip.run(tx).await?;
    Ok(result)
}

/// `op` applied at `now` to budgets `keys` as they were stored (`texts`): the result, and
/// each budget's row to store (`(key, text, free_at)`).
pub fn apply_to(
    keys: &[String],
    texts: &[String],
    op: &BudgetOp,
    now: UnixMillis,
) -> (Result<UnixMillis, UnixMillis>, Vec<db::budgets::BudgetRow>) {
    let mut budgets: Vec<Budget> = texts.iter().map(|t| Budget::decode(t)).collect();
    let paces: Vec<Pace> = keys.iter().map(|k| pace_of_key(k)).collect();
    let result = apply_together(&mut budgets, &paces, op, now);
    let rows = keys
        .iter()
        .zip(&budgets)
        .zip(&paces)
        .map(|((key, budget), pace)| (key.clone(), budget.encode(), budget.free_at(*pace)))
        .collect();
    (result, rows)
}

impl SharedBudgets for DbBudgets {
    /// A transaction of its own, in two trips: on SQLite's kept writer the first begins it
    /// and reads the budgets, the second stores them and commits.
    fn apply<'a>(
        &'a self,
        keys: &'a [String],
        op: &'a BudgetOp,
        now: UnixMillis,
    ) -> StoreFuture<'a> {
        Box::pin(async move {
            let failed = |f: db::trip::Failed| f.error.to_string();
            let mut trip = Trip::new();
            let held = db::budgets::lock_into(&mut trip, Backend::of(&self.db), keys, now);
            // One writer at a time on SQLite: its write lock is the row lock.
            let (tx, mut answers) = db::begin_write_with(&self.db, &[], trip)
                .await
                .map_err(failed)?;
            let found = held.take(&mut answers).map_err(|e| e.to_string())?;
            let (result, rows) = apply_to(keys, &db::budgets::texts_in_order(keys, found), op, now);
            let mut trip = Trip::new();
            db::budgets::store_into(&mut trip, &rows, now);
            tx.commit_with(trip).await.map_err(failed)?;
            Ok(result)
        })
    }
}
