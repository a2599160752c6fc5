//! Webhook signatures, as each ATS signs: HMAC-SHA256 of the **raw** body with the webhook
//! secret, hex-encoded, compared in constant time.
//!
//! - Ashby: `Ashby-Signature: sha256=<hex>`.
//! - Greenhouse: `Signature: sha256 <hex>` (a space, not `=`). Greenhouse escapes Unicode before
//!   signing, so only the bytes as received may be hashed, never a re-serialisation.
//!
//! Neither ATS signs a timestamp, so a replay is caught by the delivery id (Ashby
//! `webhookActionId`, `Greenhouse-Event-ID`), recorded once in the database.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const ASHBY_HEADER: &str = "ashby-signature";
pub const GREENHOUSE_HEADER: &str = "signature";
pub const GREENHOUSE_EVENT_ID_HEADER: &str = "greenhouse-event-id";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the request is not signed")]
    Unsigned,
    #[error("the signature is not in the ATS's form")]
    Malformed,
    #[error("the signature does not match")]
    BadSignature,
}

impl Rejection {
    pub fn label(self) -> &'static str {
        match self {
            Rejection::Unsigned => "unsigned",
            Rejection::Malformed => "malformed",
            Rejection::BadSignature => "bad_signature",
        }
    }
}

fn mac(secret: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac
}

fn check(secret: &str, body: &[u8], hex_part: &str) -> Result<(), Rejection> {
    let given = hex::decode(hex_part.trim()).map_err(|_| Rejection::Malformed)?;
    mac(secret, body)
        .verify_slice(&given)
        .map_err(|_| Rejection::BadSignature)
}

/// Verifies an `Ashby-Signature` header value (`sha256=<hex>`) against the raw body.
pub fn verify_ashby(secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), Rejection> {
    let header = header.ok_or(Rejection::Unsigned)?;
    let hex_part = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(Rejection::Malformed)?;
    check(secret, body, hex_part)
}

/// Verifies a Greenhouse `Signature` header value (`sha256 <hex>`) against the raw body.
pub fn verify_greenhouse(secret: &str, header: Option<&str>, body: &[u8]) -> Result<(), Rejection> {
    let header = header.ok_or(Rejection::Unsigned)?;
    let hex_part = header
        .trim()
        .strip_prefix("sha256 ")
        .ok_or(Rejection::Malformed)?;
    check(secret, body, hex_part)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec-test-0123456789";
    const BODY: &[u8] = br#"{"action":"ping","data":{"text":"\u003chello\u003e"}}"#;

    /// HMAC-SHA256 test case 2 of RFC 4231 (key "Jefe"), so the expected hex is independent of
    /// this module.
    const RFC4231_KEY: &str = "Jefe";
    const RFC4231_DATA: &[u8] = b"what do ya want for nothing?";
    const RFC4231_HEX: &str = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";

    #[test]
    fn both_forms_verify_a_known_vector() {
        let ashby = format!("sha256={RFC4231_HEX}");
        assert_eq!(
            verify_ashby(RFC4231_KEY, Some(&ashby), RFC4231_DATA),
            Ok(())
        );
        let greenhouse = format!("sha256 {RFC4231_HEX}");
        assert_eq!(
            verify_greenhouse(RFC4231_KEY, Some(&greenhouse), RFC4231_DATA),
            Ok(())
        );
        // Upper-case hex is still the same bytes.
        let upper = format!("sha256={}", RFC4231_HEX.to_uppercase());
        assert_eq!(
            verify_ashby(RFC4231_KEY, Some(&upper), RFC4231_DATA),
            Ok(())
        );
    }

    #[test]
    fn bad_signatures_are_rejected_for_the_right_reason() {
        let good = hex::encode(mac(SECRET, BODY).finalize().into_bytes());
        let ashby = format!("sha256={good}");
        let greenhouse = format!("sha256 {good}");
        assert_eq!(verify_ashby(SECRET, Some(&ashby), BODY), Ok(()));
        assert_eq!(verify_greenhouse(SECRET, Some(&greenhouse), BODY), Ok(()));

        assert_eq!(verify_ashby(SECRET, None, BODY), Err(Rejection::Unsigned));
        assert_eq!(
            verify_greenhouse(SECRET, None, BODY),
            Err(Rejection::Unsigned)
        );
        // Each ATS's form only: the other's separator is malformed.
        assert_eq!(
            verify_ashby(SECRET, Some(&greenhouse), BODY),
            Err(Rejection::Malformed)
        );
        assert_eq!(
            verify_greenhouse(SECRET, Some(&ashby), BODY),
            Err(Rejection::Malformed)
        );
        assert_eq!(
            verify_ashby(SECRET, Some("sha256=not-hex"), BODY),
            Err(Rejection::Malformed)
        );
        // Tampered body (a re-serialised `<` instead of Greenhouse's `\u003c`), other secret.
        let reserialised = br#"{"action":"ping","data":{"text":"<hello>"}}"#;
        assert_eq!(
            verify_greenhouse(SECRET, Some(&greenhouse), reserialised),
            Err(Rejection::BadSignature)
        );
        assert_eq!(
            verify_ashby("another-secret", Some(&ashby), BODY),
            Err(Rejection::BadSignature)
        );
        // A truncated signature is a mismatch, not a prefix match.
        let short = format!("sha256={}", &good[..32]);
        assert_eq!(
            verify_ashby(SECRET, Some(&short), BODY),
            Err(Rejection::BadSignature)
        );
    }
}
