//! Axum glue: turns HTTP requests into [`Simulator::handle`] calls and answers back.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value};

use super::Simulator;
use super::state::{Answer, AnswerBody};

pub(super) fn router(sim: Simulator) -> Router {
    Router::new()
        .route("/api/{method}", get(handle).post(handle))
        .route("/respond/{id}", axum::routing::post(respond))
        .with_state(sim)
}

/// A `response_url`: Slack shows the JSON body to the person; the simulator keeps it.
async fn respond(State(sim): State<Simulator>, Path(id): Path<String>, body: Bytes) -> Response {
    match serde_json::from_slice::<Value>(&body) {
        Ok(body) if body.get("text").is_some() || body.get("blocks").is_some() => {
            sim.lock().responses.push((id, body));
            (StatusCode::OK, "ok").into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "invalid_payload").into_response(),
    }
}

async fn handle(
    State(sim): State<Simulator>,
    Path(method): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut params = Map::new();
    if let Some(q) = query {
        params.extend(form_pairs(q.as_bytes()));
    }
    match parse_body(&headers, &body) {
        Ok(fields) => params.extend(fields),
        Err(code) => {
            let answer = sim.reject(&method, code);
            wait(&sim, &answer).await;
            return into_response(answer);
        }
    }
    let token = bearer(&headers).or_else(|| {
        params
            .remove("token")
            .and_then(|v| v.as_str().map(str::to_string))
    });
    params.remove("token");
    let warnings: &[&str] = if json_without_charset(&headers) {
        &["missing_charset"]
    } else {
        &[]
    };
    let answer = sim.handle_warning(&method, token.as_deref(), Value::Object(params), warnings);
    wait(&sim, &answer).await;
    into_response(answer)
}

/// The simulator's latency plus the answer's own delay (timeout faults), in real time. The
/// call has already been performed: a client that gives up earlier still caused its effects.
async fn wait(sim: &Simulator, answer: &Answer) {
    let delay = sim.latency() + std::time::Duration::from_millis(answer.delay_ms);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

/// A JSON body whose `Content-Type` names no charset: Slack answers it with the
/// `missing_charset` warning.
fn json_without_charset(headers: &HeaderMap) -> bool {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    content_type.starts_with("application/json") && !content_type.contains("charset=")
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

fn form_pairs(bytes: &[u8]) -> Map<String, Value> {
    url::form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
        .collect()
}

/// Body fields: JSON object for `application/json`, form pairs otherwise.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, &'static str> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("application/json") {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err("invalid_json"),
        };
    }
    Ok(form_pairs(body))
}

fn json_response(status: u16, body: &Value, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response();
    if let Some(secs) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

fn into_response(answer: Answer) -> Response {
    match &answer.body {
        AnswerBody::Json(body) => json_response(answer.status, body, answer.retry_after),
        AnswerBody::Text(text) => {
            let status =
                StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                text.clone(),
            )
                .into_response()
        }
    }
}
