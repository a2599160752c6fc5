//! Slack's rate limits, enforced over the simulator's clock from the simulator's own table
//! ([`crate::rules`]): per method for the workspace, a sliding window of the tier's
//! published per-minute floor; and for `chat.postMessage` also per channel, a short burst
//! refilled at one post a second.

use super::{Args, SimState};
use crate::rules::{POST_BURST, POST_REFILL_MS, Rule, Tier, per_method};

impl SimState {
    /// See [`crate::Simulator::enforce_tiers`].
    pub fn set_enforce_tiers(&mut self, on: bool) {
        self.enforce_tiers = on;
        self.tier_calls.clear();
        self.channel_posts.clear();
    }

    /// Counts the call against its budgets, or, when one is spent, refuses it with the
    /// seconds until it has room (rounded up, ≥ 1). A refused call is not counted. Always
    /// `Ok` while tiers are not enforced.
    pub(super) fn take_tier_slot(
        &mut self,
        now_ms: i64,
        rule: &Rule,
        args: &Args<'_>,
    ) -> Result<(), u64> {
        if !self.enforce_tiers {
            return Ok(());
        }
        let window = per_method(rule.tier);
        let calls = self.tier_calls.entry(rule.method.to_string()).or_default();
        // A call made at `t` is in the window while `now - window_ms < t`.
        while calls
            .front()
            .is_some_and(|&t| t <= now_ms - window.window_ms)
        {
            calls.pop_front();
        }
        let mut wait_ms = 0;
        if calls.len() >= window.calls as usize {
            let oldest = calls.front().copied().unwrap_or(now_ms);
            wait_ms = oldest + window.window_ms - now_ms;
        }
        let channel = (rule.tier == Tier::PostMessage)
            .then(|| args.str("channel"))
            .flatten();
        // Per channel, a bucket as a theoretical arrival time: each post moves it one refill
        // later; a post may come while it is at most a burst's worth ahead of now.
        let tolerance = i64::from(POST_BURST - 1) * POST_REFILL_MS;
        let due = channel.as_ref().map(|c| {
            self.channel_posts
                .get(c)
                .copied()
                .unwrap_or(now_ms)
                .max(now_ms)
        });
        if let Some(due) = due {
            wait_ms = wait_ms.max(due - tolerance - now_ms);
        }
        if wait_ms > 0 {
            return Err(u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1));
        }
        self.tier_calls
            .entry(rule.method.to_string())
            .or_default()
            .push_back(now_ms);
        if let (Some(channel), Some(due)) = (channel, due) {
            self.channel_posts.insert(channel, due + POST_REFILL_MS);
        }
        Ok(())
    }
}
