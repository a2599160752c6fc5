//! Time is injected: everything that needs "now" receives a [`Clock`].
//! Production uses [`SystemClock`]; tests and the demo use [`ManualClock`] and move it forward.

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Milliseconds since the Unix epoch, UTC.
pub type UnixMillis = i64;

pub type Sleep<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

pub trait Clock: Send + Sync + Debug {
    fn now_ms(&self) -> UnixMillis;

    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Waits until this clock reads `at` (a short wait for a reserved Slack slot).
    fn sleep_until(&self, at: UnixMillis) -> Sleep<'_> {
        let ms = u64::try_from(at - self.now_ms()).unwrap_or(0);
        Box::pin(tokio::time::sleep(Duration::from_millis(ms)))
    }
}

pub type SharedClock = Arc<dyn Clock>;

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> UnixMillis {
        jiff::Timestamp::now().as_millisecond()
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock {
    ms: AtomicI64,
}

impl ManualClock {
    pub fn starting_at(ms: UnixMillis) -> Arc<Self> {
        Arc::new(Self {
            ms: AtomicI64::new(ms),
        })
    }

    /// Starts at the real current time, so signed requests look fresh to Slack-like checks.
    pub fn starting_now() -> Arc<Self> {
        Self::starting_at(SystemClock.now_ms())
    }

    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.ms.fetch_add(by, Ordering::SeqCst);
    }

    pub fn set(&self, ms: UnixMillis) {
        self.ms.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> UnixMillis {
        self.ms.load(Ordering::SeqCst)
    }

    /// Time passes for whoever waits: the clock moves to `at` (never back), so a job that
    /// waits for its Slack slot in a test or the demo goes on at once, at the right time.
    fn sleep_until(&self, at: UnixMillis) -> Sleep<'_> {
        self.ms.fetch_max(at, Ordering::SeqCst);
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::starting_at(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now_ms(), 3_000);
        assert_eq!(clock.now_secs(), 3);
        clock.set(10);
        assert_eq!(clock.now_ms(), 10);
    }
}
