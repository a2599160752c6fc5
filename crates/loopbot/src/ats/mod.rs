//! The ATS seam: what Loopbot needs from an applicant tracking system, and one thin HTTP
//! client per ATS behind it ([`ashby`], [`greenhouse`]).
//!
//! The seam is small on purpose: read an application (candidate, job, owners) and its
//! interviews (times, panel by email, status), list what changed since a cursor (polling),
//! write a note, and write structured feedback where the ATS allows it (Ashby does, Greenhouse
//! does not: its scorecards have no public write endpoint, so it gets notes only), and say
//! whether such a write is already there (after an answer was lost). Lever fits the same shape
//! later.
//!
//! Errors say what the caller should do: [`AtsError::RateLimited`] carries the ATS's
//! `Retry-After`, [`AtsError::Unavailable`] is transient (5xx, timeout, network), and
//! [`AtsError::Refused`] is permanent (the ATS said no, with its reason) and is told to a person
//! rather than retried. [`signature`] verifies each ATS's webhook signature.

pub mod ashby;
pub mod greenhouse;
pub mod signature;

use std::future::Future;
use std::time::Duration;

pub use crate::domain::ats_mapping::AtsKind;
pub use crate::domain::ats_outcome::AtsOutcome;

/// A person as the ATS knows them. The email is what matches them to Slack.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AtsPerson {
    pub ats_user_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// What a person is to an application, as far as Loopbot cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerRole {
    HiringManager,
    Recruiter,
    Coordinator,
}

/// An application: the candidate applying to one job, and who owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtsApplication {
    pub id: String,
    pub candidate_id: String,
    pub candidate_name: String,
    pub job_id: String,
    pub job_name: Option<String>,
    pub owners: Vec<(OwnerRole, AtsPerson)>,
    /// Hired or rejected in the ATS (`None`: still open).
    pub outcome: Option<AtsOutcome>,
    /// When the ATS says the application last changed, where it says (Greenhouse
    /// `rejected_at`, else `last_activity_at`; Ashby `updatedAt`).
    pub changed_at_ms: Option<i64>,
}

/// Where an interview stands in the ATS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterviewStatus {
    /// Has (or will have) a time: scheduled, awaiting feedback or complete.
    Scheduled,
    /// Cancelled, deleted or not (any longer) scheduled.
    Cancelled,
}

/// One interview of an application: one event with a time and a panel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtsInterview {
    /// The event's own id (Ashby interview event id, Greenhouse interview id).
    pub id: String,
    /// What the mapping file names: Ashby `interviewId`, Greenhouse `job_interview_id`.
    pub interview_key: String,
    /// The interview's name where the ATS gives one (Greenhouse mappings may use it).
    pub name: Option<String>,
    pub starts_at_ms: Option<i64>,
    pub ends_at_ms: Option<i64>,
    pub status: InterviewStatus,
    pub interviewers: Vec<AtsPerson>,
    pub meeting_link: Option<String>,
    pub feedback_link: Option<String>,
}

/// A note on the candidate's record, private to the hiring team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteWrite {
    pub application_id: String,
    pub candidate_id: String,
    pub body: String,
}

/// Structured feedback for one interview (Ashby `applicationFeedback.submit`): the form and
/// its field values as the mapping file names them.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackWrite {
    pub application_id: String,
    pub form_definition_id: String,
    /// The interviewer, as the ATS knows them.
    pub user_id: String,
    pub interview_event_id: Option<String>,
    /// `(path, value)` pairs, e.g. `("overall_score", {"score": 3})`.
    pub fields: Vec<(String, serde_json::Value)>,
}

/// One page of changes since a cursor: the applications touched, and the cursor to ask with
/// next time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    pub application_ids: Vec<String>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtsError {
    /// 429: try again after this long.
    #[error("the ATS is rate limiting: retry after {0:?}")]
    RateLimited(Duration),
    /// 5xx, a timeout or a network failure: try again later.
    #[error("the ATS is unavailable: {0}")]
    Unavailable(String),
    /// The ATS refused the call (bad key, missing permission, invalid input): retrying will
    /// not help; a person has to be told.
    #[error("the ATS refused: {0}")]
    Refused(String),
    /// The ATS answered with something this client cannot read.
    #[error("the ATS answered unexpectedly: {0}")]
    Malformed(String),
    /// The ATS has no way to do this (e.g. Greenhouse scorecards).
    #[error("the ATS does not support this")]
    NotSupported,
}

impl AtsError {
    /// Worth trying again later (rate limit or outage).
    pub fn is_transient(&self) -> bool {
        matches!(self, AtsError::RateLimited(_) | AtsError::Unavailable(_))
    }
}

/// What Loopbot needs from an ATS.
pub trait Ats: Send + Sync {
    fn kind(&self) -> AtsKind;

    /// The application: candidate, job and owners.
    fn application(
        &self,
        application_id: &str,
    ) -> impl Future<Output = Result<AtsApplication, AtsError>> + Send;

    /// Every interview of the application, cancelled ones included.
    fn interviews(
        &self,
        application_id: &str,
    ) -> impl Future<Output = Result<Vec<AtsInterview>, AtsError>> + Send;

    /// Applications whose interviews changed since `cursor` (`None`: from the beginning).
    fn changes_since(
        &self,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<Changes, AtsError>> + Send;

    fn write_note(&self, note: &NoteWrite) -> impl Future<Output = Result<(), AtsError>> + Send;

    /// [`AtsError::NotSupported`] where the ATS has no public way to write feedback.
    fn write_feedback(
        &self,
        feedback: &FeedbackWrite,
    ) -> impl Future<Output = Result<(), AtsError>> + Send;

    /// Whether a note whose body carries `reference` is already on the application: asked
    /// before writing again after an answer was lost. [`AtsError::NotSupported`] where the
    /// ATS gives no way to read notes back.
    fn has_note(
        &self,
        note: &NoteWrite,
        reference: &str,
    ) -> impl Future<Output = Result<bool, AtsError>> + Send;

    /// Whether this user's feedback for this interview is already on the application (asked
    /// before writing again after an answer was lost).
    fn has_feedback(
        &self,
        feedback: &FeedbackWrite,
    ) -> impl Future<Output = Result<bool, AtsError>> + Send;
}

/// The adapters that are on, built once at start so that each keeps its connection pool and
/// (Greenhouse) its one token.
#[derive(Debug, Default)]
pub struct AtsClients {
    pub ashby: Option<ashby::AshbyClient>,
    pub greenhouse: Option<greenhouse::GreenhouseClient>,
}

impl AtsClients {
    pub fn from_settings(settings: &crate::settings::AtsSettings) -> Result<Self, AtsError> {
        let timeout = Duration::from_secs(10);
        Ok(AtsClients {
            ashby: match &settings.ashby {
                Some(a) => Some(ashby::AshbyClient::new(
                    &a.api_url,
                    a.api_key.clone(),
                    timeout,
                )?),
                None => None,
            },
            greenhouse: match &settings.greenhouse {
                Some(g) => Some(greenhouse::GreenhouseClient::new(
                    &g.api_url,
                    &g.auth_url,
                    greenhouse::Credentials {
                        client_id: g.client_id.expose().to_string(),
                        client_secret: g.client_secret.clone(),
                        user_id: g.user_id.clone(),
                    },
                    timeout,
                )?),
                None => None,
            },
        })
    }
}

/// Longest `Retry-After` honoured as given; longer asks are capped (a job retries then).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);

/// The error for a non-success HTTP status, reading `Retry-After` on 429.
pub(crate) fn status_error(
    status: reqwest::StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &str,
) -> AtsError {
    let reason = short(body);
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return AtsError::RateLimited(retry_after(headers));
    }
    if status.is_server_error() || status == reqwest::StatusCode::REQUEST_TIMEOUT {
        return AtsError::Unavailable(format!("HTTP {}: {reason}", status.as_u16()));
    }
    AtsError::Refused(format!("HTTP {}: {reason}", status.as_u16()))
}

/// `Retry-After` in seconds (the form both ATSs use); one second when absent or unreadable,
/// capped at [`MAX_RETRY_AFTER`].
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Duration {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|secs| Duration::from_secs(secs.max(1)).min(MAX_RETRY_AFTER))
        .unwrap_or(Duration::from_secs(1))
}

pub(crate) fn transport_error(error: reqwest::Error) -> AtsError {
    AtsError::Unavailable(error.without_url().to_string())
}

fn short(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &body[..i]),
        None => body.to_string(),
    }
}

/// Milliseconds since the epoch as RFC 3339 in UTC (how Loopbot writes times to an ATS).
pub fn format_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// An RFC 3339 time as milliseconds since the epoch.
pub(crate) fn parse_time_ms(text: &str) -> Option<i64> {
    text.parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn statuses_map_to_what_the_caller_should_do() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            status_error(StatusCode::TOO_MANY_REQUESTS, &headers, ""),
            AtsError::RateLimited(Duration::from_secs(7))
        );
        let none = HeaderMap::new();
        assert_eq!(
            status_error(StatusCode::TOO_MANY_REQUESTS, &none, ""),
            AtsError::RateLimited(Duration::from_secs(1))
        );
        headers.insert(RETRY_AFTER, HeaderValue::from_static("99999"));
        assert_eq!(retry_after(&headers), MAX_RETRY_AFTER);
        assert!(status_error(StatusCode::BAD_GATEWAY, &none, "down").is_transient());
        assert_eq!(
            status_error(StatusCode::FORBIDDEN, &none, "missing_endpoint_permission"),
            AtsError::Refused("HTTP 403: missing_endpoint_permission".into())
        );
    }

    #[test]
    fn times_parse_from_rfc3339() {
        assert_eq!(parse_time_ms("1970-01-01T00:00:01Z"), Some(1000));
        assert_eq!(parse_time_ms("1970-01-01T01:00:01+01:00"), Some(1000));
        assert_eq!(parse_time_ms("yesterday"), None);
    }
}
