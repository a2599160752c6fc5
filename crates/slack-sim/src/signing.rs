//! Slack's request signing, Slack's side: how Slack signs what it sends to an app, written
//! from Slack's page (<https://docs.slack.dev/authentication/verifying-requests-from-slack>),
//! not shared with Loopbot's verifier, so that a mistake in one is caught by the other.
//!
//! Version `v0`: the hex HMAC-SHA256, keyed with the signing secret as UTF-8 text, of
//! `v0:<timestamp>:<raw body>`, sent as `X-Slack-Signature: v0=<hex>` beside
//! `X-Slack-Request-Timestamp: <unix seconds>`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header Slack puts the signature in.
pub const SIGNATURE_HEADER: &str = "X-Slack-Signature";
/// The header Slack puts the signing time in (Unix seconds).
pub const TIMESTAMP_HEADER: &str = "X-Slack-Request-Timestamp";

/// `v0=<hex>` for `body` sent at `timestamp`, as Slack signs it.
pub fn sign(signing_secret: &str, timestamp: i64, body: &[u8]) -> String {
    let basestring = [b"v0:", timestamp.to_string().as_bytes(), b":", body].concat();
    let mut mac = Hmac::<Sha256>::new_from_slice(signing_secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(&basestring);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Slack's published example (the page above, and its Python SDK's test). The same
    /// vector checks Loopbot's verifier in `tests/api/signature.rs`.
    #[test]
    fn slacks_published_example_signs_as_published() {
        let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        assert_eq!(
            sign(
                "8f742231b10e8888abcd99yyyzzz85a5",
                1531420618,
                body.as_bytes()
            ),
            "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        );
    }
}
