//! The Slack boundary: request verification, the Web API client, and rendering of messages and
//! views. Nothing outside this module knows Slack's wire formats.

pub mod actions;
pub mod client;
pub mod events;
pub mod home;
pub mod loop_views;
pub mod messages;
pub mod mrkdwn;
pub mod payloads;
pub mod scorecard_views;
pub mod verify;
pub mod views;

pub use client::{SlackApi, SlackError};
pub use messages::Message;
