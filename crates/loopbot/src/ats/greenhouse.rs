//! Greenhouse Harvest v3 (v1 and v2 were retired in 2026).
//!
//! - Auth: OAuth 2.0 client credentials. `POST <auth>/token` with Basic `client_id:secret` and
//!   the form `grant_type=client_credentials&sub=<user id>`; then `Authorization: Bearer`. A new
//!   token may revoke the previous one, so one token is shared and refreshed by one caller at a
//!   time (the others wait for it), and a 401 refreshes it once.
//! - Lists: cursor pagination in the `Link: <…>; rel="next"` header only. The next URL is
//!   followed as given (its cursor must be the sole query parameter); `per_page` goes on the
//!   first call only. Id filters take at most 50 ids.
//! - No panel on an interview: `GET /v3/interviewers?interview_ids=` gives the emails.
//! - Scorecards are read-only in the public API, so feedback goes back as a private note.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{
    Ats, AtsApplication, AtsError, AtsInterview, AtsKind, AtsOutcome, AtsPerson, Changes,
    FeedbackWrite, InterviewStatus, NoteWrite, OwnerRole, parse_time_ms, status_error,
    transport_error,
};
use crate::secret::Secret;

pub const DEFAULT_API_URL: &str = "https://harvest.greenhouse.io";
pub const DEFAULT_AUTH_URL: &str = "https://auth.greenhouse.io";
/// Greenhouse's bound on an id-array filter.
const MAX_IDS: usize = 50;
const PER_PAGE: &str = "500";

/// The Harvest v3 credentials: a custom integration's client id and secret, and the user the
/// token acts as (`sub`, also the author of notes).
#[derive(Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: Secret,
    pub user_id: String,
}

pub struct GreenhouseClient {
    http: reqwest::Client,
    api_url: String,
    auth_url: String,
    credentials: Credentials,
    token: Mutex<Option<Token>>,
}

impl std::fmt::Debug for GreenhouseClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GreenhouseClient")
            .field("api_url", &self.api_url)
            .field("auth_url", &self.auth_url)
            .finish_non_exhaustive()
    }
}

struct Token {
    value: Secret,
    refresh_at: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Interview {
    id: Value,
    application_id: Option<Value>,
    job_interview_id: Option<Value>,
    name: Option<String>,
    starts_at: Option<String>,
    ends_at: Option<String>,
    status: Option<String>,
    video_conferencing_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Interviewer {
    interview_id: Value,
    user_id: Option<Value>,
    email: Option<String>,
    name: Option<String>,
}

/// Greenhouse ids are numbers; Loopbot keeps them as text.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// The `rel="next"` URL of a `Link` header, if any.
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"");
        let url = url.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then(|| url.to_string())
    })
}

fn interview_status(status: Option<&str>) -> InterviewStatus {
    match status.map(str::to_ascii_lowercase).as_deref() {
        Some("cancelled" | "canceled" | "deleted" | "to_be_scheduled" | "unscheduled") => {
            InterviewStatus::Cancelled
        }
        _ => InterviewStatus::Scheduled,
    }
}

impl GreenhouseClient {
    pub fn new(
        api_url: &str,
        auth_url: &str,
        credentials: Credentials,
        timeout: Duration,
    ) -> Result<Self, AtsError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| AtsError::Unavailable(e.to_string()))?;
        Ok(Self {
            http,
            api_url: api_url.trim_end_matches('/').to_string(),
            auth_url: auth_url.trim_end_matches('/').to_string(),
            credentials,
            token: Mutex::new(None),
        })
    }

    /// The current token, fetching a new one when there is none or it is about to expire
    /// (or `stale`, the one a 401 was answered with, is still the one held). One caller
    /// fetches; the others wait on the lock and take its token.
    async fn token(&self, stale: Option<&str>) -> Result<Secret, AtsError> {
        let mut held = self.token.lock().await;
        if let Some(token) = held.as_ref()
            && Instant::now() < token.refresh_at
            && stale != Some(token.value.expose())
        {
            return Ok(token.value.clone());
        }
        let response = self
            .http
            .post(format!("{}/token", self.auth_url))
            .basic_auth(
                &self.credentials.client_id,
                Some(self.credentials.client_secret.expose()),
            )
            .form(&[
                ("grant_type", "client_credentials"),
                ("sub", self.credentials.user_id.as_str()),
            ])
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(transport_error)?;
        if !status.is_success() {
            return Err(match status_error(status, &headers, &text) {
                AtsError::Refused(reason) => AtsError::Refused(format!("token: {reason}")),
                other => other,
            });
        }
        let answer: TokenAnswer =
            serde_json::from_str(&text).map_err(|e| AtsError::Malformed(format!("token: {e}")))?;
        let lifetime = Duration::from_secs(answer.expires_in.unwrap_or(3600));
        let token = Token {
            value: Secret::new(answer.access_token),
            refresh_at: Instant::now() + lifetime.saturating_sub(Duration::from_secs(60)),
        };
        let value = token.value.clone();
        *held = Some(token);
        Ok(value)
    }

    /// One request with the bearer token; a 401 refreshes the token and tries once more.
    async fn send(
        &self,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<(reqwest::header::HeaderMap, String), AtsError> {
        let mut stale: Option<Secret> = None;
        for _ in 0..2 {
            let token = self.token(stale.as_ref().map(Secret::expose)).await?;
            let response = build(&self.http)
                .bearer_auth(token.expose())
                .send()
                .await
                .map_err(transport_error)?;
            let status = response.status();
            let headers = response.headers().clone();
            let text = response.text().await.map_err(transport_error)?;
            if status == reqwest::StatusCode::UNAUTHORIZED && stale.is_none() {
                stale = Some(token);
                continue;
            }
            if !status.is_success() {
                return Err(status_error(status, &headers, &text));
            }
            return Ok((headers, text));
        }
        Err(AtsError::Refused(
            "HTTP 401: the token was refused twice".into(),
        ))
    }

    /// Every page of a list: the first URL with its filters and `per_page`, then each
    /// `Link: rel="next"` URL as given.
    async fn list_all(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<Value>, AtsError> {
        let mut url = url::Url::parse(&format!("{}{path}", self.api_url))
            .map_err(|e| AtsError::Malformed(e.to_string()))?;
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())))
            .append_pair("per_page", PER_PAGE);
        let mut next = Some(url.to_string());
        let mut all = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > 10_000 {
                return Err(AtsError::Malformed(format!("{path}: endless pages")));
            }
            let (headers, text) = self.send(|http| http.get(&url)).await?;
            match serde_json::from_str::<Value>(&text) {
                Ok(Value::Array(items)) => all.extend(items),
                _ => return Err(AtsError::Malformed(format!("{path}: not a JSON array"))),
            }
            // Resolved against the page's URL, in case a link is relative (RFC 8288).
            next = headers
                .get(reqwest::header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .and_then(|link| url::Url::parse(&url).ok()?.join(&link).ok())
                .map(String::from);
        }
        Ok(all)
    }

    /// A list filtered by ids, in chunks of at most 50 ids.
    async fn list_by_ids(
        &self,
        path: &str,
        filter: &str,
        ids: &[String],
    ) -> Result<Vec<Value>, AtsError> {
        let mut all = Vec::new();
        for chunk in ids.chunks(MAX_IDS) {
            all.extend(self.list_all(path, &[(filter, chunk.join(","))]).await?);
        }
        Ok(all)
    }

    async fn users(&self, ids: &[String]) -> Result<HashMap<String, AtsPerson>, AtsError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let users = self.list_by_ids("/v3/users", "ids", ids).await?;
        Ok(users
            .iter()
            .filter_map(|u| {
                let id = id_text(&u["id"])?;
                let name = [u["first_name"].as_str(), u["last_name"].as_str()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                Some((
                    id.clone(),
                    AtsPerson {
                        ats_user_id: Some(id),
                        email: u["primary_email_address"].as_str().map(str::to_string),
                        name: (!name.is_empty()).then_some(name),
                    },
                ))
            })
            .collect())
    }
}

impl Ats for GreenhouseClient {
    fn kind(&self) -> AtsKind {
        AtsKind::Greenhouse
    }

    async fn application(&self, application_id: &str) -> Result<AtsApplication, AtsError> {
        let ids = [application_id.to_string()];
        let apps = self.list_by_ids("/v3/applications", "ids", &ids).await?;
        let app = apps
            .first()
            .ok_or_else(|| AtsError::Refused(format!("no application {application_id}")))?;
        let candidate_id = id_text(&app["candidate_id"])
            .ok_or_else(|| AtsError::Malformed("application without candidate_id".into()))?;
        let job_id = id_text(&app["job_id"])
            .ok_or_else(|| AtsError::Malformed("application without job_id".into()))?;
        let candidates = self
            .list_by_ids("/v3/candidates", "ids", std::slice::from_ref(&candidate_id))
            .await?;
        let candidate = candidates.first().cloned().unwrap_or(Value::Null);
        let candidate_name = [
            candidate["first_name"].as_str(),
            candidate["last_name"].as_str(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let roles = [
            (OwnerRole::Recruiter, id_text(&candidate["recruiter_id"])),
            (
                OwnerRole::Coordinator,
                id_text(&candidate["coordinator_id"]),
            ),
        ];
        let user_ids: Vec<String> = roles.iter().filter_map(|(_, id)| id.clone()).collect();
        let users = self.users(&user_ids).await?;
        let owners = roles
            .into_iter()
            .filter_map(|(role, id)| Some((role, users.get(&id?)?.clone())))
            .collect();
        Ok(AtsApplication {
            id: application_id.to_string(),
            candidate_id,
            candidate_name,
            job_id,
            job_name: None,
            owners,
            outcome: app["status"].as_str().and_then(AtsOutcome::from_greenhouse),
            changed_at_ms: app["rejected_at"]
                .as_str()
                .or(app["last_activity_at"].as_str())
                .and_then(parse_time_ms),
        })
    }

    async fn interviews(&self, application_id: &str) -> Result<Vec<AtsInterview>, AtsError> {
        let rows = self
            .list_all(
                "/v3/interviews",
                &[("application_ids", application_id.to_string())],
            )
            .await?;
        let mut interviews = Vec::new();
        for row in rows {
            let row: Interview = serde_json::from_value(row)
                .map_err(|e| AtsError::Malformed(format!("/v3/interviews: {e}")))?;
            if row.application_id.as_ref().and_then(id_text).as_deref() != Some(application_id) {
                continue;
            }
            let Some(id) = id_text(&row.id) else { continue };
            interviews.push(AtsInterview {
                id,
                interview_key: row
                    .job_interview_id
                    .as_ref()
                    .and_then(id_text)
                    .unwrap_or_default(),
                name: row.name,
                starts_at_ms: row.starts_at.as_deref().and_then(parse_time_ms),
                ends_at_ms: row.ends_at.as_deref().and_then(parse_time_ms),
                status: interview_status(row.status.as_deref()),
                interviewers: Vec::new(),
                meeting_link: row.video_conferencing_url,
                feedback_link: None,
            });
        }
        let ids: Vec<String> = interviews.iter().map(|i| i.id.clone()).collect();
        if !ids.is_empty() {
            for row in self
                .list_by_ids("/v3/interviewers", "interview_ids", &ids)
                .await?
            {
                let row: Interviewer = serde_json::from_value(row)
                    .map_err(|e| AtsError::Malformed(format!("/v3/interviewers: {e}")))?;
                let Some(interview_id) = id_text(&row.interview_id) else {
                    continue;
                };
                if let Some(interview) = interviews.iter_mut().find(|i| i.id == interview_id) {
                    interview.interviewers.push(AtsPerson {
                        ats_user_id: row.user_id.as_ref().and_then(id_text),
                        email: row.email,
                        name: row.name,
                    });
                }
            }
        }
        Ok(interviews)
    }

    /// Interviews updated at or after the cursor (an RFC 3339 time); the next cursor is the
    /// latest `updated_at` seen. `gte` repeats the last one, which costs one idempotent refresh.
    async fn changes_since(&self, cursor: Option<&str>) -> Result<Changes, AtsError> {
        let query: Vec<(&str, String)> = match cursor {
            Some(since) => vec![("updated_at", format!("gte|{since}"))],
            None => Vec::new(),
        };
        let rows = self.list_all("/v3/interviews", &query).await?;
        let mut ids = BTreeSet::new();
        let mut latest: Option<(i64, String)> = None;
        for row in &rows {
            if let Some(id) = row.get("application_id").and_then(id_text) {
                ids.insert(id);
            }
            if let Some(updated) = row["updated_at"].as_str()
                && let Some(ms) = parse_time_ms(updated)
                && latest.as_ref().is_none_or(|(best, _)| ms > *best)
            {
                latest = Some((ms, updated.to_string()));
            }
        }
        Ok(Changes {
            application_ids: ids.into_iter().collect(),
            cursor: latest
                .map(|(_, text)| text)
                .or_else(|| cursor.map(str::to_string)),
        })
    }

    async fn write_note(&self, note: &NoteWrite) -> Result<(), AtsError> {
        let candidate_id: Value = note
            .candidate_id
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(note.candidate_id));
        let application_id: Value = note
            .application_id
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(note.application_id));
        let user_id: Value = self
            .credentials
            .user_id
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(self.credentials.user_id));
        let body = json!({
            "candidate_id": candidate_id,
            "application_id": application_id,
            "user_id": user_id,
            "body": note.body,
            "visibility": "private",
        });
        let url = format!("{}/v3/notes", self.api_url);
        self.send(|http| http.post(&url).json(&body))
            .await
            .map(|_| ())
    }

    async fn write_feedback(&self, _feedback: &FeedbackWrite) -> Result<(), AtsError> {
        Err(AtsError::NotSupported)
    }

    /// `GET /v3/notes?application_ids=`: a note whose body carries the reference. (The list
    /// of notes is not in the notes Loopbot was built from; it follows v3's list conventions.)
    async fn has_note(&self, note: &NoteWrite, reference: &str) -> Result<bool, AtsError> {
        let notes = self
            .list_all(
                "/v3/notes",
                &[("application_ids", note.application_id.clone())],
            )
            .await?;
        Ok(notes
            .iter()
            .any(|n| n["body"].as_str().is_some_and(|b| b.contains(reference))))
    }

    async fn has_feedback(&self, _feedback: &FeedbackWrite) -> Result<bool, AtsError> {
        Err(AtsError::NotSupported)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_is_found_among_others() {
        let header = r#"<https://harvest.greenhouse.io/v3/interviews?cursor=abc>; rel="next", <https://harvest.greenhouse.io/v3/interviews?cursor=zzz>; rel="last""#;
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://harvest.greenhouse.io/v3/interviews?cursor=abc")
        );
        assert_eq!(next_link(r#"<https://h/v3/x?cursor=1>; rel="prev""#), None);
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn statuses_and_ids_read_as_loopbot_keeps_them() {
        assert_eq!(
            interview_status(Some("scheduled")),
            InterviewStatus::Scheduled
        );
        assert_eq!(
            interview_status(Some("complete")),
            InterviewStatus::Scheduled
        );
        assert_eq!(
            interview_status(Some("cancelled")),
            InterviewStatus::Cancelled
        );
        assert_eq!(id_text(&json!(12345)).as_deref(), Some("12345"));
        assert_eq!(id_text(&json!("77")).as_deref(), Some("77"));
        assert_eq!(id_text(&json!(null)), None);
    }
}
