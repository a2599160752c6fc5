//! One write to an ATS, made once. The `ats_writes` ledger is marked `sending` (committed)
//! before the call and `written` after: a run that finds `written` does nothing, and one that
//! finds `sending` (an earlier answer was lost, or the process died) first asks the ATS whether
//! the write is there (Ashby `applicationFeedback.list`; Greenhouse: a note carrying the
//! write's reference line) and only writes when it is not.

use crate::ats::{Ats, AtsError, AtsKind, FeedbackWrite, NoteWrite};
use crate::db;
use crate::db::ats_writes::WriteState;
use crate::domain::ats_writeback as render;
use crate::jobs::JobError;
use crate::state::AppState;

/// One write, as the ATS takes it.
pub enum Write {
    Note(NoteWrite),
    Feedback(FeedbackWrite),
}

/// Writes once: asks the ATS first when an earlier run may have written (ledger `sending`),
/// marks `sending` before the call and `written` after.
pub async fn write_once(
    state: &AppState,
    kind: AtsKind,
    key: &str,
    write: &Write,
) -> Result<(), JobError> {
    match kind {
        AtsKind::Ashby => match &state.ats.ashby {
            Some(client) => send(state, client, key, write).await,
            None => Err(JobError::Permanent("the Ashby adapter is off".into())),
        },
        AtsKind::Greenhouse => match &state.ats.greenhouse {
            Some(client) => send(state, client, key, write).await,
            None => Err(JobError::Permanent("the Greenhouse adapter is off".into())),
        },
    }
}

async fn send(
    state: &AppState,
    client: &impl Ats,
    key: &str,
    write: &Write,
) -> Result<(), JobError> {
    let reference = render::note_reference(key);
    if db::ats_writes::state(&state.db, key).await? == Some(WriteState::Sending) {
        let there = match write {
            Write::Note(n) => client.has_note(n, &reference).await,
            Write::Feedback(f) => client.has_feedback(f).await,
        };
        match there {
            Ok(true) => {
                tracing::info!(
                    write = key,
                    "the ATS already has this write; not writing it again"
                );
                db::ats_writes::mark_written(&state.db, key, None, state.clock.now_ms()).await?;
                return Ok(());
            }
            Ok(false) | Err(AtsError::NotSupported) => {}
            Err(e) => return Err(JobError::Ats(e)),
        }
    }
    db::ats_writes::mark_sending(&state.db, key, client.kind().as_str(), state.clock.now_ms())
        .await?;
    let written = match write {
        Write::Note(n) => client.write_note(n).await,
        Write::Feedback(f) => client.write_feedback(f).await,
    };
    written.map_err(JobError::Ats)?;
    db::ats_writes::mark_written(&state.db, key, None, state.clock.now_ms()).await?;
    tracing::info!(
        ats = client.kind().as_str(),
        write = key,
        "written back to the ATS"
    );
    Ok(())
}
