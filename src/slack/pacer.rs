//! Paces outbound calls by Slack's rate tiers ([`crate::slack::tiers`]): per method for the
//! workspace, and per channel for `chat.postMessage`. A call either gets a slot now or learns
//! when the next one is free; it is never sent into a certain 429. A 429 that comes anyway
//! closes that budget for `Retry-After`, for every caller, not just the one that got it.
//!
//! Windows are kept a little longer than Slack's (5%, at least 50 ms), so that calls which
//! leave here exactly one window apart still arrive more than a window apart.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::clock::{SharedClock, UnixMillis};
use crate::slack::tiers::{budget_key, limit_of};

#[derive(Debug, Default)]
struct Budget {
    /// When the calls of the current window were let through, oldest first.
    sent: VecDeque<UnixMillis>,
    /// Closed until then after a 429.
    closed_until: UnixMillis,
    /// The time handed to the last caller that had to wait; the next one waits one slot
    /// longer, so a backlog comes back spread at the budget's rate, not all at once.
    next_promise: UnixMillis,
}

#[derive(Debug)]
pub struct Pacer {
    clock: SharedClock,
    budgets: Mutex<HashMap<String, Budget>>,
}

fn margin(window_ms: i64) -> i64 {
    (window_ms / 20).max(50)
}

impl Pacer {
    pub fn new(clock: SharedClock) -> Pacer {
        Pacer {
            clock,
            budgets: Mutex::new(HashMap::new()),
        }
    }

    fn budgets(&self) -> std::sync::MutexGuard<'_, HashMap<String, Budget>> {
        self.budgets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a slot for a call of `method` (to `channel`) now, or returns when to ask again.
    pub fn reserve(&self, method: &str, channel: Option<&str>) -> Result<(), UnixMillis> {
        let now = self.clock.now_ms();
        let limit = limit_of(method);
        let window = limit.window_ms + margin(limit.window_ms);
        let mut budgets = self.budgets();
        let budget = budgets.entry(budget_key(method, channel)).or_default();
        while budget.sent.front().is_some_and(|t| *t + window <= now) {
            budget.sent.pop_front();
        }
        let free_at = if budget.sent.len() >= limit.calls as usize {
            budget.sent.front().copied().unwrap_or(now) + window
        } else {
            now
        };
        let free_at = free_at.max(budget.closed_until);
        if free_at > now {
            let at = free_at.max(budget.next_promise);
            budget.next_promise = at + window / i64::from(limit.calls.max(1));
            return Err(at);
        }
        budget.sent.push_back(now);
        Ok(())
    }

    /// Slack answered 429: nobody calls `method` (on `channel`) until `until`.
    pub fn close_until(&self, method: &str, channel: Option<&str>, until: UnixMillis) {
        let mut budgets = self.budgets();
        let budget = budgets.entry(budget_key(method, channel)).or_default();
        budget.closed_until = budget.closed_until.max(until);
    }

    /// Forgets budgets with nothing in their window, so memory stays bounded by the channels
    /// that were active in the last minute or so.
    pub fn prune(&self) {
        let now = self.clock.now_ms();
        self.budgets().retain(|key, b| {
            let method = key.split(':').next().unwrap_or(key);
            let limit = limit_of(method);
            let window = limit.window_ms + margin(limit.window_ms);
            b.closed_until > now
                || b.next_promise > now
                || b.sent.back().is_some_and(|t| *t + window > now)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::time::Duration;

    #[test]
    fn tier_two_lets_twenty_through_then_says_when() {
        let clock = ManualClock::starting_at(0);
        let pacer = Pacer::new(clock.clone());
        for _ in 0..20 {
            assert_eq!(pacer.reserve("conversations.create", None), Ok(()));
        }
        assert_eq!(pacer.reserve("conversations.create", None), Err(63_000));
        assert_eq!(
            pacer.reserve("conversations.create", None),
            Err(66_150),
            "the next one waiting comes back one slot later"
        );
        assert_eq!(
            pacer.reserve("pins.add", None),
            Ok(()),
            "budgets are per method"
        );
        clock.advance(Duration::from_millis(63_000));
        assert_eq!(pacer.reserve("conversations.create", None), Ok(()));
    }

    #[test]
    fn posts_are_paced_per_channel_and_a_429_closes_the_budget_for_everyone() {
        let clock = ManualClock::starting_at(0);
        let pacer = Pacer::new(clock.clone());
        assert_eq!(pacer.reserve("chat.postMessage", Some("C1")), Ok(()));
        assert_eq!(pacer.reserve("chat.postMessage", Some("C2")), Ok(()));
        assert_eq!(pacer.reserve("chat.postMessage", Some("C1")), Err(1_050));
        pacer.close_until("chat.update", None, 5_000);
        assert_eq!(pacer.reserve("chat.update", None), Err(5_000));
        clock.advance(Duration::from_secs(5));
        assert_eq!(pacer.reserve("chat.update", None), Ok(()));
        clock.advance(Duration::from_secs(120));
        pacer.prune();
        assert!(pacer.budgets().is_empty());
    }
}
