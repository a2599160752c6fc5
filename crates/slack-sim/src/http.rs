//! Axum glue: turns HTTP requests into [`Simulator::handle`] calls and answers back.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Simulator;
use super::contract::{self, Violation, WireCall};
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
    let query = query.map(|q| form_pairs(q.as_bytes())).unwrap_or_default();
    let content_type = media_type(&headers, &body);
    let keep_view_text = method.starts_with("views.");
    let (body, view_text) = match parse_body(&content_type, &body, keep_view_text) {
        Ok(parsed) => parsed,
        Err(code) => {
            let answer = sim.reject(&method, code);
            sim.note_violations(vec![Violation {
                method: method.clone(),
                problem: format!("the {content_type} body does not parse ({code})"),
            }]);
            wait(&sim, &answer).await;
            return into_response(answer);
        }
    };
    let violations = contract::check(&method, &content_type, &body, &query);
    let wire = WireCall {
        method: method.clone(),
        content_type: content_type.clone(),
        arg_types: body
            .iter()
            .chain(query.iter())
            .filter(|(name, _)| name.as_str() != "token")
            .map(|(name, value)| (name.clone(), contract::json_type(value).to_string()))
            .collect(),
    };
    // Slack reads a JSON body only for the methods that take one; any other method ignores
    // it and answers as if its arguments were missing.
    let json_body = content_type == contract::JSON;
    let body_read = !json_body || contract::reads(&method, contract::JSON);
    let mut params = query;
    let view_text = if body_read {
        params.extend(body);
        view_text
    } else {
        None
    };
    let token = bearer(&headers).or_else(|| {
        params
            .remove("token")
            .and_then(|v| v.as_str().map(str::to_string))
    });
    params.remove("token");
    let warnings: &[&str] = if json_body && body_read && !names_charset(&headers) {
        &["missing_charset"]
    } else {
        &[]
    };
    let answer = sim.handle_wire(
        &method,
        token.as_deref(),
        Value::Object(params),
        view_text,
        warnings,
        wire,
        violations,
    );
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

/// Whether the `Content-Type` names a charset: Slack answers a JSON body without one with
/// the `missing_charset` warning.
fn names_charset(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("charset="))
}

/// The body's media type, lower case and without parameters (`application/json`); "" when
/// the call has no body.
fn media_type(headers: &HeaderMap, body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return String::new();
    }
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
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

/// Body fields: a JSON object for `application/json`, form pairs otherwise. With
/// `keep_view_text`, also the text of a JSON `view` object as it came: a `views.*` method
/// keeps that text and answers with it. Writing the tree out twice, to keep it and to answer,
/// took a fifth of the load bench's CPU per `/loop start` (`perf`, 2026-12-07).
fn parse_body(
    media_type: &str,
    body: &[u8],
    keep_view_text: bool,
) -> Result<(Map<String, Value>, Option<String>), &'static str> {
    if media_type.is_empty() {
        return Ok((Map::new(), None));
    }
    if media_type != contract::JSON {
        return Ok((form_pairs(body), None));
    }
    if !keep_view_text {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok((map, None)),
            _ => Err("invalid_json"),
        };
    }
    let raw = serde_json::from_slice::<BTreeMap<String, Box<RawValue>>>(body)
        .map_err(|_| "invalid_json")?;
    let mut fields = Map::new();
    let mut view_text = None;
    for (name, raw) in raw {
        let value: Value = serde_json::from_str(raw.get()).map_err(|_| "invalid_json")?;
        if name == "view" && value.is_object() {
            view_text = Some(String::from(Box::<str>::from(raw)));
        }
        fields.insert(name, value);
    }
    Ok((fields, view_text))
}

fn json_response(answer: &Answer, body: &Value) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        json_bytes(body, answer.view_json.as_deref()),
    )
        .into_response();
    if let Some(secs) = answer.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// `body` as JSON, written into room for a view's answer (several kB) from the start, where
/// `serde_json::to_vec` starts at 128 bytes and grows six times. `view`, the body's `view`
/// already written ([`Answer::view_json`]), goes in as it is.
fn json_bytes(body: &Value, view: Option<&str>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(view.map_or(0, str::len) + 8 * 1024);
    let written = match (body, view) {
        (Value::Object(fields), Some(view)) => {
            bytes.extend_from_slice(b"{\"view\":");
            bytes.extend_from_slice(view.as_bytes());
            let mut rest = Ok(());
            for (name, value) in fields.iter().filter(|(name, _)| name.as_str() != "view") {
                bytes.push(b',');
                rest = rest
                    .and_then(|()| serde_json::to_writer(&mut bytes, name))
                    .map(|()| bytes.push(b':'))
                    .and_then(|()| serde_json::to_writer(&mut bytes, value));
            }
            bytes.push(b'}');
            rest
        }
        _ => serde_json::to_writer(&mut bytes, body),
    };
    match written {
        Ok(()) => bytes,
        Err(_) => Vec::new(),
    }
}

fn into_response(answer: Answer) -> Response {
    match &answer.body {
        AnswerBody::Json(body) => json_response(&answer, body),
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
