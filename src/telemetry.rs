//! Logging to stderr (stdout is for what commands print: the demo, exports). `RUST_LOG`
//! filters. Secrets never reach the log because settings hold them in a type whose Debug
//! output is redacted.

use tracing_subscriber::EnvFilter;

/// `default` applies when `RUST_LOG` is not set.
pub fn init(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .try_init();
}
