//! Pure rules: no I/O, no clock reads.

pub mod access;
pub mod ats_link;
pub mod ats_mapping;
pub mod ats_outcome;
pub mod ats_writeback;
pub mod button;
pub mod channel_name;
pub mod chase;
pub mod command;
pub mod debrief;
pub mod form_field;
pub mod interview_loop;
pub mod people;
pub mod progress;
pub mod rubric;
pub mod schedule;
pub mod scorecard;
pub mod start_form;
