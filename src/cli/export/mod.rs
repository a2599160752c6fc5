//! `loopbot export`: every loop with its stages, panels, skips, decision and all scorecard
//! versions, as one JSON document or as flat tables (JSON arrays or RFC 4180 CSV).
//!
//! Building the document and the rows and writing CSV are pure functions over a [`Snapshot`];
//! [`run`] reads the snapshot in one transaction and writes to a file, a folder or stdout.

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

use crate::clock::UnixMillis;
use crate::db;
use crate::db::export::{InterviewerRow, LoopRow, ScorecardRow, SkipRow, StageRow};
use crate::settings::Settings;

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

/// Everything exported, read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub loops: Vec<LoopRow>,
    pub stages: Vec<StageRow>,
    pub interviewers: Vec<InterviewerRow>,
    pub skips: Vec<SkipRow>,
    pub scorecards: Vec<ScorecardRow>,
}

/// Reads the snapshot in one transaction, so the tables agree with each other.
pub async fn load(db: &db::Db) -> sqlx::Result<Snapshot> {
    let mut tx = db.begin().await?;
    let snapshot = Snapshot {
        loops: db::export::loops(&mut *tx).await?,
        stages: db::export::stages(&mut *tx).await?,
        interviewers: db::export::interviewers(&mut *tx).await?,
        skips: db::export::skips(&mut *tx).await?,
        scorecards: db::export::scorecards(&mut *tx).await?,
    };
    tx.commit().await?;
    Ok(snapshot)
}

/// RFC 3339, UTC (`2026-11-23T09:30:00Z`).
pub fn rfc3339(ms: UnixMillis) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_string(),
        Err(_) => ms.to_string(),
    }
}

fn time(ms: Option<UnixMillis>) -> Value {
    ms.map_or(Value::Null, |ms| Value::String(rfc3339(ms)))
}

/// The stored ratings (a JSON object of criterion → score); the raw text if it is not JSON.
fn ratings(stored: &str) -> Value {
    serde_json::from_str(stored).unwrap_or_else(|_| Value::String(stored.to_string()))
}

// ---- The document -------------------------------------------------------------------------

#[derive(Debug, Serialize)]
pub struct Document {
    pub exported_at: String,
    pub loops: Vec<LoopDoc>,
}

#[derive(Debug, Serialize)]
pub struct LoopDoc {
    pub id: i64,
    pub candidate_name: String,
    pub role: String,
    pub rubric_id: String,
    pub status: String,
    pub coordinator_id: String,
    pub hiring_manager_id: String,
    pub channel_id: Option<String>,
    pub channel_name: Option<String>,
    pub created_at: Value,
    pub decision: Option<DecisionDoc>,
    pub purged: bool,
    pub stages: Vec<StageDoc>,
}

#[derive(Debug, Serialize)]
pub struct DecisionDoc {
    pub decision: String,
    pub rationale: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Value,
}

#[derive(Debug, Serialize)]
pub struct StageDoc {
    pub position: u32,
    pub key: String,
    pub name: String,
    pub interview_at: Value,
    pub interviewers: Vec<String>,
    pub skip: Option<SkipDoc>,
    pub scorecards_purged: i64,
    pub scorecards: Vec<ScorecardDoc>,
}

#[derive(Debug, Serialize)]
pub struct SkipDoc {
    pub reason: String,
    pub skipped_by: String,
    pub skipped_at: Value,
}

#[derive(Debug, Serialize)]
pub struct ScorecardDoc {
    pub interviewer_id: String,
    pub version: i64,
    pub overall: i64,
    pub ratings: Value,
    pub evidence: String,
    pub concerns: String,
    pub submitted_at: Value,
    pub current: bool,
}

/// The whole export: loops, each with its decision and stages, each stage with its panel,
/// skip and every scorecard version (`current` marks the latest).
pub fn document(snapshot: &Snapshot, exported_at: UnixMillis) -> Document {
    let loops = snapshot
        .loops
        .iter()
        .map(|l| LoopDoc {
            id: l.id,
            candidate_name: l.candidate_name.clone(),
            role: l.role.clone(),
            rubric_id: l.rubric_id.clone(),
            status: l.status.clone(),
            coordinator_id: l.coordinator_id.clone(),
            hiring_manager_id: l.hiring_manager_id.clone(),
            channel_id: l.channel_id.clone(),
            channel_name: l.channel_name.clone(),
            created_at: time(Some(l.created_at)),
            decision: l.decision.as_ref().map(|decision| DecisionDoc {
                decision: decision.clone(),
                rationale: l.decision_rationale.clone(),
                decided_by: l.decided_by.clone(),
                decided_at: time(l.decided_at),
            }),
            purged: l.purged_at.is_some(),
            stages: snapshot
                .stages
                .iter()
                .filter(|s| s.loop_id == l.id)
                .map(|s| stage_doc(snapshot, s))
                .collect(),
        })
        .collect();
    Document {
        exported_at: rfc3339(exported_at),
        loops,
    }
}

fn stage_doc(snapshot: &Snapshot, s: &StageRow) -> StageDoc {
    let here = |loop_id: i64, position: u32| loop_id == s.loop_id && position == s.position;
    StageDoc {
        position: s.position,
        key: s.stage_key.clone(),
        name: s.name.clone(),
        interview_at: time(s.interview_at),
        interviewers: panel(snapshot, s),
        skip: snapshot
            .skips
            .iter()
            .find(|k| here(k.loop_id, k.position))
            .map(|k| SkipDoc {
                reason: k.reason.clone(),
                skipped_by: k.skipped_by.clone(),
                skipped_at: time(Some(k.skipped_at)),
            }),
        scorecards_purged: s.scorecards_purged,
        scorecards: snapshot
            .scorecards
            .iter()
            .filter(|c| here(c.loop_id, c.position))
            .map(|c| ScorecardDoc {
                interviewer_id: c.interviewer_id.clone(),
                version: c.version,
                overall: c.overall,
                ratings: ratings(&c.ratings),
                evidence: c.evidence.clone(),
                concerns: c.concerns.clone(),
                submitted_at: time(Some(c.submitted_at)),
                current: c.current,
            })
            .collect(),
    }
}

fn panel(snapshot: &Snapshot, s: &StageRow) -> Vec<String> {
    snapshot
        .interviewers
        .iter()
        .filter(|i| i.loop_id == s.loop_id && i.position == s.position)
        .map(|i| i.user_id.clone())
        .collect()
}

// ---- Flat tables --------------------------------------------------------------------------

/// One flat table: its columns and, per row, one value per column.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Value>>,
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn opt_text(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, text)
}

/// The rows of one table. Values are typed (numbers, booleans, null, times as RFC 3339);
/// `interviewers` is an array and `ratings` an object, which CSV writes as space-separated
/// ids and JSON text.
pub fn rows(snapshot: &Snapshot, table: Table) -> Rows {
    match table {
        Table::Loops => Rows {
            columns: &[
                "id",
                "candidate_name",
                "role",
                "rubric_id",
                "status",
                "coordinator_id",
                "hiring_manager_id",
                "channel_id",
                "created_at",
                "purged",
            ],
            rows: snapshot
                .loops
                .iter()
                .map(|l| {
                    vec![
                        l.id.into(),
                        text(&l.candidate_name),
                        text(&l.role),
                        text(&l.rubric_id),
                        text(&l.status),
                        text(&l.coordinator_id),
                        text(&l.hiring_manager_id),
                        opt_text(&l.channel_id),
                        time(Some(l.created_at)),
                        l.purged_at.is_some().into(),
                    ]
                })
                .collect(),
        },
        Table::Stages => Rows {
            columns: &[
                "loop_id",
                "position",
                "key",
                "name",
                "interview_at",
                "interviewers",
                "scorecards_purged",
            ],
            rows: snapshot
                .stages
                .iter()
                .map(|s| {
                    vec![
                        s.loop_id.into(),
                        s.position.into(),
                        text(&s.stage_key),
                        text(&s.name),
                        time(s.interview_at),
                        panel(snapshot, s).into(),
                        s.scorecards_purged.into(),
                    ]
                })
                .collect(),
        },
        Table::Scorecards => Rows {
            columns: &[
                "loop_id",
                "position",
                "interviewer_id",
                "version",
                "current",
                "overall",
                "ratings",
                "evidence",
                "concerns",
                "submitted_at",
            ],
            rows: snapshot
                .scorecards
                .iter()
                .map(|c| {
                    vec![
                        c.loop_id.into(),
                        c.position.into(),
                        text(&c.interviewer_id),
                        c.version.into(),
                        c.current.into(),
                        c.overall.into(),
                        ratings(&c.ratings),
                        text(&c.evidence),
                        text(&c.concerns),
                        time(Some(c.submitted_at)),
                    ]
                })
                .collect(),
        },
        Table::Skips => Rows {
            columns: &["loop_id", "position", "reason", "skipped_by", "skipped_at"],
            rows: snapshot
                .skips
                .iter()
                .map(|k| {
                    vec![
                        k.loop_id.into(),
                        k.position.into(),
                        text(&k.reason),
                        text(&k.skipped_by),
                        time(Some(k.skipped_at)),
                    ]
                })
                .collect(),
        },
        Table::Decisions => Rows {
            columns: &[
                "loop_id",
                "decision",
                "rationale",
                "decided_by",
                "decided_at",
            ],
            rows: snapshot
                .loops
                .iter()
                .filter_map(|l| {
                    let decision = l.decision.as_deref()?;
                    Some(vec![
                        l.id.into(),
                        text(decision),
                        opt_text(&l.decision_rationale),
                        opt_text(&l.decided_by),
                        time(l.decided_at),
                    ])
                })
                .collect(),
        },
    }
}

/// One row as a JSON object, keys in column order.
struct RowObject<'a> {
    columns: &'a [&'static str],
    values: &'a [Value],
}

impl Serialize for RowObject<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.columns.len()))?;
        for (column, value) in self.columns.iter().zip(self.values) {
            map.serialize_entry(column, value)?;
        }
        map.end()
    }
}

impl Serialize for Rows {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.rows.iter().map(|values| RowObject {
            columns: self.columns,
            values,
        }))
    }
}

// ---- CSV ----------------------------------------------------------------------------------

/// One CSV field, quoted (RFC 4180) when it holds a comma, a double quote, CR or LF; quotes
/// inside are doubled.
pub fn csv_field(value: &str) -> Cow<'_, str> {
    if value.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(value)
    }
}

/// How a typed value reads in a CSV cell: null is empty, arrays are space separated, objects
/// are JSON text.
pub fn csv_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(csv_text).collect::<Vec<_>>().join(" "),
        Value::Object(_) => value.to_string(),
    }
}

/// The table as CSV: a header row, then one line per row, each ending in CRLF.
pub fn csv(rows: &Rows) -> String {
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let cells: Vec<Cow<'_, str>> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    line(rows.columns.iter().map(|c| c.to_string()).collect());
    for row in &rows.rows {
        line(row.iter().map(csv_text).collect());
    }
    out
}

// ---- Running ------------------------------------------------------------------------------

/// Checks the flags that do not need the database.
pub fn check(args: &ExportArgs) -> anyhow::Result<()> {
    if args.format == Format::Csv && args.table.is_none() && args.out.is_none() {
        anyhow::bail!(
            "--format csv writes one table to stdout: add --table (loops, stages, scorecards, skips or decisions), or --out DIR to write all five"
        );
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
    std::fs::write(&partial, text)
        .and_then(|()| std::fs::rename(&partial, path))
        .with_context(|| format!("--out: cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_fields_are_not_quoted() {
        assert_eq!(csv_field("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("it's fine; really"), "it's fine; really");
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted_and_quotes_doubled() {
        assert_eq!(csv_field("Lovelace, Ada"), "\"Lovelace, Ada\"");
        assert_eq!(
            csv_field("Ada \"The\" Countess"),
            "\"Ada \"\"The\"\" Countess\""
        );
        assert_eq!(csv_field("line one\nline two"), "\"line one\nline two\"");
        assert_eq!(csv_field("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(csv_field("\""), "\"\"\"\"");
    }

    #[test]
    fn cells_render_nulls_empty_arrays_spaced_and_objects_as_json() {
        assert_eq!(csv_text(&Value::Null), "");
        assert_eq!(csv_text(&true.into()), "true");
        assert_eq!(csv_text(&3.into()), "3");
        assert_eq!(csv_text(&serde_json::json!(["U1", "U2"])), "U1 U2");
        assert_eq!(
            csv_text(&serde_json::json!({"design": 3, "apis": 4})),
            r#"{"apis":4,"design":3}"#
        );
    }

    #[test]
    fn a_table_is_a_header_then_crlf_terminated_rows() {
        let rows = Rows {
            columns: &["a", "b"],
            rows: vec![
                vec!["x, y".into(), Value::Null],
                vec!["say \"hi\"".into(), 2.into()],
            ],
        };
        assert_eq!(csv(&rows), "a,b\r\n\"x, y\",\r\n\"say \"\"hi\"\"\",2\r\n");
        let json = serde_json::to_string(&rows).unwrap();
        assert_eq!(json, r#"[{"a":"x, y","b":null},{"a":"say \"hi\"","b":2}]"#);
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_425_000_000), "2026-11-23T09:10:00Z");
    }

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
