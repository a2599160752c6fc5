//! TEMPORARY stand-in until the rubric branch lands (same API).
use serde::Deserialize;

pub const DEFAULT_RUBRIC_ID: &str = "senior-backend";

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Rubric {
    pub id: String,
    pub role: String,
    pub summary: String,
    #[serde(skip)]
    pub feedback_deadline: Option<std::time::Duration>,
    pub stages: Vec<StageRubric>,
}
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct StageRubric {
    pub key: String,
    pub name: String,
    pub minutes: u32,
    pub max_minutes: Option<u32>,
    pub question: String,
    pub format: String,
    pub criteria: Vec<Criterion>,
    pub red_flags: Vec<String>,
}
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Criterion {
    pub key: String,
    pub name: String,
    pub listen_for: String,
    pub strong: String,
    pub well_prepared: String,
}
impl StageRubric {
    pub fn duration_label(&self) -> String {
        match self.max_minutes {
            Some(max) => format!("{}–{} min", self.minutes, max),
            None => format!("{} min", self.minutes),
        }
    }
    pub fn planned_minutes(&self) -> u32 {
        self.max_minutes.unwrap_or(self.minutes)
    }
}
impl Rubric {
    pub fn stage(&self, key: &str) -> Option<&StageRubric> {
        self.stages.iter().find(|s| s.key == key)
    }
}
#[derive(Debug, Clone)]
pub struct RubricSet {
    rubrics: Vec<Rubric>,
}
impl RubricSet {
    pub fn builtin() -> RubricSet {
        let mut stages = Vec::new();
        for (key, name, minutes) in [
            ("technical-screen", "Technical screen", 30),
            ("system-design", "System design", 60),
            ("coding", "Coding", 60),
            ("values", "Values and collaboration", 45),
        ] {
            stages.push(StageRubric {
                key: key.into(),
                name: name.into(),
                minutes,
                max_minutes: None,
                question: format!("{name} question?"),
                format: "Format.".into(),
                criteria: (1..=3)
                    .map(|i| Criterion {
                        key: format!("c{i}"),
                        name: format!("Criterion {i}"),
                        listen_for: "listen".into(),
                        strong: "strong".into(),
                        well_prepared: "prepared".into(),
                    })
                    .collect(),
                red_flags: vec!["A red flag".into()],
            });
        }
        RubricSet {
            rubrics: vec![Rubric {
                id: DEFAULT_RUBRIC_ID.into(),
                role: "Senior Backend Engineer".into(),
                summary: "Linked stages.".into(),
                feedback_deadline: Some(std::time::Duration::from_secs(86400)),
                stages,
            }],
        }
    }
    pub fn load(_extra: Option<&std::path::Path>) -> Result<RubricSet, String> {
        Ok(Self::builtin())
    }
    pub fn get(&self, id: &str) -> Option<&Rubric> {
        self.rubrics.iter().find(|r| r.id == id)
    }
    pub fn default_rubric(&self) -> &Rubric {
        &self.rubrics[0]
    }
    pub fn all(&self) -> &[Rubric] {
        &self.rubrics
    }
}
