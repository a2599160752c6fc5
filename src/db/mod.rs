//! Storage. Every SQL statement lives below this module; functions take an executor (a pool
//! or a transaction) and return domain types.

pub mod audit;
pub mod export;
pub mod flags;
pub mod interview_dms;
pub mod jobs;
pub mod jobs_admin;
pub mod loops;
pub mod progress;
pub mod purge;
pub mod receipts;
pub mod reminders;
pub mod scorecards;

use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub type Db = SqlitePool;

/// Opens (creating if missing) and migrates the database: WAL, a busy timeout, foreign keys on.
pub async fn connect(database_url: &str) -> anyhow::Result<Db> {
    let options = SqliteConnectOptions::from_str(database_url)
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: cannot be used: {e}"))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    // Two connections: SQLite has one writer at a time, and more connections only make
    // writers wait on each other in SQLite's busy handler (measured: slower, with a long tail).
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: cannot open the database: {e}"))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: cannot apply migrations: {e}"))?;
    Ok(pool)
}

/// A transaction that takes the write lock at once (`BEGIN IMMEDIATE`), so a use case that
/// reads, decides and writes cannot interleave with another writer.
pub async fn begin_write(db: &Db) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    db.begin_with("BEGIN IMMEDIATE").await
}

/// 200 from /healthz needs this to answer.
pub async fn ping(db: &Db) -> bool {
    sqlx::query("SELECT 1").execute(db).await.is_ok()
}
