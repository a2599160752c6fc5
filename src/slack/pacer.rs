//! Paces outbound calls by Slack's rate tiers ([`crate::slack::tiers`]): per method for the
//! workspace, and per channel for `chat.postMessage`. A call either gets a slot now or learns
//! when the next one is free; it is never sent into a certain 429. A 429 that comes anyway
//! closes that budget for `Retry-After`, for every caller, not just the one that got it.
//!
//! Windows are kept a little longer than Slack's (5%, at least 50 ms), so that calls which
//! leave here exactly one window apart still arrive more than a window apart.
//!
//! Where the budgets live: in this process's memory ([`Pacer::new`], one process on SQLite),
//! or in a store shared by every replica ([`Pacer::shared`], the database on PostgreSQL), since
//! the budget is the workspace's, not the process's. The arithmetic is the same for both
//! ([`Budget`]).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::clock::{SharedClock, UnixMillis};
use crate::slack::tiers::{budget_key, limit_of};

/// One budget's state: the calls of its current window, and how long it is closed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Budget {
    /// When the calls of the current window were let through, oldest first.
    sent: VecDeque<UnixMillis>,
    /// Closed until then after a 429.
    closed_until: UnixMillis,
    /// The time handed to the last caller that had to wait; the next one waits one slot
    /// longer, so a backlog comes back spread at the budget's rate, not all at once.
    next_promise: UnixMillis,
}

/// What a caller does to a budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetOp {
    /// Take a slot for a call of this method now, or learn when to ask again.
    Reserve { method: String },
    /// Slack answered 429: closed until then.
    CloseUntil(UnixMillis),
}

fn margin(window_ms: i64) -> i64 {
    (window_ms / 20).max(50)
}

fn window_of(method: &str) -> i64 {
    let limit = limit_of(method);
    limit.window_ms + margin(limit.window_ms)
}

impl Budget {
    /// Applies `op` at `now`: `Err(at)` when a reservation has to wait until `at`.
    pub fn apply(&mut self, op: &BudgetOp, now: UnixMillis) -> Result<(), UnixMillis> {
        match op {
            BudgetOp::CloseUntil(until) => {
                self.closed_until = self.closed_until.max(*until);
                Ok(())
            }
            BudgetOp::Reserve { method } => self.reserve(method, now),
        }
    }

    fn reserve(&mut self, method: &str, now: UnixMillis) -> Result<(), UnixMillis> {
        let limit = limit_of(method);
        let window = window_of(method);
        while self.sent.front().is_some_and(|t| *t + window <= now) {
            self.sent.pop_front();
        }
        let free_at = if self.sent.len() >= limit.calls as usize {
            self.sent.front().copied().unwrap_or(now) + window
        } else {
            now
        };
        let free_at = free_at.max(self.closed_until);
        if free_at > now {
            let at = free_at.max(self.next_promise);
            self.next_promise = at + window / i64::from(limit.calls.max(1));
            return Err(at);
        }
        self.sent.push_back(now);
        Ok(())
    }

    /// Nothing in its window, not closed, no promise outstanding: it can be forgotten.
    pub fn is_idle(&self, method: &str, now: UnixMillis) -> bool {
        let window = window_of(method);
        self.closed_until <= now
            && self.next_promise <= now
            && self.sent.back().is_none_or(|t| *t + window <= now)
    }

    /// A compact text form for a shared store: `closed_until next_promise sent,sent,…`.
    pub fn encode(&self) -> String {
        let sent: Vec<String> = self.sent.iter().map(i64::to_string).collect();
        format!(
            "{} {} {}",
            self.closed_until,
            self.next_promise,
            sent.join(",")
        )
    }

    /// Reads [`Budget::encode`]'s form; anything unreadable is an empty budget.
    pub fn decode(text: &str) -> Budget {
        let mut parts = text.splitn(3, ' ');
        let mut number = || parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let closed_until = number();
        let next_promise = number();
        let sent = parts
            .next()
            .unwrap_or_default()
            .split(',')
            .filter_map(|t| t.parse().ok())
            .collect();
        Budget {
            sent,
            closed_until,
            next_promise,
        }
    }
}

/// The method a budget key belongs to (`chat.postMessage:C1` → `chat.postMessage`).
pub fn method_of_key(key: &str) -> &str {
    key.split(':').next().unwrap_or(key)
}

pub type StoreFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Result<(), UnixMillis>, String>> + Send + 'a>>;

/// Budgets kept where every replica sees them. `apply` must load the budget `key`, apply `op`
/// at `now` with [`Budget::apply`] and store it, as one step no other replica can interleave
/// with.
pub trait SharedBudgets: Send + Sync + std::fmt::Debug {
    fn apply<'a>(&'a self, key: &'a str, op: &'a BudgetOp, now: UnixMillis) -> StoreFuture<'a>;
}

#[derive(Debug)]
enum Store {
    Local(Mutex<HashMap<String, Budget>>),
    Shared(Arc<dyn SharedBudgets>),
}

#[derive(Debug)]
pub struct Pacer {
    clock: SharedClock,
    store: Store,
}

/// When the shared store cannot be asked, wait this long and ask again (never send blind).
const STORE_RETRY_MS: i64 = 1_000;

impl Pacer {
    /// Budgets in this process's memory.
    pub fn new(clock: SharedClock) -> Pacer {
        Pacer {
            clock,
            store: Store::Local(Mutex::new(HashMap::new())),
        }
    }

    /// Budgets in a store every replica shares.
    pub fn shared(clock: SharedClock, store: Arc<dyn SharedBudgets>) -> Pacer {
        Pacer {
            clock,
            store: Store::Shared(store),
        }
    }

    fn local(
        budgets: &Mutex<HashMap<String, Budget>>,
    ) -> std::sync::MutexGuard<'_, HashMap<String, Budget>> {
        budgets.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn apply(&self, key: String, op: BudgetOp) -> Result<(), UnixMillis> {
        let now = self.clock.now_ms();
        match &self.store {
            Store::Local(budgets) => Self::local(budgets).entry(key).or_default().apply(&op, now),
            Store::Shared(store) => match store.apply(&key, &op, now).await {
                Ok(result) => result,
                Err(error) => {
                    tracing::warn!(%error, budget = key, "cannot read the shared rate budget");
                    Err(now + STORE_RETRY_MS)
                }
            },
        }
    }

    /// Takes a slot for a call of `method` (to `channel`) now, or returns when to ask again.
    pub async fn reserve(&self, method: &str, channel: Option<&str>) -> Result<(), UnixMillis> {
        let op = BudgetOp::Reserve {
            method: method.to_string(),
        };
        self.apply(budget_key(method, channel), op).await
    }

    /// Slack answered 429: nobody calls `method` (on `channel`) until `until`.
    pub async fn close_until(&self, method: &str, channel: Option<&str>, until: UnixMillis) {
        let _ = self
            .apply(budget_key(method, channel), BudgetOp::CloseUntil(until))
            .await;
    }

    /// Forgets budgets with nothing in their window, so memory stays bounded by the channels
    /// that were active in the last minute or so. (A shared store is pruned by its owner.)
    pub fn prune(&self) {
        let now = self.clock.now_ms();
        if let Store::Local(budgets) = &self.store {
            Self::local(budgets).retain(|key, b| !b.is_idle(method_of_key(key), now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::time::Duration;

    #[tokio::test]
    async fn tier_two_lets_twenty_through_then_says_when() {
        let clock = ManualClock::starting_at(0);
        let pacer = Pacer::new(clock.clone());
        for _ in 0..20 {
            assert_eq!(pacer.reserve("conversations.create", None).await, Ok(()));
        }
        assert_eq!(
            pacer.reserve("conversations.create", None).await,
            Err(63_000)
        );
        assert_eq!(
            pacer.reserve("conversations.create", None).await,
            Err(66_150),
            "the next one waiting comes back one slot later"
        );
        assert_eq!(
            pacer.reserve("pins.add", None).await,
            Ok(()),
            "budgets are per method"
        );
        clock.advance(Duration::from_millis(63_000));
        assert_eq!(pacer.reserve("conversations.create", None).await, Ok(()));
    }

    #[tokio::test]
    async fn posts_are_paced_per_channel_and_a_429_closes_the_budget_for_everyone() {
        let clock = ManualClock::starting_at(0);
        let pacer = Pacer::new(clock.clone());
        assert_eq!(pacer.reserve("chat.postMessage", Some("C1")).await, Ok(()));
        assert_eq!(pacer.reserve("chat.postMessage", Some("C2")).await, Ok(()));
        assert_eq!(
            pacer.reserve("chat.postMessage", Some("C1")).await,
            Err(1_050)
        );
        pacer.close_until("chat.update", None, 5_000).await;
        assert_eq!(pacer.reserve("chat.update", None).await, Err(5_000));
        clock.advance(Duration::from_secs(5));
        assert_eq!(pacer.reserve("chat.update", None).await, Ok(()));
        clock.advance(Duration::from_secs(120));
        pacer.prune();
        let Store::Local(budgets) = &pacer.store else {
            panic!("local")
        };
        assert!(Pacer::local(budgets).is_empty());
    }

    #[test]
    fn a_budget_survives_its_text_form() {
        let mut budget = Budget::default();
        let op = BudgetOp::Reserve {
            method: "conversations.create".into(),
        };
        for t in [10, 20, 30] {
            assert_eq!(budget.apply(&op, t), Ok(()));
        }
        budget.apply(&BudgetOp::CloseUntil(900), 30).unwrap();
        let text = budget.encode();
        assert_eq!(text, "900 0 10,20,30");
        assert_eq!(Budget::decode(&text), budget);
        assert_eq!(Budget::decode(""), Budget::default());
        assert_eq!(Budget::decode("garbage"), Budget::default());
    }
}
