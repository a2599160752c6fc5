//! Pure rules: no I/O, no clock reads.

pub mod channel_name;
pub mod command;
pub mod interview_loop;
pub mod rubric;
pub mod start_form;
