//! `loopbot backup PATH`: a consistent copy of the database, taken while `loopbot serve` runs.
//!
//! SQLite's `VACUUM INTO` reads the database in one read transaction (WAL mode lets writers go
//! on meanwhile) and writes a compact, standalone file with everything committed when it began:
//! never a torn copy, and no `-wal` file to carry along. The copy is written beside the target
//! and renamed, so `PATH` is either the old file or the whole new one.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::db;
use crate::settings::Settings;

/// `loopbot backup`
#[derive(Debug, Clone, clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy (a file; an existing one is replaced only with --force).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Replace PATH if it exists.
    #[arg(long)]
    pub force: bool,
    /// DATABASE_URL
    #[arg(long)]
    pub database_url: Option<String>,
}

/// Writes a consistent copy of `db` to `path` (replacing it when `force`); returns its size.
pub async fn backup(db: &db::Db, path: &Path, force: bool) -> anyhow::Result<u64> {
    if db::Backend::of(db) == db::Backend::Postgres {
        return Err(crate::cli::UsageError(
            "DATABASE_URL is PostgreSQL: back it up with pg_dump --format=custom (see docs/operating.md)"
                .to_string(),
        )
        .into());
    }
    if path.exists() && !force {
        return Err(crate::cli::UsageError(format!(
            "{}: already exists (add --force to replace it)",
            path.display()
        ))
        .into());
    }
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    let target = partial
        .to_str()
        .context("the backup path must be valid UTF-8")?;
    db::backup_into(db, target)
        .await
        .with_context(|| format!("cannot write the backup to {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot move the backup to {}", path.display()))?;
    Ok(std::fs::metadata(path)?.len())
}

/// `loopbot backup PATH`
pub async fn run(args: &BackupArgs, settings: &Settings) -> anyhow::Result<()> {
    let db = db::connect(&settings.database_url).await?;
    let result = backup(&db, &args.path, args.force).await;
    db.close().await;
    let bytes = result?;
    println!(
        "Wrote a consistent copy of the database to {} ({bytes} bytes).",
        args.path.display()
    );
    Ok(())
}
