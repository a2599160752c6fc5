//! The Slack boundary: request verification, payload parsing, the Web API client, every id
//! Loopbot gives Slack (`ids`), the replies to Slack's requests (`replies`), and rendering of
//! messages (`messages/`) and modals (`views/`). Nothing outside this module knows Slack's wire
//! formats.

pub mod answers;
mod calls;
pub mod client;
pub mod error;
pub mod events;
mod form;
pub mod ids;
pub mod messages;
pub mod mrkdwn;
pub mod payloads;
pub mod replies;
pub mod socket;
pub mod verify;
pub mod views;
pub mod wire;

pub use client::{Reservation, SlackApi, SlackError};
pub use messages::Message;
pub use replies::{CommandReply, InteractionReply, Modal, View};

#[cfg(test)]
mod rating_words_tests;
