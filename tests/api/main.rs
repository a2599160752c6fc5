//! Integration tests: the real app on port 0 with its own SQLite file, Slack played by the
//! stateful simulator, every request signed as Slack signs it.

mod ats;
mod briefs;
mod buttons;
mod cli;
mod commands;
mod commits;
mod contract;
mod crash;
mod debrief;
mod delivery;
mod drafts;
mod faults;
mod health;
mod helpers;
mod journey;
mod lifecycle;
mod listener;
mod loop_locks;
mod manifest;
mod migrate;
mod operations;
mod operator;
mod outbound;
mod packaging;
mod people;
mod purge_slack;
mod reminder_cadence;
mod reminders;
mod replicas;
mod scorecards;
mod signature;
mod slack_wire;
mod socket;
mod start_loop;
mod tz;
