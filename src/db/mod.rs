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
    create_private(database_url)?;
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

/// The file of a `sqlite:` URL, unless it is in memory.
fn file_of(database_url: &str) -> Option<&std::path::Path> {
    let rest = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:" && !database_url.contains("mode=memory"))
        .then(|| std::path::Path::new(path))
}

/// A new database file is created readable by its owner only (`0600`): it holds every
/// scorecard's evidence. SQLite gives its `-wal` and `-shm` files the database file's mode.
fn create_private(database_url: &str) -> anyhow::Result<()> {
    let Some(path) = file_of(database_url) else {
        return Ok(());
    };
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(anyhow::anyhow!(
            "DATABASE_URL: cannot create {}: {e}",
            path.display()
        )),
    }
}

/// Writes a consistent, compact copy of the database to the file `path` (`VACUUM INTO`: one
/// read transaction, so writers go on meanwhile). The file is created `0600` first.
pub async fn backup_into(db: &Db, path: &str) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?;
    sqlx::query("VACUUM INTO ?1").bind(path).execute(db).await?;
    Ok(())
}

/// After deleting personal data: rewrites the database so the deleted text is gone from its
/// free pages too, and empties the write-ahead log, which still holds the old pages.
pub async fn scrub_free_pages(db: &Db) -> sqlx::Result<()> {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db)
        .await?;
    sqlx::query("VACUUM").execute(db).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(db)
        .await?;
    Ok(())
}
