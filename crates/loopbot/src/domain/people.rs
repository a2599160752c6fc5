//! The people a form puts on a loop. The start form and the panel form apply the same rules:
//! each stage's interviewers are each listed once and at most five, and every one of them (and
//! the hiring manager) is a person in the workspace: not an app or bot, not an id Slack does
//! not know. What Slack says of each id is looked up by the caller and passed in.

use std::collections::HashMap;

use crate::domain::form_field::{Field, FieldError};

pub const MAX_INTERVIEWERS_PER_STAGE: usize = 5;

/// What Slack says about a user id picked in a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Person {
    /// Someone in the workspace.
    Member,
    /// An app or bot user: it cannot run an interview or own a loop.
    Bot,
    /// Slack knows no such user in this workspace.
    Unknown,
}

/// What is known of the people picked in a form, by user id. An id missing from it could not
/// be looked up in time and is let through: the channel invite reports a refusal later.
pub type Directory = HashMap<String, Person>;

/// Whether `id` has the shape of a Slack user id (`U…` or `W…`, capitals and digits). One that
/// does not is unknown without asking Slack.
pub fn looks_like_user_id(id: &str) -> bool {
    let mut chars = id.chars();
    matches!(chars.next(), Some('U' | 'W'))
        && (1..=20).contains(&chars.clone().count())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// Slackbot: a user id, but not a person (users.info does not call it a bot).
pub const SLACKBOT: &str = "USLACKBOT";

/// What is known of `id` before asking Slack: unknown when it cannot be a user id, a bot when
/// it is Slackbot.
pub fn known_without_asking(id: &str) -> Option<Person> {
    if id == SLACKBOT {
        Some(Person::Bot)
    } else {
        (!looks_like_user_id(id)).then_some(Person::Unknown)
    }
}

/// One stage's interviewers as picked: blanks dropped, each once, in the order picked.
pub fn distinct(picked: &[String]) -> Vec<String> {
    let mut people: Vec<String> = Vec::new();
    for user in picked {
        if !user.is_empty() && !people.contains(user) {
            people.push(user.clone());
        }
    }
    people
}

/// The ids Slack should be asked about: the hiring manager and the interviewers of every
/// stage within the limit (a stage over it is refused for that alone), each once, unless
/// already known.
pub fn to_look_up<'a>(
    hiring_manager: Option<&'a str>,
    stages: impl IntoIterator<Item = &'a [String]>,
    known: &Directory,
) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    let candidates = hiring_manager.into_iter().map(str::to_string).chain(
        stages
            .into_iter()
            .map(distinct)
            .filter(|people| people.len() <= MAX_INTERVIEWERS_PER_STAGE)
            .flatten(),
    );
    for id in candidates {
        if !id.is_empty()
            && !known.contains_key(&id)
            && known_without_asking(&id).is_none()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids
}

fn what_is(id: &str, people: &Directory) -> Option<Person> {
    known_without_asking(id).or_else(|| people.get(id).copied())
}

/// One stage's interviewers, cleaned (each once, in order), or the problem to show next to
/// its field.
pub fn check_interviewers(picked: &[String], people: &Directory) -> Result<Vec<String>, String> {
    let interviewers = distinct(picked);
    if interviewers.len() > MAX_INTERVIEWERS_PER_STAGE {
        return Err(format!(
            "Choose at most {MAX_INTERVIEWERS_PER_STAGE} interviewers for one stage."
        ));
    }
    let count = |kind: Person| {
        interviewers
            .iter()
            .filter(|u| what_is(u, people) == Some(kind))
            .count()
    };
    match (count(Person::Unknown), count(Person::Bot)) {
        (0, 0) => Ok(interviewers),
        (1, _) => {
            Err("One of these people is not in this workspace. Choose people from the list.".into())
        }
        (n @ 2.., _) => Err(format!(
            "{n} of these people are not in this workspace. Choose people from the list."
        )),
        (0, _) => Err("An app or bot cannot run an interview. Choose a person.".into()),
    }
}

/// The hiring manager, or the problem to show next to the field.
pub fn check_hiring_manager(picked: Option<&str>, people: &Directory) -> Result<String, String> {
    let Some(id) = picked.filter(|u| !u.is_empty()) else {
        return Err("Choose the hiring manager who owns this loop.".into());
    };
    match what_is(id, people) {
        Some(Person::Unknown) => {
            Err("This person is not in this workspace. Choose someone from the list.".into())
        }
        Some(Person::Bot) => Err("An app or bot cannot own a loop. Choose a person.".into()),
        Some(Person::Member) | None => Ok(id.to_string()),
    }
}

/// Every stage's interviewers, by stage key, through [`check_interviewers`]: cleaned, in the
/// stages' order, or each problem next to its stage's field.
pub fn check_panel<'a>(
    stages: impl IntoIterator<Item = (&'a str, &'a [String])>,
    people: &Directory,
) -> Result<Vec<Vec<String>>, Vec<FieldError>> {
    let mut panel = Vec::new();
    let mut errors = Vec::new();
    for (key, picked) in stages {
        match check_interviewers(picked, people) {
            Ok(interviewers) => panel.push(interviewers),
            Err(message) => errors.push(FieldError {
                field: Field::StageInterviewers(key.to_string()),
                message,
            }),
        }
    }
    if errors.is_empty() {
        Ok(panel)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn directory() -> Directory {
        [
            ("UA", Person::Member),
            ("UB", Person::Member),
            ("UBOT", Person::Bot),
            ("UGONE", Person::Unknown),
            ("UGONE2", Person::Unknown),
        ]
        .into_iter()
        .map(|(id, p)| (id.to_string(), p))
        .collect()
    }

    #[test]
    fn user_ids_have_slacks_shape() {
        for (id, ok) in [
            ("U0123ABC", true),
            ("W0123ABC", true),
            ("UA", true),
            ("U", false),
            ("", false),
            ("u0123", false),
            ("B0123", false),
            ("U01 23", false),
            ("U0123abc", false),
            ("<@U0123>", false),
            (&"U".repeat(30), false),
        ] {
            assert_eq!(looks_like_user_id(id), ok, "{id:?}");
        }
    }

    #[test]
    fn interviewers_are_checked_by_one_set_of_rules() {
        let people = directory();
        let six: Vec<String> = (0..6).map(|i| format!("U{i}X")).collect();
        for (picked, expected) in [
            (ids(&[]), Ok(ids(&[]))),
            (ids(&["UA", "", "UA", "UB"]), Ok(ids(&["UA", "UB"]))),
            // Not looked up in time: let through.
            (ids(&["UA", "UNEW"]), Ok(ids(&["UA", "UNEW"]))),
            (
                six.clone(),
                Err("Choose at most 5 interviewers for one stage.".to_string()),
            ),
            (
                ids(&["UA", "UGONE"]),
                Err(
                    "One of these people is not in this workspace. Choose people from the list."
                        .into(),
                ),
            ),
            (
                ids(&["UGONE", "not-an-id", "UGONE2"]),
                Err(
                    "3 of these people are not in this workspace. Choose people from the list."
                        .into(),
                ),
            ),
            (
                ids(&["UA", "UBOT"]),
                Err("An app or bot cannot run an interview. Choose a person.".into()),
            ),
        ] {
            assert_eq!(check_interviewers(&picked, &people), expected, "{picked:?}");
        }
    }

    #[test]
    fn the_hiring_manager_is_a_person_in_the_workspace() {
        let people = directory();
        assert_eq!(check_hiring_manager(Some("UA"), &people), Ok("UA".into()));
        assert_eq!(
            check_hiring_manager(Some("UNEW"), &people),
            Ok("UNEW".into())
        );
        for picked in [None, Some("")] {
            assert!(check_hiring_manager(picked, &people).is_err());
        }
        for picked in ["UGONE", "bogus", "UBOT", SLACKBOT] {
            assert!(
                check_hiring_manager(Some(picked), &people).is_err(),
                "{picked}"
            );
        }
    }

    #[test]
    fn only_what_the_rules_leave_to_slack_is_looked_up() {
        let people = directory();
        let crowded: Vec<String> = (0..200).map(|i| format!("U{i:04}")).collect();
        let stages = [
            ids(&["UA", "UNEW", "UNEW"]),
            crowded,
            ids(&["UNEW", "UOTHER", "junk"]),
        ];
        let asked = to_look_up(Some("UHM"), stages.iter().map(Vec::as_slice), &people);
        assert_eq!(asked, ids(&["UHM", "UNEW", "UOTHER"]));
    }

    #[test]
    fn each_stage_problem_is_keyed_to_its_stage() {
        let people = directory();
        let good = ids(&["UA"]);
        let bot = ids(&["UBOT"]);
        let stages = [("screen", good.as_slice()), ("coding", bot.as_slice())];
        let errors = check_panel(stages, &people).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, Field::StageInterviewers("coding".into()));
        let fine = [("screen", good.as_slice())];
        assert_eq!(check_panel(fine, &people), Ok(vec![ids(&["UA"])]));
    }
}
