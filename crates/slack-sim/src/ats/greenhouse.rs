//! Greenhouse's side, Harvest v3: `POST /token` (OAuth client credentials, Basic
//! `client_id:client_secret`, form `grant_type=client_credentials&sub=<user id>`; a new token
//! revokes the previous one), `GET /v3/…` lists with Bearer auth and cursor pagination in the
//! `Link` header only (the cursor must be the sole query parameter; `per_page` 1–500 on the
//! first call; id filters at most 50 ids), `POST /v3/notes`, 429 with `Retry-After` and
//! `X-RateLimit-Reset`, and webhooks signed `Signature: sha256 <hex>` with a
//! `Greenhouse-Event-ID` per delivery. Written from harvestdocs.greenhouse.io and
//! developers.greenhouse.io (see the shared ATS notes).

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use serde_json::{Value, json};

use super::{AtsCall, AtsSim, SignedWebhook, SimInterview, SimOutcome, base64, hmac_hex, rfc3339};

pub(super) fn router(sim: AtsSim) -> Router {
    Router::new()
        .route("/token", post(token))
        .route("/v3/{resource}", any(resource))
        .with_state(sim)
}

fn error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({ "errors": [{ "message": message }] })),
    )
        .into_response()
}

fn record(sim: &AtsSim, method: String, body: Value, status: StatusCode) {
    sim.lock().calls.push(AtsCall {
        method,
        body,
        status: status.as_u16(),
    });
}

/// Outage and rate limit, before anything else.
fn faults(sim: &AtsSim) -> Option<Response> {
    let mut state = sim.lock();
    if state.down {
        return Some(error(
            StatusCode::SERVICE_UNAVAILABLE,
            "Service Unavailable",
        ));
    }
    if state.rate_limited_calls > 0 {
        state.rate_limited_calls -= 1;
        let retry = state.retry_after_secs;
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests");
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry));
        r.headers_mut()
            .insert("X-RateLimit-Limit", HeaderValue::from(50));
        r.headers_mut()
            .insert("X-RateLimit-Remaining", HeaderValue::from(0));
        return Some(r);
    }
    None
}

fn form_pairs(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

async fn token(State(sim): State<AtsSim>, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_pairs(&body);
    let recorded = json!(
        form.iter()
            .map(|(k, v)| (k.clone(), json!(v)))
            .collect::<serde_json::Map<_, _>>()
    );
    let response = token_answer(&sim, &headers, &form);
    record(&sim, "POST /token".into(), recorded, response.status());
    response
}

fn token_answer(sim: &AtsSim, headers: &HeaderMap, form: &HashMap<String, String>) -> Response {
    if let Some(r) = faults(sim) {
        return r;
    }
    let expected = format!(
        "Basic {}",
        base64(format!("{}:{}", sim.key, sim.secret).as_bytes())
    );
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if auth != Some(expected.as_str()) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type || form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "unsupported_grant_type" })),
        )
            .into_response();
    }
    if form.get("sub").is_none_or(|s| s.is_empty()) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({ "error": "invalid_request", "error_description": "sub is required" }),
            ),
        )
            .into_response();
    }
    let mut state = sim.lock();
    state.tokens_issued += 1;
    let token = format!("gh-token-{}", state.tokens_issued);
    state.current_token = Some(token.clone());
    axum::Json(json!({ "access_token": token, "token_type": "Bearer", "expires_in": 3600 }))
        .into_response()
}

async fn resource(
    State(sim): State<AtsSim>,
    Path(resource): Path<String>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: Vec<(String, String)> = query
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let recorded = if method == Method::GET {
        json!(
            query
                .iter()
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect::<serde_json::Map<_, _>>()
        )
    } else {
        parsed.clone()
    };
    let response = resource_answer(&sim, &resource, &method, &query, &headers, &parsed);
    record(
        &sim,
        format!("{method} /v3/{resource}"),
        recorded,
        response.status(),
    );
    response
}

fn resource_answer(
    sim: &AtsSim,
    resource: &str,
    method: &Method,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &Value,
) -> Response {
    if let Some(r) = faults(sim) {
        return r;
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let current = sim.lock().current_token.clone();
    if bearer.is_none() || bearer != current.as_deref() {
        return error(StatusCode::UNAUTHORIZED, "invalid or revoked access token");
    }
    match (method.clone(), resource) {
        (Method::POST, "notes") => note(sim, headers, body),
        (
            Method::GET,
            "interviews" | "interviewers" | "applications" | "candidates" | "users" | "notes",
        ) => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("127.0.0.1");
            list(sim, resource, query, host)
        }
        _ => error(StatusCode::NOT_FOUND, "Not Found"),
    }
}

fn note(sim: &AtsSim, headers: &HeaderMap, body: &Value) -> Response {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let visibility_ok = matches!(
        body["visibility"].as_str(),
        Some("admin_only" | "private" | "public")
    );
    if !json_type
        || !body["candidate_id"].is_number()
        || !body["user_id"].is_number()
        || !body["body"].is_string()
        || !visibility_ok
    {
        return error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "candidate_id, user_id (numbers), body and visibility (admin_only, private, public) are required",
        );
    }
    let mut state = sim.lock();
    if let Some(reason) = state.refuse_writes.clone() {
        return error(StatusCode::FORBIDDEN, &reason);
    }
    state.notes.push(body.clone());
    let id = 9_000_000 + state.notes.len();
    drop(state);
    if sim.answer_lost() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable");
    }
    (StatusCode::CREATED, axum::Json(json!({ "id": id }))).into_response()
}

fn num(id: &str) -> Value {
    id.parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| json!(id))
}

fn interview_json(i: &SimInterview) -> Value {
    json!({
        "id": num(&i.id),
        "application_id": num(&i.application_id),
        "job_interview_id": num(&i.interview_key),
        "name": i.name,
        "starts_at": rfc3339(i.starts_at_ms),
        "ends_at": rfc3339(i.ends_at_ms),
        "all_day_start_date": null,
        "all_day_end_date": null,
        "location": null,
        "video_conferencing_url": format!("https://meet.example.com/{}", i.id),
        "status": if i.cancelled { "cancelled" } else { "scheduled" },
        "organizer_id": null,
        "external_event_id": format!("cal-{}", i.id),
        "created_at": rfc3339(i.updated_at_ms),
        "updated_at": rfc3339(i.updated_at_ms),
    })
}

/// A `gte|<time>` style filter on `updated_at`.
fn time_filter(value: &str) -> Option<(String, i64)> {
    let (op, time) = value.split_once('|')?;
    let ms = time.parse::<jiff::Timestamp>().ok()?.as_millisecond();
    matches!(op, "gte" | "gt" | "lte" | "lt").then(|| (op.to_string(), ms))
}

/// One page of a list; the `Link` to the next page is absolute, as Greenhouse writes it.
fn list(sim: &AtsSim, resource: &str, query: &[(String, String)], host: &str) -> Response {
    // A cursor must be the sole parameter; it carries the first call's filters.
    let (filters, offset) = if let Some((_, cursor)) = query.iter().find(|(k, _)| k == "cursor") {
        if query.len() != 1 {
            return error(
                StatusCode::BAD_REQUEST,
                "cursor must be the only query parameter",
            );
        }
        match sim.lock().cursors.get(cursor) {
            Some(saved) => saved.clone(),
            None => return error(StatusCode::BAD_REQUEST, "invalid cursor"),
        }
    } else {
        (query.to_vec(), 0)
    };
    let get = |name: &str| {
        filters
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let per_page = match get("per_page") {
        None => 100,
        Some(n) => match n.parse::<usize>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => return error(StatusCode::BAD_REQUEST, "per_page must be 1 to 500"),
        },
    }
    .min(sim.lock().page_size);
    let ids = |name: &str| -> Result<Option<Vec<String>>, String> {
        let Some(list) = get(name) else {
            return Ok(None);
        };
        let ids: Vec<String> = list.split(',').map(str::to_string).collect();
        if ids.len() > 50 {
            return Err(format!("{name} takes at most 50 ids"));
        }
        Ok(Some(ids))
    };
    let rows: Vec<Value> = {
        let state = sim.lock();
        match resource {
            "interviews" => {
                let apps = match ids("application_ids") {
                    Ok(a) => a,
                    Err(m) => return error(StatusCode::UNPROCESSABLE_ENTITY, &m),
                };
                let updated = match get("updated_at").map(|v| time_filter(&v)) {
                    None => None,
                    Some(Some(f)) => Some(f),
                    Some(None) => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            "updated_at: expected gte|<RFC 3339>",
                        );
                    }
                };
                state
                    .interviews
                    .iter()
                    .filter(|i| apps.as_ref().is_none_or(|a| a.contains(&i.application_id)))
                    .filter(|i| {
                        updated.as_ref().is_none_or(|(op, ms)| match op.as_str() {
                            "gte" => i.updated_at_ms >= *ms,
                            "gt" => i.updated_at_ms > *ms,
                            "lte" => i.updated_at_ms <= *ms,
                            _ => i.updated_at_ms < *ms,
                        })
                    })
                    .map(interview_json)
                    .collect()
            }
            "interviewers" => {
                let Some(wanted) = (match ids("interview_ids") {
                    Ok(w) => w,
                    Err(m) => return error(StatusCode::UNPROCESSABLE_ENTITY, &m),
                }) else {
                    return error(StatusCode::BAD_REQUEST, "interview_ids is required");
                };
                state
                    .interviews
                    .iter()
                    .filter(|i| wanted.contains(&i.id))
                    .flat_map(|i| {
                        i.interviewers.iter().map(move |p| {
                            json!({
                                "interview_id": num(&i.id),
                                "user_id": num(&p.id),
                                "email": p.email,
                                "response_status": "accepted",
                                "scorecard_id": null,
                            })
                        })
                    })
                    .collect()
            }
            "notes" => {
                let apps = match ids("application_ids") {
                    Ok(a) => a,
                    Err(m) => return error(StatusCode::UNPROCESSABLE_ENTITY, &m),
                };
                state
                    .notes
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| {
                        apps.as_ref()
                            .is_none_or(|a| a.iter().any(|id| n["application_id"] == num(id)))
                    })
                    .map(|(i, n)| {
                        let mut n = n.clone();
                        n["id"] = json!(9_000_001 + i);
                        n
                    })
                    .collect()
            }
            "applications" => {
                let wanted = match ids("ids") {
                    Ok(w) => w,
                    Err(m) => return error(StatusCode::UNPROCESSABLE_ENTITY, &m),
                };
                state
                    .applications
                    .iter()
                    .filter(|a| wanted.as_ref().is_none_or(|w| w.contains(&a.id)))
                    .map(|a| {
                        let outcome = state.outcomes.get(&a.id);
                        let status = match outcome {
                            Some((SimOutcome::Hired, _)) => "hired",
                            Some((SimOutcome::Rejected, _)) => "rejected",
                            None => "active",
                        };
                        let rejected_at = match outcome {
                            Some((SimOutcome::Rejected, at)) => json!(rfc3339(*at)),
                            _ => Value::Null,
                        };
                        json!({
                            "id": num(&a.id),
                            "candidate_id": num(&a.candidate_id),
                            "job_id": num(&a.job_id),
                            "status": status,
                            "rejected_at": rejected_at,
                            "last_activity_at": outcome.map(|(_, at)| rfc3339(*at)),
                        })
                    })
                    .collect()
            }
            "candidates" => {
                let wanted = match ids("ids") {
                    Ok(w) => w,
                    Err(m) => return error(StatusCode::UNPROCESSABLE_ENTITY, &m),
                };
                state
                    .applications
                    .iter()
                    .filter(|a| wanted.as_ref().is_none_or(|w| w.contains(&a.candidate_id)))
                    .map(|a| {
                        json!({
                            "id": num(&a.candidate_id),
                            "first_name": a.candidate_first,
                            "last_name": a.candidate_last,
                            "recruiter_id": a.recruiter.as_ref().map(|p| num(&p.id)),
                            "coordinator_id": a.coordinator.as_ref().map(|p| num(&p.id)),
                        })
                    })
                    .collect()
            }
            _ => {
                let wanted = match ids("ids") {
                    Ok(w) => w,
                    Err(m) => return error(StatusCode::UNPROCESSABLE_ENTITY, &m),
                };
                state
                    .users
                    .iter()
                    .filter(|u| wanted.as_ref().is_none_or(|w| w.contains(&u.id)))
                    .map(|u| {
                        json!({
                            "id": num(&u.id),
                            "first_name": u.first_name,
                            "last_name": u.last_name,
                            "primary_email_address": u.email,
                        })
                    })
                    .collect()
            }
        }
    };
    let page: Vec<Value> = rows.iter().skip(offset).take(per_page).cloned().collect();
    let mut response = axum::Json(Value::Array(page)).into_response();
    if offset + per_page < rows.len() {
        let mut state = sim.lock();
        let cursor = format!("c{}", state.cursors.len() + 1);
        state
            .cursors
            .insert(cursor.clone(), (filters.clone(), offset + per_page));
        drop(state);
        let link = format!("<http://{host}/v3/{resource}?cursor={cursor}>; rel=\"next\"");
        response.headers_mut().insert(
            header::LINK,
            HeaderValue::from_str(&link).expect("ASCII link"),
        );
    }
    response
}

impl AtsSim {
    /// Another client takes a token with the same credentials, which revokes the one held.
    pub fn greenhouse_token_taken_elsewhere(&self) {
        self.lock().current_token = Some("gh-token-elsewhere".into());
    }

    /// Greenhouse's `interview_deleted` webhook: only the interview's id.
    pub fn greenhouse_interview_deleted(&self, interview_id: &str) -> SignedWebhook {
        let body = json!({
            "action": "interview_deleted",
            "payload": { "interview": { "id": num(interview_id) } },
        });
        self.greenhouse_sign(serde_json::to_vec(&body).expect("JSON"))
    }

    /// Greenhouse's `candidate_stage_change` webhook: the application and its stage's
    /// interviews, without times or emails (those are polled).
    pub fn greenhouse_stage_change(&self, application_id: &str) -> SignedWebhook {
        let state = self.lock();
        let app = state
            .applications
            .iter()
            .find(|a| a.id == application_id)
            .expect("the simulated application exists");
        let interviews: Vec<Value> = state
            .interviews
            .iter()
            .filter(|i| i.application_id == application_id)
            .map(|i| {
                json!({
                    "id": num(&i.interview_key),
                    "name": i.name,
                    "status": if i.cancelled { "cancelled" } else { "scheduled" },
                    "interviewers": i.interviewers.iter().map(|p| json!({
                        "id": num(&p.id), "display_name": p.name(), "status": "accepted",
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let body = json!({
            "action": "candidate_stage_change",
            "payload": { "application": {
                "id": num(&app.id),
                "candidate": {
                    "id": num(&app.candidate_id),
                    "first_name": app.candidate_first,
                    "last_name": app.candidate_last,
                },
                "jobs": [{ "id": num(&app.job_id), "name": app.job_name }],
                "current_stage": { "id": 1, "name": "Onsite", "interviews": interviews },
            }},
        });
        drop(state);
        self.greenhouse_sign(serde_json::to_vec(&body).expect("JSON"))
    }

    /// Greenhouse's `hire_candidate` / `reject_candidate` webhook (`action`) for an
    /// application: only a trigger to Loopbot, which reads the application's status.
    pub fn greenhouse_decision(&self, action: &str, application_id: &str) -> SignedWebhook {
        let body = json!({
            "action": action,
            "payload": { "application": { "id": num(application_id) } },
        });
        self.greenhouse_sign(serde_json::to_vec(&body).expect("JSON"))
    }

    /// Signs a raw body as Greenhouse does, with a new `Greenhouse-Event-ID`.
    pub fn greenhouse_sign(&self, body: Vec<u8>) -> SignedWebhook {
        let signature = format!("sha256 {}", hmac_hex(&self.webhook_secret, &body));
        let event_id = format!("gh-event-{:06}", self.delivery_id());
        SignedWebhook {
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Signature".into(), signature),
                ("Greenhouse-Event-ID".into(), event_id),
            ],
            body,
        }
    }
}
