//! Counters for `/metrics`, rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<(&'static str, String), u64>>,
    /// Gauges set as things change (shown once set), apart from those computed at scrape time.
    gauges: Mutex<BTreeMap<(&'static str, String), i64>>,
}

/// Name, help text of the gauges set with [`Metrics::set`].
const GAUGE_HELP: &[(&str, &str)] = &[(
    "loopbot_socket_connected",
    "Socket Mode connections open and greeted by Slack (0 when none: nothing reaches Loopbot).",
)];

/// Name, help text.
const HELP: &[(&str, &str)] = &[
    (
        "loopbot_http_requests_total",
        "Requests received, by route.",
    ),
    (
        "loopbot_slack_requests_rejected_total",
        "Slack requests refused before any effect, by reason.",
    ),
    (
        "loopbot_jobs_completed_total",
        "Outbound jobs finished, by kind.",
    ),
    (
        "loopbot_jobs_retried_total",
        "Outbound job runs that failed and were rescheduled, by kind.",
    ),
    (
        "loopbot_jobs_rate_limited_total",
        "Outbound job runs Slack answered with 429, put back uncounted until Retry-After, by kind.",
    ),
    (
        "loopbot_jobs_paced_total",
        "Outbound job runs held back by Loopbot's own pacing to Slack's rate tiers, by kind.",
    ),
    (
        "loopbot_jobs_failed_total",
        "Outbound jobs given up on, by kind (the reason is in the log and the jobs table).",
    ),
    ("loopbot_loops_started_total", "Interview loops stored."),
    (
        "loopbot_socket_envelopes_total",
        "Socket Mode envelopes received, by type (slash_commands, interactive, events_api).",
    ),
    (
        "loopbot_socket_duplicates_total",
        "Socket Mode redeliveries acknowledged again without a second effect, by type.",
    ),
    (
        "loopbot_socket_reconnects_total",
        "Socket Mode connections opened after the first, by reason (refresh_requested, warning, dropped).",
    ),
];

impl Metrics {
    /// Adds one to `name{label}`; `label` is `key="value"` or empty.
    pub fn inc(&self, name: &'static str, label: impl Into<String>) {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        *counters.entry((name, label.into())).or_default() += 1;
    }

    /// Sets the gauge `name{label}`.
    pub fn set(&self, name: &'static str, label: impl Into<String>, value: i64) {
        let mut gauges = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        gauges.insert((name, label.into()), value);
    }

    pub fn gauge(&self, name: &'static str, label: &str) -> Option<i64> {
        let gauges = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        gauges.get(&(name, label.to_string())).copied()
    }

    /// The sum of `name` over all its labels.
    pub fn total(&self, name: &'static str) -> u64 {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        counters
            .iter()
            .filter(|((n, _), _)| *n == name)
            .map(|(_, v)| v)
            .sum()
    }

    pub fn get(&self, name: &'static str, label: &str) -> u64 {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        counters
            .get(&(name, label.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// The text exposition; `gauges` are extra lines computed at scrape time.
    pub fn render(&self, gauges: &[Gauge<'_>]) -> String {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        for (name, help) in HELP {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let mut any = false;
            for ((n, label), value) in counters.iter() {
                if n == name {
                    any = true;
                    if label.is_empty() {
                        let _ = writeln!(out, "{name} {value}");
                    } else {
                        let _ = writeln!(out, "{name}{{{label}}} {value}");
                    }
                }
            }
            if !any {
                let _ = writeln!(out, "{name} 0");
            }
        }
        let set = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        for (name, help) in GAUGE_HELP {
            let mut values = set.iter().filter(|((n, _), _)| n == name).peekable();
            if values.peek().is_none() {
                continue;
            }
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for ((_, label), value) in values {
                if label.is_empty() {
                    let _ = writeln!(out, "{name} {value}");
                } else {
                    let _ = writeln!(out, "{name}{{{label}}} {value}");
                }
            }
        }
        for (name, help, values) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (label, value) in values {
                let _ = writeln!(out, "{name}{{{label}}} {value}");
            }
        }
        out
    }
}

/// A gauge computed at scrape time: name, help text, and (label, value) pairs.
pub type Gauge<'a> = (&'a str, &'a str, Vec<(String, i64)>);

/// `key="value"`, with the value escaped for the text format.
pub fn label(key: &str, value: &str) -> String {
    let escaped = value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("{key}=\"{escaped}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_in_prometheus_text_format() {
        let m = Metrics::default();
        m.inc("loopbot_jobs_failed_total", label("kind", "provision_loop"));
        m.inc("loopbot_jobs_failed_total", label("kind", "provision_loop"));
        let text = m.render(&[(
            "loopbot_jobs",
            "Jobs by state.",
            vec![(label("state", "queued"), 3)],
        )]);
        assert!(text.contains("# TYPE loopbot_jobs_failed_total counter"));
        assert!(text.contains("loopbot_jobs_failed_total{kind=\"provision_loop\"} 2"));
        assert!(text.contains("loopbot_loops_started_total 0"));
        assert!(text.contains("loopbot_jobs{state=\"queued\"} 3"));
        assert!(!text.contains("loopbot_socket_connected"), "shown once set");
        m.set("loopbot_socket_connected", "", 1);
        let text = m.render(&[]);
        assert!(
            text.contains("# TYPE loopbot_socket_connected gauge\nloopbot_socket_connected 1\n")
        );
    }
}
