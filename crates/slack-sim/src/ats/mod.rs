//! Simulated applicant tracking systems: Ashby ([`ashby`]) and Greenhouse Harvest v3
//! ([`greenhouse`]), each served over HTTP on port 0 and speaking its documented shapes, with
//! its own auth rules, pagination, webhook signing and faults. Like the Slack simulator, its
//! rules are written from each ATS's documentation (see `docs/ats-notes.md` in the shared
//! docs), never imported from Loopbot's clients, so a mistake on one side is caught by the
//! other.
//!
//! Tests drive it as a recruiter would: [`AtsSim::schedule`], [`AtsSim::move_interview`],
//! [`AtsSim::cancel`], [`AtsSim::repanel`]; and as an outage would: [`AtsSim::refuse_writes`],
//! [`AtsSim::rate_limit`], [`AtsSim::set_down`]. Every call received is recorded.

pub mod ashby;
pub mod greenhouse;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::clock::SharedClock;

/// Which ATS the simulator plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimAts {
    Ashby,
    Greenhouse,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPerson {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
}

impl SimPerson {
    pub fn new(id: &str, first: &str, last: &str, email: &str) -> Self {
        Self {
            id: id.into(),
            first_name: first.into(),
            last_name: last.into(),
            email: email.into(),
        }
    }

    pub fn name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Debug, Clone)]
pub struct SimApplication {
    pub id: String,
    pub candidate_id: String,
    pub candidate_first: String,
    pub candidate_last: String,
    pub job_id: String,
    pub job_name: String,
    pub hiring_manager: Option<SimPerson>,
    pub recruiter: Option<SimPerson>,
    pub coordinator: Option<SimPerson>,
}

/// Where an application ends in the ATS (each ATS words it its own way: Greenhouse `hired` /
/// `rejected`, Ashby `Hired` / `Archived`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimOutcome {
    Hired,
    Rejected,
}

#[derive(Debug, Clone)]
pub struct SimInterview {
    pub id: String,
    /// Ashby: the schedule the event belongs to. Greenhouse: unused (the id again).
    pub schedule_id: String,
    pub application_id: String,
    /// Ashby `interviewId`, Greenhouse `job_interview_id`.
    pub interview_key: String,
    pub name: String,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub cancelled: bool,
    pub interviewers: Vec<SimPerson>,
    pub updated_at_ms: i64,
    /// Bumped on every change: Ashby's sync tokens are built from it.
    pub seq: u64,
}

/// One call the simulator received.
#[derive(Debug, Clone)]
pub struct AtsCall {
    /// Ashby: `category.method`. Greenhouse: `GET /v3/interviews`, `POST /token` ...
    pub method: String,
    pub body: Value,
    /// What the simulator answered (HTTP status).
    pub status: u16,
}

#[derive(Debug, Default)]
pub struct AtsState {
    pub applications: Vec<SimApplication>,
    /// Hired or rejected applications (by id), with when; the rest are active.
    pub outcomes: HashMap<String, (SimOutcome, i64)>,
    pub interviews: Vec<SimInterview>,
    pub users: Vec<SimPerson>,
    /// Notes written: Ashby `candidate.createNote` bodies, Greenhouse `POST /v3/notes` bodies.
    pub notes: Vec<Value>,
    /// Ashby `applicationFeedback.submit` bodies.
    pub feedback: Vec<Value>,
    pub calls: Vec<AtsCall>,
    /// Writes answer this refusal (Ashby: `success: false` with this code; Greenhouse: 403).
    pub refuse_writes: Option<String>,
    /// The next this many calls get 429 with `Retry-After: retry_after_secs`.
    pub rate_limited_calls: u32,
    pub retry_after_secs: u64,
    /// Every call answers 503.
    pub down: bool,
    /// The next this many writes are stored and then answered 503, as if the answer was lost
    /// on its way back.
    pub lose_answers: u32,
    /// Items per page of a list, unless the caller asks for fewer.
    pub page_size: usize,
    seq: u64,
    next_id: u64,
    /// Greenhouse: the one token that works (a new one revokes the previous).
    pub(crate) current_token: Option<String>,
    pub tokens_issued: u32,
    /// Greenhouse: cursor → (the first page's filters, offset).
    pub(crate) cursors: HashMap<String, (Vec<(String, String)>, usize)>,
    webhook_deliveries: u64,
}

#[derive(Clone)]
pub struct AtsSim {
    pub kind: SimAts,
    /// Ashby: the API key. Greenhouse: `client_id`.
    pub key: String,
    /// Greenhouse: the client secret.
    pub secret: String,
    pub webhook_secret: String,
    clock: SharedClock,
    state: Arc<Mutex<AtsState>>,
}

/// A webhook as the ATS would POST it: the raw body and the headers, signed.
#[derive(Debug, Clone)]
pub struct SignedWebhook {
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

pub struct AtsServer {
    pub base_url: String,
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for AtsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// HMAC-SHA256 of the raw body with the webhook secret, hex: how both ATSs sign.
pub(crate) fn hmac_hex(secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// RFC 4648 base64 (for checking Basic auth), written out so the simulator needs no codec.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// RFC 3339 in UTC with milliseconds, as both ATSs write times.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

impl AtsSim {
    pub fn new(kind: SimAts, clock: SharedClock) -> Self {
        let state = AtsState {
            page_size: 100,
            retry_after_secs: 2,
            ..AtsState::default()
        };
        Self {
            kind,
            key: match kind {
                SimAts::Ashby => "ashby-test-key".into(),
                SimAts::Greenhouse => "gh-client-id".into(),
            },
            secret: "gh-client-secret".into(),
            webhook_secret: "ats-webhook-secret".into(),
            clock,
            state: Arc::new(Mutex::new(state)),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, AtsState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub async fn serve(&self) -> std::io::Result<AtsServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = match self.kind {
            SimAts::Ashby => ashby::router(self.clone()),
            SimAts::Greenhouse => greenhouse::router(self.clone()),
        };
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(AtsServer {
            base_url: format!("http://{addr}"),
            addr,
            task,
        })
    }

    fn next_id(&self, state: &mut AtsState) -> String {
        state.next_id += 1;
        match self.kind {
            SimAts::Ashby => format!(
                "{:08x}-0000-4000-8000-{:012x}",
                state.next_id, state.next_id
            ),
            SimAts::Greenhouse => (4_000_000 + state.next_id).to_string(),
        }
    }

    pub fn add_user(&self, person: SimPerson) {
        self.lock().users.push(person);
    }

    pub fn add_application(&self, application: SimApplication) {
        let mut state = self.lock();
        for person in [
            &application.hiring_manager,
            &application.recruiter,
            &application.coordinator,
        ]
        .into_iter()
        .flatten()
        {
            if !state.users.iter().any(|u| u.id == person.id) {
                state.users.push(person.clone());
            }
        }
        state.applications.push(application);
    }

    /// Schedules an interview (Ashby: a new schedule with one event) and returns its id.
    pub fn schedule(
        &self,
        application_id: &str,
        interview_key: &str,
        name: &str,
        starts_at_ms: i64,
        minutes: i64,
        interviewers: &[SimPerson],
    ) -> String {
        let now = self.now_ms();
        let mut state = self.lock();
        let id = self.next_id(&mut state);
        let schedule_id = self.next_id(&mut state);
        state.seq += 1;
        let seq = state.seq;
        for person in interviewers {
            if !state.users.iter().any(|u| u.id == person.id) {
                state.users.push(person.clone());
            }
        }
        state.interviews.push(SimInterview {
            id: id.clone(),
            schedule_id,
            application_id: application_id.into(),
            interview_key: interview_key.into(),
            name: name.into(),
            starts_at_ms,
            ends_at_ms: starts_at_ms + minutes * 60_000,
            cancelled: false,
            interviewers: interviewers.to_vec(),
            updated_at_ms: now,
            seq,
        });
        id
    }

    fn change(&self, interview_id: &str, apply: impl FnOnce(&mut SimInterview)) {
        let now = self.now_ms();
        let mut state = self.lock();
        state.seq += 1;
        let seq = state.seq;
        let interview = state
            .interviews
            .iter_mut()
            .find(|i| i.id == interview_id)
            .expect("the simulated interview exists");
        apply(interview);
        interview.updated_at_ms = now;
        interview.seq = seq;
    }

    pub fn move_interview(&self, interview_id: &str, starts_at_ms: i64, minutes: i64) {
        self.change(interview_id, |i| {
            i.starts_at_ms = starts_at_ms;
            i.ends_at_ms = starts_at_ms + minutes * 60_000;
        });
    }

    /// Hires or rejects the application now (`None`: active again, e.g. Greenhouse's unreject).
    pub fn set_outcome(&self, application_id: &str, outcome: Option<SimOutcome>) {
        let now = self.now_ms();
        let mut state = self.lock();
        match outcome {
            Some(o) => {
                state.outcomes.insert(application_id.to_string(), (o, now));
            }
            None => {
                state.outcomes.remove(application_id);
            }
        }
    }

    pub fn cancel(&self, interview_id: &str) {
        self.change(interview_id, |i| i.cancelled = true);
    }

    pub fn repanel(&self, interview_id: &str, interviewers: &[SimPerson]) {
        let people = interviewers.to_vec();
        {
            let mut state = self.lock();
            for person in &people {
                if !state.users.iter().any(|u| u.id == person.id) {
                    state.users.push(person.clone());
                }
            }
        }
        self.change(interview_id, |i| i.interviewers = people);
    }

    /// Writes answer a refusal with this reason until called with `None`.
    pub fn refuse_writes(&self, reason: Option<&str>) {
        self.lock().refuse_writes = reason.map(str::to_string);
    }

    /// The next `calls` calls answer 429 with `Retry-After: retry_after_secs`.
    pub fn rate_limit(&self, calls: u32, retry_after_secs: u64) {
        let mut state = self.lock();
        state.rate_limited_calls = calls;
        state.retry_after_secs = retry_after_secs;
    }

    /// The next `writes` writes are stored, then answered 503 (the answer is lost).
    pub fn lose_answers(&self, writes: u32) {
        self.lock().lose_answers = writes;
    }

    /// Whether a write just stored loses its answer (counts one down).
    pub(crate) fn answer_lost(&self) -> bool {
        let mut state = self.lock();
        let lost = state.lose_answers > 0;
        state.lose_answers = state.lose_answers.saturating_sub(1);
        lost
    }

    pub fn set_down(&self, down: bool) {
        self.lock().down = down;
    }

    pub fn set_page_size(&self, size: usize) {
        self.lock().page_size = size.max(1);
    }

    pub fn calls(&self) -> Vec<AtsCall> {
        self.lock().calls.clone()
    }

    pub fn notes(&self) -> Vec<Value> {
        self.lock().notes.clone()
    }

    pub fn feedback(&self) -> Vec<Value> {
        self.lock().feedback.clone()
    }

    pub fn interview(&self, id: &str) -> Option<SimInterview> {
        self.lock().interviews.iter().find(|i| i.id == id).cloned()
    }

    fn delivery_id(&self) -> u64 {
        let mut state = self.lock();
        state.webhook_deliveries += 1;
        state.webhook_deliveries
    }

    /// POSTs a webhook to `url` as the ATS does; returns the HTTP status.
    pub async fn deliver(&self, url: &str, webhook: &SignedWebhook) -> reqwest::StatusCode {
        let client = reqwest::Client::new();
        let mut request = client.post(url).body(webhook.body.clone());
        for (name, value) in &webhook.headers {
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(response) => response.status(),
            Err(_) => reqwest::StatusCode::BAD_GATEWAY,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected, "{input}");
        }
    }

    #[test]
    fn times_are_written_in_utc_with_milliseconds() {
        assert_eq!(rfc3339(1_795_424_400_000), "2026-11-23T09:00:00.000Z");
    }
}
