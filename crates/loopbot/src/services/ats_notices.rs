//! Telling the coordinator, once, what in an ATS application Loopbot cannot act on by itself:
//! an interview the mapping file does not name (never guessed onto a stage), and a person on a
//! mapped interview's panel whom Slack does not know by email. Each notice is recorded in the
//! same transaction as the read that found it, with its direct-message job, so repeated
//! webhooks and polls tell nobody twice.
//!
//! Who is told: the coordinator of the loop the application feeds; before there is a loop, the
//! application's coordinator (else hiring manager) as the mapping's `[owners]` name them,
//! matched in Slack by email. With nobody in Slack, the notice's job fails with a plain reason
//! and stays listed by `loopbot jobs`, for `loopbot jobs retry` once the owner is fixed (a retry
//! then finds the loop's coordinator).

use crate::ats::{AtsApplication, AtsInterview, AtsKind, AtsPerson, InterviewStatus, OwnerRole};
use crate::clock::UnixMillis;
use crate::db;
use crate::domain::ats_mapping::{AtsRole, JobMapping};
use crate::jobs::{Job, JobError};
use crate::slack::messages;
use crate::state::AppState;

pub const UNMAPPED: &str = "unmapped";
pub const NO_SLACK: &str = "no_slack";
pub const NO_SLACK_OWNER: &str = "no_slack_owner";

/// One thing to tell: `what` ([`UNMAPPED`], [`NO_SLACK`] or [`NO_SLACK_OWNER`]) about `subject` (the interview id,
/// or the person's email), named as `about`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub what: String,
    pub subject: String,
    pub about: String,
}

/// The live interviews of a mapped job that the mapping does not name.
pub fn unmapped(job: &JobMapping, interviews: &[AtsInterview]) -> Vec<Notice> {
    interviews
        .iter()
        .filter(|i| i.status == InterviewStatus::Scheduled)
        .filter(|i| job.interview(&i.interview_key, i.name.as_deref()).is_none())
        .map(|i| Notice {
            what: UNMAPPED.into(),
            subject: i.id.clone(),
            about: i.name.clone().unwrap_or_else(|| i.interview_key.clone()),
        })
        .collect()
}

/// The people on live, mapped interviews whom Slack does not know by email (or who have no
/// email in the ATS), and the application's owners when none of those the mapping looks to
/// for its hiring manager (or its coordinator) is in Slack: each once.
pub async fn not_in_slack(
    state: &AppState,
    job: &JobMapping,
    application: &AtsApplication,
    interviews: &[AtsInterview],
) -> Result<Vec<Notice>, JobError> {
    let mut notices: Vec<Notice> = Vec::new();
    let live = interviews.iter().filter(|i| {
        i.status == InterviewStatus::Scheduled
            && job.interview(&i.interview_key, i.name.as_deref()).is_some()
    });
    for person in live.flat_map(|i| &i.interviewers) {
        if let Some(notice) = unknown_to_slack(state, person).await? {
            add_once(&mut notices, notice);
        }
    }
    let owners = &state.ats_mapping.owners;
    for (roles, what) in [
        (&owners.hiring_manager, "hiring manager"),
        (&owners.coordinator, "coordinator"),
    ] {
        let people: Vec<&AtsPerson> = application
            .owners
            .iter()
            .filter(|(role, _)| roles.iter().any(|r| owner_role(*r) == *role))
            .map(|(_, person)| person)
            .collect();
        let mut unknown = Vec::new();
        for person in people {
            match unknown_to_slack(state, person).await? {
                Some(notice) => unknown.push(Notice {
                    what: NO_SLACK_OWNER.into(),
                    about: format!("{}, the {what}", notice.about),
                    ..notice
                }),
                // One of them is in Slack: the loop has its owner.
                None => {
                    unknown.clear();
                    break;
                }
            }
        }
        for notice in unknown {
            add_once(&mut notices, notice);
        }
    }
    Ok(notices)
}

/// The application's owner role a mapping's role names.
pub fn owner_role(role: AtsRole) -> OwnerRole {
    match role {
        AtsRole::HiringManager => OwnerRole::HiringManager,
        AtsRole::Recruiter => OwnerRole::Recruiter,
        AtsRole::Coordinator => OwnerRole::Coordinator,
    }
}

fn add_once(notices: &mut Vec<Notice>, notice: Notice) {
    if !notices.iter().any(|n| n.subject == notice.subject) {
        notices.push(notice);
    }
}

/// A [`NO_SLACK`] notice for `person` when Slack does not know them by email (or the ATS
/// has no email for them); `None` when Slack knows them.
async fn unknown_to_slack(
    state: &AppState,
    person: &AtsPerson,
) -> Result<Option<Notice>, JobError> {
    let name = person.name.clone().unwrap_or_default();
    let (subject, about) = match &person.email {
        Some(email) => {
            if state.slack.lookup_by_email(email).await?.is_some() {
                return Ok(None);
            }
            let about = if name.is_empty() {
                email.clone()
            } else {
                format!("{name} ({email})")
            };
            (email.to_lowercase(), about)
        }
        None => {
            let id = person.ats_user_id.clone().unwrap_or_else(|| name.clone());
            (
                format!("ats_user:{id}"),
                format!("{name} (no email in the ATS)"),
            )
        }
    };
    Ok(Some(Notice {
        what: NO_SLACK.into(),
        subject,
        about,
    }))
}

/// The notices not told yet (so that a read that finds nothing new looks nobody up in Slack).
pub async fn not_told(
    state: &AppState,
    kind: AtsKind,
    application_id: &str,
    notices: Vec<Notice>,
) -> sqlx::Result<Vec<Notice>> {
    let mut new = Vec::new();
    for notice in notices {
        let told = db::ats::notice_told(
            &state.db,
            kind.as_str(),
            application_id,
            &notice.what,
            &notice.subject,
        )
        .await?;
        if !told {
            new.push(notice);
        }
    }
    Ok(new)
}

/// Records each notice not told before and queues its direct message, in the caller's
/// transaction (the sync's).
pub async fn record(
    tx: &mut sqlx::AnyConnection,
    kind: AtsKind,
    application: &AtsApplication,
    notices: &[Notice],
    to: Option<&str>,
    now: UnixMillis,
) -> sqlx::Result<usize> {
    let mut queued = 0;
    for notice in notices {
        let new = db::ats::record_notice(
            &mut *tx,
            kind.as_str(),
            &application.id,
            &notice.what,
            &notice.subject,
            now,
        )
        .await?;
        if new {
            Job::AtsNotice {
                ats: kind.as_str().into(),
                application_id: application.id.clone(),
                what: notice.what.clone(),
                subject: notice.subject.clone(),
                candidate: application.candidate_name.clone(),
                about: notice.about.clone(),
                to: to.map(str::to_string),
            }
            .enqueue(&mut *tx, now)
            .await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// The [`Job::AtsNotice`] job: the direct message to `to`, or else to the coordinator of the
/// loop the application feeds.
pub async fn tell(
    state: &AppState,
    ats: &str,
    application_id: &str,
    candidate: &str,
    notice: &Notice,
    to: Option<&str>,
) -> Result<(), JobError> {
    let kind =
        AtsKind::parse(ats).ok_or_else(|| JobError::Permanent(format!("unknown ATS `{ats}`")))?;
    let to = match to {
        Some(user) => Some(user.to_string()),
        None => match db::ats::loop_of_application(&state.db, ats, application_id).await? {
            Some(loop_id) => db::loops::get(&state.db, loop_id)
                .await?
                .map(|l| l.coordinator_id),
            None => None,
        },
    };
    let Some(to) = to else {
        tracing::warn!(
            ats,
            application_id,
            what = notice.what,
            "no coordinator in Slack to tell about the ATS application"
        );
        return Err(JobError::Permanent(
            "nobody to tell: the application has no coordinator or hiring manager in Slack and no loop yet".into(),
        ));
    };
    let message = match notice.what.as_str() {
        UNMAPPED => messages::ats_unmapped_interview(kind.label(), candidate, &notice.about),
        NO_SLACK_OWNER => messages::ats_owner_not_in_slack(kind.label(), candidate, &notice.about),
        _ => messages::ats_person_not_in_slack(kind.label(), candidate, &notice.about),
    };
    let key = format!(
        "ats_notice:{ats}:{application_id}:{}:{}",
        notice.what, notice.subject
    );
    state.slack.send_dm(&to, &message, &key).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ats::AtsPerson;
    use crate::domain::ats_mapping::InterviewMapping;

    fn interview(id: &str, key: &str, name: Option<&str>, cancelled: bool) -> AtsInterview {
        AtsInterview {
            id: id.into(),
            interview_key: key.into(),
            name: name.map(str::to_string),
            starts_at_ms: Some(0),
            ends_at_ms: Some(1),
            status: if cancelled {
                InterviewStatus::Cancelled
            } else {
                InterviewStatus::Scheduled
            },
            interviewers: vec![AtsPerson::default()],
            meeting_link: None,
            feedback_link: None,
        }
    }

    #[test]
    fn only_live_interviews_the_mapping_does_not_name_are_told() {
        let job = JobMapping {
            ats: AtsKind::Greenhouse,
            job: "7001".into(),
            rubric: "senior-backend".into(),
            interviews: vec![InterviewMapping {
                id: None,
                name: Some("Technical".into()),
                stage: "technical-screen".into(),
                feedback: None,
            }],
        };
        let told = unmapped(
            &job,
            &[
                interview("1", "8001", Some("technical "), false),
                interview("2", "8002", Some("Lunch"), false),
                interview("3", "8003", Some("Tour"), true),
                interview("4", "8004", None, false),
            ],
        );
        assert_eq!(
            told,
            vec![
                Notice {
                    what: UNMAPPED.into(),
                    subject: "2".into(),
                    about: "Lunch".into(),
                },
                Notice {
                    what: UNMAPPED.into(),
                    subject: "4".into(),
                    about: "8004".into(),
                },
            ]
        );
    }
}
