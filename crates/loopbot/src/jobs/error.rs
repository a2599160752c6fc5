//! How a job can fail, and so what the worker does next (see `retry`).

use crate::clock::UnixMillis;
use crate::domain::interview_loop::LoopId;
use crate::slack::SlackError;

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("{0}")]
    Slack(SlackError),
    /// The database failed; the sqlx error (its kind and cause) is kept as the source, and
    /// logs print the whole chain ([`crate::error::chain`]).
    #[error("database")]
    Database(#[from] sqlx::Error),
    /// The job's subject no longer exists or cannot be acted on; retrying will not help.
    #[error("{0}")]
    Permanent(String),
    /// An ATS call failed; transient failures (429, 5xx, timeouts) are retried like Slack's.
    #[error("{0}")]
    Ats(crate::ats::AtsError),
    /// Not now (outside the recipient's working hours): run again at `until`, uncounted.
    #[error("waiting until {until}")]
    Deferred { until: UnixMillis },
}

impl JobError {
    /// The job's loop was deleted (purged): nothing left to do.
    pub fn loop_gone(loop_id: LoopId) -> JobError {
        JobError::Permanent(format!("loop {loop_id} no longer exists"))
    }
}

impl From<SlackError> for JobError {
    fn from(e: SlackError) -> Self {
        JobError::Slack(e)
    }
}
