//! How stored values read in the export: times as RFC 3339, ratings as JSON.

use serde_json::Value;

use crate::clock::UnixMillis;

/// RFC 3339, UTC (`2026-11-23T09:30:00Z`).
pub fn rfc3339(ms: UnixMillis) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_string(),
        Err(_) => ms.to_string(),
    }
}

pub(super) fn time(ms: Option<UnixMillis>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(rfc3339(ms)))
}

/// A stored JSON column: the ratings (an object of criterion → score), the criteria not
/// assessed or the red flags ticked (arrays); the raw text if it is not JSON.
pub(super) fn ratings(stored: &str) -> Value {
    serde_json::from_str(stored).unwrap_or_else(|_| Value::String(stored.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_425_000_000), "2026-11-23T09:10:00Z");
    }
}
