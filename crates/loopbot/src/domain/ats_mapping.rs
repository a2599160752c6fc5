//! The ATS mapping file (`LOOPBOT_ATS_MAPPING`, TOML, kept beside the rubrics): which ATS jobs
//! run on which rubric, which ATS interviews are which rubric stage, who owns a loop started
//! from the ATS, and (Ashby) which feedback-form fields the ratings are written to.
//!
//! Pure: [`AtsMapping::from_toml_str`] parses and checks a text against the rubrics it names;
//! every error names the file and the field (`jobs[0].interviews[1].stage`). An interview the
//! file does not name is never guessed at: the caller reports it to the coordinator, once.
//!
//! ```toml
//! [owners]                       # ATS roles, first found wins (these are the defaults)
//! hiring_manager = ["hiring_manager"]
//! coordinator = ["coordinator", "recruiter"]
//!
//! [[jobs]]
//! ats = "ashby"                  # or "greenhouse"
//! job = "7001"                   # the ATS's job id
//! rubric = "senior-backend"
//!
//! [[jobs.interviews]]
//! id = "int-tech"                # Ashby interviewId, Greenhouse job_interview_id
//! stage = "technical-screen"
//!
//! [jobs.interviews.feedback]     # Ashby only: applicationFeedback.submit
//! form = "form-definition-id"
//! overall = "overall_score"      # Score field for the overall rating (1..4)
//! evidence = "notes"             # RichText field for the written evidence
//! criteria = { trade-offs = "tradeoffs_score" }
//!
//! [[jobs.interviews]]
//! name = "Coding"                # Greenhouse: by the interview's name
//! stage = "coding"
//! ```

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

use super::rubric::RubricSet;

/// Which ATS a value came from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AtsKind {
    Ashby,
    Greenhouse,
}

impl AtsKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AtsKind::Ashby => "ashby",
            AtsKind::Greenhouse => "greenhouse",
        }
    }

    /// The ATS's name as people write it.
    pub fn label(self) -> &'static str {
        match self {
            AtsKind::Ashby => "Ashby",
            AtsKind::Greenhouse => "Greenhouse",
        }
    }

    pub fn parse(text: &str) -> Option<AtsKind> {
        match text {
            "ashby" => Some(AtsKind::Ashby),
            "greenhouse" => Some(AtsKind::Greenhouse),
            _ => None,
        }
    }
}

/// A role an ATS gives a person on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtsRole {
    HiringManager,
    Recruiter,
    Coordinator,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Owners {
    /// Who becomes the loop's hiring manager.
    #[serde(default = "default_hiring_manager")]
    pub hiring_manager: Vec<AtsRole>,
    /// Who becomes the loop's coordinator (and hears about unmapped interviews, people without
    /// a Slack account and refused writes).
    #[serde(default = "default_coordinator")]
    pub coordinator: Vec<AtsRole>,
}

fn default_hiring_manager() -> Vec<AtsRole> {
    vec![AtsRole::HiringManager]
}

fn default_coordinator() -> Vec<AtsRole> {
    vec![AtsRole::Coordinator, AtsRole::Recruiter]
}

impl Default for Owners {
    fn default() -> Self {
        Owners {
            hiring_manager: default_hiring_manager(),
            coordinator: default_coordinator(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackForm {
    /// Ashby's `formDefinitionId`.
    pub form: String,
    /// The Score field (`{score: 1..4}`) the overall rating goes to.
    pub overall: Option<String>,
    /// The RichText field the written evidence goes to.
    pub evidence: Option<String>,
    /// Rubric criterion key → the Score field its rating goes to.
    #[serde(default)]
    pub criteria: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InterviewMapping {
    /// Ashby `interviewId` or Greenhouse `job_interview_id`.
    pub id: Option<String>,
    /// Greenhouse only: the interview's name, when its id is not known.
    pub name: Option<String>,
    /// The rubric stage's key.
    pub stage: String,
    pub feedback: Option<FeedbackForm>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobMapping {
    pub ats: AtsKind,
    pub job: String,
    pub rubric: String,
    #[serde(default)]
    pub interviews: Vec<InterviewMapping>,
}

impl JobMapping {
    /// The mapping for an ATS interview: by id first, then (Greenhouse) by name, ignoring case.
    pub fn interview(&self, key: &str, name: Option<&str>) -> Option<&InterviewMapping> {
        self.interviews
            .iter()
            .find(|i| i.id.as_deref() == Some(key))
            .or_else(|| {
                let name = name?.trim();
                self.interviews.iter().find(|i| {
                    i.name
                        .as_deref()
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
                })
            })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AtsMapping {
    #[serde(default)]
    pub owners: Owners,
    #[serde(default)]
    pub jobs: Vec<JobMapping>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {field}: {message}")]
pub struct MappingError {
    pub source_name: String,
    /// e.g. `jobs[0].interviews[1].stage`.
    pub field: String,
    pub message: String,
}

impl AtsMapping {
    /// Parses and checks a mapping text against the rubrics; `source` names the file in errors.
    pub fn from_toml_str(
        text: &str,
        source: &str,
        rubrics: &RubricSet,
    ) -> Result<AtsMapping, MappingError> {
        let err = |field: String, message: String| MappingError {
            source_name: source.to_string(),
            field,
            message,
        };
        let document =
            toml::Deserializer::parse(text).map_err(|e| err("(file)".into(), e.to_string()))?;
        let mapping: AtsMapping = serde_path_to_error::deserialize(document).map_err(|e| {
            let message = e.inner().message().to_string();
            err(e.path().to_string(), message)
        })?;
        mapping.validate(rubrics).map_err(|(f, m)| err(f, m))?;
        Ok(mapping)
    }

    fn validate(&self, rubrics: &RubricSet) -> Result<(), (String, String)> {
        for (name, roles) in [
            ("owners.hiring_manager", &self.owners.hiring_manager),
            ("owners.coordinator", &self.owners.coordinator),
        ] {
            if roles.is_empty() {
                return Err((name.into(), "name at least one ATS role".into()));
            }
        }
        let mut jobs = HashSet::new();
        for (j, job) in self.jobs.iter().enumerate() {
            let at = |field: &str| format!("jobs[{j}].{field}");
            if job.job.trim().is_empty() {
                return Err((at("job"), "must not be empty".into()));
            }
            if !jobs.insert((job.ats, job.job.as_str())) {
                return Err((
                    at("job"),
                    format!("{} job \"{}\" is mapped twice", job.ats.as_str(), job.job),
                ));
            }
            let Some(rubric) = rubrics.get(&job.rubric) else {
                let known: Vec<&str> = rubrics.all().iter().map(|r| r.id.as_str()).collect();
                return Err((
                    at("rubric"),
                    format!("no rubric \"{}\" (known: {})", job.rubric, known.join(", ")),
                ));
            };
            let mut keys = HashSet::new();
            for (i, interview) in job.interviews.iter().enumerate() {
                let at = |field: &str| format!("jobs[{j}].interviews[{i}].{field}");
                match (&interview.id, &interview.name) {
                    (Some(id), None) if !id.trim().is_empty() => {
                        if !keys.insert(format!("id:{id}")) {
                            return Err((at("id"), format!("interview \"{id}\" is mapped twice")));
                        }
                    }
                    (None, Some(name)) if !name.trim().is_empty() => {
                        if job.ats != AtsKind::Greenhouse {
                            return Err((
                                at("name"),
                                "only Greenhouse interviews are matched by name; give the Ashby interviewId as `id`".into(),
                            ));
                        }
                        if !keys.insert(format!("name:{}", name.trim().to_lowercase())) {
                            return Err((
                                at("name"),
                                format!("interview \"{name}\" is mapped twice"),
                            ));
                        }
                    }
                    _ => {
                        return Err((
                            at("id"),
                            "give exactly one of `id` (the ATS interview id) or `name`".into(),
                        ));
                    }
                }
                let Some(stage) = rubric.stage(&interview.stage) else {
                    let stages: Vec<&str> = rubric.stages.iter().map(|s| s.key.as_str()).collect();
                    return Err((
                        at("stage"),
                        format!(
                            "\"{}\" is not a stage of rubric \"{}\" (stages: {})",
                            interview.stage,
                            rubric.id,
                            stages.join(", ")
                        ),
                    ));
                };
                if let Some(feedback) = &interview.feedback {
                    if job.ats != AtsKind::Ashby {
                        return Err((
                            at("feedback"),
                            "Greenhouse scorecards cannot be written through its API; Loopbot writes a private note instead, so leave `feedback` out".into(),
                        ));
                    }
                    if feedback.form.trim().is_empty() {
                        return Err((at("feedback.form"), "must not be empty".into()));
                    }
                    for key in feedback.criteria.keys() {
                        if stage.criterion(key).is_none() {
                            return Err((
                                at(&format!("feedback.criteria.{key}")),
                                format!("\"{key}\" is not a criterion of stage \"{}\"", stage.key),
                            ));
                        }
                    }
                    check_feedback_paths(feedback).map_err(|(f, m)| (at(&f), m))?;
                }
            }
        }
        Ok(())
    }

    pub fn job(&self, ats: AtsKind, job_id: &str) -> Option<&JobMapping> {
        self.jobs.iter().find(|j| j.ats == ats && j.job == job_id)
    }

    /// True when the file maps at least one job of this ATS.
    pub fn covers(&self, ats: AtsKind) -> bool {
        self.jobs.iter().any(|j| j.ats == ats)
    }
}

/// A form's field paths: at least one, none empty, none given two values.
fn check_feedback_paths(feedback: &FeedbackForm) -> Result<(), (String, String)> {
    let mut paths: Vec<(String, &str)> = Vec::new();
    if let Some(p) = &feedback.overall {
        paths.push(("feedback.overall".into(), p));
    }
    if let Some(p) = &feedback.evidence {
        paths.push(("feedback.evidence".into(), p));
    }
    for (key, p) in &feedback.criteria {
        paths.push((format!("feedback.criteria.{key}"), p));
    }
    if paths.is_empty() {
        return Err((
            "feedback".into(),
            "name at least one field: `overall`, `evidence` or `criteria`".into(),
        ));
    }
    let mut seen = HashSet::new();
    for (field, path) in paths {
        if path.trim().is_empty() {
            return Err((field, "must not be empty".into()));
        }
        if !seen.insert(path) {
            return Err((
                field,
                format!("the form field \"{path}\" is given two values"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[owners]
coordinator = ["recruiter"]

[[jobs]]
ats = "ashby"
job = "7001"
rubric = "senior-backend"

[[jobs.interviews]]
id = "int-tech"
stage = "technical-screen"

[jobs.interviews.feedback]
form = "form-1"
overall = "overall_score"
evidence = "notes"
criteria = { trade-offs = "tradeoffs" }

[[jobs]]
ats = "greenhouse"
job = "7001"
rubric = "senior-backend"

[[jobs.interviews]]
id = "8001"
stage = "technical-screen"

[[jobs.interviews]]
name = "Coding"
stage = "coding"
"#;

    fn parse(text: &str) -> Result<AtsMapping, MappingError> {
        AtsMapping::from_toml_str(text, "ats.toml", &RubricSet::builtin())
    }

    #[test]
    fn a_good_file_maps_jobs_and_interviews_by_id_or_name() {
        let mapping = parse(GOOD).unwrap();
        assert_eq!(mapping.owners.hiring_manager, [AtsRole::HiringManager]);
        assert_eq!(mapping.owners.coordinator, [AtsRole::Recruiter]);
        let ashby = mapping.job(AtsKind::Ashby, "7001").unwrap();
        let tech = ashby.interview("int-tech", None).unwrap();
        assert_eq!(tech.stage, "technical-screen");
        assert_eq!(
            tech.feedback.as_ref().unwrap().criteria["trade-offs"],
            "tradeoffs"
        );
        assert_eq!(ashby.interview("int-other", Some("Coding")), None);
        let gh = mapping.job(AtsKind::Greenhouse, "7001").unwrap();
        assert_eq!(
            gh.interview("9999", Some(" coding ")).unwrap().stage,
            "coding"
        );
        assert_eq!(
            gh.interview("8001", Some("Whatever")).unwrap().stage,
            "technical-screen"
        );
        assert_eq!(mapping.job(AtsKind::Greenhouse, "7002"), None);
        assert!(mapping.covers(AtsKind::Ashby));
        assert_eq!(parse("").unwrap(), AtsMapping::default());
    }

    #[test]
    fn the_shipped_example_is_valid() {
        let text = include_str!("../../../../ats-mapping.example.toml");
        let mapping = parse(text).unwrap();
        assert!(mapping.covers(AtsKind::Ashby) && mapping.covers(AtsKind::Greenhouse));
    }

    #[test]
    fn each_mistake_is_named_with_its_field() {
        let job = |body: &str| {
            format!("[[jobs]]\nats = \"ashby\"\njob = \"1\"\nrubric = \"senior-backend\"\n{body}")
        };
        let cases: Vec<(String, &str, &str)> = vec![
            (
                "[[jobs]]\nats = \"lever\"\njob = \"1\"\nrubric = \"senior-backend\"".into(),
                "jobs[0].ats",
                "unknown variant",
            ),
            (
                "[[jobs]]\nats = \"ashby\"\njob = \"1\"\nrubric = \"nope\"".into(),
                "jobs[0].rubric",
                "no rubric \"nope\"",
            ),
            (
                job("[[jobs.interviews]]\nid = \"a\"\nstage = \"lunch\""),
                "jobs[0].interviews[0].stage",
                "not a stage",
            ),
            (
                job("[[jobs.interviews]]\nstage = \"coding\""),
                "jobs[0].interviews[0].id",
                "exactly one",
            ),
            (
                job("[[jobs.interviews]]\nid = \"a\"\nname = \"b\"\nstage = \"coding\""),
                "jobs[0].interviews[0].id",
                "exactly one",
            ),
            (
                job("[[jobs.interviews]]\nname = \"Coding\"\nstage = \"coding\""),
                "jobs[0].interviews[0].name",
                "only Greenhouse",
            ),
            (
                job(
                    "[[jobs.interviews]]\nid = \"a\"\nstage = \"coding\"\n[[jobs.interviews]]\nid = \"a\"\nstage = \"values\"",
                ),
                "jobs[0].interviews[1].id",
                "mapped twice",
            ),
            (
                job(
                    "[[jobs.interviews]]\nid = \"a\"\nstage = \"coding\"\nfeedback = { form = \"f\", criteria = { nope = \"x\" } }",
                ),
                "jobs[0].interviews[0].feedback.criteria.nope",
                "not a criterion",
            ),
            (
                job(
                    "[[jobs.interviews]]\nid = \"a\"\nstage = \"coding\"\nfeedback = { form = \"f\" }",
                ),
                "jobs[0].interviews[0].feedback",
                "at least one field",
            ),
            (
                job(
                    "[[jobs.interviews]]\nid = \"a\"\nstage = \"coding\"\nfeedback = { form = \"f\", overall = \" \" }",
                ),
                "jobs[0].interviews[0].feedback.overall",
                "must not be empty",
            ),
            (
                job(
                    "[[jobs.interviews]]\nid = \"a\"\nstage = \"coding\"\nfeedback = { form = \"f\", overall = \"s\", evidence = \"s\" }",
                ),
                "jobs[0].interviews[0].feedback.evidence",
                "two values",
            ),
            (
                job("[[jobs.interviews]]\nid = \"a\"\nstage = \"coding\"\nstages = \"typo\""),
                "jobs[0].interviews[0]",
                "unknown field",
            ),
            (
                format!("{}\n{}", job(""), job("")),
                "jobs[1].job",
                "mapped twice",
            ),
            (
                "[owners]\ncoordinator = []".into(),
                "owners.coordinator",
                "at least one",
            ),
            (
                "[owners]\ncoordinator = [\"boss\"]".into(),
                "owners.coordinator",
                "unknown variant",
            ),
            ("jobs = [".into(), "(file)", ""),
        ];
        for (text, field, message) in cases {
            let err = parse(&text).unwrap_err();
            assert!(err.field.starts_with(field), "{text}\n→ {err}");
            assert!(err.message.contains(message), "{text}\n→ {err}");
            assert!(err.to_string().starts_with("ats.toml: "), "{err}");
        }
        let gh_feedback = "[[jobs]]\nats = \"greenhouse\"\njob = \"1\"\nrubric = \"senior-backend\"\n[[jobs.interviews]]\nid = \"8\"\nstage = \"coding\"\nfeedback = { form = \"f\" }";
        let err = parse(gh_feedback).unwrap_err();
        assert_eq!(err.field, "jobs[0].interviews[0].feedback");
        assert!(err.message.contains("private note"), "{err}");
    }
}
