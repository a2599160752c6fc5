//! Reading an ATS application again (after a webhook or a poll said it changed) and storing
//! its interviews as the ATS now has them: times, panel by email, cancelled or not, and the
//! rubric stage the mapping file gives each one. Each read replaces the last, so a change
//! delivered twice, late or out of order has one effect: the ATS's current state.
//! The same read tells the coordinator, once, what it cannot act on ([`ats_notices`]) and
//! stores whether the ATS shows the application hired or rejected, for the loop's summary.

use crate::ats::{
    Ats, AtsApplication, AtsError, AtsInterview, AtsKind, AtsOutcome, InterviewStatus,
};
use crate::db;
use crate::db::ats::StoredInterview;
use crate::domain::ats_mapping::{AtsRole, JobMapping};
use crate::domain::ats_outcome;
use crate::domain::people::Directory;
use crate::domain::start_form::{self, StageInput, StartInput};
use crate::jobs::JobError;
use crate::services::{ats_notices, people, start_loop};
use crate::state::AppState;

/// The [`crate::jobs::Job::AtsSync`] job.
pub async fn sync_application(
    state: &AppState,
    ats: &str,
    application_id: &str,
) -> Result<(), JobError> {
    let kind =
        AtsKind::parse(ats).ok_or_else(|| JobError::Permanent(format!("unknown ATS `{ats}`")))?;
    let read = match kind {
        AtsKind::Ashby => match &state.ats.ashby {
            Some(client) => read(client, application_id).await,
            None => return Err(JobError::Permanent("the Ashby adapter is off".into())),
        },
        AtsKind::Greenhouse => match &state.ats.greenhouse {
            Some(client) => read(client, application_id).await,
            None => return Err(JobError::Permanent("the Greenhouse adapter is off".into())),
        },
    };
    let (application, interviews) = read.map_err(JobError::Ats)?;
    let job = state.ats_mapping.job(kind, &application.job_id);
    // What to tell the coordinator (only for jobs the mapping names: an unmapped job is not
    // run by Loopbot at all), looked up before the transaction that records it.
    let mut notices = Vec::new();
    if let Some(job) = job {
        notices.extend(ats_notices::unmapped(job, &interviews));
        notices.extend(ats_notices::not_in_slack(state, job, &application, &interviews).await?);
    }
    // Only what was not told before needs a recipient (the record below decides for good).
    let notices = ats_notices::not_told(state, kind, &application.id, notices).await?;
    let to = match notices.is_empty() {
        true => None,
        false => notice_recipient(state, kind, &application).await?,
    };
    let now = state.clock.now_ms();
    let mut tx = state.begin().await?;
    let told =
        ats_notices::record(&mut tx, kind, &application, &notices, to.as_deref(), now).await?;
    record_outcome(&mut tx, kind, &application, now).await?;
    for interview in &interviews {
        let stage_key = job
            .and_then(|j| j.interview(&interview.interview_key, interview.name.as_deref()))
            .map(|m| m.stage.clone());
        db::ats::upsert_interview(
            &mut *tx,
            kind.as_str(),
            &stored(interview, application_id, stage_key),
            now,
        )
        .await?;
    }
    let listed: Vec<String> = interviews.iter().map(|i| i.id.clone()).collect();
    db::ats::cancel_missing(&mut *tx, kind.as_str(), application_id, &listed, now).await?;
    tx.commit().await?;
    tracing::info!(
        ats,
        application_id,
        interviews = interviews.len(),
        mapped_job = job.is_some(),
        notices = told,
        "ATS application read"
    );
    if let Some(job) = job {
        start_loop_if_due(state, kind, &application, job, &interviews).await?;
    }
    Ok(())
}

/// The loop's source key for an ATS application: one loop per application, whatever the
/// number of reads.
pub fn source_key(kind: AtsKind, application_id: &str) -> String {
    db::ats::source_key(kind.as_str(), application_id)
}

/// When the application has its first mapped, scheduled interview and no loop yet, starts one
/// as if `/loop start` had been filled in: the same checks ([`start_form::validate`]) and the
/// same store, with the ATS's candidate, owners, panel (matched by email) and times.
async fn start_loop_if_due(
    state: &AppState,
    kind: AtsKind,
    application: &AtsApplication,
    job: &JobMapping,
    interviews: &[AtsInterview],
) -> Result<(), JobError> {
    let key = source_key(kind, &application.id);
    if let Some(loop_id) = db::ats::loop_of_source(&state.db, &key).await? {
        let stored = db::ats::interviews_of(&state.db, kind.as_str(), &application.id).await?;
        return follow_changes(state, loop_id, &stored).await;
    }
    let mapped: Vec<(&AtsInterview, &str)> = interviews
        .iter()
        .filter(|i| i.status == InterviewStatus::Scheduled)
        .filter_map(|i| {
            let m = job.interview(&i.interview_key, i.name.as_deref())?;
            Some((i, m.stage.as_str()))
        })
        .collect();
    if mapped.is_empty() {
        return Ok(());
    }
    let Some(rubric) = state.rubrics.get(&job.rubric) else {
        return Err(JobError::Permanent(format!("no rubric `{}`", job.rubric)));
    };
    let owners = &state.ats_mapping.owners;
    let coordinator = slack_owner(state, application, &owners.coordinator).await?;
    let hiring_manager = slack_owner(state, application, &owners.hiring_manager).await?;
    let Some(coordinator) = coordinator else {
        tracing::warn!(
            ats = kind.as_str(),
            application = %application.id,
            "no coordinator with a Slack account: the loop is not started"
        );
        return Ok(());
    };
    let mut stages = Vec::new();
    for stage in &rubric.stages {
        let mut interviewers = Vec::new();
        let mut at = None;
        for (interview, _) in mapped.iter().filter(|(_, s)| *s == stage.key) {
            at = at.or(interview.starts_at_ms.map(|ms| ms.div_euclid(1000)));
            for person in &interview.interviewers {
                if let Some(email) = &person.email
                    && let Some(id) = state.slack.lookup_by_email(email).await?
                    && !interviewers.contains(&id)
                {
                    interviewers.push(id);
                }
            }
        }
        stages.push(StageInput {
            key: stage.key.clone(),
            interviewers,
            interview_at_secs: at,
        });
    }
    let input = StartInput {
        candidate: application.candidate_name.clone(),
        rubric_id: Some(rubric.id.clone()),
        hiring_manager: hiring_manager.or_else(|| Some(coordinator.clone())),
        stages,
    };
    let ids = start_form::people_to_look_up(&input, rubric);
    let people = people::look_up(state, ids, Directory::new()).await;
    let new = match start_form::validate(&input, rubric, &coordinator, None, &people) {
        Ok(new) => new,
        Err(errors) => {
            let reasons: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
            return Err(JobError::Permanent(format!(
                "the ATS application cannot start a loop: {}",
                reasons.join(" ")
            )));
        }
    };
    let loop_id = start_loop::store(state, &new, &key)
        .await
        .map_err(|e| JobError::Permanent(format!("{e:#}")))?;
    if let Some(loop_id) = loop_id {
        tracing::info!(ats = kind.as_str(), application = %application.id, loop_id, "loop started from the ATS");
    }
    Ok(())
}

/// Stores where the application ended in the ATS (hired, rejected) when this read is at least
/// as recent as the stored one and changes it, and has the summary of the loop it feeds
/// re-rendered. Never a decision of the loop: that stays the hiring manager's, in Slack.
async fn record_outcome(
    tx: &mut sqlx::AnyConnection,
    kind: AtsKind,
    application: &AtsApplication,
    now: crate::clock::UnixMillis,
) -> sqlx::Result<()> {
    let ats = kind.as_str();
    let at = application.changed_at_ms.unwrap_or(now);
    let stored = db::ats::outcome_of(&mut *tx, ats, &application.id)
        .await?
        .map(|(o, at)| (o.as_deref().and_then(AtsOutcome::parse), at));
    if !ats_outcome::replaces(stored, (application.outcome, at)) {
        return Ok(());
    }
    let outcome = application.outcome.map(AtsOutcome::as_str);
    db::ats::set_outcome(&mut *tx, ats, &application.id, outcome, at, now).await?;
    if let Some(loop_id) = db::ats::loop_of_application(&mut *tx, ats, &application.id).await? {
        db::audit::record(
            &mut *tx,
            loop_id,
            "ats",
            "ats_outcome",
            outcome.unwrap_or("open"),
            now,
        )
        .await?;
        crate::jobs::Job::RefreshSummary { loop_id }
            .enqueue(&mut *tx, now)
            .await?;
    }
    tracing::info!(ats, application = %application.id, outcome, "ATS outcome recorded");
    Ok(())
}

/// Who hears about the application: the coordinator of the loop it feeds; before there is
/// one, its coordinator as the mapping names them, else its hiring manager, in Slack.
async fn notice_recipient(
    state: &AppState,
    kind: AtsKind,
    application: &AtsApplication,
) -> Result<Option<String>, JobError> {
    if let Some(loop_id) =
        db::ats::loop_of_application(&state.db, kind.as_str(), &application.id).await?
        && let Some(l) = db::loops::get(&state.db, loop_id).await?
    {
        return Ok(Some(l.coordinator_id));
    }
    let owners = &state.ats_mapping.owners;
    match slack_owner(state, application, &owners.coordinator).await? {
        Some(user) => Ok(Some(user)),
        None => slack_owner(state, application, &owners.hiring_manager).await,
    }
}

/// The first of `roles` the application has, as a Slack user (by email).
async fn slack_owner(
    state: &AppState,
    application: &AtsApplication,
    roles: &[AtsRole],
) -> Result<Option<String>, JobError> {
    for role in roles {
        let wanted = ats_notices::owner_role(*role);
        for (owner_role, person) in &application.owners {
            if *owner_role == wanted
                && let Some(email) = &person.email
                && let Some(id) = state.slack.lookup_by_email(email).await?
            {
                return Ok(Some(id));
            }
        }
    }
    Ok(None)
}

async fn read(
    client: &impl Ats,
    application_id: &str,
) -> Result<(AtsApplication, Vec<AtsInterview>), AtsError> {
    let application = client.application(application_id).await?;
    let interviews = client.interviews(application_id).await?;
    Ok((application, interviews))
}

fn stored(
    interview: &AtsInterview,
    application_id: &str,
    stage_key: Option<String>,
) -> StoredInterview {
    let people: Vec<serde_json::Value> = interview
        .interviewers
        .iter()
        .map(|p| serde_json::json!({ "email": p.email, "name": p.name, "ats_user_id": p.ats_user_id }))
        .collect();
    StoredInterview {
        interview_id: interview.id.clone(),
        application_id: application_id.to_string(),
        interview_key: interview.interview_key.clone(),
        stage_key,
        starts_at: interview.starts_at_ms,
        ends_at: interview.ends_at_ms,
        cancelled: interview.status == InterviewStatus::Cancelled,
        interviewers: serde_json::Value::Array(people).to_string(),
    }
}

/// A loop the ATS started follows the ATS: each stage's time and panel become what its mapped
/// interviews now say (a moved interview moves the stage, so its brief, nudge and due time
/// follow; a cancelled one leaves the stage unscheduled), as a panel change in Slack would.
/// A stage whose time and panel already match changes nothing, so a repeated read has no
/// effect.
async fn follow_changes(
    state: &AppState,
    loop_id: i64,
    stored: &[StoredInterview],
) -> Result<(), JobError> {
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(());
    };
    if l.status == crate::domain::interview_loop::LoopStatus::Decided {
        return Ok(());
    }
    let mut wanted = Vec::new();
    for stage in &l.stages {
        // What Loopbot last read for this stage; an Ashby event that left its schedule is
        // stored as cancelled, so a cancellation is seen even though the ATS no longer lists it.
        let mine: Vec<&StoredInterview> = stored
            .iter()
            .filter(|i| i.stage_key.as_deref() == Some(stage.key.as_str()))
            .collect();
        if mine.is_empty() {
            continue; // not fed by the ATS: left as Slack set it
        }
        let live: Vec<&&StoredInterview> = mine.iter().filter(|i| !i.cancelled).collect();
        let at = live.iter().find_map(|i| i.starts_at);
        let mut panel = Vec::new();
        for interview in &live {
            let people: Vec<serde_json::Value> =
                serde_json::from_str(&interview.interviewers).unwrap_or_default();
            for email in people.iter().filter_map(|p| p["email"].as_str()) {
                if let Some(id) = state.slack.lookup_by_email(email).await?
                    && !panel.contains(&id)
                {
                    panel.push(id);
                }
            }
        }
        if live.is_empty() {
            panel = stage.interviewers.clone();
        }
        if panel != stage.interviewers || at != stage.interview_at {
            wanted.push((stage.position, panel, at));
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let now = state.clock.now_ms();
    let mut tx = state.begin_loop(l.id).await?;
    let mut stages = l.stages.clone();
    for (position, panel, at) in &wanted {
        db::loops::set_panel(&mut tx, l.id, *position, panel, *at).await?;
        let detail = format!("stage={position} panel={panel:?} time={at:?}");
        db::audit::record(&mut *tx, l.id, "ats", "panel_changed", &detail, now).await?;
        crate::jobs::Job::RefreshRubric {
            loop_id: l.id,
            position: *position,
        }
        .enqueue(&mut *tx, now)
        .await?;
        if let Some(stage) = stages.iter_mut().find(|s| s.position == *position) {
            stage.interviewers = panel.clone();
            stage.interview_at = *at;
        }
    }
    crate::services::reminders::sync(&mut tx, state, l.id, &l.rubric_id, &stages)
        .await
        .map_err(|e| JobError::Permanent(format!("{e:#}")))?;
    crate::services::home::refresh_for(&mut tx, l.id, now).await?;
    crate::jobs::Job::InviteMembers { loop_id: l.id }
        .enqueue(&mut *tx, now)
        .await?;
    crate::jobs::Job::RefreshSummary { loop_id: l.id }
        .enqueue(&mut *tx, now)
        .await?;
    tx.commit().await?;
    tracing::info!(
        loop_id = l.id,
        stages = wanted.len(),
        "loop follows the ATS"
    );
    Ok(())
}
