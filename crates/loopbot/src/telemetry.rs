//! Logging to stderr (stdout is for what commands print: the demo, exports). `RUST_LOG`
//! filters; `LOOPBOT_LOG_FORMAT` picks readable text or one JSON object per line (with the
//! fields of the spans a line was logged in: a request's route, a job's id, kind and loop).
//! Secrets never reach the log because settings hold them in a type whose Debug output is
//! redacted.

use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;

/// `default` applies when `RUST_LOG` is not set.
pub fn init(default: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}
