//! The rubric types and their pure helpers. Parsing and limits live in `validate`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

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

impl Rubric {
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

impl fmt::Display for Rubric {
    /// "Senior Backend Engineer (senior-backend)".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.role, self.id)
    }
}

/// Serde adapter: `Option<Duration>` as a humantime string ("24h").
mod humantime_opt {
    use std::time::Duration;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&humantime::format_duration(*d).to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let Some(text) = Option::<String>::deserialize(d)? else {
            return Ok(None);
        };
        let text = text.trim();
        humantime::parse_duration(text).map(Some).map_err(|e| {
            D::Error::custom(format!(
                "\"{text}\" is not a duration like \"24h\" or \"2d\": {e}"
            ))
        })
    }
}
