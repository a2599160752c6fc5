//! Paces outbound calls by Slack's rate tiers ([`crate::jobs::tiers`]): per method for the
//! workspace, and for `chat.postMessage` per channel and for the workspace both (a post
//! spends a slot of each, reserved together). A call gets a slot now or within
//! [`IN_JOB_WAIT_MS`] (the caller waits for it), or learns when the budget next has room; it is
//! never sent into a certain 429. A 429 that comes anyway closes that budget for `Retry-After`,
//! for every caller and every replica.
//!
//! The arithmetic ([`Budget`]) is a sliding log: a budget remembers the slots of its last
//! `calls` reservations, and a new call may go once the oldest of them is a whole window old.
//! So a budget gives its whole window at once when it has been quiet (twelve loops started
//! together get their twelve channels at once), and then one call for each call that leaves
//! the window: never more in any window than the tier allows. A slot handed out is a
//! reservation: it is counted when given, so a caller that comes back a little late to use it
//! does not lose it, and callers that wait come back spread at the budget's rate, never all at
//! once.
//!
//! Where the budgets live: in the database (every replica and the job claim see them, see
//! `crate::jobs::budgets`), or in this process's memory ([`Pacer::new`], for unit tests).

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::clock::{SharedClock, UnixMillis};
use crate::jobs::tiers::{Limit, budget_key, budgets_spent, limit_of, limit_of_key};

/// A wait shorter than this happens inside the running job; a longer one puts the job back in
/// the queue until its budget has room (the claim then takes it only when it has).
pub const IN_JOB_WAIT_MS: i64 = 2_000;

/// What a budget allows: at most `calls` calls in any `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub calls: usize,
    pub window_ms: i64,
}

/// The pace Loopbot keeps for `method`: the tier's calls in a window 5% longer than the
/// tier's (so calls a window apart here still arrive a window apart at Slack).
pub fn pace_of(method: &str) -> Pace {
    pace_within(limit_of(method))
}

/// The pace Loopbot keeps for budget `key` (a channel's posts, or a method's calls for the
/// whole workspace), with the same room to spare.
pub fn pace_of_key(key: &str) -> Pace {
    pace_within(limit_of_key(key))
}

fn pace_within(limit: Limit) -> Pace {
    Pace {
        calls: limit.calls.max(1) as usize,
        window_ms: (limit.window_ms * 21 + 19) / 20,
    }
}

/// One budget's state: the slots of its last reservations (oldest first, at most a tier's
/// worth), and how long it is closed after a 429.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Budget {
    slots: VecDeque<UnixMillis>,
    closed_until: UnixMillis,
}

/// What a caller does to a budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BudgetOp {
    /// Take a slot no later than `horizon_ms` from now, or learn when the budget next has
    /// room.
    Reserve { horizon_ms: i64 },
    /// Slack answered 429: closed until then.
    CloseUntil(UnixMillis),
}

impl Budget {
    /// The earliest time a call may be made: when the oldest slot that counts is a window
    /// old, and the budget is open.
    pub fn free_at(&self, pace: Pace) -> UnixMillis {
        let window_full = self
            .slots
            .len()
            .checked_sub(pace.calls)
            .and_then(|i| self.slots.get(i))
            .map_or(0, |oldest| oldest + pace.window_ms);
        window_full.max(self.closed_until)
    }

    /// Reserves the first free slot if it is no later than `now + horizon_ms`: `Ok(slot)`;
    /// otherwise nothing changes and `Err(free_at)` says when to ask again.
    pub fn reserve(
        &mut self,
        pace: Pace,
        now: UnixMillis,
        horizon_ms: i64,
    ) -> Result<UnixMillis, UnixMillis> {
        apply_together(
            std::slice::from_mut(self),
            &[pace],
            &BudgetOp::Reserve { horizon_ms },
            now,
        )
    }

    /// The first slot at or after `now` this budget has room for (slots are handed out in
    /// order).
    fn first_free(&self, pace: Pace, now: UnixMillis) -> UnixMillis {
        let latest = self.slots.back().copied().unwrap_or(0);
        self.free_at(pace).max(now).max(latest)
    }

    /// Counts `slot` (no earlier than [`Budget::first_free`]) against this budget.
    fn take(&mut self, pace: Pace, slot: UnixMillis) {
        self.slots.push_back(slot);
        while self.slots.len() > pace.calls {
            self.slots.pop_front();
        }
    }

    pub fn close_until(&mut self, until: UnixMillis) {
        self.closed_until = self.closed_until.max(until);
    }

    /// No slot within the last window, not closed: it can be forgotten.
    pub fn is_idle(&self, pace: Pace, now: UnixMillis) -> bool {
        let last = self.slots.back().map_or(0, |slot| slot + pace.window_ms);
        self.closed_until <= now && last <= now
    }

    /// A compact text form for the database: `closed_until;slot,slot,…`.
    pub fn encode(&self) -> String {
        let slots: Vec<String> = self.slots.iter().map(i64::to_string).collect();
        format!("{};{}", self.closed_until, slots.join(","))
    }

    /// Reads [`Budget::encode`]'s form; anything else (an older form included) is a quiet
    /// budget.
    pub fn decode(text: &str) -> Budget {
        let Some((closed, slots)) = text.split_once(';') else {
            return Budget::default();
        };
        let slots: Option<VecDeque<UnixMillis>> = slots
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().ok())
            .collect();
        match (closed.parse(), slots) {
            (Ok(closed_until), Some(slots)) => Budget {
                slots,
                closed_until,
            },
            _ => Budget::default(),
        }
    }
}

/// Applies `op` at `now` to every budget one call spends (`paces[i]` is `budgets[i]`'s), as
/// one: a reservation takes the first slot all of them have room for, in each of them, or
/// takes nothing and says when to ask again; a 429 closes them all.
pub fn apply_together(
    budgets: &mut [Budget],
    paces: &[Pace],
    op: &BudgetOp,
    now: UnixMillis,
) -> Result<UnixMillis, UnixMillis> {
    match op {
        BudgetOp::CloseUntil(until) => {
            budgets.iter_mut().for_each(|b| b.close_until(*until));
            Ok(now)
        }
        BudgetOp::Reserve { horizon_ms } => {
            let slot = budgets
                .iter()
                .zip(paces)
                .map(|(b, pace)| b.first_free(*pace, now))
                .max()
                .unwrap_or(now);
            if slot > now + horizon_ms {
                return Err(slot);
            }
            budgets
                .iter_mut()
                .zip(paces)
                .for_each(|(b, pace)| b.take(*pace, slot));
            Ok(slot)
        }
    }
}

pub type StoreFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Result<UnixMillis, UnixMillis>, String>> + Send + 'a>>;

/// Budgets kept where every replica sees them. `apply` must load the budgets `keys` (in that
/// order: the workspace's before a channel's), apply `op` at `now` with [`apply_together`] and
/// store them, as one step no other replica can interleave with.
pub trait SharedBudgets: Send + Sync + std::fmt::Debug {
    fn apply<'a>(
        &'a self,
        keys: &'a [String],
        op: &'a BudgetOp,
        now: UnixMillis,
    ) -> StoreFuture<'a>;
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

    /// Budgets in a store every replica shares (and the job claim reads).
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

    /// Applies `op` to the budgets a call named by `key` spends ([`budgets_spent`]).
    async fn apply(&self, key: String, op: BudgetOp) -> Result<UnixMillis, UnixMillis> {
        let keys = budgets_spent(&key);
        self.apply_to(keys, &key, op, self.clock.now_ms()).await
    }

    /// Applies `op` to budgets `keys` together as at `now` (`key` names them in logs).
    async fn apply_to(
        &self,
        keys: Vec<String>,
        key: &str,
        op: BudgetOp,
        now: UnixMillis,
    ) -> Result<UnixMillis, UnixMillis> {
        match &self.store {
            Store::Local(budgets) => {
                let mut map = Self::local(budgets);
                let mut held: Vec<Budget> = keys
                    .iter()
                    .map(|k| map.remove(k).unwrap_or_default())
                    .collect();
                let paces: Vec<Pace> = keys.iter().map(|k| pace_of_key(k)).collect();
                let result = apply_together(&mut held, &paces, &op, now);
                map.extend(keys.into_iter().zip(held));
                result
            }
            Store::Shared(store) => match store.apply(&keys, &op, now).await {
                Ok(result) => result,
                Err(error) => {
                    tracing::warn!(%error, budget = key, "cannot read the shared rate budget");
                    Err(now + STORE_RETRY_MS)
                }
            },
        }
    }

    /// Reserves a slot for a call of `method` (to `channel`) within [`IN_JOB_WAIT_MS`]:
    /// `Ok(slot)`, the time to make the call; or `Err(at)`, when the budget next has room.
    pub async fn reserve(
        &self,
        method: &str,
        channel: Option<&str>,
    ) -> Result<UnixMillis, UnixMillis> {
        let op = BudgetOp::Reserve {
            horizon_ms: IN_JOB_WAIT_MS,
        };
        self.apply(budget_key(method, channel), op).await
    }

    /// [`Pacer::reserve`] in budget `key` alone, for a slot no sooner than `not_before`: a
    /// channel's part of a post whose workspace part the job's claim reserved (the call goes
    /// at the slot given, which must be where the channel's budget counts it).
    pub async fn reserve_only(
        &self,
        key: &str,
        not_before: UnixMillis,
    ) -> Result<UnixMillis, UnixMillis> {
        let op = BudgetOp::Reserve {
            horizon_ms: IN_JOB_WAIT_MS,
        };
        let now = self.clock.now_ms().max(not_before);
        self.apply_to(vec![key.to_string()], key, op, now).await
    }

    /// Slack answered 429: nobody calls `method` (on `channel`) until `until`. Slack's 429
    /// applies to the method for the whole workspace: a post's closes the workspace's posts
    /// too, not only the channel's.
    pub async fn close_until(&self, method: &str, channel: Option<&str>, until: UnixMillis) {
        let _ = self
            .apply(budget_key(method, channel), BudgetOp::CloseUntil(until))
            .await;
    }

    /// Forgets budgets that are full again, so memory stays bounded by the channels that
    /// were active in the last minute or so. (A shared store is pruned by its owner.)
    pub fn prune(&self) {
        let now = self.clock.now_ms();
        if let Store::Local(budgets) = &self.store {
            Self::local(budgets).retain(|key, b| !b.is_idle(pace_of_key(key), now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::time::Duration;

    #[test]
    fn the_pace_follows_the_tier_with_room_to_spare() {
        // Tier 2: 20 in any 63 s.
        assert_eq!(
            pace_of("conversations.create"),
            Pace {
                calls: 20,
                window_ms: 63_000
            }
        );
        // Tier 3: 50 in any 63 s.
        assert_eq!(
            pace_of("chat.update"),
            Pace {
                calls: 50,
                window_ms: 63_000
            }
        );
        // One post a second per channel, three at once.
        assert_eq!(
            pace_of("chat.postMessage"),
            Pace {
                calls: 3,
                window_ms: 3_150
            }
        );
    }

    #[test]
    fn a_quiet_budget_gives_its_window_at_once_then_one_slot_per_call_that_leaves_it() {
        let pace = Pace {
            calls: 3,
            window_ms: 10_000,
        };
        let mut b = Budget::default();
        assert_eq!(b.reserve(pace, 1_000, 0), Ok(1_000));
        assert_eq!(b.reserve(pace, 1_000, 0), Ok(1_000), "the window at once");
        assert_eq!(b.reserve(pace, 4_000, 0), Ok(4_000));
        assert_eq!(b.reserve(pace, 4_000, 0), Err(11_000), "then it says when");
        // Within the horizon the slot is reserved, and the next caller gets the one after.
        assert_eq!(b.reserve(pace, 10_000, 2_000), Ok(11_000));
        assert_eq!(b.reserve(pace, 10_000, 2_000), Ok(11_000));
        assert_eq!(b.reserve(pace, 10_000, 2_000), Err(14_000));
        // Coming back late does not lose anything: the next slot is still the next one.
        assert_eq!(b.reserve(pace, 13_500, 0), Err(14_000));
        assert_eq!(b.reserve(pace, 14_000, 0), Ok(14_000));
        // A 429 closes it.
        b.close_until(30_000);
        assert_eq!(b.reserve(pace, 25_000, 2_000), Err(30_000));
        assert_eq!(b.reserve(pace, 30_000, 0), Ok(30_000));
        // Quiet for long, it gives a whole window again, never more.
        assert_eq!(b.reserve(pace, 100_000, 0), Ok(100_000));
        assert_eq!(b.reserve(pace, 100_000, 0), Ok(100_000));
        assert_eq!(b.reserve(pace, 100_000, 0), Ok(100_000));
        assert_eq!(b.reserve(pace, 100_000, 0), Err(110_000));
        assert!(!b.is_idle(pace, 109_999));
        assert!(b.is_idle(pace, 110_000));
    }

    #[test]
    fn no_window_of_the_tier_ever_holds_more_calls_than_the_tier_allows() {
        // Callers asking as fast as they can for ten minutes.
        for method in [
            "conversations.create",
            "chat.update",
            "views.open",
            "pins.add",
            "chat.postMessage",
        ] {
            let pace = pace_of(method);
            let limit = limit_of(method);
            let mut b = Budget::default();
            let mut sent = Vec::new();
            let mut now = 0;
            while now < 600_000 {
                match b.reserve(pace, now, 0) {
                    Ok(slot) => sent.push(slot),
                    Err(at) => now = at,
                }
            }
            let most = sent
                .iter()
                .map(|t| {
                    sent.iter()
                        .filter(|u| **u >= *t && **u < t + limit.window_ms)
                        .count()
                })
                .max()
                .unwrap();
            assert!(
                most <= limit.calls as usize,
                "{method}: {most} in one window"
            );
            // And the budget is spent: within 5% of what ten windows allow.
            let allowed = limit.calls as usize * 10;
            assert!(sent.len() * 20 >= allowed * 19, "{method}: {}", sent.len());
        }
    }

    #[tokio::test]
    async fn posts_are_paced_per_channel_and_a_429_closes_the_budget_for_everyone() {
        let clock = ManualClock::starting_at(0);
        let pacer = Pacer::new(clock.clone());
        for _ in 0..3 {
            assert_eq!(pacer.reserve("chat.postMessage", Some("C1")).await, Ok(0));
        }
        assert_eq!(pacer.reserve("chat.postMessage", Some("C2")).await, Ok(0));
        assert_eq!(
            pacer.reserve("chat.postMessage", Some("C1")).await,
            Err(3_150),
            "after a short burst, the channel's next slot is a window on"
        );
        pacer.close_until("chat.update", None, 5_000).await;
        assert_eq!(pacer.reserve("chat.update", None).await, Err(5_000));
        clock.advance(Duration::from_secs(5));
        assert_eq!(pacer.reserve("chat.update", None).await, Ok(5_000));
        clock.advance(Duration::from_secs(120));
        pacer.prune();
        let Store::Local(budgets) = &pacer.store else {
            panic!("local")
        };
        assert!(Pacer::local(budgets).is_empty());
    }

    /// A DM's post whose workspace slot the claim reserved for later: its channel's slot is
    /// no sooner, so the call goes where the channel's budget counts it.
    #[tokio::test]
    async fn a_channels_part_reserved_alone_comes_no_sooner_than_asked() {
        let clock = ManualClock::starting_at(0);
        let pacer = Pacer::new(clock.clone());
        let key = "chat.postMessage:D1";
        assert_eq!(pacer.reserve_only(key, 1_500).await, Ok(1_500));
        assert_eq!(pacer.reserve_only(key, 0).await, Ok(1_500));
        assert_eq!(pacer.reserve_only(key, 1_200).await, Ok(1_500));
        // A full burst at 1.5 s: the next is a window after it, past the horizon from now.
        assert_eq!(pacer.reserve_only(key, 0).await, Err(4_650));
        // The workspace's budget was not touched.
        assert_eq!(pacer.reserve("chat.postMessage", None).await, Ok(0));
    }

    #[tokio::test]
    async fn posts_also_spend_the_workspaces_minute_and_a_refused_one_spends_nothing() {
        let clock = ManualClock::starting_at(0);
        let pacer = Pacer::new(clock.clone());
        // 300 channels, one post each: the workspace's "several hundred a minute".
        for n in 0..300 {
            let channel = format!("C{n}");
            assert_eq!(
                pacer.reserve("chat.postMessage", Some(&channel)).await,
                Ok(0)
            );
        }
        assert_eq!(
            pacer.reserve("chat.postMessage", Some("C999")).await,
            Err(63_000),
            "a quiet channel waits for the workspace's window"
        );
        // The refused post took no slot of its channel: three at once when the window moves.
        clock.advance(Duration::from_secs(63));
        for _ in 0..3 {
            assert_eq!(
                pacer.reserve("chat.postMessage", Some("C999")).await,
                Ok(63_000)
            );
        }
        // A 429 on one channel's post closes posts everywhere until Retry-After.
        pacer
            .close_until("chat.postMessage", Some("C1"), 70_000)
            .await;
        assert_eq!(
            pacer.reserve("chat.postMessage", Some("C2")).await,
            Err(70_000)
        );
        assert_eq!(pacer.reserve("chat.update", None).await, Ok(63_000));
    }

    #[test]
    fn a_budget_survives_its_text_form() {
        let mut budget = Budget::default();
        let pace = pace_of("conversations.create");
        for t in [10, 20] {
            assert!(budget.reserve(pace, t, 0).is_ok());
        }
        budget.close_until(900);
        let text = budget.encode();
        assert_eq!(text, "900;10,20");
        assert_eq!(Budget::decode(&text), budget);
        assert_eq!(Budget::decode("0;"), Budget::default());
        assert_eq!(Budget::decode(""), Budget::default());
        assert_eq!(Budget::decode("garbage"), Budget::default());
        assert_eq!(Budget::decode("5;1,x"), Budget::default());
        assert_eq!(
            Budget::decode("6642 900"),
            Budget::default(),
            "the older form"
        );
    }
}
