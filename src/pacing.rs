//! Slack's rate budgets kept in the database, so every replica draws from the same budget:
//! the pacer's arithmetic ([`Budget`]) over the rows of [`crate::db::budgets`].

use crate::clock::UnixMillis;
use crate::db::{self, Db};
use crate::slack::pacer::{Budget, BudgetOp, SharedBudgets, StoreFuture};

#[derive(Debug, Clone)]
pub struct DbBudgets {
    db: Db,
}

impl DbBudgets {
    pub fn new(db: Db) -> DbBudgets {
        DbBudgets { db }
    }
}

impl SharedBudgets for DbBudgets {
    fn apply<'a>(&'a self, key: &'a str, op: &'a BudgetOp, now: UnixMillis) -> StoreFuture<'a> {
        Box::pin(async move {
            let (mut tx, text) = db::budgets::lock(&self.db, key, now)
                .await
                .map_err(|e| e.to_string())?;
            let mut budget = Budget::decode(&text);
            let result = budget.apply(op, now);
            db::budgets::store(&mut tx, key, &budget.encode(), now)
                .await
                .map_err(|e| e.to_string())?;
            tx.commit().await.map_err(|e| e.to_string())?;
            Ok(result)
        })
    }
}
