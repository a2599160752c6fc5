//! What `/metrics` shows, kept in a `prometheus-client` registry and rendered in the
//! Prometheus text format (0.0.4). Every metric is declared once, in [`DECLARED`], with its
//! type and help; code adds to it by name with [`Metrics::inc`], [`Metrics::set`] and
//! [`Metrics::observe`]. Label values are escaped by the encoder.

use std::collections::BTreeMap;
use std::sync::Mutex;

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = prometheus_text::CONTENT_TYPE;

#[derive(Debug, Clone, Copy)]
enum Kind {
    Counter,
    Gauge,
    /// Seconds, in the buckets this makes.
    Histogram(fn() -> Histogram),
}

/// Acknowledgements: Slack wants them within 3 s; the target is a few milliseconds.
fn ack_buckets() -> Histogram {
    Histogram::new([
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ])
}

/// Slack Web API calls: tens of milliseconds normally, up to the 10-second timeout.
fn slack_buckets() -> Histogram {
    Histogram::new([0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0])
}

/// Every metric: name (counters with their `_total`), type, help.
const DECLARED: &[(&str, Kind, &str)] = &[
    (
        "loopbot_http_requests_total",
        Kind::Counter,
        "Requests received, by route.",
    ),
    (
        "loopbot_ats_webhooks_total",
        Kind::Counter,
        "ATS webhooks recorded, by ATS and outcome (accepted, repeat).",
    ),
    (
        "loopbot_ats_webhooks_rejected_total",
        Kind::Counter,
        "ATS webhooks refused before anything in them was read, by ATS and reason.",
    ),
    (
        "loopbot_slack_requests_rejected_total",
        Kind::Counter,
        "Slack requests refused before any effect, by reason.",
    ),
    (
        "loopbot_jobs_completed_total",
        Kind::Counter,
        "Outbound jobs finished, by kind.",
    ),
    (
        "loopbot_jobs_retried_total",
        Kind::Counter,
        "Outbound job runs that failed and were rescheduled, by kind.",
    ),
    (
        "loopbot_jobs_rate_limited_total",
        Kind::Counter,
        "Outbound job runs Slack answered with 429, put back uncounted until Retry-After, by kind.",
    ),
    (
        "loopbot_jobs_claimed_total",
        Kind::Counter,
        "Outbound jobs claimed to run, by kind (compare with Slack calls made: each claim \
         should lead to a call).",
    ),
    (
        "loopbot_jobs_paced_total",
        Kind::Counter,
        "Outbound job runs held back by Loopbot's own pacing to Slack's rate tiers, by kind.",
    ),
    (
        "loopbot_jobs_failed_total",
        Kind::Counter,
        "Outbound jobs given up on, by kind (the reason is in the log and the jobs table).",
    ),
    (
        "loopbot_loops_started_total",
        Kind::Counter,
        "Interview loops stored.",
    ),
    (
        "loopbot_loops_purged_total",
        Kind::Counter,
        "Loops whose candidate data `loopbot serve` purged, by what (retention: LOOPBOT_RETAIN).",
    ),
    (
        "loopbot_slack_messages_deleted_total",
        Kind::Counter,
        "Loopbot's own Slack messages deleted by a purge's Slack clean-up, by where (channel, thread, dm).",
    ),
    (
        "loopbot_socket_envelopes_total",
        Kind::Counter,
        "Socket Mode envelopes received, by type (slash_commands, interactive, events_api).",
    ),
    (
        "loopbot_socket_duplicates_total",
        Kind::Counter,
        "Socket Mode redeliveries acknowledged again without a second effect, by type.",
    ),
    (
        "loopbot_socket_reconnects_total",
        Kind::Counter,
        "Socket Mode connections opened after the first, by reason (refresh_requested, warning, dropped).",
    ),
    (
        "loopbot_http_connections_dropped_total",
        Kind::Counter,
        "HTTP connections Loopbot closed on a slow or stalled client, by listener and reason (header_timeout, body_timeout, shed: closed at LOOPBOT_MAX_CONNECTIONS to make room).",
    ),
    (
        "loopbot_slack_errors_total",
        Kind::Counter,
        "Slack Web API calls that failed, by method and error (Slack's error code, ratelimited, timeout, unreachable or http_<status>).",
    ),
    (
        "loopbot_ack_duration_seconds",
        Kind::Histogram(ack_buckets),
        "Time from a request's arrival to its answer (for Slack: the acknowledgement), by route (a path, or socket:<type> for a Socket Mode envelope).",
    ),
    (
        "loopbot_slack_call_duration_seconds",
        Kind::Histogram(slack_buckets),
        "Time a Slack Web API call took, by method.",
    ),
    (
        "loopbot_jobs",
        Kind::Gauge,
        "Outbound jobs in the database, by state.",
    ),
    (
        "loopbot_oldest_due_job_age_seconds",
        Kind::Gauge,
        "How long the oldest queued job has been due (0 when none is): how far outbound work lags.",
    ),
    (
        "loopbot_http_connections",
        Kind::Gauge,
        "HTTP connections open, by listener (main, metrics).",
    ),
    (
        "loopbot_outbound_paused",
        Kind::Gauge,
        "1 while outbound Slack work is paused (app uninstalled or token revoked).",
    ),
    (
        "loopbot_slack_token_ok",
        Kind::Gauge,
        "1 once Slack has accepted the bot token (auth.test), 0 while it is unchecked.",
    ),
    (
        "loopbot_socket_connected",
        Kind::Gauge,
        "Socket Mode connections open and greeted by Slack (0 when none: nothing reaches Loopbot).",
    ),
    (
        "loopbot_build_info",
        Kind::Gauge,
        "Always 1; the labels tell the version that runs.",
    ),
];

/// A metric's labels, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// Adds `key="value"`.
    pub fn and(mut self, key: &str, value: &str) -> Labels {
        self.0.push((key.to_string(), value.to_string()));
        self
    }

    /// `key="value",…` as the text format shows them (for tests and lookups).
    fn text(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| {
                let v = v
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                format!("{k}=\"{v}\"")
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// No labels: `""`.
impl From<&str> for Labels {
    fn from(text: &str) -> Labels {
        debug_assert!(text.is_empty(), "labels are built with `label`");
        Labels::default()
    }
}

/// One label: `key="value"`.
pub fn label(key: &str, value: &str) -> Labels {
    Labels::default().and(key, value)
}

type Set = Vec<(String, String)>;
type Histograms = Family<Set, Histogram, fn() -> Histogram>;

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    counters: BTreeMap<&'static str, Family<Set, Counter>>,
    gauges: BTreeMap<&'static str, Family<Set, Gauge>>,
    histograms: BTreeMap<&'static str, Histograms>,
    /// Each counter child used so far, by name and label text (for [`Metrics::get`]).
    seen: Mutex<BTreeMap<(&'static str, String), Counter>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        let mut registry = Registry::default();
        let mut counters = BTreeMap::new();
        let mut gauges = BTreeMap::new();
        let mut histograms = BTreeMap::new();
        for &(name, kind, help) in DECLARED {
            let help = help.trim_end_matches('.');
            match kind {
                Kind::Counter => {
                    let family = Family::<Set, Counter>::default();
                    // The encoder adds the `_total`.
                    let base = name.strip_suffix("_total").unwrap_or(name);
                    registry.register(base, help, family.clone());
                    counters.insert(name, family);
                }
                Kind::Gauge => {
                    let family = Family::<Set, Gauge>::default();
                    registry.register(name, help, family.clone());
                    gauges.insert(name, family);
                }
                Kind::Histogram(make) => {
                    let family: Histograms = Family::new_with_constructor(make);
                    registry.register(name, help, family.clone());
                    histograms.insert(name, family);
                }
            }
        }
        let metrics = Metrics {
            registry,
            counters,
            gauges,
            histograms,
            seen: Mutex::default(),
        };
        // Shown from the start: a loop count of 0 is an answer.
        metrics.counter("loopbot_loops_started_total", Labels::default());
        metrics.set(
            "loopbot_build_info",
            label("version", env!("CARGO_PKG_VERSION")),
            1,
        );
        metrics
    }
}

impl Metrics {
    fn counter(&self, name: &'static str, labels: Labels) -> Option<Counter> {
        let family = self.counters.get(name)?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let key = (name, labels.text());
        if let Some(counter) = seen.get(&key) {
            return Some(counter.clone());
        }
        let counter = family.get_or_create_owned(&labels.0);
        seen.insert(key, counter.clone());
        Some(counter)
    }

    /// Adds one to the counter `name{labels}`.
    pub fn inc(&self, name: &'static str, labels: impl Into<Labels>) {
        match self.counter(name, labels.into()) {
            Some(counter) => {
                counter.inc();
            }
            None => debug_assert!(false, "undeclared counter {name}"),
        }
    }

    /// Sets the gauge `name{labels}`.
    pub fn set(&self, name: &'static str, labels: impl Into<Labels>, value: i64) {
        match self.gauges.get(name) {
            Some(family) => {
                family.get_or_create(&labels.into().0).set(value);
            }
            None => debug_assert!(false, "undeclared gauge {name}"),
        }
    }

    /// Records `seconds` in the histogram `name{labels}`.
    pub fn observe(&self, name: &'static str, labels: impl Into<Labels>, seconds: f64) {
        match self.histograms.get(name) {
            Some(family) => family.get_or_create(&labels.into().0).observe(seconds),
            None => debug_assert!(false, "undeclared histogram {name}"),
        }
    }

    /// The gauge `name{label}` (`label` as the text format shows it), once set.
    pub fn gauge(&self, name: &'static str, label: &str) -> Option<i64> {
        let family = self.gauges.get(name)?;
        let labels = parse_labels(label)?;
        family.get(&labels).map(|g| g.get())
    }

    /// The sum of the counter `name` over all its labels.
    pub fn total(&self, name: &'static str) -> u64 {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.iter()
            .filter(|((n, _), _)| *n == name)
            .map(|(_, c)| c.get())
            .sum()
    }

    /// The counter `name{label}` (`label` as the text format shows it, `""` for none).
    pub fn get(&self, name: &'static str, label: &str) -> u64 {
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&(name, label.to_string()))
            .map(Counter::get)
            .unwrap_or(0)
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "could not render the metrics");
        }
        out
    }
}

/// `key="value",…` back into labels (simple values: no escaped quotes or commas).
fn parse_labels(text: &str) -> Option<Set> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',')
        .map(|pair| {
            let (k, v) = pair.split_once('=')?;
            Some((
                k.to_string(),
                v.strip_prefix('"')?.strip_suffix('"')?.to_string(),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_render_in_prometheus_text_format_with_their_types() {
        let m = Metrics::default();
        m.inc("loopbot_jobs_failed_total", label("kind", "provision_loop"));
        m.inc("loopbot_jobs_failed_total", label("kind", "provision_loop"));
        m.set("loopbot_jobs", label("state", "queued"), 3);
        m.observe(
            "loopbot_slack_call_duration_seconds",
            label("method", "chat.postMessage"),
            0.03,
        );
        m.inc(
            "loopbot_slack_errors_total",
            label("method", "chat.postMessage").and("error", "channel_not_found"),
        );
        let text = m.render();
        assert!(text.contains("# TYPE loopbot_jobs_failed_total counter"));
        assert!(text.contains("loopbot_jobs_failed_total{kind=\"provision_loop\"} 2"));
        assert!(text.contains("loopbot_loops_started_total 0"));
        assert!(text.contains("# TYPE loopbot_jobs gauge\n"));
        assert!(text.contains("loopbot_jobs{state=\"queued\"} 3"));
        assert!(text.contains("# TYPE loopbot_slack_call_duration_seconds histogram"));
        assert!(text.contains(
            "loopbot_slack_call_duration_seconds_bucket{method=\"chat.postMessage\",le=\"0.05\"} 1"
        ));
        assert!(
            text.contains(
                "loopbot_slack_call_duration_seconds_count{method=\"chat.postMessage\"} 1"
            )
        );
        assert!(text.contains(
            "loopbot_slack_errors_total{method=\"chat.postMessage\",error=\"channel_not_found\"} 1"
        ));
        assert!(text.contains(&format!(
            "loopbot_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        )));
        assert_eq!(
            m.get("loopbot_jobs_failed_total", "kind=\"provision_loop\""),
            2
        );
        assert_eq!(m.total("loopbot_jobs_failed_total"), 2);
        assert_eq!(m.gauge("loopbot_socket_connected", ""), None);
        m.set("loopbot_socket_connected", "", 1);
        assert_eq!(m.gauge("loopbot_socket_connected", ""), Some(1));
        assert!(m.render().contains("\nloopbot_socket_connected 1\n"));
    }

    #[test]
    fn label_values_are_escaped() {
        let m = Metrics::default();
        m.inc("loopbot_http_requests_total", label("route", "a\"b\\c\nd"));
        assert!(
            m.render()
                .contains(r#"loopbot_http_requests_total{route="a\"b\\c\nd"} 1"#),
            "{}",
            m.render()
        );
    }
}
