//! Chasing one missing scorecard, counted by delivery: what comes after Slack accepted one more
//! reminder. Pure: the delivery time is passed in.
//!
//! Reminders are counted when Slack accepts them, never when they are queued: a person gets
//! reminder `n + 1` no sooner than `LOOPBOT_REMIND_EVERY` after reminder `n` was delivered,
//! and the owners hear after exactly `LOOPBOT_ESCALATE_AFTER` delivered reminders. With at most
//! one reminder in flight per person and stage, a reminder that is late (Slack down, a
//! backlog, working hours) is sent once when it can be, instead of stacking up with the ones
//! that fell due meanwhile and arriving in a burst or out of order.

use std::time::Duration;

use crate::clock::UnixMillis;

/// The settings the cadence follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cadence {
    /// `LOOPBOT_REMIND_EVERY`: the least time between two delivered reminders.
    pub every: Duration,
    /// `LOOPBOT_REMIND_MAX`: reminders delivered at most.
    pub max: u32,
    /// `LOOPBOT_ESCALATE_AFTER`: delivered reminders before the owners are told.
    pub escalate_after: u32,
}

/// What follows the delivery of one more reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AfterDelivery {
    /// Reminders delivered, this one included (its number, as the person reads it).
    pub delivered: i64,
    /// When the next reminder may be queued; `None` after the last one.
    pub next_at: Option<UnixMillis>,
    /// The owners are told now: this is the `escalate_after`-th delivered reminder (or a later
    /// one, if the escalation has not happened yet).
    pub escalate: bool,
    /// This was the last reminder: the owners learn that chasing stopped.
    pub last: bool,
}

impl Cadence {
    /// Slack accepted a reminder at `delivered_at`, after `delivered_before` earlier ones;
    /// `escalated` says whether the owners were told already.
    pub fn after_delivery(
        &self,
        delivered_before: i64,
        escalated: bool,
        delivered_at: UnixMillis,
    ) -> AfterDelivery {
        let delivered = delivered_before.max(0) + 1;
        let last = delivered >= i64::from(self.max);
        let every = i64::try_from(self.every.as_millis()).unwrap_or(i64::MAX / 4);
        AfterDelivery {
            delivered,
            next_at: (!last).then(|| delivered_at.saturating_add(every)),
            escalate: !escalated && delivered >= i64::from(self.escalate_after),
            last,
        }
    }

    /// Whether another reminder may still be queued after `delivered` ones.
    pub fn wants_more(&self, delivered: i64) -> bool {
        delivered < i64::from(self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: UnixMillis = 1_000_000;

    fn cadence(max: u32, escalate_after: u32) -> Cadence {
        Cadence {
            every: Duration::from_secs(2),
            max,
            escalate_after,
        }
    }

    #[test]
    fn each_delivery_sets_the_next_reminder_a_full_interval_after_it() {
        // (delivered before, escalated, → delivered, next, escalate, last)
        let cases = [
            (0, false, 1, Some(T + 2_000), false, false),
            (1, false, 2, Some(T + 2_000), true, false),
            (2, true, 3, Some(T + 2_000), false, false),
            (4, true, 5, None, false, true),
            // Not escalated yet past the point (settings changed): now, once.
            (3, false, 4, Some(T + 2_000), true, false),
        ];
        for (before, escalated, delivered, next_at, escalate, last) in cases {
            assert_eq!(
                cadence(5, 2).after_delivery(before, escalated, T),
                AfterDelivery {
                    delivered,
                    next_at,
                    escalate,
                    last
                },
                "{before} delivered before, escalated: {escalated}"
            );
        }
    }

    #[test]
    fn the_escalation_counts_delivered_reminders_exactly() {
        let c = cadence(5, 2);
        let mut escalated = false;
        let mut escalations = Vec::new();
        for before in 0..5 {
            let after = c.after_delivery(before, escalated, T);
            if after.escalate {
                escalations.push(after.delivered);
                escalated = true;
            }
        }
        assert_eq!(
            escalations,
            vec![2],
            "once, with the second delivered reminder"
        );
    }

    #[test]
    fn the_last_reminder_ends_the_chase_and_may_escalate_with_it() {
        let after = cadence(1, 1).after_delivery(0, false, T);
        assert_eq!(
            (after.next_at, after.escalate, after.last),
            (None, true, true)
        );
        assert!(cadence(3, 2).wants_more(2));
        assert!(!cadence(3, 2).wants_more(3));
    }
}
