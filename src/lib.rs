//! Loopbot: a self-hosted Slack bot that runs structured interview loops.

pub mod clock;
pub mod domain;
