//! Loopbot: a self-hosted Slack bot that runs structured interview loops.

pub mod arenas;
pub mod ats;
pub mod cli;
pub use loopbot_clock as clock;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod listener;
pub mod metrics;
pub mod routes;
pub mod secret;
pub mod services;
pub mod settings;
pub mod slack;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod worker_id;

/// rustls needs one process-wide crypto provider; reqwest is built without one (see
/// Cargo.toml). Safe to call more than once.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
