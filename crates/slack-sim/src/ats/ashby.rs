//! Ashby's side: `POST /<category>.<method>` with JSON, Basic auth with the API key as the user
//! name (401 without credentials, 403 with the wrong key), answers in Ashby's envelope
//! (`success`, `results`, `moreDataAvailable`, `nextCursor`, `syncToken`; failures as
//! `success: false` with `errors` and `errorInfo`), and webhooks signed
//! `Ashby-Signature: sha256=<hex>` over the raw body, in the `{webhookActionId, action, data}`
//! envelope. Written from developers.ashbyhq.com (see the shared ATS notes).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

use super::{
    AtsCall, AtsSim, SignedWebhook, SimInterview, SimOutcome, SimPerson, base64, hmac_hex, rfc3339,
};

pub(super) fn router(sim: AtsSim) -> Router {
    Router::new()
        .route("/{method}", post(handle))
        .with_state(sim)
}

fn answer(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

fn failure(code: &str, message: &str) -> Value {
    json!({
        "success": false,
        "errors": [code],
        "errorInfo": { "code": code, "message": message },
    })
}

async fn handle(
    State(sim): State<AtsSim>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (status, response) = respond(&sim, &method, &headers, &parsed);
    let mut state = sim.lock();
    state.calls.push(AtsCall {
        method: method.clone(),
        body: parsed,
        status: status.as_u16(),
    });
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry = state.retry_after_secs.to_string();
        drop(state);
        let mut r = answer(status, response);
        r.headers_mut()
            .insert(header::RETRY_AFTER, retry.parse().expect("digits"));
        return r;
    }
    drop(state);
    answer(status, response)
}

fn respond(sim: &AtsSim, method: &str, headers: &HeaderMap, body: &Value) -> (StatusCode, Value) {
    {
        let mut state = sim.lock();
        if state.down {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                failure("service_unavailable", "Ashby is down"),
            );
        }
        if state.rate_limited_calls > 0 {
            state.rate_limited_calls -= 1;
            return (
                StatusCode::TOO_MANY_REQUESTS,
                failure("rate_limit_exceeded", "1000 requests per minute per key"),
            );
        }
    }
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let expected = format!("Basic {}", base64(format!("{}:", sim.key).as_bytes()));
    match auth {
        None => {
            return (
                StatusCode::UNAUTHORIZED,
                failure("unauthenticated", "missing API key"),
            );
        }
        Some(auth) if auth != expected => {
            return (
                StatusCode::FORBIDDEN,
                failure("forbidden", "the API key is not valid"),
            );
        }
        Some(_) => {}
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json || !body.is_object() {
        return (
            StatusCode::BAD_REQUEST,
            failure("invalid_input", "expected a JSON object body"),
        );
    }
    let ok = |results: Value| {
        (
            StatusCode::OK,
            json!({ "success": true, "results": results }),
        )
    };
    let text = |name: &str| body[name].as_str().map(str::to_string);
    match method {
        "application.info" => {
            let Some(id) = text("applicationId") else {
                return (
                    StatusCode::OK,
                    failure("invalid_input", "applicationId is required"),
                );
            };
            let state = sim.lock();
            match state.applications.iter().find(|a| a.id == id) {
                None => (
                    StatusCode::OK,
                    failure("application_not_found", "no such application"),
                ),
                Some(a) => {
                    let team: Vec<Value> = [
                        ("Hiring Manager", &a.hiring_manager),
                        ("Recruiter", &a.recruiter),
                        ("Coordinator", &a.coordinator),
                    ]
                    .into_iter()
                    .filter_map(|(role, p)| {
                        let p = p.as_ref()?;
                        Some(json!({
                            "userId": p.id, "firstName": p.first_name, "lastName": p.last_name,
                            "email": p.email, "role": role,
                        }))
                    })
                    .collect();
                    let outcome = state.outcomes.get(&a.id);
                    ok(json!({
                        "id": a.id,
                        "status": match outcome {
                            Some((SimOutcome::Hired, _)) => "Hired",
                            Some((SimOutcome::Rejected, _)) => "Archived",
                            None => "Active",
                        },
                        "updatedAt": outcome.map(|(_, at)| rfc3339(*at)),
                        "candidate": {
                            "id": a.candidate_id,
                            "name": format!("{} {}", a.candidate_first, a.candidate_last),
                        },
                        "job": { "id": a.job_id, "title": a.job_name },
                        "hiringTeam": team,
                    }))
                }
            }
        }
        "user.info" => {
            let Some(id) = text("userId") else {
                return (
                    StatusCode::OK,
                    failure("invalid_input", "userId is required"),
                );
            };
            let state = sim.lock();
            match state.users.iter().find(|u| u.id == id) {
                None => (StatusCode::OK, failure("user_not_found", "no such user")),
                Some(u) => ok(person(u)),
            }
        }
        "interviewSchedule.list" => list_schedules(sim, body),
        "candidate.createNote" => {
            if text("candidateId").is_none() || body.get("note").is_none() {
                return (
                    StatusCode::OK,
                    failure("invalid_input", "candidateId and note are required"),
                );
            }
            let mut state = sim.lock();
            if let Some(reason) = state.refuse_writes.clone() {
                return (
                    StatusCode::OK,
                    failure(&reason, "this API key may not write"),
                );
            }
            state.notes.push(body.clone());
            ok(json!({ "id": format!("note-{}", state.notes.len()) }))
        }
        "applicationFeedback.submit" => {
            let fields_ok = body["feedbackForm"]["fieldSubmissions"]
                .as_array()
                .is_some_and(|f| {
                    f.iter()
                        .all(|s| s["path"].is_string() && field_value_ok(&s["value"]))
                });
            if text("formDefinitionId").is_none()
                || text("applicationId").is_none()
                || text("userId").is_none()
                || !fields_ok
            {
                return (
                    StatusCode::OK,
                    failure(
                        "invalid_input",
                        "formDefinitionId, applicationId, userId and feedbackForm.fieldSubmissions[{path, value}] are required",
                    ),
                );
            }
            let mut state = sim.lock();
            if let Some(reason) = state.refuse_writes.clone() {
                return (
                    StatusCode::OK,
                    failure(&reason, "this API key may not write"),
                );
            }
            state.feedback.push(body.clone());
            let id = format!("fb-{}", state.feedback.len());
            drop(state);
            if sim.answer_lost() {
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    failure("service_unavailable", "the answer was lost"),
                );
            }
            ok(json!({ "submittedFormInstance": { "id": id } }))
        }
        "applicationFeedback.list" => {
            let Some(application) = text("applicationId") else {
                return (
                    StatusCode::OK,
                    failure("invalid_input", "applicationId is required"),
                );
            };
            let state = sim.lock();
            let items: Vec<Value> = state
                .feedback
                .iter()
                .enumerate()
                .filter(|(_, f)| f["applicationId"].as_str() == Some(application.as_str()))
                .map(|(i, f)| {
                    json!({
                        "id": format!("fb-{}", i + 1),
                        "applicationId": f["applicationId"],
                        "interviewEventId": f["interviewEventId"],
                        "formDefinitionId": f["formDefinitionId"],
                        "submittedByUser": { "id": f["userId"] },
                        "submittedValues": f["feedbackForm"]["fieldSubmissions"],
                    })
                })
                .collect();
            (
                StatusCode::OK,
                json!({ "success": true, "results": items, "moreDataAvailable": false }),
            )
        }
        _ => (
            StatusCode::NOT_FOUND,
            failure("unknown_endpoint", "no such method"),
        ),
    }
}

/// A field submission's value as Ashby's form fields take it: a Score is `{score: 1..4}`,
/// RichText `{type: "PlainText", value}`, other fields a plain string, number or boolean.
fn field_value_ok(value: &Value) -> bool {
    match value {
        Value::Object(o) if o.contains_key("score") => {
            o.len() == 1
                && value["score"]
                    .as_i64()
                    .is_some_and(|s| (1..=4).contains(&s))
        }
        Value::Object(_) => value["type"] == "PlainText" && value["value"].is_string(),
        Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
        _ => false,
    }
}

fn person(p: &SimPerson) -> Value {
    json!({ "id": p.id, "firstName": p.first_name, "lastName": p.last_name, "email": p.email })
}

/// Ashby's interview schedule: status and events, as its webhooks and `interviewSchedule.list`
/// show it. A cancelled event leaves the schedule; a schedule with none left is Cancelled.
fn schedule_json(schedule_id: &str, events: &[&SimInterview]) -> Value {
    let live: Vec<&&SimInterview> = events.iter().filter(|e| !e.cancelled).collect();
    let first = events[0];
    json!({
        "id": schedule_id,
        "status": if live.is_empty() { "Cancelled" } else { "Scheduled" },
        "applicationId": first.application_id,
        "interviewStageId": format!("stage-{}", first.interview_key),
        "interviewEvents": live.iter().map(|e| json!({
            "id": e.id,
            "interviewId": e.interview_key,
            "interviewScheduleId": schedule_id,
            "startTime": rfc3339(e.starts_at_ms),
            "endTime": rfc3339(e.ends_at_ms),
            "createdAt": rfc3339(e.updated_at_ms),
            "feedbackLink": format!("https://app.ashbyhq.com/interview-briefings/{}/feedback", e.id),
            "meetingLink": format!("https://meet.example.com/{}", e.id),
            "location": null,
            "hasSubmittedFeedback": false,
            "interviewers": e.interviewers.iter().map(person).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

fn schedules(sim: &AtsSim, filter: impl Fn(&SimInterview) -> bool) -> Vec<(u64, Value)> {
    let state = sim.lock();
    let mut ids: Vec<&str> = Vec::new();
    for i in state.interviews.iter().filter(|i| filter(i)) {
        if !ids.contains(&i.schedule_id.as_str()) {
            ids.push(&i.schedule_id);
        }
    }
    ids.iter()
        .map(|id| {
            let events: Vec<&SimInterview> = state
                .interviews
                .iter()
                .filter(|i| i.schedule_id == *id)
                .collect();
            let seq = events.iter().map(|e| e.seq).max().unwrap_or(0);
            (seq, schedule_json(id, &events))
        })
        .collect()
}

/// `interviewSchedule.list`: filter by `applicationId`; pages by `cursor` (an offset here) of
/// `limit` (at most 100); with `syncToken`, only schedules changed since it. The last page
/// carries a new `syncToken`.
fn list_schedules(sim: &AtsSim, body: &Value) -> (StatusCode, Value) {
    let application = body["applicationId"].as_str().map(str::to_string);
    let since: Option<u64> = match body.get("syncToken") {
        None | Some(Value::Null) => None,
        Some(token) => match token.as_str().and_then(|t| t.strip_prefix("sync-")) {
            Some(n) => match n.parse() {
                Ok(n) => Some(n),
                Err(_) => return (StatusCode::OK, failure("invalid_sync_token", "bad token")),
            },
            None => return (StatusCode::OK, failure("invalid_sync_token", "bad token")),
        },
    };
    let page_size = sim.lock().page_size;
    let limit = body["limit"]
        .as_u64()
        .map(|l| (l as usize).clamp(1, 100))
        .unwrap_or(100)
        .min(page_size);
    let offset: usize = match body.get("cursor") {
        None | Some(Value::Null) => 0,
        Some(c) => match c
            .as_str()
            .and_then(|c| c.strip_prefix("page-")?.parse().ok())
        {
            Some(n) => n,
            None => return (StatusCode::OK, failure("invalid_cursor", "bad cursor")),
        },
    };
    let all: Vec<Value> = schedules(sim, |i| {
        application.as_deref().is_none_or(|a| i.application_id == a)
    })
    .into_iter()
    .filter(|(seq, _)| since.is_none_or(|s| *seq > s))
    .map(|(_, v)| v)
    .collect();
    let page: Vec<Value> = all.iter().skip(offset).take(limit).cloned().collect();
    let more = offset + page.len() < all.len();
    let mut answer = json!({ "success": true, "results": page, "moreDataAvailable": more });
    if more {
        answer["nextCursor"] = json!(format!("page-{}", offset + limit));
    } else {
        answer["syncToken"] = json!(format!("sync-{}", sim.lock().seq));
    }
    (StatusCode::OK, answer)
}

impl AtsSim {
    /// The `interviewScheduleUpdate` webhook for the schedule an interview belongs to, as
    /// Ashby sends it after any change (it also fires after a create). A fresh
    /// `webhookActionId` per action; re-send the same value to play Ashby's retry.
    pub fn ashby_schedule_webhook(&self, interview_id: &str) -> SignedWebhook {
        let schedule_id = self
            .interview(interview_id)
            .expect("the simulated interview exists")
            .schedule_id;
        let schedule = schedules(self, |i| i.schedule_id == schedule_id)
            .pop()
            .expect("the schedule exists")
            .1;
        let action_id = format!("wha-{:06}", self.delivery_id());
        let body = json!({
            "webhookActionId": action_id,
            "action": "interviewScheduleUpdate",
            "data": { "interviewSchedule": schedule },
        });
        self.ashby_sign(serde_json::to_vec(&body).expect("JSON"))
    }

    /// Ashby's `candidateHire` or `applicationUpdate` webhook (`action`) for an application.
    pub fn ashby_application_webhook(&self, action: &str, application_id: &str) -> SignedWebhook {
        let action_id = format!("wha-{:06}", self.delivery_id());
        let body = json!({
            "webhookActionId": action_id,
            "action": action,
            "data": { "application": { "id": application_id } },
        });
        self.ashby_sign(serde_json::to_vec(&body).expect("JSON"))
    }

    /// Signs a raw body as Ashby does.
    pub fn ashby_sign(&self, body: Vec<u8>) -> SignedWebhook {
        let signature = format!("sha256={}", hmac_hex(&self.webhook_secret, &body));
        SignedWebhook {
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Ashby-Signature".into(), signature),
            ],
            body,
        }
    }
}
