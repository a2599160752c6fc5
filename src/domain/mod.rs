//! Pure domain types: rubrics, and (later) loops and scorecards.

pub mod rubric;
