//! Slack's rate tiers, enforced as sliding windows over the simulator's clock.

use super::{Args, SimState};
use crate::slack::tiers::{budget_key, limit_of};

impl SimState {
    /// See [`crate::sim::Simulator::enforce_tiers`].
    pub fn set_enforce_tiers(&mut self, on: bool) {
        self.enforce_tiers = on;
        self.tier_calls.clear();
    }

    /// Counts the call against its budget, or, when the budget's window is full, refuses it
    /// with the seconds until the oldest counted call leaves the window (rounded up, ≥ 1).
    /// Refused calls are not counted. Always `Ok` while tiers are not enforced.
    pub(super) fn take_tier_slot(
        &mut self,
        now_ms: i64,
        method: &str,
        args: &Args<'_>,
    ) -> Result<(), u64> {
        if !self.enforce_tiers {
            return Ok(());
        }
        let limit = limit_of(method);
        let key = budget_key(method, args.str("channel").as_deref());
        let calls = self.tier_calls.entry(key).or_default();
        // A call made at `t` is in the window while `now - window_ms < t`.
        while calls
            .front()
            .is_some_and(|&t| t <= now_ms - limit.window_ms)
        {
            calls.pop_front();
        }
        if calls.len() >= limit.calls as usize {
            let oldest = calls.front().copied().unwrap_or(now_ms);
            let wait_ms = (oldest + limit.window_ms - now_ms).max(0);
            let secs = u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1);
            return Err(secs);
        }
        calls.push_back(now_ms);
        Ok(())
    }
}
