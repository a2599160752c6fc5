//! Slack request signing (v0): HMAC-SHA256 over `v0:{timestamp}:{raw body}` with the signing
//! secret, compared in constant time, within a 5-minute window of our clock, and each signed
//! request accepted once.

use std::collections::HashSet;
use std::sync::Mutex;

use axum::http::HeaderMap;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-slack-signature";
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
pub const MAX_AGE_SECS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the request is not signed")]
    Unsigned,
    #[error("the request timestamp is not a number")]
    BadTimestamp,
    #[error("the request timestamp is outside the 5-minute window")]
    Stale,
    #[error("the signature does not match")]
    BadSignature,
    #[error("this signed request was already received")]
    Replayed,
}

impl Rejection {
    /// Short label for metrics.
    pub fn label(self) -> &'static str {
        match self {
            Rejection::Unsigned => "unsigned",
            Rejection::BadTimestamp => "bad_timestamp",
            Rejection::Stale => "stale",
            Rejection::BadSignature => "bad_signature",
            Rejection::Replayed => "replayed",
        }
    }
}

/// `v0=<hex>` for a body, as Slack sends it.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(b"v0:");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// Checks the signature and the window. Returns the signature (for replay detection).
pub fn verify<'h>(
    secret: &str,
    headers: &'h HeaderMap,
    body: &[u8],
    now_secs: i64,
) -> Result<&'h str, Rejection> {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (header(SIGNATURE_HEADER), header(TIMESTAMP_HEADER))
    else {
        return Err(Rejection::Unsigned);
    };
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| Rejection::BadTimestamp)?;
    let hex_part = signature
        .strip_prefix("v0=")
        .ok_or(Rejection::BadSignature)?;
    let given = hex::decode(hex_part).map_err(|_| Rejection::BadSignature)?;
    mac(secret, timestamp, body)
        .verify_slice(&given)
        .map_err(|_| Rejection::BadSignature)?;
    if (now_secs - timestamp).abs() > MAX_AGE_SECS {
        return Err(Rejection::Stale);
    }
    Ok(signature)
}

/// Remembers signatures accepted in the last window, so a captured request cannot be replayed.
/// Slack signs every delivery afresh, so its own retries are not affected.
///
/// Memory is bounded: fingerprints live in two generations, each covering one window (or at
/// most `GENERATION_CAP` requests); a signature is a replay if either generation has it. Under
/// extreme load the remembered span shrinks; every effect Loopbot has is also idempotent by
/// its own key (view id, event id, single-use trigger), so a replay that slips past still
/// changes nothing.
#[derive(Debug, Default)]
pub struct ReplayGuard {
    generations: Mutex<Generations>,
}

#[derive(Debug, Default)]
struct Generations {
    current: HashSet<u64>,
    previous: HashSet<u64>,
    current_since: i64,
}

const GENERATION_CAP: usize = 100_000;

fn fingerprint(signature: &str) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // A keyed hash, random per process: nobody can aim collisions at it.
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    let mut hasher = KEYS.get_or_init(Default::default).build_hasher();
    hasher.write(signature.as_bytes());
    hasher.finish()
}

impl ReplayGuard {
    /// Returns false when `signature` was accepted before within the window.
    pub fn first_time(&self, signature: &str, now_secs: i64) -> bool {
        let key = fingerprint(signature);
        let mut g = self.generations.lock().unwrap_or_else(|p| p.into_inner());
        if now_secs - g.current_since > MAX_AGE_SECS || g.current.len() >= GENERATION_CAP {
            let current = std::mem::take(&mut g.current);
            g.previous = current;
            g.current_since = now_secs;
        }
        if g.previous.contains(&key) || g.current.contains(&key) {
            return false;
        }
        g.current.insert(key);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const TS: i64 = 1531420618;
    const EXPECTED: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn headers(signature: &str, ts: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
        h.insert(TIMESTAMP_HEADER, HeaderValue::from_str(ts).unwrap());
        h
    }

    #[test]
    fn slacks_published_test_vector_signs_and_verifies() {
        assert_eq!(sign(SECRET, TS, BODY.as_bytes()), EXPECTED);
        let h = headers(EXPECTED, "1531420618");
        assert_eq!(verify(SECRET, &h, BODY.as_bytes(), TS + 299), Ok(EXPECTED));
    }

    #[test]
    fn bad_requests_are_rejected_for_the_right_reason() {
        let body = BODY.as_bytes();
        assert_eq!(
            verify(SECRET, &HeaderMap::new(), body, TS),
            Err(Rejection::Unsigned)
        );
        let h = headers(EXPECTED, "yesterday");
        assert_eq!(verify(SECRET, &h, body, TS), Err(Rejection::BadTimestamp));
        let h = headers(EXPECTED, "1531420618");
        assert_eq!(verify(SECRET, &h, body, TS + 301), Err(Rejection::Stale));
        assert_eq!(verify(SECRET, &h, body, TS - 301), Err(Rejection::Stale));
        assert_eq!(
            verify(SECRET, &h, b"token=tampered", TS),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify("another-secret-entirely", &h, body, TS),
            Err(Rejection::BadSignature)
        );
        let h = headers("v1=abc", "1531420618");
        assert_eq!(verify(SECRET, &h, body, TS), Err(Rejection::BadSignature));
    }

    #[test]
    fn a_signature_is_accepted_once_within_the_window() {
        let guard = ReplayGuard::default();
        assert!(guard.first_time("v0=aa", 100));
        assert!(!guard.first_time("v0=aa", 101));
        assert!(guard.first_time("v0=bb", 101));
        // Still remembered one window later (the previous generation) ...
        assert!(!guard.first_time("v0=aa", 100 + MAX_AGE_SECS + 1));
        // ... and forgotten after two, when the timestamp check refuses it anyway.
        assert!(guard.first_time("v0=aa", 100 + 3 * MAX_AGE_SECS));
    }

    #[test]
    fn memory_stays_bounded_under_load() {
        let guard = ReplayGuard::default();
        for i in 0..(3 * GENERATION_CAP) {
            assert!(guard.first_time(&format!("v0={i}"), 100));
        }
        let g = guard.generations.lock().unwrap();
        assert!(g.current.len() + g.previous.len() <= 2 * GENERATION_CAP);
    }
}
