//! Ashby: RPC over HTTPS. Every call is `POST <base>/<category>.<method>` with a JSON body,
//! `Accept: application/json; version=1` and Basic auth with the API key as the user name and
//! no password. Answers are `{success, results, moreDataAvailable?, nextCursor?, syncToken?}`,
//! or `{success: false, errors, errorInfo: {code, message}}` (often with HTTP 200).

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Ats, AtsApplication, AtsError, AtsInterview, AtsKind, AtsOutcome, AtsPerson, Changes,
    FeedbackWrite, InterviewStatus, NoteWrite, OwnerRole, parse_time_ms, status_error,
    transport_error,
};
use crate::secret::Secret;

pub const DEFAULT_API_URL: &str = "https://api.ashbyhq.com";
const ACCEPT: &str = "application/json; version=1";
/// The error code Ashby answers when a sync token is too old to continue from.
const SYNC_TOO_LARGE: &str = "incremental_sync_too_large";

#[derive(Clone)]
pub struct AshbyClient {
    http: reqwest::Client,
    base_url: String,
    api_key: Secret,
}

impl std::fmt::Debug for AshbyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AshbyClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    success: bool,
    #[serde(default)]
    results: Value,
    #[serde(default)]
    more_data_available: bool,
    next_cursor: Option<String>,
    sync_token: Option<String>,
    #[serde(default)]
    errors: Vec<Value>,
    error_info: Option<ErrorInfo>,
}

#[derive(Debug, Deserialize)]
struct ErrorInfo {
    code: Option<String>,
    message: Option<String>,
}

impl Envelope {
    fn reason(&self) -> String {
        if let Some(info) = &self.error_info {
            let code = info.code.as_deref().unwrap_or("error");
            return match &info.message {
                Some(message) => format!("{code}: {message}"),
                None => code.to_string(),
            };
        }
        let errors: Vec<String> = self
            .errors
            .iter()
            .map(|e| {
                e.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| e.to_string())
            })
            .collect();
        if errors.is_empty() {
            "success: false".into()
        } else {
            errors.join("; ")
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Schedule {
    #[serde(default)]
    status: String,
    application_id: Option<String>,
    #[serde(default)]
    interview_events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Event {
    id: String,
    interview_id: String,
    start_time: Option<String>,
    end_time: Option<String>,
    meeting_link: Option<String>,
    feedback_link: Option<String>,
    #[serde(default)]
    interviewers: Vec<User>,
    #[serde(default)]
    interviewer_user_ids: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct User {
    id: Option<String>,
    #[serde(alias = "userId")]
    user_id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

impl User {
    fn person(&self) -> AtsPerson {
        let name = [self.first_name.as_deref(), self.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        AtsPerson {
            ats_user_id: self.user_id.clone().or_else(|| self.id.clone()),
            email: self.email.clone(),
            name: (!name.is_empty()).then_some(name),
        }
    }
}

impl AshbyClient {
    pub fn new(base_url: &str, api_key: Secret, timeout: Duration) -> Result<Self, AtsError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| AtsError::Unavailable(e.to_string()))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
        })
    }

    /// One RPC call; `success: false` is a refusal with Ashby's reason.
    async fn call(&self, method: &str, body: &Value) -> Result<Envelope, AtsError> {
        let envelope = self.call_raw(method, body).await?;
        if !envelope.success {
            return Err(AtsError::Refused(format!(
                "{method}: {}",
                envelope.reason()
            )));
        }
        Ok(envelope)
    }

    async fn call_raw(&self, method: &str, body: &Value) -> Result<Envelope, AtsError> {
        let response = self
            .http
            .post(format!("{}/{method}", self.base_url))
            .basic_auth(self.api_key.expose(), None::<&str>)
            .header(reqwest::header::ACCEPT, ACCEPT)
            .json(body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(transport_error)?;
        if !status.is_success() {
            return Err(status_error(status, &headers, &text));
        }
        serde_json::from_str(&text).map_err(|e| AtsError::Malformed(format!("{method}: {e}")))
    }

    /// Every page of a `.list` method, following `nextCursor` while `moreDataAvailable`.
    /// Returns the results and the last page's `syncToken`.
    async fn list_all(
        &self,
        method: &str,
        mut body: Value,
    ) -> Result<(Vec<Value>, Option<String>), AtsError> {
        let mut all = Vec::new();
        for _ in 0..10_000 {
            let page = self.call(method, &body).await?;
            let more = page.more_data_available;
            if let Value::Array(items) = page.results {
                all.extend(items);
            }
            match (more, page.next_cursor) {
                (true, Some(cursor)) => body["cursor"] = json!(cursor),
                _ => return Ok((all, page.sync_token)),
            }
        }
        Err(AtsError::Malformed(format!("{method}: endless pages")))
    }

    async fn user(&self, user_id: &str) -> Result<AtsPerson, AtsError> {
        let page = self
            .call("user.info", &json!({ "userId": user_id }))
            .await?;
        let user: User = serde_json::from_value(page.results)
            .map_err(|e| AtsError::Malformed(format!("user.info: {e}")))?;
        Ok(AtsPerson {
            ats_user_id: Some(user_id.to_string()),
            ..user.person()
        })
    }
}

fn owner_role(role: &str) -> Option<OwnerRole> {
    match role.to_ascii_lowercase().as_str() {
        "hiring manager" | "hiringmanager" => Some(OwnerRole::HiringManager),
        "recruiter" => Some(OwnerRole::Recruiter),
        "coordinator" | "recruiting coordinator" => Some(OwnerRole::Coordinator),
        _ => None,
    }
}

/// A schedule's events as interviews. A cancelled schedule cancels all its events.
fn schedule_interviews(schedule: &Schedule) -> Vec<(AtsInterview, Vec<String>)> {
    let cancelled = schedule.status == "Cancelled";
    schedule
        .interview_events
        .iter()
        .map(|event| {
            let interview = AtsInterview {
                id: event.id.clone(),
                interview_key: event.interview_id.clone(),
                name: None,
                starts_at_ms: event.start_time.as_deref().and_then(parse_time_ms),
                ends_at_ms: event.end_time.as_deref().and_then(parse_time_ms),
                status: if cancelled {
                    InterviewStatus::Cancelled
                } else {
                    InterviewStatus::Scheduled
                },
                interviewers: event.interviewers.iter().map(User::person).collect(),
                meeting_link: event.meeting_link.clone(),
                feedback_link: event.feedback_link.clone(),
            };
            let unresolved = if event.interviewers.is_empty() {
                event.interviewer_user_ids.clone()
            } else {
                Vec::new()
            };
            (interview, unresolved)
        })
        .collect()
}

impl Ats for AshbyClient {
    fn kind(&self) -> AtsKind {
        AtsKind::Ashby
    }

    async fn application(&self, application_id: &str) -> Result<AtsApplication, AtsError> {
        let page = self
            .call(
                "application.info",
                &json!({ "applicationId": application_id }),
            )
            .await?;
        let r = &page.results;
        let text = |v: &Value| v.as_str().map(str::to_string);
        let candidate_id = text(&r["candidate"]["id"])
            .ok_or_else(|| AtsError::Malformed("application.info: no candidate.id".into()))?;
        let job_id = text(&r["job"]["id"])
            .ok_or_else(|| AtsError::Malformed("application.info: no job.id".into()))?;
        let owners = r["hiringTeam"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|member| {
                let user: User = serde_json::from_value(member.clone()).ok()?;
                Some((owner_role(user.role.as_deref()?)?, user.person()))
            })
            .collect();
        Ok(AtsApplication {
            id: application_id.to_string(),
            candidate_id,
            candidate_name: text(&r["candidate"]["name"]).unwrap_or_default(),
            job_id,
            job_name: text(&r["job"]["title"]),
            owners,
            outcome: r["status"].as_str().and_then(AtsOutcome::from_ashby),
            changed_at_ms: r["updatedAt"].as_str().and_then(parse_time_ms),
        })
    }

    async fn interviews(&self, application_id: &str) -> Result<Vec<AtsInterview>, AtsError> {
        let (schedules, _) = self
            .list_all(
                "interviewSchedule.list",
                json!({ "applicationId": application_id }),
            )
            .await?;
        let mut users: HashMap<String, AtsPerson> = HashMap::new();
        let mut out = Vec::new();
        for schedule in schedules {
            let schedule: Schedule = serde_json::from_value(schedule)
                .map_err(|e| AtsError::Malformed(format!("interviewSchedule.list: {e}")))?;
            if schedule.application_id.as_deref() != Some(application_id) {
                continue;
            }
            for (mut interview, unresolved) in schedule_interviews(&schedule) {
                for user_id in unresolved {
                    if !users.contains_key(&user_id) {
                        let person = self.user(&user_id).await?;
                        users.insert(user_id.clone(), person);
                    }
                    interview.interviewers.push(users[&user_id].clone());
                }
                out.push(interview);
            }
        }
        Ok(out)
    }

    async fn changes_since(&self, cursor: Option<&str>) -> Result<Changes, AtsError> {
        let mut body = json!({ "limit": 100 });
        if let Some(token) = cursor {
            body["syncToken"] = json!(token);
        }
        let (schedules, sync_token) = match self.list_all("interviewSchedule.list", body).await {
            Err(AtsError::Refused(reason))
                if cursor.is_some() && reason.contains(SYNC_TOO_LARGE) =>
            {
                // Too far behind for an incremental sync: start a full one.
                self.list_all("interviewSchedule.list", json!({ "limit": 100 }))
                    .await?
            }
            other => other?,
        };
        let ids: BTreeSet<String> = schedules
            .iter()
            .filter_map(|s| s["applicationId"].as_str().map(str::to_string))
            .collect();
        Ok(Changes {
            application_ids: ids.into_iter().collect(),
            cursor: sync_token.or_else(|| cursor.map(str::to_string)),
        })
    }

    async fn write_note(&self, note: &NoteWrite) -> Result<(), AtsError> {
        self.call(
            "candidate.createNote",
            &json!({
                "candidateId": note.candidate_id,
                "note": note.body,
                "sendNotifications": false,
            }),
        )
        .await
        .map(|_| ())
    }

    async fn write_feedback(&self, feedback: &FeedbackWrite) -> Result<(), AtsError> {
        let submissions: Vec<Value> = feedback
            .fields
            .iter()
            .map(|(path, value)| json!({ "path": path, "value": value }))
            .collect();
        let mut body = json!({
            "formDefinitionId": feedback.form_definition_id,
            "applicationId": feedback.application_id,
            "userId": feedback.user_id,
            "feedbackForm": { "fieldSubmissions": submissions },
        });
        if let Some(event) = &feedback.interview_event_id {
            body["interviewEventId"] = json!(event);
        }
        self.call("applicationFeedback.submit", &body)
            .await
            .map(|_| ())
    }

    async fn has_note(&self, _note: &NoteWrite, _reference: &str) -> Result<bool, AtsError> {
        Err(AtsError::NotSupported)
    }

    /// `applicationFeedback.list {applicationId}`: a submission by the same user for the same
    /// interview event. (The result's field names are not in the notes Loopbot was built
    /// from; the submitter is read from `submittedByUser.id` or `userId`.)
    async fn has_feedback(&self, feedback: &FeedbackWrite) -> Result<bool, AtsError> {
        let (items, _) = self
            .list_all(
                "applicationFeedback.list",
                json!({ "applicationId": feedback.application_id }),
            )
            .await?;
        Ok(items.iter().any(|item| same_feedback(item, feedback)))
    }
}

/// Whether a listed feedback submission is the one `feedback` would write.
fn same_feedback(item: &Value, feedback: &FeedbackWrite) -> bool {
    let by = item["submittedByUser"]["id"]
        .as_str()
        .or_else(|| item["userId"].as_str());
    let event = item["interviewEventId"].as_str();
    by == Some(feedback.user_id.as_str())
        && match &feedback.interview_event_id {
            Some(wanted) => event == Some(wanted.as_str()),
            None => true,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_shaped_schedule_reads_as_interviews() {
        let schedule: Schedule = serde_json::from_value(json!({
            "id": "sched-1", "status": "Scheduled", "applicationId": "app-1",
            "interviewStageId": "stage-1",
            "interviewEvents": [{
                "id": "ev-1", "interviewId": "int-tech",
                "startTime": "2026-11-24T15:00:00.000Z", "endTime": "2026-11-24T16:00:00.000Z",
                "meetingLink": "https://meet.example/x", "feedbackLink": "https://ashby/fb",
                "hasSubmittedFeedback": false,
                "interviewers": [{"id": "u-1", "firstName": "Ines", "lastName": "Screener",
                                  "email": "ines@example.com"}]
            }, {
                "id": "ev-2", "interviewId": "int-design",
                "startTime": "2026-11-24T17:00:00Z", "endTime": "2026-11-24T18:00:00Z",
                "interviewerUserIds": ["u-2"]
            }]
        }))
        .unwrap();
        let read = schedule_interviews(&schedule);
        assert_eq!(read.len(), 2);
        let (first, unresolved) = &read[0];
        assert_eq!(first.interview_key, "int-tech");
        assert_eq!(first.status, InterviewStatus::Scheduled);
        assert_eq!(first.starts_at_ms, parse_time_ms("2026-11-24T15:00:00Z"));
        assert_eq!(
            first.interviewers[0],
            AtsPerson {
                ats_user_id: Some("u-1".into()),
                email: Some("ines@example.com".into()),
                name: Some("Ines Screener".into()),
            }
        );
        assert!(unresolved.is_empty());
        assert_eq!(
            read[1].1,
            vec!["u-2".to_string()],
            "ids resolved by user.info"
        );

        let cancelled: Schedule = serde_json::from_value(json!({
            "id": "sched-1", "status": "Cancelled", "applicationId": "app-1",
            "interviewEvents": [{"id": "ev-1", "interviewId": "int-tech"}]
        }))
        .unwrap();
        assert_eq!(
            schedule_interviews(&cancelled)[0].0.status,
            InterviewStatus::Cancelled
        );
    }

    #[test]
    fn refusals_carry_ashbys_reason() {
        let envelope: Envelope = serde_json::from_value(json!({
            "success": false,
            "errors": ["missing_endpoint_permission"],
            "errorInfo": {"code": "missing_endpoint_permission", "message": "needs candidatesWrite"}
        }))
        .unwrap();
        assert_eq!(
            envelope.reason(),
            "missing_endpoint_permission: needs candidatesWrite"
        );
        let bare: Envelope =
            serde_json::from_value(json!({"success": false, "errors": ["invalid_input"]})).unwrap();
        assert_eq!(bare.reason(), "invalid_input");
    }

    #[test]
    fn hiring_team_roles_map_to_owners() {
        assert_eq!(owner_role("Hiring Manager"), Some(OwnerRole::HiringManager));
        assert_eq!(owner_role("Recruiter"), Some(OwnerRole::Recruiter));
        assert_eq!(owner_role("Coordinator"), Some(OwnerRole::Coordinator));
        assert_eq!(owner_role("Sourcer"), None);
    }
}
