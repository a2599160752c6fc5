//! The `loopbot` subcommands other than `serve`, one file or folder per subcommand:
//! [`demo`], [`export`], [`jobs`] and [`purge`]. The binary (`src/main.rs`) parses the flags
//! and calls their `run`.

pub mod demo;
pub mod export;
pub mod jobs;
pub mod purge;
