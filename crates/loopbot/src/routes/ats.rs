//! `POST /ats/ashby` and `POST /ats/greenhouse`: ATS webhooks. Each is verified by its ATS's
//! signature over the raw body before anything in it is read, answers 404 while its secret is
//! unset (the route is off), is recorded once by its delivery id (Ashby `webhookActionId`,
//! `Greenhouse-Event-ID`), and queues the application's read as a durable job in the same
//! transaction, then answers at once. A database failure answers 503: Ashby does not retry
//! 401/403/404/405/410, so a transient failure must be a 5xx; Greenhouse retries any non-200.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::ats::AtsKind;
use crate::ats::signature::{self, Rejection};
use crate::db;
use crate::jobs::Job;
use crate::metrics::label;
use crate::state::AppState;

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn rejected(state: &AppState, kind: AtsKind, why: Rejection) -> Response {
    state.metrics.inc(
        "loopbot_ats_webhooks_rejected_total",
        label("ats", kind.as_str()).and("reason", why.label()),
    );
    tracing::warn!(
        ats = kind.as_str(),
        reason = why.label(),
        "ATS webhook refused"
    );
    (StatusCode::UNAUTHORIZED, why.to_string()).into_response()
}

pub async fn ashby(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let kind = AtsKind::Ashby;
    let Some(secret) = state.settings.ats.ashby_webhook_secret.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Err(why) = signature::verify_ashby(
        secret.expose(),
        header(&headers, signature::ASHBY_HEADER),
        &body,
    ) {
        return rejected(&state, kind, why);
    }
    let Ok(envelope) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let Some(action_id) = envelope["webhookActionId"].as_str() else {
        return (StatusCode::BAD_REQUEST, "no webhookActionId").into_response();
    };
    let data = &envelope["data"];
    let application = match envelope["action"].as_str() {
        Some("interviewScheduleCreate" | "interviewScheduleUpdate") => {
            data["interviewSchedule"]["applicationId"].as_str()
        }
        Some("candidateStageChange" | "candidateHire" | "applicationUpdate") => {
            data["application"]["id"].as_str()
        }
        _ => None,
    };
    accept(&state, kind, action_id, application.map(str::to_string)).await
}

pub async fn greenhouse(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = AtsKind::Greenhouse;
    let Some(secret) = state.settings.ats.greenhouse_webhook_secret.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if let Err(why) = signature::verify_greenhouse(
        secret.expose(),
        header(&headers, signature::GREENHOUSE_HEADER),
        &body,
    ) {
        return rejected(&state, kind, why);
    }
    let Some(event_id) = header(&headers, signature::GREENHOUSE_EVENT_ID_HEADER) else {
        return (StatusCode::BAD_REQUEST, "no Greenhouse-Event-ID").into_response();
    };
    let Ok(envelope) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let payload = &envelope["payload"];
    let id_text = |v: &Value| match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    let application = match envelope["action"].as_str() {
        Some(
            "candidate_stage_change" | "hire_candidate" | "reject_candidate" | "unreject_candidate",
        ) => id_text(&payload["application"]["id"]),
        // Only the interview's id: the application is the one Loopbot read it under.
        Some("interview_deleted") => match id_text(&payload["interview"]["id"]) {
            Some(interview) => {
                match db::ats::application_of_interview(&state.db, kind.as_str(), &interview).await
                {
                    Ok(application) => application,
                    Err(e) => return unavailable(&e),
                }
            }
            None => None,
        },
        _ => None,
    };
    accept(&state, kind, event_id, application).await
}

fn unavailable(e: &sqlx::Error) -> Response {
    tracing::error!(error = %crate::error::chain(e), "ATS webhook not recorded");
    (StatusCode::SERVICE_UNAVAILABLE, "try again").into_response()
}

/// Records the delivery and queues the application's read, in one transaction. A delivery
/// seen before changes nothing and is answered 200 (so the ATS stops retrying it).
async fn accept(
    state: &AppState,
    kind: AtsKind,
    delivery_id: &str,
    application: Option<String>,
) -> Response {
    let now = state.clock.now_ms();
    let result: sqlx::Result<bool> = async {
        let mut tx = state.begin().await?;
        let new = db::ats::record_delivery(&mut *tx, kind.as_str(), delivery_id, now).await?;
        if new && let Some(application_id) = application {
            Job::AtsSync {
                ats: kind.as_str().to_string(),
                application_id,
            }
            .enqueue(&mut *tx, now)
            .await?;
        }
        tx.commit().await?;
        Ok(new)
    }
    .await;
    match result {
        Ok(new) => {
            let outcome = if new { "accepted" } else { "repeat" };
            state.metrics.inc(
                "loopbot_ats_webhooks_total",
                label("ats", kind.as_str()).and("outcome", outcome),
            );
            StatusCode::OK.into_response()
        }
        Err(e) => unavailable(&e),
    }
}
