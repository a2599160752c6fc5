//! `loopbot export`: every loop with its stages, panels, skips, decision and all scorecard
//! versions, as one JSON document or as flat tables (JSON arrays or RFC 4180 CSV).
//!
//! Building the document and the rows and writing CSV are pure functions over a [`Snapshot`];
//! [`run`] reads the snapshot in one transaction and writes to a file, a folder or stdout.
//!
//! Here: the flags, [`render`] and writing files. Beside it: `snapshot` (what is read),
//! `document` (the JSON document), `rows` (the flat tables), `csv` (the CSV writer) and
//! `values` (times and ratings as exported).

mod csv;
mod document;
mod rows;
mod snapshot;
mod values;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::clock::UnixMillis;
use crate::db;
use crate::settings::Settings;

pub use csv::{csv, csv_field, csv_text, neutralise_formula};
pub use document::{DecisionDoc, Document, LoopDoc, ScorecardDoc, SkipDoc, StageDoc, document};
pub use rows::{Rows, rows};
pub use snapshot::{Snapshot, load};
pub use values::rfc3339;

/// `loopbot export`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ExportArgs {
    /// `json` (one document, or an array of rows with --table) or `csv` (one table per file).
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// Export one flat table instead of the whole document.
    #[arg(long, value_enum)]
    pub table: Option<Table>,
    /// Write to this file (or, for CSV without --table, into this folder) instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
    /// DATABASE_URL
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Table {
    Loops,
    Stages,
    Scorecards,
    Skips,
    Decisions,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Table::Loops,
        Table::Stages,
        Table::Scorecards,
        Table::Skips,
        Table::Decisions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Table::Loops => "loops",
            Table::Stages => "stages",
            Table::Scorecards => "scorecards",
            Table::Skips => "skips",
            Table::Decisions => "decisions",
        }
    }
}

/// Checks the flags that do not need the database.
pub fn check(args: &ExportArgs) -> anyhow::Result<()> {
    if args.format == Format::Csv && args.table.is_none() && args.out.is_none() {
        return Err(crate::cli::UsageError(
            "--format csv writes one table to stdout: add --table (loops, stages, scorecards, skips or decisions), or --out DIR to write all five".into(),
        )
        .into());
    }
    Ok(())
}

/// What gets written, by destination.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// One text: a file when `--out` is given, stdout otherwise.
    One(String),
    /// Several files (name, text) in the `--out` folder.
    Folder(Vec<(&'static str, String)>),
}

/// Renders the export the flags ask for. Pure.
pub fn render(
    args: &ExportArgs,
    snapshot: &Snapshot,
    exported_at: UnixMillis,
) -> anyhow::Result<Output> {
    check(args)?;
    Ok(match (args.format, args.table) {
        (Format::Json, None) => One(json(&document(snapshot, exported_at))?),
        (Format::Json, Some(table)) => One(json(&rows(snapshot, table))?),
        (Format::Csv, Some(table)) => One(csv(&rows(snapshot, table))),
        (Format::Csv, None) => Output::Folder(
            Table::ALL
                .iter()
                .map(|&t| (file_name(t), csv(&rows(snapshot, t))))
                .collect(),
        ),
    })
}

use Output::One;

fn json(value: &impl Serialize) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}

fn file_name(table: Table) -> &'static str {
    match table {
        Table::Loops => "loops.csv",
        Table::Stages => "stages.csv",
        Table::Scorecards => "scorecards.csv",
        Table::Skips => "skips.csv",
        Table::Decisions => "decisions.csv",
    }
}

/// `loopbot export`: reads the database named by `settings` and writes what `args` ask for.
pub async fn run(args: &ExportArgs, settings: &Settings) -> anyhow::Result<()> {
    check(args)?;
    let db = db::connect(&settings.database_url).await?;
    let snapshot = load(&db).await.context("cannot read the database")?;
    db.close().await;
    let output = render(args, &snapshot, jiff::Timestamp::now().as_millisecond())?;
    write(args.out.as_deref(), output)?;
    tracing::info!(loops = snapshot.loops.len(), "export written");
    Ok(())
}

fn write(out: Option<&Path>, output: Output) -> anyhow::Result<()> {
    match (out, output) {
        (None, One(text)) => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .context("stdout")?;
        }
        (Some(path), One(text)) => write_file(path, &text)?,
        (Some(dir), Output::Folder(files)) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("--out: cannot create folder {}", dir.display()))?;
            for (name, text) in files {
                write_file(&dir.join(name), &text)?;
            }
        }
        (None, Output::Folder(_)) => anyhow::bail!("--out: a folder is needed for all tables"),
    }
    Ok(())
}

/// Writes beside the target, then renames: a reader never sees half a file.
fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    write_private(&partial, text)
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("--out: cannot write {}", path.display()))
}

/// Exports hold every scorecard's evidence: only their owner may read them (`0600`).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    // An older file keeps its mode when opened: make it private too.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_without_a_table_needs_a_folder() {
        let args = ExportArgs {
            format: Format::Csv,
            ..ExportArgs::default()
        };
        let err = check(&args).unwrap_err().to_string();
        assert!(err.contains("--table"), "{err}");
        let folder = ExportArgs {
            out: Some("out".into()),
            ..args
        };
        let Output::Folder(files) = render(&folder, &Snapshot::default(), 0).unwrap() else {
            panic!("expected a folder");
        };
        let names: Vec<_> = files.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "loops.csv",
                "stages.csv",
                "scorecards.csv",
                "skips.csv",
                "decisions.csv"
            ]
        );
    }
}
