//! Parsing one rubric text and checking its limits. Every error names the file and the exact
//! field (`stages[1].criteria[0].strong`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Duration;

use super::Rubric;

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
    ///
    /// The serde derives do the reading (unknown fields are rejected); `serde_path_to_error`
    /// supplies the path of a bad field. Texts are trimmed before the limits are checked.
    pub fn from_toml_str(text: &str, source: &str) -> Result<Rubric, RubricError> {
        let document =
            toml::Deserializer::parse(text).map_err(|e| syntax_error(&e, text, source))?;
        let mut rubric: Rubric = serde_path_to_error::deserialize(document)
            .map_err(|e| field_error(&e, text, source))?;
        trim_texts(&mut rubric);
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
}

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

/// A serde error at a path, reworded: a missing or unknown field goes into the path, and
/// types are named as TOML names them ("expected a string, found an integer").
fn field_error(
    e: &serde_path_to_error::Error<toml::de::Error>,
    text: &str,
    source: &str,
) -> RubricError {
    let path = e.path().to_string();
    let path = if path == "." { "" } else { path.as_str() };
    let message = e.inner().message().trim();

    // serde's derive also reads a struct from an array of its fields in order; a stage or
    // criterion written as an array fails there ("stages[0][0]: …" or "invalid length").
    if let Some(i) = path.find("][") {
        return invalid(source, &path[..=i], "expected a table, found an array");
    }
    if message.starts_with("invalid length ") && message.contains(", expected struct ") {
        return invalid(source, path, "expected a table, found an array");
    }
    // "missing field `question`": the path is the table's; add the field.
    if let Some(name) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        let field = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        return invalid(source, &field, "missing field");
    }
    // "unknown field `rol`, expected one of `id`, `role`, …": the path ends in the key already.
    if let Some((name, expected)) = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split_once("`, "))
    {
        // A date-time reaches a struct as a map with this one private key.
        if name == "$__toml_private_datetime" {
            let table = path.rsplit_once('.').map_or("", |(table, _)| table);
            return invalid(source, table, "expected a table, found a date-time");
        }
        let expected =
            expected
                .replace('`', "")
                .replacen("expected one of ", "expected one of: ", 1);
        return invalid(source, path, format!("unknown field, {expected}"));
    }
    // "invalid type: integer `7`, expected a string"
    if let Some((found, expected)) = message
        .strip_prefix("invalid type: ")
        .and_then(|m| m.rsplit_once(", expected "))
    {
        let expected = match expected {
            "u32" => "an integer",
            "a sequence" if path.ends_with("red_flags") => "an array of strings",
            "a sequence" => "an array of tables",
            other if other.starts_with("struct ") => "a table",
            other => other,
        };
        // serde sees a TOML date-time as a map; its text starts with a digit, a table's does not.
        let value = e.inner().span().and_then(|s| text.get(s)).unwrap_or("");
        let found = if found == "map" && value.starts_with(|c: char| c.is_ascii_digit()) {
            "a date-time"
        } else {
            toml_type(found)
        };
        return invalid(source, path, format!("expected {expected}, found {found}"));
    }
    // "invalid value: integer `-30`, expected u32" (the only integers are minutes)
    if let Some(n) = message
        .strip_prefix("invalid value: integer `")
        .and_then(|m| m.strip_suffix("`, expected u32"))
    {
        return invalid(
            source,
            path,
            format!("must be a positive number of minutes, found {n}"),
        );
    }
    invalid(source, path, message)
}

/// The TOML name of a value as serde describes it ("integer" and the value, "sequence", "map").
fn toml_type(found: &str) -> &str {
    const NAMES: [(&str, &str); 6] = [
        ("string", "a string"),
        ("integer", "an integer"),
        ("floating point", "a float"),
        ("boolean", "a boolean"),
        ("sequence", "an array"),
        ("map", "a table"),
    ];
    NAMES
        .iter()
        .find(|(serde, _)| found.starts_with(serde))
        .map_or(found, |(_, toml)| toml)
}

/// Trims every text, as a rubric author expects (`"  Coding "` is `"Coding"`).
fn trim_texts(rubric: &mut Rubric) {
    fn trim(s: &mut String) {
        if s.trim().len() != s.len() {
            *s = s.trim().to_string();
        }
    }
    // Destructured so that a new text field cannot be forgotten here.
    let Rubric {
        id,
        role,
        summary,
        feedback_deadline: _,
        stages,
    } = rubric;
    [id, role, summary].into_iter().for_each(trim);
    for stage in stages {
        let super::StageRubric {
            key,
            name,
            minutes: _,
            max_minutes: _,
            question,
            format,
            criteria,
            red_flags,
        } = stage;
        [key, name, question, format].into_iter().for_each(trim);
        red_flags.iter_mut().for_each(trim);
        for criterion in criteria {
            let super::Criterion {
                key,
                name,
                listen_for,
                strong,
                well_prepared,
            } = criterion;
            [key, name, listen_for, strong, well_prepared]
                .into_iter()
                .for_each(trim);
        }
    }
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
