//! Process-wide switches kept in the database, such as "outbound work is paused because the
//! app was uninstalled".

use sqlx::AnyExecutor;

use crate::clock::UnixMillis;

pub const OUTBOUND_PAUSED: &str = "outbound_paused";

pub async fn get(db: impl AnyExecutor<'_>, name: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT value FROM app_flags WHERE name = $1")
        .bind(name)
        .fetch_optional(db)
        .await
}

pub async fn set(
    db: impl AnyExecutor<'_>,
    name: &str,
    value: &str,
    now: UnixMillis,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO app_flags (name, value, set_at) VALUES ($1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value, set_at = excluded.set_at",
    )
    .bind(name)
    .bind(value)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn clear(db: impl AnyExecutor<'_>, name: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM app_flags WHERE name = $1")
        .bind(name)
        .execute(db)
        .await?;
    Ok(())
}
