//! Writing back to the ATS a loop came from (issue 22, item 5): each scorecard submitted in
//! Slack (Ashby: the interviewer's own feedback form, through `applicationFeedback.submit`;
//! Greenhouse: a private note), and each decision (Greenhouse: a private note).
//!
//! - **Durable.** The write is a job queued in the transaction that stores the scorecard or
//!   the decision; a loop started by hand (not from an ATS) queues nothing. Outages and 429s
//!   are retried with the queue's backoff (honouring `Retry-After`) and never given up; a
//!   refusal ends the job and tells the coordinator why (`jobs::run` queues
//!   [`Job::AtsWriteRefused`]).
//! - **Once.** One job per scorecard (stage and interviewer, whatever the number of edits) and
//!   per decision (its job key). The `ats_writes` ledger is marked `sending` (committed) before
//!   the call and `written` after (`ats_write_once`).
//! - **Blind.** Only the interviewer's own scorecard, filed as their own feedback, or a note
//!   the ATS keeps `private`; never another interviewer's ratings (see `docs/ats.md`).

use crate::ats::{Ats, AtsKind, FeedbackWrite, NoteWrite};
use crate::db;
use crate::db::ats_writes::WriteState;
use crate::domain::ats_writeback as render;
use crate::domain::interview_loop::{InterviewLoop, LoopId};
use crate::jobs::{Job, JobError};
use crate::services::ats_write_once::{Write, write_once};
use crate::slack::messages;
use crate::state::AppState;

/// The ATS and application of a loop the ATS started, from its source key
/// (`ats:<ats>:<application>`); `None` for a loop started by hand.
pub fn link_of(source_key: &str) -> Option<(AtsKind, String)> {
    let rest = source_key.strip_prefix("ats:")?;
    let (ats, application) = rest.split_once(':')?;
    Some((AtsKind::parse(ats)?, application.to_string())).filter(|(_, a)| !a.is_empty())
}

async fn link(
    db: impl sqlx::AnyExecutor<'_>,
    loop_id: LoopId,
) -> sqlx::Result<Option<(AtsKind, String)>> {
    Ok(db::ats::source_of_loop(db, loop_id)
        .await?
        .as_deref()
        .and_then(link_of))
}

/// For the submission's transaction: the write of `user`'s scorecard for stage `position`,
/// to queue when the loop came from an ATS (a loop started by hand: none).
pub fn scorecard_write(l: &InterviewLoop, position: u32, user: &str) -> Option<Job> {
    link_of(&l.source_key)?;
    Some(Job::AtsWriteScorecard {
        loop_id: l.id,
        position,
        user: user.to_string(),
    })
}

/// In the decision's transaction: queues the decision's note when the loop came from
/// Greenhouse (Ashby gets the interviewers' feedback forms, not a decision note).
pub async fn queue_decision(
    tx: &mut sqlx::AnyConnection,
    loop_id: LoopId,
    at: i64,
    now: i64,
) -> sqlx::Result<()> {
    if !matches!(
        link(&mut *tx, loop_id).await?,
        Some((AtsKind::Greenhouse, _))
    ) {
        return Ok(());
    }
    Job::AtsWriteDecision { loop_id, at }
        .enqueue(&mut *tx, now)
        .await
}

/// The [`Job::AtsWriteScorecard`] job.
pub async fn write_scorecard(
    state: &AppState,
    loop_id: LoopId,
    position: u32,
    user: &str,
) -> Result<(), JobError> {
    let Some((kind, application_id)) = link(&state.db, loop_id).await? else {
        return Ok(());
    };
    let key = Job::AtsWriteScorecard {
        loop_id,
        position,
        user: user.to_string(),
    }
    .dedupe_key();
    if db::ats_writes::state(&state.db, &key).await? == Some(WriteState::Written) {
        return Ok(());
    }
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::loop_gone(loop_id))?;
    let Some(card) = db::scorecards::latest(&state.db, loop_id, position, user).await? else {
        return Ok(());
    };
    let Some(stage) = l.stage_at(position) else {
        return Ok(());
    };
    let Some(stage_rubric) = state
        .rubrics
        .get(&l.rubric_id)
        .and_then(|r| r.stage(&stage.key))
    else {
        return Ok(());
    };
    let interviewer = ats_interviewer(state, kind, &application_id, &stage.key, user).await?;
    let write = match kind {
        AtsKind::Ashby => {
            if interviewer.is_none()
                && !stage_from_ats(state, kind, &application_id, &stage.key).await?
            {
                // A stage Slack ran on its own (no Ashby interview): no form to file it on.
                tracing::info!(
                    loop_id,
                    position,
                    "stage has no Ashby interview; nothing written"
                );
                return Ok(());
            }
            let Some(found) = interviewer else {
                return Err(JobError::Permanent(format!(
                    "the interviewer is not on the {} interview in Ashby, so there is no Ashby user to file their feedback under",
                    stage.name
                )));
            };
            let mapped = state
                .ats_mapping
                .jobs
                .iter()
                .filter(|j| j.ats == AtsKind::Ashby)
                .find_map(|j| j.interview(&found.interview_key, None));
            let Some(form) = mapped.and_then(|m| m.feedback.as_ref()) else {
                tracing::info!(
                    loop_id,
                    position,
                    "no Ashby feedback form mapped for this interview; nothing written"
                );
                return Ok(());
            };
            let Some(user_id) = found.ats_user_id else {
                return Err(JobError::Permanent(
                    "Ashby did not give the interviewer's user id".into(),
                ));
            };
            Write::Feedback(FeedbackWrite {
                application_id: application_id.clone(),
                form_definition_id: form.form.clone(),
                user_id,
                interview_event_id: Some(found.interview_id),
                fields: render::feedback_fields(form, &card.body),
            })
        }
        AtsKind::Greenhouse => {
            let name = match interviewer.and_then(|i| i.name) {
                Some(name) => name,
                None => state.slack.user_info(user).await?.real_name,
            };
            let body = render::scorecard_note(stage_rubric, &name, &card.body, &key);
            Write::Note(note(state, &application_id, body).await?)
        }
    };
    write_once(state, kind, &key, &write).await
}

/// The [`Job::AtsWriteDecision`] job: the decision recorded at `at`, as a private note.
pub async fn write_decision(state: &AppState, loop_id: LoopId, at: i64) -> Result<(), JobError> {
    let Some((kind @ AtsKind::Greenhouse, application_id)) = link(&state.db, loop_id).await? else {
        return Ok(());
    };
    let key = Job::AtsWriteDecision { loop_id, at }.dedupe_key();
    if db::ats_writes::state(&state.db, &key).await? == Some(WriteState::Written) {
        return Ok(());
    }
    let l = db::loops::get(&state.db, loop_id)
        .await?
        .ok_or_else(|| JobError::loop_gone(loop_id))?;
    // Only the decision it was queued for (a reopening may have cleared it since).
    let Some(decision) = l.decision.as_ref().filter(|d| d.decided_at == at) else {
        return Ok(());
    };
    let by = state.slack.user_info(&decision.decided_by).await?.real_name;
    let body = render::decision_note(decision, &by, &key);
    let write = Write::Note(note(state, &application_id, body).await?);
    write_once(state, kind, &key, &write).await
}

/// A Greenhouse note on the application (its candidate read from Greenhouse).
async fn note(state: &AppState, application_id: &str, body: String) -> Result<NoteWrite, JobError> {
    let client = state
        .ats
        .greenhouse
        .as_ref()
        .ok_or_else(|| JobError::Permanent("the Greenhouse adapter is off".into()))?;
    let application = client
        .application(application_id)
        .await
        .map_err(JobError::Ats)?;
    Ok(NoteWrite {
        application_id: application_id.to_string(),
        candidate_id: application.candidate_id,
        body,
    })
}

/// The ATS person on the stage's interview who is this Slack user (matched by email), with
/// the interview's ids.
struct Found {
    interview_id: String,
    interview_key: String,
    ats_user_id: Option<String>,
    name: Option<String>,
}

async fn ats_interviewer(
    state: &AppState,
    kind: AtsKind,
    application_id: &str,
    stage_key: &str,
    user: &str,
) -> Result<Option<Found>, JobError> {
    let stored = db::ats::interviews_of(&state.db, kind.as_str(), application_id).await?;
    // Live interviews first: a cancelled one is only a fallback.
    let mut mine: Vec<_> = stored
        .iter()
        .filter(|i| i.stage_key.as_deref() == Some(stage_key))
        .collect();
    mine.sort_by_key(|i| i.cancelled);
    for interview in mine {
        let people: Vec<serde_json::Value> =
            serde_json::from_str(&interview.interviewers).unwrap_or_default();
        for person in &people {
            let Some(email) = person["email"].as_str() else {
                continue;
            };
            if state.slack.lookup_by_email(email).await?.as_deref() == Some(user) {
                return Ok(Some(Found {
                    interview_id: interview.interview_id.clone(),
                    interview_key: interview.interview_key.clone(),
                    ats_user_id: person["ats_user_id"].as_str().map(str::to_string),
                    name: person["name"].as_str().map(str::to_string),
                }));
            }
        }
    }
    Ok(None)
}

/// Whether the ATS has (or had) an interview for this stage.
async fn stage_from_ats(
    state: &AppState,
    kind: AtsKind,
    application_id: &str,
    stage_key: &str,
) -> Result<bool, JobError> {
    let stored = db::ats::interviews_of(&state.db, kind.as_str(), application_id).await?;
    Ok(stored
        .iter()
        .any(|i| i.stage_key.as_deref() == Some(stage_key)))
}

/// The [`Job::AtsWriteRefused`] job: a DM to the coordinator with the ATS's reason.
pub async fn refused_notice(
    state: &AppState,
    loop_id: LoopId,
    job_id: i64,
    position: u32,
    user: &str,
) -> Result<(), JobError> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(());
    };
    let ats = match link(&state.db, loop_id).await?.map(|(k, _)| k) {
        Some(AtsKind::Ashby) => "Ashby",
        Some(AtsKind::Greenhouse) => "Greenhouse",
        None => "The ATS",
    };
    let error = db::jobs::last_error(&state.db, job_id)
        .await?
        .unwrap_or_default();
    let what = match l.stage_at(position) {
        Some(stage) if !user.is_empty() => format!(
            "{}'s *{}* scorecard",
            crate::slack::mrkdwn::mention(user),
            crate::slack::mrkdwn::escape(&stage.name)
        ),
        _ => "the decision".to_string(),
    };
    let message =
        messages::ats_write_refused(&l, ats, &what, &render::refusal_reason(&error), job_id);
    let key = Job::AtsWriteRefused {
        loop_id,
        job_id,
        position,
        user: user.to_string(),
    }
    .dedupe_key();
    state
        .slack
        .send_dm(&l.coordinator_id, &message, &key)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loops_from_an_ats_are_linked() {
        assert_eq!(
            link_of("ats:greenhouse:5001"),
            Some((AtsKind::Greenhouse, "5001".into()))
        );
        assert_eq!(
            link_of("ats:ashby:app-1"),
            Some((AtsKind::Ashby, "app-1".into()))
        );
        assert_eq!(link_of("V0123ABC"), None, "a hand-started loop's view id");
        assert_eq!(link_of("ats:lever:1"), None);
        assert_eq!(link_of("ats:ashby:"), None);
    }

    #[test]
    fn a_scorecard_is_written_back_only_to_the_ats_the_loop_came_from() {
        let mut l = crate::domain::interview_loop::fixtures::sample_loop();
        assert_eq!(scorecard_write(&l, 1, "UA"), None, "started by hand");
        l.source_key = "ats:greenhouse:5001".into();
        assert_eq!(
            scorecard_write(&l, 1, "UA"),
            Some(Job::AtsWriteScorecard {
                loop_id: 1,
                position: 1,
                user: "UA".into()
            })
        );
    }
}
