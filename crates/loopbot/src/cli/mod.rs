//! The `loopbot` subcommands other than `serve`, one file or folder per subcommand:
//! [`backup`], [`export`], [`healthcheck`], [`jobs`], [`migrate_to_postgres`] and
//! [`purge`]. The binary (`src/main.rs`) parses the flags and calls their `run`.

pub mod backup;
pub mod export;
pub mod healthcheck;
pub mod jobs;
pub mod migrate_to_postgres;
pub mod purge;

/// A command used wrongly (a bad flag value, a missing choice): `loopbot` exits with 2, as for
/// the errors clap finds itself. Displays as one line naming the flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
