//! Rubrics are data: one TOML file per role. The default rubric (`senior-backend`) is embedded
//! in the binary; operators add their own files in a folder (`LOOPBOT_RUBRICS_DIR`).
//!
//! A rubric has ordered stages; each stage has a name, a duration, its one question, how to run
//! it, 3–5 criteria (what to listen for, what a strong answer shows, what a merely well-prepared
//! answer looks like) and red flags. Everything here is pure except [`RubricSet::load`], which
//! reads a directory.
//!
//! Parsing is done by hand over a [`toml::Table`] so that every error names the file and the
//! exact field (`stages[1].criteria[0].strong`). The serde derives on the types are for other
//! uses (export, JSON); they reject unknown fields too.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::{Table, Value};

/// The id of the rubric used when a loop does not name one.
pub const DEFAULT_RUBRIC_ID: &str = "senior-backend";

/// Where the built-in rubric comes from, used as its source name in errors.
const BUILTIN_SOURCE: &str = "rubrics/senior-backend.toml";
const BUILTIN_TEXT: &str = include_str!("../../rubrics/senior-backend.toml");

// Limits. Slack: modal title ≤ 24, option text ≤ 75, section text ≤ 3000, input label ≤ 2000.
const ID_MAX: usize = 40;
const KEY_MAX: usize = 40;
const ROLE_MAX: usize = 60;
const SUMMARY_MAX: usize = 1000;
const STAGES_MIN: usize = 1;
const STAGES_MAX: usize = 10;
const STAGE_NAME_MAX: usize = 24;
const MINUTES_MIN: u32 = 5;
const MINUTES_MAX: u32 = 480;
const QUESTION_MAX: usize = 300;
const FORMAT_MAX: usize = 1000;
const CRITERIA_MIN: usize = 3;
const CRITERIA_MAX: usize = 5;
const CRITERION_NAME_MAX: usize = 60;
const CRITERION_TEXT_MAX: usize = 1000;
const RED_FLAGS_MAX: usize = 8;
const RED_FLAG_MAX: usize = 300;
const DEADLINE_MIN: Duration = Duration::from_secs(60 * 60);
const DEADLINE_MAX: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// One role's interview loop.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Lowercase `[a-z0-9-]`, at most 40 characters.
    pub id: String,
    /// The role being hired, e.g. "Senior Backend Engineer".
    pub role: String,
    /// Why the stages belong together (may be empty).
    #[serde(default)]
    pub summary: String,
    /// Feedback is due this long after an interview ends; `None` means "use the bot's setting".
    #[serde(
        default,
        with = "humantime_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub feedback_deadline: Option<Duration>,
    /// Stages in the order they are run.
    pub stages: Vec<StageRubric>,
}

/// One stage of the loop and how to assess it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StageRubric {
    /// Kebab-case, unique within the rubric (`system-design`).
    pub key: String,
    /// Display name, at most 24 characters (it becomes a modal title).
    pub name: String,
    /// Planned length in minutes.
    pub minutes: u32,
    /// Upper bound when the stage has a range (coding: 60–90).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_minutes: Option<u32>,
    /// The one question this stage answers.
    pub question: String,
    /// How to run the stage (may be empty).
    #[serde(default)]
    pub format: String,
    /// What each interviewer rates, 3–5 criteria.
    pub criteria: Vec<Criterion>,
    /// Warning signs, 0–8.
    #[serde(default)]
    pub red_flags: Vec<String>,
}

/// One rated criterion of a stage.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Kebab-case, unique within its stage.
    pub key: String,
    /// Short label, at most 60 characters (input label and option text).
    pub name: String,
    /// What to listen for.
    pub listen_for: String,
    /// What a genuinely strong answer shows.
    pub strong: String,
    /// What a merely well-prepared (rehearsed) answer looks like.
    pub well_prepared: String,
}

/// Why a rubric could not be loaded. Every variant names its file.
#[derive(Debug, thiserror::Error)]
pub enum RubricError {
    /// The file is not valid TOML.
    #[error("{source_name}: line {line}, column {column}: TOML syntax error: {message}")]
    Syntax {
        source_name: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// A field is missing, has the wrong type, is unknown, or breaks a limit.
    #[error("{source_name}: {field}: {message}")]
    Invalid {
        source_name: String,
        /// Path of the field, e.g. `stages[2].criteria[0].name`.
        field: String,
        message: String,
    },
    /// A directory or file could not be read.
    #[error("{}: cannot read: {error}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        error: std::io::Error,
    },
    /// Two rubrics share an id.
    #[error("{source_name}: id: rubric id \"{id}\" is already defined by {first_source}")]
    DuplicateId {
        source_name: String,
        id: String,
        first_source: String,
    },
}

impl RubricError {
    /// The field path for [`RubricError::Invalid`] (and `id` for duplicates).
    pub fn field(&self) -> Option<&str> {
        match self {
            RubricError::Invalid { field, .. } => Some(field),
            RubricError::DuplicateId { .. } => Some("id"),
            _ => None,
        }
    }
}

impl Rubric {
    /// Parses and validates one rubric. `source` names the file in error messages.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Rubric, RubricError> {
        let table: Table = toml::from_str(text).map_err(|e| syntax_error(&e, text, source))?;
        let rubric = parse_rubric(&table, source)?;
        rubric.validate(source)?;
        Ok(rubric)
    }

    /// Checks every limit; used by [`Rubric::from_toml_str`], and callable on a rubric built or
    /// deserialized some other way.
    pub fn validate(&self, source: &str) -> Result<(), RubricError> {
        let err = |field: &str, message: String| invalid(source, field, message);

        if self.id.is_empty() {
            return Err(err("id", "must not be empty".into()));
        }
        if !self
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(err(
                "id",
                format!(
                    "\"{}\" may only contain lowercase letters, digits and '-'",
                    self.id
                ),
            ));
        }
        check_len(source, "id", &self.id, 1, ID_MAX)?;
        check_len(source, "role", &self.role, 1, ROLE_MAX)?;
        check_len(source, "summary", &self.summary, 0, SUMMARY_MAX)?;
        if let Some(d) = self.feedback_deadline
            && !(DEADLINE_MIN..=DEADLINE_MAX).contains(&d)
        {
            return Err(err(
                "feedback_deadline",
                format!(
                    "must be between 1h and 30d, found {}",
                    humantime::format_duration(d)
                ),
            ));
        }
        let n = self.stages.len();
        if !(STAGES_MIN..=STAGES_MAX).contains(&n) {
            return Err(err(
                "stages",
                format!("a rubric needs {STAGES_MIN} to {STAGES_MAX} stages, found {n}"),
            ));
        }
        let mut stage_keys = HashSet::new();
        for (i, stage) in self.stages.iter().enumerate() {
            let p = format!("stages[{i}]");
            check_key(source, &format!("{p}.key"), &stage.key)?;
            if !stage_keys.insert(stage.key.as_str()) {
                return Err(err(
                    &format!("{p}.key"),
                    format!("stage key \"{}\" is used twice", stage.key),
                ));
            }
            check_len(source, &format!("{p}.name"), &stage.name, 1, STAGE_NAME_MAX)?;
            if !(MINUTES_MIN..=MINUTES_MAX).contains(&stage.minutes) {
                return Err(err(
                    &format!("{p}.minutes"),
                    format!(
                        "must be between {MINUTES_MIN} and {MINUTES_MAX}, found {}",
                        stage.minutes
                    ),
                ));
            }
            if let Some(max) = stage.max_minutes
                && !(stage.minutes..=MINUTES_MAX).contains(&max)
            {
                return Err(err(
                    &format!("{p}.max_minutes"),
                    format!(
                        "must be between minutes ({}) and {MINUTES_MAX}, found {max}",
                        stage.minutes
                    ),
                ));
            }
            check_len(
                source,
                &format!("{p}.question"),
                &stage.question,
                1,
                QUESTION_MAX,
            )?;
            check_len(source, &format!("{p}.format"), &stage.format, 0, FORMAT_MAX)?;

            let c = stage.criteria.len();
            if !(CRITERIA_MIN..=CRITERIA_MAX).contains(&c) {
                return Err(err(
                    &format!("{p}.criteria"),
                    format!("a stage needs {CRITERIA_MIN} to {CRITERIA_MAX} criteria, found {c}"),
                ));
            }
            let mut criterion_keys = HashSet::new();
            for (j, criterion) in stage.criteria.iter().enumerate() {
                let q = format!("{p}.criteria[{j}]");
                check_key(source, &format!("{q}.key"), &criterion.key)?;
                if !criterion_keys.insert(criterion.key.as_str()) {
                    return Err(err(
                        &format!("{q}.key"),
                        format!(
                            "criterion key \"{}\" is used twice in this stage",
                            criterion.key
                        ),
                    ));
                }
                check_len(
                    source,
                    &format!("{q}.name"),
                    &criterion.name,
                    1,
                    CRITERION_NAME_MAX,
                )?;
                for (field, text) in [
                    ("listen_for", &criterion.listen_for),
                    ("strong", &criterion.strong),
                    ("well_prepared", &criterion.well_prepared),
                ] {
                    check_len(source, &format!("{q}.{field}"), text, 1, CRITERION_TEXT_MAX)?;
                }
            }

            let r = stage.red_flags.len();
            if r > RED_FLAGS_MAX {
                return Err(err(
                    &format!("{p}.red_flags"),
                    format!("at most {RED_FLAGS_MAX} red flags per stage, found {r}"),
                ));
            }
            for (k, flag) in stage.red_flags.iter().enumerate() {
                check_len(
                    source,
                    &format!("{p}.red_flags[{k}]"),
                    flag,
                    1,
                    RED_FLAG_MAX,
                )?;
            }
        }
        Ok(())
    }

    /// The stage with this key.
    pub fn stage(&self, key: &str) -> Option<&StageRubric> {
        self.stages.iter().find(|s| s.key == key)
    }

    /// The position (0-based, in loop order) of the stage with this key.
    pub fn stage_index(&self, key: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.key == key)
    }
}

impl StageRubric {
    /// "30 min", or "60–90 min" when the stage has a longer upper bound.
    pub fn duration_label(&self) -> String {
        match self.max_minutes {
            Some(max) if max > self.minutes => format!("{}–{} min", self.minutes, max),
            _ => format!("{} min", self.minutes),
        }
    }

    /// How long to assume the interview lasts (the upper bound when there is one): the
    /// interview is over, and feedback starts being due, this many minutes after it starts.
    pub fn planned_minutes(&self) -> u32 {
        self.max_minutes.unwrap_or(self.minutes).max(self.minutes)
    }

    /// The criterion with this key.
    pub fn criterion(&self, key: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.key == key)
    }
}

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

// ---------------------------------------------------------------------------------------------
// Parsing with field paths.

fn invalid(source: &str, field: &str, message: impl Into<String>) -> RubricError {
    RubricError::Invalid {
        source_name: source.to_string(),
        field: field.to_string(),
        message: message.into(),
    }
}

fn syntax_error(e: &toml::de::Error, text: &str, source: &str) -> RubricError {
    let offset = e.span().map(|s| s.start).unwrap_or(0).min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    RubricError::Syntax {
        source_name: source.to_string(),
        line,
        column,
        message: e.message().trim().to_string(),
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn check_len(
    source: &str,
    field: &str,
    text: &str,
    min: usize,
    max: usize,
) -> Result<(), RubricError> {
    let n = text.chars().count();
    if min > 0 && text.trim().is_empty() {
        return Err(invalid(source, field, "must not be empty"));
    }
    if n > max {
        return Err(invalid(
            source,
            field,
            format!("at most {max} characters, found {n}"),
        ));
    }
    Ok(())
}

fn is_kebab(key: &str) -> bool {
    !key.is_empty()
        && key.split('-').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

fn check_key(source: &str, field: &str, key: &str) -> Result<(), RubricError> {
    if !is_kebab(key) {
        return Err(invalid(
            source,
            field,
            format!("\"{key}\" must be kebab-case: lowercase letters and digits joined by '-'"),
        ));
    }
    check_len(source, field, key, 1, KEY_MAX)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// Reads the fields of one TOML table, rejecting unknown keys, with errors that carry the path.
struct Fields<'a> {
    table: &'a Table,
    prefix: String,
    source: &'a str,
}

impl<'a> Fields<'a> {
    fn new(
        table: &'a Table,
        prefix: String,
        source: &'a str,
        known: &[&str],
    ) -> Result<Self, RubricError> {
        let fields = Fields {
            table,
            prefix,
            source,
        };
        if let Some(unknown) = table.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(invalid(
                source,
                &fields.path(unknown),
                format!("unknown field, expected one of: {}", known.join(", ")),
            ));
        }
        Ok(fields)
    }

    fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn wrong_type(&self, key: &str, expected: &str, found: &Value) -> RubricError {
        invalid(
            self.source,
            &self.path(key),
            format!("expected {expected}, found {}", type_name(found)),
        )
    }

    fn required(&self, key: &str) -> Result<&'a Value, RubricError> {
        self.table
            .get(key)
            .ok_or_else(|| invalid(self.source, &self.path(key), "missing field"))
    }

    fn string(&self, key: &str) -> Result<String, RubricError> {
        self.as_string(key, self.required(key)?)
    }

    fn opt_string(&self, key: &str) -> Result<Option<String>, RubricError> {
        self.table
            .get(key)
            .map(|v| self.as_string(key, v))
            .transpose()
    }

    fn as_string(&self, key: &str, v: &Value) -> Result<String, RubricError> {
        match v {
            Value::String(s) => Ok(s.trim().to_string()),
            other => Err(self.wrong_type(key, "a string", other)),
        }
    }

    fn u32(&self, key: &str) -> Result<u32, RubricError> {
        self.as_u32(key, self.required(key)?)
    }

    fn opt_u32(&self, key: &str) -> Result<Option<u32>, RubricError> {
        self.table.get(key).map(|v| self.as_u32(key, v)).transpose()
    }

    fn as_u32(&self, key: &str, v: &Value) -> Result<u32, RubricError> {
        match v {
            Value::Integer(i) => u32::try_from(*i).map_err(|_| {
                invalid(
                    self.source,
                    &self.path(key),
                    format!("must be a positive number of minutes, found {i}"),
                )
            }),
            other => Err(self.wrong_type(key, "an integer", other)),
        }
    }

    fn string_list(&self, key: &str) -> Result<Vec<String>, RubricError> {
        let Some(v) = self.table.get(key) else {
            return Ok(Vec::new());
        };
        let Value::Array(items) = v else {
            return Err(self.wrong_type(key, "an array of strings", v));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.trim().to_string()),
                other => Err(invalid(
                    self.source,
                    &format!("{}[{i}]", self.path(key)),
                    format!("expected a string, found {}", type_name(other)),
                )),
            })
            .collect()
    }

    /// An array of tables (`[[stages]]`), each with its own path prefix.
    fn tables(&self, key: &str) -> Result<Vec<(String, &'a Table)>, RubricError> {
        let v = self.required(key)?;
        let Value::Array(items) = v else {
            return Err(self.wrong_type(key, "an array of tables", v));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let path = format!("{}[{i}]", self.path(key));
                match item {
                    Value::Table(t) => Ok((path, t)),
                    other => Err(invalid(
                        self.source,
                        &path,
                        format!("expected a table, found {}", type_name(other)),
                    )),
                }
            })
            .collect()
    }
}

fn parse_rubric(table: &Table, source: &str) -> Result<Rubric, RubricError> {
    let f = Fields::new(
        table,
        String::new(),
        source,
        &["id", "role", "summary", "feedback_deadline", "stages"],
    )?;
    let id = f.string("id")?;
    let role = f.string("role")?;
    let summary = f.opt_string("summary")?.unwrap_or_default();
    let feedback_deadline = match f.opt_string("feedback_deadline")? {
        None => None,
        Some(text) => Some(humantime::parse_duration(&text).map_err(|e| {
            invalid(
                source,
                "feedback_deadline",
                format!("\"{text}\" is not a duration like \"24h\" or \"2d\": {e}"),
            )
        })?),
    };
    let stages = f
        .tables("stages")?
        .into_iter()
        .map(|(path, t)| parse_stage(t, path, source))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Rubric {
        id,
        role,
        summary,
        feedback_deadline,
        stages,
    })
}

fn parse_stage(table: &Table, path: String, source: &str) -> Result<StageRubric, RubricError> {
    let f = Fields::new(
        table,
        path,
        source,
        &[
            "key",
            "name",
            "minutes",
            "max_minutes",
            "question",
            "format",
            "criteria",
            "red_flags",
        ],
    )?;
    let key = f.string("key")?;
    let name = f.string("name")?;
    let minutes = f.u32("minutes")?;
    let max_minutes = f.opt_u32("max_minutes")?;
    let question = f.string("question")?;
    let format = f.opt_string("format")?.unwrap_or_default();
    let red_flags = f.string_list("red_flags")?;
    let criteria = f
        .tables("criteria")?
        .into_iter()
        .map(|(path, t)| parse_criterion(t, path, source))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(StageRubric {
        key,
        name,
        minutes,
        max_minutes,
        question,
        format,
        criteria,
        red_flags,
    })
}

fn parse_criterion(table: &Table, path: String, source: &str) -> Result<Criterion, RubricError> {
    let f = Fields::new(
        table,
        path,
        source,
        &["key", "name", "listen_for", "strong", "well_prepared"],
    )?;
    Ok(Criterion {
        key: f.string("key")?,
        name: f.string("name")?,
        listen_for: f.string("listen_for")?,
        strong: f.string("strong")?,
        well_prepared: f.string("well_prepared")?,
    })
}

/// Serde adapter: `Option<Duration>` as a humantime string ("24h").
mod humantime_opt {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => humantime::parse_duration(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

impl fmt::Display for Rubric {
    /// "Senior Backend Engineer (senior-backend)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.role, self.id)
    }
}

#[cfg(test)]
mod tests;
