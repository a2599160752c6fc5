//! Rubrics are data: one TOML file per role. The default rubric (`senior-backend`) is embedded
//! in the binary; operators add their own files in a folder (`LOOPBOT_RUBRICS_DIR`).
//!
//! A rubric has ordered stages; each stage has a name, a duration, its one question, how to run
//! it, 3–5 criteria (what to listen for, what a strong answer shows, what a merely well-prepared
//! answer looks like) and red flags. Everything here is pure except [`RubricSet::load`], which
//! reads a directory.
//!
//! - `model`: the types ([`Rubric`], [`StageRubric`], [`Criterion`]) and their helpers.
//! - `validate`: [`Rubric::from_toml_str`] and [`Rubric::validate`]. The serde derives read the
//!   TOML (rejecting unknown fields) through `serde_path_to_error`, so every error names the
//!   file and the exact field (`stages[1].criteria[0].strong`); then the limits are checked.
//! - `load`: [`RubricSet`], the built-in rubric plus the operator's files.

mod load;
mod model;
mod validate;

pub use load::{DEFAULT_RUBRIC_ID, RubricSet};
pub use model::{Criterion, Rubric, StageRubric};
pub use validate::RubricError;

#[cfg(test)]
mod tests;
