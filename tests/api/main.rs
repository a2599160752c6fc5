//! Integration tests: the real app on port 0 with its own SQLite file, Slack played by the
//! stateful simulator, every request signed as Slack signs it.

mod ats;
mod briefs;
mod buttons;
mod commands;
mod contract;
mod debrief;
mod drafts;
mod faults;
mod health;
mod helpers;
mod journey;
mod lifecycle;
mod listener;
mod migrate;
mod operations;
mod outbound;
mod people;
mod purge_slack;
mod reminders;
mod replicas;
mod scorecards;
mod signature;
mod slack_wire;
mod socket;
mod start_loop;
