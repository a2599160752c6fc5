//! Slack request signing (v0): HMAC-SHA256 over `v0:{timestamp}:{raw body}` with the signing
//! secret, compared in constant time, within a 5-minute window of our clock, and each signed
//! request accepted once.

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
}
