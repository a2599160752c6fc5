//! `/loop status`: in a loop channel, the summary as the pinned message shows it, to you alone;
//! elsewhere, your open loops and what you owe.

use anyhow::Context;

use crate::db;
use crate::domain::interview_loop::InterviewLoop;
use crate::domain::progress::LoopProgress;
use crate::error::AppResult;
use crate::slack::Message;
use crate::slack::messages::{summary_message, with_ats_outcome};
use crate::slack::mrkdwn::{channel_link, date_time, escape};
use crate::state::AppState;

pub async fn status(state: &AppState, channel_id: &str, user: &str) -> AppResult<Message> {
    if let Some(id) = db::loops::id_by_channel(&state.db, channel_id)
        .await
        .context("could not look up the loop of a channel")?
        && let Some((l, progress)) = state
            .progress(id)
            .await
            .context("could not load a loop for its status")?
    {
        let outcome = db::ats::outcome_of_loop(&state.db, id)
            .await
            .context("could not read a loop's ATS outcome")?;
        return Ok(with_ats_outcome(
            summary_message(&l, state.rubrics.get(&l.rubric_id), &progress),
            outcome.as_ref(),
        ));
    }
    let ids = db::loops::open_loop_ids_for(&state.db, user)
        .await
        .context("could not list someone's loops")?;
    let mut lines = Vec::new();
    for id in ids {
        let Some((l, progress)) = state
            .progress(id)
            .await
            .context("could not load a loop for a status")?
        else {
            continue;
        };
        lines.push(loop_line(&l, &progress, user));
    }
    Ok(Message::plain(if lines.is_empty() {
        "You have no open interview loops. Start one with `/loop start [candidate name]`."
            .to_string()
    } else {
        format!("*Your open interview loops*\n{}", lines.join("\n"))
    }))
}

fn loop_line(l: &InterviewLoop, progress: &LoopProgress, user: &str) -> String {
    let mut roles = Vec::new();
    if user == l.coordinator_id {
        roles.push("coordinator");
    }
    if user == l.hiring_manager_id {
        roles.push("hiring manager");
    }
    let owed: Vec<String> = l
        .stages
        .iter()
        .filter(|s| s.interviewers.iter().any(|u| u == user))
        .filter(|s| !progress.has_submitted(s.position, user) && l.skip_of(s.position).is_none())
        .map(|s| match s.interview_at {
            Some(at) => format!("{} (interview {})", s.name, date_time(at)),
            None => format!("{} (not scheduled yet)", s.name),
        })
        .collect();
    if l.stages
        .iter()
        .any(|s| s.interviewers.iter().any(|u| u == user))
    {
        roles.push("interviewer");
    }
    let channel = l
        .channel_id
        .as_deref()
        .map(channel_link)
        .unwrap_or_else(|| "(channel being set up)".into());
    let mut line = format!(
        "• *{}* · {} · {} · you are {}",
        escape(&l.candidate_name),
        escape(&l.role),
        channel,
        roles.join(", ")
    );
    if !owed.is_empty() {
        line.push_str(&format!(
            "\n    You owe a scorecard for: {}",
            owed.join("; ")
        ));
    }
    line
}
