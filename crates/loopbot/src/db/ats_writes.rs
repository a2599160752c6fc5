//! The ledger of writes back to an ATS (`ats_writes`): `sending` before the call, `written`
//! after, so a repeated run writes nothing twice (see `services::ats_writeback`).

use sqlx::AnyExecutor;

use crate::clock::UnixMillis;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteState {
    /// A run called the ATS and did not hear back (or crashed): the write may be there.
    Sending,
    Written,
}

pub async fn state(db: impl AnyExecutor<'_>, write_key: &str) -> sqlx::Result<Option<WriteState>> {
    let state: Option<String> =
        sqlx::query_scalar("SELECT state FROM ats_writes WHERE write_key = $1")
            .bind(write_key)
            .fetch_optional(db)
            .await?;
    Ok(state.map(|s| {
        if s == "written" {
            WriteState::Written
        } else {
            WriteState::Sending
        }
    }))
}

/// Records that a run is about to call the ATS (committed before the call).
pub async fn mark_sending(
    db: impl AnyExecutor<'_>,
    write_key: &str,
    ats: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO ats_writes (write_key, ats, state, sent_at) VALUES ($1, $2, 'sending', $3)
         ON CONFLICT (write_key) DO NOTHING",
    )
    .bind(write_key)
    .bind(ats)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn mark_written(
    db: impl AnyExecutor<'_>,
    write_key: &str,
    ats_ref: Option<&str>,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE ats_writes SET state = 'written', ats_ref = $2, written_at = $3
          WHERE write_key = $1",
    )
    .bind(write_key)
    .bind(ats_ref)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}
