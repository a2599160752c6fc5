//! `/loop link <ATS URL or id>`: a loop started by hand becomes the loop of its ATS
//! application, after which the ATS feeds it as it feeds the loops it started (times, panel,
//! moves, cancellations; and writes go back to it).
//!
//! The command answers at once: it checks what it can without the ATS (who may, whether an ATS
//! is on, the link's form, whether the application already has a loop) and queues
//! [`Job::AtsLink`]. The job asks the ATS whether the application exists and its job is mapped,
//! then links the loop and queues the application's read in one transaction, and tells the
//! person who asked. Linking changes no stage posts: the read moves what the ATS says, as a
//! panel change in Slack would.

use crate::ats::{Ats, AtsError, AtsKind};
use crate::db;
use crate::domain::ats_link::{AtsTarget, parse_target};
use crate::domain::interview_loop::{InterviewLoop, LoopId};
use crate::error::{AppError, AppResult};
use crate::jobs::{Job, JobError};
use crate::services::owners_only;
use crate::slack::messages;
use crate::slack::mrkdwn::escape;
use crate::state::AppState;

/// The command: refuses with a plain sentence, or queues the check and says so.
pub async fn request(
    state: &AppState,
    l: &InterviewLoop,
    user: &str,
    text: &str,
) -> AppResult<String> {
    if !l.is_owner(user) {
        return Err(AppError::refused(owners_only(
            l,
            "link the loop to the ATS",
        )));
    }
    if state.ats.ashby.is_none() && state.ats.greenhouse.is_none() {
        return Ok("No ATS is connected to Loopbot, so there is nothing to link to. Your Loopbot admin can connect Ashby or Greenhouse (see docs/ats.md).".into());
    }
    let target = match parse_target(text) {
        Ok(target) => target,
        Err(why) => return Ok(why.to_string()),
    };
    let AtsTarget {
        ats,
        application_id,
    } = &target;
    if !is_on(state, *ats) {
        return Ok(format!(
            "Loopbot is not connected to {}, so it cannot follow that application.",
            ats.label()
        ));
    }
    let key = db::ats::source_key(ats.as_str(), application_id);
    let mine = db::ats::source_of_loop(&state.db, l.id).await?;
    if mine.as_deref() == Some(key.as_str()) {
        return Ok(format!(
            "This loop already follows {} application `{}`.",
            ats.label(),
            escape(application_id)
        ));
    }
    if let Some(other) = mine.as_deref().filter(|k| k.starts_with("ats:")) {
        return Ok(format!(
            "This loop already follows another ATS application (`{}`); a loop follows one application.",
            escape(other.trim_start_matches("ats:"))
        ));
    }
    if let Some(why) = taken_by_other(state, l.id, &key).await? {
        return Ok(format!(
            "That application {why}, so it cannot feed this loop too."
        ));
    }
    let now = state.clock.now_ms();
    let mut tx = state.begin_loop(l.id).await?;
    Job::AtsLink {
        loop_id: l.id,
        ats: ats.as_str().into(),
        application_id: application_id.clone(),
        user: user.into(),
        asked_at: now,
    }
    .enqueue(&mut *tx, now)
    .await?;
    db::audit::record(&mut *tx, l.id, user, "ats_link_asked", &key, now).await?;
    tx.commit().await?;
    Ok(format!(
        ":hourglass_flowing_sand: Checking application `{}` in {}. I'll message you when the loop is linked.",
        escape(application_id),
        ats.label()
    ))
}

fn is_on(state: &AppState, kind: AtsKind) -> bool {
    match kind {
        AtsKind::Ashby => state.ats.ashby.is_some(),
        AtsKind::Greenhouse => state.ats.greenhouse.is_some(),
    }
}

/// "already feeds the loop of Ada Lovelace", when another loop has the application.
async fn taken_by_other(
    state: &AppState,
    loop_id: LoopId,
    key: &str,
) -> Result<Option<String>, sqlx::Error> {
    let Some(other) = db::ats::loop_of_source(&state.db, key).await? else {
        return Ok(None);
    };
    if other == loop_id {
        return Ok(None);
    }
    let name = db::loops::get(&state.db, other)
        .await?
        .map(|o| o.candidate_name)
        .unwrap_or_default();
    Ok(Some(format!(
        "already feeds the loop of *{}*",
        escape(&name)
    )))
}

/// The [`Job::AtsLink`] job.
pub async fn link(
    state: &AppState,
    loop_id: LoopId,
    ats: &str,
    application_id: &str,
    user: &str,
    asked_at: i64,
) -> Result<(), JobError> {
    let kind =
        AtsKind::parse(ats).ok_or_else(|| JobError::Permanent(format!("unknown ATS `{ats}`")))?;
    let Some(l) = db::loops::get(&state.db, loop_id).await? else {
        return Ok(());
    };
    let read = match kind {
        AtsKind::Ashby => match &state.ats.ashby {
            Some(client) => client.application(application_id).await,
            None => return Err(JobError::Permanent("the Ashby adapter is off".into())),
        },
        AtsKind::Greenhouse => match &state.ats.greenhouse {
            Some(client) => client.application(application_id).await,
            None => return Err(JobError::Permanent("the Greenhouse adapter is off".into())),
        },
    };
    let key = format!("ats_link:{loop_id}:{ats}:{application_id}:{asked_at}");
    let failed =
        |why: &str| messages::ats_link_failed(kind.label(), &l.candidate_name, application_id, why);
    let application = match read {
        Ok(application) => application,
        Err(e) if e.is_transient() => return Err(JobError::Ats(e)),
        Err(e) => {
            tracing::info!(ats, application_id, loop_id, error = %e, "ATS link refused by the ATS");
            let why = match e {
                AtsError::Refused(_) => format!("{} has no such application", kind.label()),
                _ => format!("{} did not answer as expected", kind.label()),
            };
            state.slack.send_dm(user, &failed(&why), &key).await?;
            return Ok(());
        }
    };
    if state.ats_mapping.job(kind, &application.job_id).is_none() {
        let why = format!(
            "its {} job is not in Loopbot's ATS mapping, so nothing there would feed the loop",
            kind.label()
        );
        state.slack.send_dm(user, &failed(&why), &key).await?;
        return Ok(());
    }
    let source = db::ats::source_key(kind.as_str(), application_id);
    let now = state.clock.now_ms();
    let mut tx = state.begin_loop(loop_id).await?;
    if let Some(other) = db::ats::loop_of_source(&mut *tx, &source).await?
        && other != loop_id
    {
        drop(tx);
        let why = taken_by_other(state, loop_id, &source)
            .await?
            .unwrap_or_else(|| "already feeds another loop".into());
        state.slack.send_dm(user, &failed(&why), &key).await?;
        return Ok(());
    }
    db::ats::link_loop(&mut *tx, loop_id, &source).await?;
    db::audit::record(&mut *tx, loop_id, user, "ats_linked", &source, now).await?;
    Job::AtsSync {
        ats: kind.as_str().into(),
        application_id: application_id.into(),
    }
    .enqueue(&mut *tx, now)
    .await?;
    // The application may already be hired or rejected in the ATS: the summary shows it.
    Job::RefreshSummary { loop_id }
        .enqueue(&mut *tx, now)
        .await?;
    tx.commit().await?;
    tracing::info!(
        ats,
        application_id,
        loop_id,
        "loop linked to its ATS application"
    );
    let done = messages::ats_linked(
        kind.label(),
        &l.candidate_name,
        application_id,
        &application.candidate_name,
    );
    state.slack.send_dm(user, &done, &key).await?;
    Ok(())
}
