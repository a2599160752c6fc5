//! What to do when a job fails: when to try again, and when to give up.
//!
//! Slack being unreachable or broken (HTTP 5xx, a timeout, `internal_error` …) is never a
//! reason to give a job up: whatever the outage's length, the job waits and tries again, and
//! its backoff is capped at [`CAP`] so that once Slack is back every waiting job runs again
//! within that cap. Only an answer that will not change (`channel_not_found`, a loop that is
//! gone) fails a job. A refused token pauses all outbound work instead (see the worker).

use std::time::Duration;

use crate::jobs::JobError;
use crate::slack::SlackError;

/// A job whose runs keep failing on the database (not on Slack) gives up after this many in
/// a row: an outage of Slack ends, a row the database refuses this often will not change.
pub const MAX_ATTEMPTS: i64 = 20;
/// The first retry comes after 1–2 s; each failure in a row doubles it, up to [`CAP`].
const BASE: Duration = Duration::from_secs(2);
/// The longest wait between two runs of a failing job: Slack's return is noticed within it.
pub const CAP: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    RetryAfter(Duration),
    GiveUp,
}

/// `attempts` counts the run that just failed. `jitter` is a number in [0, 1).
pub fn next_step(error: &JobError, attempts: i64, jitter: f64) -> Next {
    match error {
        JobError::Slack(e) if e.is_transient() => {}
        JobError::Ats(e) if e.is_transient() => {}
        JobError::Database(_) if attempts < MAX_ATTEMPTS => {}
        JobError::Slack(_)
        | JobError::Database(_)
        | JobError::Ats(_)
        | JobError::Permanent(_)
        | JobError::Deferred { .. } => return Next::GiveUp,
    }
    if let JobError::Ats(crate::ats::AtsError::RateLimited(retry_after)) = error {
        // The ATS said when (Retry-After), as Slack does below.
        return Next::RetryAfter(*retry_after + Duration::from_secs_f64(jitter));
    }
    if let JobError::Slack(SlackError::RateLimited { retry_after }) = error {
        // Slack said when; add up to a second so a burst of jobs does not return at once.
        return Next::RetryAfter(*retry_after + Duration::from_secs_f64(jitter));
    }
    Next::RetryAfter(backoff(attempts).mul_f64(0.5 + jitter / 2.0))
}

/// The wait after `attempts` failures in a row, before jitter: [`BASE`] doubled per failure,
/// at most [`CAP`].
fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(u32::MAX)
        .min(16);
    BASE.saturating_mul(2u32.saturating_pow(exponent)).min(CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unavailable() -> JobError {
        JobError::Slack(SlackError::Unavailable("HTTP 500".into()))
    }

    #[test]
    fn backoff_grows_exponentially_with_jitter_and_a_low_cap() {
        assert_eq!(
            next_step(&unavailable(), 1, 0.0),
            Next::RetryAfter(Duration::from_secs(1))
        );
        assert_eq!(
            next_step(&unavailable(), 1, 0.999_999),
            Next::RetryAfter(Duration::from_secs_f64(2.0 * (0.5 + 0.999_999 / 2.0)))
        );
        assert_eq!(
            next_step(&unavailable(), 3, 0.0),
            Next::RetryAfter(Duration::from_secs(4))
        );
        for attempts in [6, 11, 1_000, i64::MAX] {
            assert_eq!(
                next_step(&unavailable(), attempts, 0.0),
                Next::RetryAfter(CAP / 2),
                "{attempts}"
            );
            let Next::RetryAfter(longest) = next_step(&unavailable(), attempts, 0.999_999) else {
                panic!("an outage is never given up");
            };
            assert!(longest <= CAP, "{attempts}: {longest:?}");
        }
    }

    #[test]
    fn slack_failing_is_never_a_reason_to_give_up() {
        let transient = [
            SlackError::Unavailable("HTTP 503 Service Unavailable".into()),
            SlackError::Unavailable("timed out".into()),
            SlackError::Api {
                code: "internal_error".into(),
                detail: None,
            },
            SlackError::Api {
                code: "fatal_error".into(),
                detail: None,
            },
            SlackError::Api {
                code: "team_added_to_org".into(),
                detail: None,
            },
        ];
        for e in transient {
            for attempts in [1, MAX_ATTEMPTS, 10 * MAX_ATTEMPTS] {
                assert!(
                    matches!(
                        next_step(&JobError::Slack(e.clone()), attempts, 0.5),
                        Next::RetryAfter(_)
                    ),
                    "{e:?} after {attempts}"
                );
            }
        }
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
    fn permanent_answers_give_up_at_once_and_database_errors_after_a_bound() {
        let refused = JobError::Slack(SlackError::Api {
            code: "channel_not_found".into(),
            detail: None,
        });
        assert_eq!(next_step(&refused, 1, 0.0), Next::GiveUp);
        assert_eq!(
            next_step(&JobError::Permanent("gone".into()), 1, 0.0),
            Next::GiveUp
        );
        let database = JobError::Database(sqlx::Error::PoolTimedOut);
        assert!(matches!(
            next_step(&database, MAX_ATTEMPTS - 1, 0.0),
            Next::RetryAfter(_)
        ));
        assert_eq!(next_step(&database, MAX_ATTEMPTS, 0.0), Next::GiveUp);
    }
}
