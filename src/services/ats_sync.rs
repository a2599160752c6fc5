//! Reading an ATS application again (after a webhook or a poll said it changed) and storing
//! its interviews as the ATS now has them: times, panel by email, cancelled or not, and the
//! rubric stage the mapping file gives each one. Each read replaces the last, so a change
//! delivered twice, late or out of order has one effect: the ATS's current state.

use crate::ats::{Ats, AtsApplication, AtsError, AtsInterview, AtsKind, InterviewStatus};
use crate::db;
use crate::db::ats::StoredInterview;
use crate::jobs::JobError;
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
    let now = state.clock.now_ms();
    let mut tx = state.begin().await?;
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
        "ATS application read"
    );
    Ok(())
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
