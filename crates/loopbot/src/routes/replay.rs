//! Replayed requests: the same signed bytes sent again within Slack's 5-minute window are
//! refused, without a database write on the acknowledgement path.
//!
//! Two guards, because requests differ in what they change:
//!
//! - **Requests that change something** (a form submitted, a button that records something, an
//!   event) have their signature written as a receipt in the same transaction as their
//!   change ([`crate::state::Receipt`]): one commit, as before the receipt existed. Sent again,
//!   to this process or any other replica, before or after a restart, the receipt's unique key
//!   fails that transaction: nothing changes a second time, and the request gets 401.
//! - **Every request** is also checked against the signatures this process has seen in the
//!   window ([`SeenSignatures`], in memory). That refuses a replay to the same process at no
//!   cost, whatever the request does. On SQLite one process owns the file, so this covers
//!   every request there until a restart.
//!
//! What is left is a request that changes nothing, replayed to another replica (PostgreSQL) or
//! after a restart, within the window. It is answered as the original was, and that is
//! harmless because it has no effect of its own:
//! - opening a form (`/loop start`, `/loop decide`, a button) calls `views.open` with the
//!   request's `trigger_id`, which Slack accepts once and for 3 seconds: the replay opens
//!   nothing (`exchanged_trigger_id` or `expired_trigger_id`), and for a trigger Slack already
//!   used Loopbot does not tell the person that their form did not open (it did, the first
//!   time);
//! - a read-only reply (`/loop help`, `/loop status`) goes back in the HTTP response to the
//!   sender: the same kind of answer the original request got, for its own user and channel.
//!   Someone holding the captured request learns at most what that reply says now;
//! - a rubric switched in an open start form re-renders that form (`views.update` with the
//!   view's hash, which Slack refuses once the form has moved on).
//!
//! Making such requests write a receipt would cost the extra commit the acknowledgement path
//! is meant not to make; this is the trade, and it is written down here so that a new use
//! case that changes something makes its change through `AppState::begin_loop` (or `begin`),
//! which records the receipt.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

/// Signatures remembered at most: beyond this the oldest are forgotten before their window
/// ends (about 24 bytes each: a few MB). Slack's own traffic for one workspace stays far
/// below; a load test may not, and then a forgotten signature's replay is refused by its
/// receipt if it changes something, and harmless if it does not (see the module's text).
pub const CAP: usize = 131_072;

/// The signatures this process has accepted whose window is still open.
#[derive(Debug)]
pub struct SeenSignatures {
    window: Mutex<Window>,
    cap: usize,
}

#[derive(Debug, Default)]
struct Window {
    /// In arrival order: the signature's key and when its window closes (Unix seconds).
    order: VecDeque<(u64, i64)>,
    keys: HashSet<u64>,
}

impl Default for SeenSignatures {
    fn default() -> Self {
        SeenSignatures::with_cap(CAP)
    }
}

impl SeenSignatures {
    pub fn with_cap(cap: usize) -> SeenSignatures {
        SeenSignatures {
            window: Mutex::new(Window::default()),
            cap: cap.max(1),
        }
    }

    /// Remembers `signature` (a verified `v0=<hex>`) until `closes_at`, the moment its
    /// timestamp leaves the window; `false` when it is remembered already (a replay).
    pub fn first_time(&self, signature: &str, closes_at: i64, now: i64) -> bool {
        let key = key_of(signature);
        let mut window = self.window.lock().unwrap_or_else(|p| p.into_inner());
        // Forget what has left the window (arrival order is nearly expiry order: every
        // accepted timestamp is within the window of the clock).
        while window.order.front().is_some_and(|(_, end)| *end < now) {
            if let Some((old, _)) = window.order.pop_front() {
                window.keys.remove(&old);
            }
        }
        if window.keys.contains(&key) {
            return false;
        }
        while window.order.len() >= self.cap {
            if let Some((old, _)) = window.order.pop_front() {
                window.keys.remove(&old);
            }
        }
        window.order.push_back((key, closes_at));
        window.keys.insert(key);
        true
    }

    /// How many signatures are remembered now.
    pub fn len(&self) -> usize {
        self.window
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .order
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// 64 bits of the signature: an HMAC-SHA256 is uniformly random, so its first 8 bytes tell
/// signatures apart as well as any hash would (two of a few hundred thousand alike: about one
/// chance in 10^9 per window).
fn key_of(signature: &str) -> u64 {
    let hex = signature.strip_prefix("v0=").unwrap_or(signature);
    hex.get(..16)
        .and_then(|h| u64::from_str_radix(h, 16).ok())
        .unwrap_or_else(|| {
            // Not a verified signature (verification runs first); still keyed, by its text.
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            signature.hash(&mut hasher);
            hasher.finish()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(n: u64) -> String {
        format!("v0={n:016x}{}", "ab".repeat(24))
    }

    #[test]
    fn a_signature_is_taken_once_within_its_window() {
        let seen = SeenSignatures::default();
        assert!(seen.first_time(&sig(1), 400, 100));
        assert!(!seen.first_time(&sig(1), 400, 399));
        assert!(seen.first_time(&sig(2), 400, 100));
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn what_has_left_the_window_is_forgotten() {
        let seen = SeenSignatures::default();
        assert!(seen.first_time(&sig(1), 400, 100));
        assert!(seen.first_time(&sig(2), 700, 401));
        assert_eq!(seen.len(), 1, "the first one's window closed at 400");
        // Its timestamp is stale by now, so verification refuses it before it gets here; were
        // it to come, it would be new to the window.
        assert!(seen.first_time(&sig(1), 400, 401));
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_go_first() {
        let seen = SeenSignatures::with_cap(3);
        for n in 1..=5 {
            assert!(seen.first_time(&sig(n), 1_000, 100));
        }
        assert_eq!(seen.len(), 3);
        assert!(
            seen.first_time(&sig(1), 1_000, 100),
            "forgotten: the oldest"
        );
        assert!(!seen.first_time(&sig(5), 1_000, 100), "kept: the newest");
    }
}
