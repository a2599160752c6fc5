//! Use cases: the only place that decides things. Shared by the HTTP routes and the worker.

pub mod commands;
pub mod decide;
pub mod events;
pub mod home;
pub mod interactions;
pub mod panel;
pub mod provision;
pub mod refresh;
pub mod reminders;
pub mod scorecards;
pub mod skips;
pub mod start_loop;

/// A problem a user can act on, worded for them; internal errors never reach Slack verbatim.
pub const SOMETHING_WENT_WRONG: &str = "Something went wrong on Loopbot's side and nothing was changed. Please try again in a minute; if it keeps happening, tell your Loopbot admin.";
