//! The one application error. It keeps apart what the person is told (a short message fit for
//! Slack, shown as an ephemeral reply, next to a form field, or in a notice) from what is
//! logged (the cause with its whole chain). Services return it; the routes turn it into the
//! Slack reply and log it once.

use std::borrow::Cow;

use crate::domain::access::Refusal;
use crate::domain::button::Stale;
use crate::jobs::JobError;
use crate::slack::SlackError;

/// What a person is told when the fault is ours: nothing raw, nothing internal.
pub const SOMETHING_WENT_WRONG: &str = "Something went wrong on Loopbot's side and nothing was changed. Please try again in a minute; if it keeps happening, tell your Loopbot admin.";

#[derive(Debug)]
pub struct AppError {
    /// Shown in Slack, worded for the person.
    message: Cow<'static, str>,
    /// The form block the message belongs next to, when it answers a modal submission.
    field: Option<String>,
    /// Our fault: logged with its cause chain; the person sees [`SOMETHING_WENT_WRONG`].
    cause: Option<anyhow::Error>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A refusal the person can act on (not allowed, out of date, invalid): nothing is broken.
    pub fn refused(message: impl Into<Cow<'static, str>>) -> AppError {
        AppError {
            message: message.into(),
            field: None,
            cause: None,
        }
    }

    /// Our fault. Add what was being done with `anyhow::Context` before converting.
    pub fn internal(cause: impl Into<anyhow::Error>) -> AppError {
        AppError {
            message: Cow::Borrowed(SOMETHING_WENT_WRONG),
            field: None,
            cause: Some(cause.into()),
        }
    }

    /// Shows the message next to this form block (a modal submission's `response_action`).
    pub fn at(mut self, field: impl Into<String>) -> AppError {
        self.field = Some(field.into());
        self
    }

    /// What the person is told.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    pub fn is_internal(&self) -> bool {
        self.cause.is_some()
    }

    /// Logs an internal error with its cause chain (`a: b: c`); refusals are only traced.
    pub fn log(&self, during: &str) {
        match &self.cause {
            Some(cause) => tracing::error!(error = format!("{cause:#}"), "{during} failed"),
            None => tracing::debug!(refusal = %self.message, "{during} refused"),
        }
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.cause {
            Some(cause) => write!(f, "{cause:#}"),
            None => f.write_str(&self.message),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        AppError::internal(e)
    }
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::internal(e)
    }
}

impl From<SlackError> for AppError {
    fn from(e: SlackError) -> Self {
        AppError::internal(e)
    }
}

impl From<Refusal> for AppError {
    fn from(r: Refusal) -> Self {
        AppError::refused(r.message())
    }
}

impl From<Stale> for AppError {
    fn from(s: Stale) -> Self {
        AppError::refused(s.message())
    }
}

impl From<JobError> for AppError {
    fn from(e: JobError) -> Self {
        AppError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_person_sees_words_and_the_log_sees_the_chain() {
        let e: AppError = Err::<(), _>(sqlx::Error::RowNotFound)
            .context("could not load a loop")
            .unwrap_err()
            .into();
        assert_eq!(e.message(), SOMETHING_WENT_WRONG);
        assert!(e.is_internal());
        assert!(e.to_string().starts_with("could not load a loop: "), "{e}");
        let refused = AppError::refused("Only the coordinator can do that.").at("rationale");
        assert_eq!(refused.message(), "Only the coordinator can do that.");
        assert_eq!(refused.field(), Some("rationale"));
        assert!(!refused.is_internal());
    }
}

/// An error and every cause under it, `outer: inner: …`, for one log line.
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    #[test]
    fn a_job_error_logs_its_database_cause() {
        let error = JobError::from(sqlx::Error::PoolTimedOut);
        assert_eq!(
            chain(&error),
            format!("database: {}", sqlx::Error::PoolTimedOut)
        );
    }
}
