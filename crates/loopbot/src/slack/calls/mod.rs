//! The typed Web API calls, one family per file, each a method of [`SlackApi`] over
//! [`SlackApi::call`].

#[cfg(doc)]
use crate::slack::client::SlackApi;

mod chat;
mod conversations;
mod users;
mod views;
