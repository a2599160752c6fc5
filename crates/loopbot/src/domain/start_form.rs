//! What the `/loop start` modal collects, and the rules it must pass before a loop is stored.
//! Its people follow the rules the panel form follows too ([`crate::domain::people`]).

use crate::clock::UnixMillis;
pub use crate::domain::form_field::{Field, FieldError};
use crate::domain::people::{self, Directory};
use crate::domain::rubric::Rubric;

pub use crate::domain::people::MAX_INTERVIEWERS_PER_STAGE;

pub const MAX_CANDIDATE_NAME: usize = 80;

/// The form as submitted, already read out of Slack's payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartInput {
    pub candidate: String,
    pub rubric_id: Option<String>,
    pub hiring_manager: Option<String>,
    pub stages: Vec<StageInput>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StageInput {
    pub key: String,
    pub interviewers: Vec<String>,
    /// Unix seconds, as Slack's date-time picker gives it.
    pub interview_at_secs: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLoop {
    pub candidate_name: String,
    pub rubric_id: String,
    pub role: String,
    pub coordinator_id: String,
    pub hiring_manager_id: String,
    pub origin_channel_id: Option<String>,
    pub stages: Vec<NewStage>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStage {
    pub position: u32,
    pub key: String,
    pub name: String,
    pub interview_at: Option<UnixMillis>,
    pub interviewers: Vec<String>,
}

/// The stages of `rubric` with the interviewers picked for each (none when the form has no
/// field for it), in the rubric's order.
pub fn picked_panel<'a>(
    input: &'a StartInput,
    rubric: &'a Rubric,
) -> impl Iterator<Item = (&'a str, &'a [String])> {
    rubric.stages.iter().map(|stage| {
        let picked = input
            .stages
            .iter()
            .find(|s| s.key == stage.key)
            .map(|s| s.interviewers.as_slice())
            .unwrap_or_default();
        (stage.key.as_str(), picked)
    })
}

/// The people Slack should be asked about before [`validate`] (see
/// [`people::to_look_up`]).
pub fn people_to_look_up(input: &StartInput, rubric: &Rubric) -> Vec<String> {
    people::to_look_up(
        input.hiring_manager.as_deref(),
        picked_panel(input, rubric).map(|(_, picked)| picked),
        &Directory::new(),
    )
}

/// Checks the form against `rubric` (the one the form was built from), with what Slack said of
/// the people picked in `people`. A stage without an interviewer is allowed; it is flagged on
/// the summary instead.
pub fn validate(
    input: &StartInput,
    rubric: &Rubric,
    coordinator_id: &str,
    origin_channel_id: Option<&str>,
    people: &Directory,
) -> Result<NewLoop, Vec<FieldError>> {
    let mut errors = Vec::new();
    let candidate = collapse_spaces(&input.candidate);
    if candidate.is_empty() {
        errors.push(FieldError {
            field: Field::Candidate,
            message: "Enter the candidate's name.".into(),
        });
    } else if candidate.chars().count() > MAX_CANDIDATE_NAME {
        errors.push(FieldError {
            field: Field::Candidate,
            message: format!("Keep the name to {MAX_CANDIDATE_NAME} characters or fewer."),
        });
    }
    let hiring_manager = people::check_hiring_manager(input.hiring_manager.as_deref(), people)
        .map_err(|message| {
            errors.push(FieldError {
                field: Field::HiringManager,
                message,
            })
        })
        .ok();
    let panel = match people::check_panel(picked_panel(input, rubric), people) {
        Ok(panel) => panel,
        Err(problems) => {
            errors.extend(problems);
            Vec::new()
        }
    };
    let mut stages = Vec::new();
    for ((index, stage), interviewers) in rubric.stages.iter().enumerate().zip(panel) {
        let given = input.stages.iter().find(|s| s.key == stage.key);
        stages.push(NewStage {
            position: index as u32 + 1,
            key: stage.key.clone(),
            name: stage.name.clone(),
            interview_at: given
                .and_then(|g| g.interview_at_secs)
                .map(|secs| secs * 1000),
            interviewers,
        });
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewLoop {
        candidate_name: candidate,
        rubric_id: rubric.id.clone(),
        role: rubric.role.clone(),
        coordinator_id: coordinator_id.to_string(),
        hiring_manager_id: hiring_manager.unwrap_or_default(),
        origin_channel_id: origin_channel_id.map(str::to_string),
        stages,
    })
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::people::Person;
    use crate::domain::rubric::RubricSet;

    fn input() -> StartInput {
        StartInput {
            candidate: "  Ada   Lovelace ".into(),
            rubric_id: Some("senior-backend".into()),
            hiring_manager: Some("UHM".into()),
            stages: vec![StageInput {
                key: "technical-screen".into(),
                interviewers: vec!["UA".into(), "UA".into(), "UB".into()],
                interview_at_secs: Some(1_800_000_000),
            }],
        }
    }

    #[test]
    fn a_good_form_becomes_a_loop_with_every_rubric_stage() {
        let rubrics = RubricSet::builtin();
        let rubric = rubrics.default_rubric();
        let new = validate(&input(), rubric, "UCOORD", Some("CX"), &Directory::new()).unwrap();
        assert_eq!(new.candidate_name, "Ada Lovelace");
        assert_eq!(new.stages.len(), rubric.stages.len());
        assert_eq!(new.stages[0].interviewers, ["UA", "UB"]);
        assert_eq!(new.stages[0].interview_at, Some(1_800_000_000_000));
        assert!(
            new.stages[1].interviewers.is_empty(),
            "unstaffed is allowed"
        );
        assert_eq!(new.stages[3].position, 4);
    }

    #[test]
    fn the_hiring_manager_and_the_panel_are_looked_up_once_each() {
        let rubrics = RubricSet::builtin();
        let mut form = input();
        form.stages.push(StageInput {
            key: "coding".into(),
            interviewers: vec!["UB".into(), "UHM".into(), "UC".into()],
            interview_at_secs: None,
        });
        assert_eq!(
            people_to_look_up(&form, rubrics.default_rubric()),
            ["UHM", "UA", "UB", "UC"]
        );
    }

    #[test]
    fn errors_name_their_field() {
        let rubrics = RubricSet::builtin();
        let rubric = rubrics.default_rubric();
        let mut bad = input();
        bad.candidate = "   ".into();
        bad.hiring_manager = None;
        let errors = validate(&bad, rubric, "UCOORD", None, &Directory::new()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
        assert_eq!(fields, [Field::Candidate, Field::HiringManager]);

        let mut long = input();
        long.candidate = "x".repeat(81);
        let errors = validate(&long, rubric, "UCOORD", None, &Directory::new()).unwrap_err();
        assert!(errors[0].message.contains("80"));

        let people: Directory = [("UHM", Person::Unknown), ("UB", Person::Bot)]
            .into_iter()
            .map(|(id, p)| (id.to_string(), p))
            .collect();
        let errors = validate(&input(), rubric, "UCOORD", None, &people).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
        assert_eq!(
            fields,
            [
                Field::HiringManager,
                Field::StageInterviewers("technical-screen".into())
            ],
            "people Slack does not know, and bots, next to their field"
        );

        let mut crowded = input();
        crowded.stages[0].interviewers = (0..6).map(|i| format!("U{i}")).collect();
        let errors = validate(&crowded, rubric, "UCOORD", None, &Directory::new()).unwrap_err();
        assert_eq!(
            errors[0].field,
            Field::StageInterviewers("technical-screen".into())
        );
    }
}
