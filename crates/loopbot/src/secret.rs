//! A secret string that never shows in logs: `Debug` prints `[redacted]`, and there is no
//! `Display`. Settings hold the Slack secrets in it; the Slack client reads them.

use std::fmt;

/// A secret string: never printed by `Debug` or `Display`.
/// Shared, not copied: every clone of the app's state (one per request) holds the same text.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(std::sync::Arc<str>);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into().into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}
