//! `loopbot jobs`: the outbound Slack work in the `jobs` table as an operator needs it. `list`
//! (the default) shows what is queued, running or failed; `retry` puts failed jobs back in the
//! queue, where a running `loopbot serve` picks them up on its next tick.
//!
//! Rendering is pure ([`table`], [`json`]); [`run`] reads or writes the database named by the
//! settings and prints to stdout.

use std::collections::HashSet;
use std::io::Write;

use anyhow::Context;
use serde::Serialize;

use crate::cli::export::rfc3339;
use crate::clock::UnixMillis;
use crate::db;
use crate::db::jobs_admin::{PendingJob, RequeuedJob};
use crate::settings::Settings;

/// Longest last error shown in the table, in characters; `--json` has it whole.
pub const ERROR_WIDTH: usize = 100;

/// `loopbot jobs`
#[derive(Debug, Clone, Default, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct JobsArgs {
    #[command(subcommand)]
    pub command: Option<JobsCommand>,
    /// Without a subcommand: the flags of `list`.
    #[command(flatten)]
    pub list: ListArgs,
}

impl JobsArgs {
    /// `--database-url`, wherever it was given.
    pub fn database_url(&self) -> Option<&String> {
        match &self.command {
            None => self.list.database_url.as_ref(),
            Some(JobsCommand::List(list)) => list.database_url.as_ref(),
            Some(JobsCommand::Retry(retry)) => retry.database_url.as_ref(),
        }
    }
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum JobsCommand {
    /// List queued, running and failed jobs, oldest first (what `loopbot jobs` does alone).
    ///
    /// One line per job: its id, state, kind, loop, attempts, when it runs next (queued), who
    /// holds it and until when (running) or when it failed (failed), and its last error on one
    /// line, clipped. Done jobs are not shown. The last line counts the jobs by state.
    List(ListArgs),
    /// Put failed jobs back in the queue to run now.
    ///
    /// Each job is queued to run at once with its attempts reset to 0 and no lease holder; its
    /// last error is kept (and shown by `loopbot jobs`) until it runs again. A running
    /// `loopbot serve` picks requeued jobs up on its next tick (LOOPBOT_TICK at most). All ids
    /// are requeued in one transaction; an id that does not exist or is not failed is reported
    /// and makes the command exit with 1, but the other ids are still requeued.
    Retry(RetryArgs),
}

/// `loopbot jobs list`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ListArgs {
    /// Only the jobs in this state.
    #[arg(long, value_enum)]
    pub state: Option<State>,
    /// Print a JSON array of jobs (times as RFC 3339 and unix milliseconds) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// DATABASE_URL
    #[arg(long)]
    pub database_url: Option<String>,
}

/// `loopbot jobs retry`
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RetryArgs {
    /// Ids of failed jobs, as `loopbot jobs` lists them.
    #[arg(
        value_name = "ID",
        required_unless_present = "all_failed",
        conflicts_with = "all_failed",
        value_parser = clap::value_parser!(i64).range(1..)
    )]
    pub ids: Vec<i64>,
    /// Requeue every failed job.
    #[arg(long)]
    pub all_failed: bool,
    /// DATABASE_URL
    #[arg(long)]
    pub database_url: Option<String>,
}

/// The states `loopbot jobs` shows (done jobs are not shown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum State {
    Queued,
    Running,
    Failed,
}

impl State {
    pub const ALL: [State; 3] = [State::Queued, State::Running, State::Failed];

    pub fn name(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Failed => "failed",
        }
    }
}

/// `loopbot jobs`: lists or retries, as the flags say.
pub async fn run(args: &JobsArgs, settings: &Settings) -> anyhow::Result<()> {
    let db = db::connect(&settings.database_url).await?;
    let result = match &args.command {
        None => list(&db, &args.list).await,
        Some(JobsCommand::List(list_args)) => list(&db, list_args).await,
        Some(JobsCommand::Retry(retry_args)) => retry_command(&db, retry_args).await,
    };
    db.close().await;
    result
}

async fn list(db: &db::Db, args: &ListArgs) -> anyhow::Result<()> {
    let jobs = db::jobs_admin::pending(db, args.state.map(State::name))
        .await
        .context("cannot read the jobs table")?;
    let now = jiff::Timestamp::now().as_millisecond();
    let text = if args.json {
        json(&jobs)?
    } else {
        table(&jobs, args.state, now)
    };
    print(&text)
}

// ---- The table ----

/// The jobs as a table, one line each, a header and a count line; a sentence when there are
/// none. `filter` is the `--state` asked for; `now` tells due and expired times apart. Pure.
pub fn table(jobs: &[PendingJob], filter: Option<State>, now: UnixMillis) -> String {
    let states: Vec<State> = filter.map_or(State::ALL.to_vec(), |s| vec![s]);
    if jobs.is_empty() {
        return format!("No {} work.\n", join_or(&states));
    }
    let header = [
        "ID",
        "STATE",
        "KIND",
        "LOOP",
        "ATTEMPTS",
        "WHEN",
        "LAST ERROR",
    ];
    let rows: Vec<[String; 7]> = jobs
        .iter()
        .map(|job| {
            [
                job.id.to_string(),
                job.state.clone(),
                job.kind.clone(),
                job.loop_id.map_or("-".to_string(), |id| id.to_string()),
                job.attempts.to_string(),
                when(job, now),
                job.last_error
                    .as_deref()
                    .map_or(String::new(), |e| one_line(e, ERROR_WIDTH)),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 7]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push_str("  ");
            }
            out.push_str(cell);
            if i + 1 < cells.len() {
                let pad = widths[i] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        let mut out = out.trim_end().to_string();
        out.push('\n');
        out
    };
    let mut text = line(header);
    for row in &rows {
        text.push_str(&line(row.each_ref().map(String::as_str)));
    }
    let counts: Vec<String> = states
        .iter()
        .map(|state| {
            let n = jobs.iter().filter(|j| j.state == state.name()).count();
            format!("{n} {}", state.name())
        })
        .collect();
    text.push_str(&counts.join(", "));
    text.push('\n');
    text
}

/// "queued, running or failed".
fn join_or(states: &[State]) -> String {
    let names: Vec<&str> = states.iter().map(|s| s.name()).collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// When a queued job runs, who holds a running one, when a failed one failed.
fn when(job: &PendingJob, now: UnixMillis) -> String {
    match job.state.as_str() {
        "queued" if job.run_at <= now => format!("due since {}", seconds(job.run_at)),
        "queued" => format!("runs at {}", seconds(job.run_at)),
        "running" => {
            let holder = job.locked_by.as_deref().unwrap_or("an unknown worker");
            match job.locked_until {
                Some(until) if until <= now => {
                    format!("held by {holder}, lease expired {}", seconds(until))
                }
                Some(until) => format!("held by {holder} until {}", seconds(until)),
                None => format!("held by {holder}"),
            }
        }
        "failed" => format!("failed at {}", seconds(job.updated_at)),
        _ => String::new(),
    }
}

/// RFC 3339 to the second: a table cell has no use for milliseconds.
fn seconds(ms: UnixMillis) -> String {
    rfc3339(ms - ms.rem_euclid(1000))
}

/// On one line (line breaks and runs of white space become one space), at most `max`
/// characters, ending in `…` when clipped.
pub fn one_line(text: &str, max: usize) -> String {
    let flat = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(|c: char| c.is_control(), " ");
    if flat.chars().count() <= max {
        return flat;
    }
    let mut clipped: String = flat.chars().take(max.saturating_sub(1)).collect();
    clipped.truncate(clipped.trim_end().len());
    clipped.push('…');
    clipped
}

// ---- JSON ----

/// One job in `loopbot jobs --json`. Times are RFC 3339 (UTC) with their unix milliseconds
/// beside them (`…_ms`); a time that does not apply to the job's state is `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JobDoc {
    pub id: i64,
    pub state: String,
    pub kind: String,
    pub loop_id: Option<i64>,
    pub attempts: i64,
    /// Queued jobs: when it runs next.
    pub next_run_at: Option<String>,
    pub next_run_at_ms: Option<UnixMillis>,
    /// Running jobs: which worker (`host:pid:…`) holds it, and until when.
    pub locked_by: Option<String>,
    pub locked_until: Option<String>,
    pub locked_until_ms: Option<UnixMillis>,
    /// Failed jobs: when it was given up on.
    pub failed_at: Option<String>,
    pub failed_at_ms: Option<UnixMillis>,
    /// The whole text, not clipped.
    pub last_error: Option<String>,
    pub created_at: String,
    pub created_at_ms: UnixMillis,
}

impl From<&PendingJob> for JobDoc {
    fn from(job: &PendingJob) -> JobDoc {
        let state = job.state.as_str();
        let next_run = (state == "queued").then_some(job.run_at);
        let running = state == "running";
        let locked_until = job.locked_until.filter(|_| running);
        let failed = (state == "failed").then_some(job.updated_at);
        JobDoc {
            id: job.id,
            state: job.state.clone(),
            kind: job.kind.clone(),
            loop_id: job.loop_id,
            attempts: job.attempts,
            next_run_at: next_run.map(rfc3339),
            next_run_at_ms: next_run,
            locked_by: job.locked_by.clone().filter(|_| running),
            locked_until: locked_until.map(rfc3339),
            locked_until_ms: locked_until,
            failed_at: failed.map(rfc3339),
            failed_at_ms: failed,
            last_error: job.last_error.clone(),
            created_at: rfc3339(job.created_at),
            created_at_ms: job.created_at,
        }
    }
}

/// The jobs as a JSON array (`[]` when there are none). Pure.
pub fn json(jobs: &[PendingJob]) -> anyhow::Result<String> {
    let docs: Vec<JobDoc> = jobs.iter().map(JobDoc::from).collect();
    let mut text = serde_json::to_string_pretty(&docs)?;
    text.push('\n');
    Ok(text)
}

// ---- Retry ----

/// What a retry did: the jobs requeued, and why the other ids were not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retried {
    pub requeued: Vec<RequeuedJob>,
    pub refused: Vec<String>,
}

/// Requeues the failed jobs among `ids` (each once, in the order given) in one transaction.
pub async fn retry(db: &db::Db, ids: &[i64], now: UnixMillis) -> anyhow::Result<Retried> {
    let mut seen = HashSet::new();
    let mut retried = Retried::default();
    let mut tx = db::begin_write(db).await?;
    for &id in ids.iter().filter(|id| seen.insert(**id)) {
        if let Some(job) = db::jobs_admin::requeue_failed(&mut *tx, id, now).await? {
            retried.requeued.push(job);
            continue;
        }
        retried
            .refused
            .push(match db::jobs_admin::state_of(&mut *tx, id).await? {
                None => format!("job {id} does not exist"),
                Some(state) => format!("job {id} is {state}, not failed"),
            });
    }
    tx.commit().await?;
    Ok(retried)
}

/// Requeues every failed job in one transaction.
pub async fn retry_all_failed(db: &db::Db, now: UnixMillis) -> anyhow::Result<Vec<RequeuedJob>> {
    let mut tx = db::begin_write(db).await?;
    let requeued = db::jobs_admin::requeue_all_failed(&mut *tx, now).await?;
    tx.commit().await?;
    Ok(requeued)
}

/// "Requeued job 12 (provision_loop, loop 3)."
pub fn requeued_line(job: &RequeuedJob) -> String {
    match job.loop_id {
        Some(loop_id) => format!("Requeued job {} ({}, loop {loop_id}).", job.id, job.kind),
        None => format!("Requeued job {} ({}).", job.id, job.kind),
    }
}

fn pickup_note(count: usize) -> String {
    format!(
        "A running `loopbot serve` picks {} up on its next tick.",
        if count == 1 { "it" } else { "them" }
    )
}

async fn retry_command(db: &db::Db, args: &RetryArgs) -> anyhow::Result<()> {
    let now = jiff::Timestamp::now().as_millisecond();
    let mut text = String::new();
    if args.all_failed {
        let requeued = retry_all_failed(db, now)
            .await
            .context("cannot requeue the failed jobs")?;
        if requeued.is_empty() {
            return print("No failed jobs to retry.\n");
        }
        for job in &requeued {
            text.push_str(&requeued_line(job));
            text.push('\n');
        }
        let n = requeued.len();
        text.push_str(&format!(
            "Requeued {n} failed job{}. {}\n",
            if n == 1 { "" } else { "s" },
            pickup_note(n)
        ));
        return print(&text);
    }
    let retried = retry(db, &args.ids, now)
        .await
        .context("cannot requeue the jobs")?;
    for job in &retried.requeued {
        text.push_str(&requeued_line(job));
        text.push('\n');
    }
    if !retried.requeued.is_empty() {
        text.push_str(&pickup_note(retried.requeued.len()));
        text.push('\n');
    }
    print(&text)?;
    if retried.refused.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "not requeued: {} (only failed jobs can be retried; see `loopbot jobs --state failed`)",
            retried.refused.join("; ")
        )
    }
}

fn print(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("stdout")
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn job(id: i64, state: &str) -> PendingJob {
        PendingJob {
            id,
            kind: "provision_loop".into(),
            loop_id: Some(3),
            state: state.into(),
            run_at: 1_000_000,
            attempts: 2,
            locked_by: None,
            locked_until: None,
            last_error: None,
            created_at: 0,
            updated_at: 2_000_000,
        }
    }

    #[test]
    fn errors_are_flattened_and_clipped() {
        assert_eq!(one_line("a\nb\r\n\tc  d", 100), "a b c d");
        let long = "x".repeat(150);
        let clipped = one_line(&long, 100);
        assert_eq!(clipped.chars().count(), 100);
        assert!(clipped.ends_with('…'));
        assert_eq!(one_line(&"é".repeat(100), 100), "é".repeat(100));
    }

    #[test]
    fn the_table_lines_up_and_counts_by_state() {
        let mut running = job(2, "running");
        running.locked_by = Some("web-1:42:0000abcd".into());
        running.locked_until = Some(5_000_500);
        running.loop_id = None;
        let mut failed = job(10, "failed");
        failed.last_error = Some("slack: channel_not_found\nretried 12 times".into());
        let text = table(&[job(1, "queued"), running, failed], None, 3_000_000);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 5, "{text}");
        assert!(lines[0].starts_with("ID  STATE    KIND"), "{text}");
        assert!(
            lines[1].contains("due since 1970-01-01T00:16:40Z"),
            "{text}"
        );
        assert!(
            lines[2].contains("  -  ")
                && lines[2].contains("held by web-1:42:0000abcd until 1970-01-01T01:23:20Z"),
            "{text}"
        );
        assert!(
            lines[3].contains("failed at 1970-01-01T00:33:20Z ")
                && lines[3].ends_with("  slack: channel_not_found retried 12 times"),
            "{text}"
        );
        // The last error starts under LAST ERROR; nothing trails a line without one.
        let error_at = lines[0].find("LAST ERROR").unwrap();
        assert_eq!(lines[3].find("slack:"), Some(error_at), "{text}");
        assert!(lines.iter().all(|l| !l.ends_with(' ')), "{text}");
        let kind_at = lines[0].find("KIND").unwrap();
        assert!(
            lines[1..4]
                .iter()
                .all(|l| l[kind_at..].starts_with("provision_loop"))
        );
        assert_eq!(lines[4], "1 queued, 1 running, 1 failed");
        assert_eq!(table(&[], None, 0), "No queued, running or failed work.\n");
        assert_eq!(table(&[], Some(State::Failed), 0), "No failed work.\n");
        let failed_only = table(&[job(10, "failed")], Some(State::Failed), 0);
        assert!(failed_only.ends_with("\n1 failed\n"), "{failed_only}");
    }

    #[test]
    fn json_has_the_times_that_apply_to_the_state() {
        let docs: Value =
            serde_json::from_str(&json(&[job(1, "queued"), job(2, "failed")]).unwrap()).unwrap();
        assert_eq!(docs[0]["next_run_at"], "1970-01-01T00:16:40Z");
        assert_eq!(docs[0]["next_run_at_ms"], 1_000_000);
        assert_eq!(docs[0]["failed_at"], Value::Null);
        assert_eq!(docs[1]["next_run_at"], Value::Null);
        assert_eq!(docs[1]["failed_at_ms"], 2_000_000);
        assert_eq!(json(&[]).unwrap(), "[]\n");
    }
}
