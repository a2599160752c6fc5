//! What to do when a job fails: when to try again, and when to give up.

use std::time::Duration;

use crate::jobs::JobError;
use crate::slack::SlackError;

/// A job gives up after this many real failures in a row (rate limits and waits do not
/// count): with the backoff below, about six hours of an outage.
pub const MAX_ATTEMPTS: i64 = 20;
const BASE: Duration = Duration::from_secs(5);
const CAP: Duration = Duration::from_secs(30 * 60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RetryAfter(Duration),
    GiveUp,
}

/// `attempts` counts the run that just failed. `jitter` is a number in [0, 1).
pub fn next_step(error: &JobError, attempts: i64, jitter: f64) -> Next {
    let transient = match error {
        JobError::Slack(e) => e.is_transient(),
        JobError::Database(_) => true,
        JobError::Permanent(_) | JobError::Deferred { .. } => false,
    };
    if !transient || attempts >= MAX_ATTEMPTS {
        return Next::GiveUp;
    }
    if let JobError::Slack(SlackError::RateLimited { retry_after }) = error {
        // Slack said when; add up to a second so a burst of jobs does not return at once.
        return Next::RetryAfter(*retry_after + Duration::from_secs_f64(jitter));
    }
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(16);
    let backoff = BASE.saturating_mul(2u32.saturating_pow(exponent)).min(CAP);
    // Full jitter in the upper half: between 50% and 100% of the backoff.
    Next::RetryAfter(backoff.mul_f64(0.5 + jitter / 2.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable() -> JobError {
        JobError::Slack(SlackError::Unavailable("HTTP 500".into()))
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_cap() {
        assert_eq!(
            next_step(&unavailable(), 1, 0.999_999),
            Next::RetryAfter(Duration::from_secs_f64(5.0 * (0.5 + 0.999_999 / 2.0)))
        );
        assert_eq!(
            next_step(&unavailable(), 1, 0.0),
            Next::RetryAfter(Duration::from_millis(2500))
        );
        assert_eq!(
            next_step(&unavailable(), 3, 0.0),
            Next::RetryAfter(Duration::from_secs(10))
        );
        assert_eq!(
            next_step(&unavailable(), 11, 0.0),
            Next::RetryAfter(Duration::from_secs(15 * 60))
        );
    }

    #[test]
    fn rate_limits_wait_as_long_as_slack_asks() {
        let e = JobError::Slack(SlackError::RateLimited {
            retry_after: Duration::from_secs(7),
        });
        assert_eq!(
            next_step(&e, 1, 0.5),
            Next::RetryAfter(Duration::from_millis(7500))
        );
    }

    #[test]
    fn permanent_errors_and_the_attempt_bound_give_up() {
        let refused = JobError::Slack(SlackError::Api {
            code: "channel_not_found".into(),
            detail: None,
        });
        assert_eq!(next_step(&refused, 1, 0.0), Next::GiveUp);
        assert_eq!(
            next_step(&JobError::Permanent("gone".into()), 1, 0.0),
            Next::GiveUp
        );
        assert_eq!(next_step(&unavailable(), MAX_ATTEMPTS, 0.0), Next::GiveUp);
    }
}
