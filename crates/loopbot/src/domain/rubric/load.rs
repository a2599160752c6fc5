//! The set of rubrics the bot knows: the built-in one plus operator files from a directory.

use std::path::Path;

use super::{Rubric, RubricError};

/// The id of the rubric used when a loop does not name one.
pub const DEFAULT_RUBRIC_ID: &str = "senior-backend";

/// Where the built-in rubric comes from, used as its source name in errors.
pub(super) const BUILTIN_SOURCE: &str = "rubrics/senior-backend.toml";
const BUILTIN_TEXT: &str = include_str!("../../../../../rubrics/senior-backend.toml");

/// The rubrics known to the bot, in order: built-ins first, then operator files sorted by name.
#[derive(Debug, Clone)]
pub struct RubricSet {
    rubrics: Vec<Rubric>,
    /// Parallel to `rubrics`: where each came from (for duplicate-id errors).
    sources: Vec<String>,
}

impl RubricSet {
    /// Only the rubrics embedded in the binary.
    pub fn builtin() -> RubricSet {
        let rubric = Rubric::from_toml_str(BUILTIN_TEXT, BUILTIN_SOURCE)
            .expect("the built-in rubric is valid (checked by a unit test)");
        RubricSet {
            rubrics: vec![rubric],
            sources: vec![BUILTIN_SOURCE.to_string()],
        }
    }

    /// The built-ins plus every `*.toml` file in `extra_dir` (sorted by file name).
    pub fn load(extra_dir: Option<&Path>) -> Result<RubricSet, RubricError> {
        let mut set = RubricSet::builtin();
        let Some(dir) = extra_dir else {
            return Ok(set);
        };
        let io_err = |path: &Path, error| RubricError::Io {
            path: path.to_path_buf(),
            error,
        };
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
            let path = entry.map_err(|e| io_err(dir, e))?.path();
            if path.extension().is_some_and(|ext| ext == "toml") && !path.is_dir() {
                files.push(path);
            }
        }
        files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
            let source = path.display().to_string();
            let rubric = Rubric::from_toml_str(&text, &source)?;
            set.push(rubric, source)?;
        }
        Ok(set)
    }

    /// Adds one rubric; its id must be new.
    pub fn push(&mut self, rubric: Rubric, source: String) -> Result<(), RubricError> {
        if let Some(i) = self.rubrics.iter().position(|r| r.id == rubric.id) {
            return Err(RubricError::DuplicateId {
                source_name: source,
                id: rubric.id,
                first_source: self.sources[i].clone(),
            });
        }
        self.rubrics.push(rubric);
        self.sources.push(source);
        Ok(())
    }

    pub fn get(&self, id: &str) -> Option<&Rubric> {
        self.rubrics.iter().find(|r| r.id == id)
    }

    /// The `senior-backend` rubric (always present: it is built in and ids cannot repeat).
    pub fn default_rubric(&self) -> &Rubric {
        self.get(DEFAULT_RUBRIC_ID).unwrap_or(&self.rubrics[0])
    }

    pub fn all(&self) -> &[Rubric] {
        &self.rubrics
    }

    /// Where the rubric with this id was loaded from.
    pub fn source_of(&self, id: &str) -> Option<&str> {
        let i = self.rubrics.iter().position(|r| r.id == id)?;
        Some(&self.sources[i])
    }
}
