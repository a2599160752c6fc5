//! `loopbot purge`: deletes the candidate data of loops decided before a date, or of one loop
//! (`--loop`, for one candidate's erasure request), in one transaction, keeping what the loop
//! was and how many scorecards each stage had. Then the database is rewritten (`VACUUM`) and
//! its write-ahead log emptied, so the deleted text is gone from the file's free pages too.
//! `LOOPBOT_RETAIN` does the same from `loopbot serve`, for loops decided that long ago.
//!
//! Removed: the candidate's name (replaced by "Purged candidate"), the channel name, the
//! decision's rationale, every scorecard version (evidence, concerns, ratings, red flags) and
//! unsubmitted draft, skip reasons and audit details. Kept: the loop, its role, rubric, people,
//! stages, panels, times, status, the decision with who made it and when, the audit entries
//! themselves, and per stage the number of interviewers who had submitted a scorecard
//! (`scorecards_purged`).

use std::io::Write;

use anyhow::Context;

use crate::clock::UnixMillis;
use crate::db;
use crate::settings::Settings;

/// Who the audit log names for a purge.
pub const ACTOR: &str = "loopbot-cli";

/// `loopbot purge`
#[derive(Debug, Clone, Default, clap::Args)]
#[command(group(
    clap::ArgGroup::new("which")
        .required(true)
        .args(["decided_before", "loop_target"])
))]
pub struct PurgeArgs {
    /// Purge loops decided before this moment: YYYY-MM-DD (midnight UTC) or an RFC 3339 time.
    #[arg(long, value_name = "DATE")]
    pub decided_before: Option<String>,
    /// Purge one loop, decided or not: its number, or its channel's id or name.
    #[arg(long = "loop", value_name = "ID|CHANNEL")]
    pub loop_target: Option<String>,
    /// Do not ask for confirmation.
    #[arg(long)]
    pub yes: bool,
    /// DATABASE_URL
    #[arg(long)]
    pub database_url: Option<String>,
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 time, as unix milliseconds. The error is one
/// line naming the flag.
pub fn parse_date(value: &str) -> anyhow::Result<UnixMillis> {
    let value = value.trim();
    let is_plain_date = value.len() == 10
        && value.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    let parsed = if is_plain_date {
        value
            .parse::<jiff::civil::Date>()
            .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC))
            .map(|z| z.timestamp())
    } else {
        value.parse::<jiff::Timestamp>()
    };
    parsed.map(|t| t.as_millisecond()).map_err(|_| {
        anyhow::Error::new(crate::cli::UsageError(format!(
            "--decided-before: `{value}` is not a date (expected YYYY-MM-DD or an RFC 3339 time such as 2026-01-31T00:00:00Z)"
        )))
    })
}

/// What the operator is told before being asked.
pub fn plan(count: usize, date: &str) -> String {
    format!(
        "{count} loops decided before {date}: candidate names, evidence and scorecards will be deleted; counts are kept."
    )
}

/// Purges every loop decided before `before` that is not purged yet, in one transaction.
/// Returns how many were purged; running it again purges nothing new.
pub async fn purge(db: &db::Db, before: UnixMillis, now: UnixMillis) -> anyhow::Result<usize> {
    let due = db::purge::due(db, before).await?;
    purge_loops(db, &due, ACTOR, now).await
}

/// Purges `loops` in one transaction (`actor` is named in each one's audit log), then
/// rewrites the database so the deleted text is not left in free pages or the WAL. Returns
/// how many were purged (loops purged already are skipped).
pub async fn purge_loops(
    db: &db::Db,
    loops: &[crate::domain::interview_loop::LoopId],
    actor: &str,
    now: UnixMillis,
) -> anyhow::Result<usize> {
    let purged = db::purge::purge_all(db, loops, actor, now).await?;
    if purged > 0 {
        db::scrub_free_pages(db)
            .await
            .context("purged, but could not rewrite the database to clear its free pages")?;
    }
    Ok(purged)
}

/// Reads one line from stdin; an empty or closed stdin reads as "".
async fn read_answer() -> anyhow::Result<String> {
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line).map(|_| line)
    })
    .await?
    .context("stdin")
}

/// `loopbot purge`: says what will be removed, asks unless `--yes`, then purges.
pub async fn run(args: &PurgeArgs, settings: &Settings) -> anyhow::Result<()> {
    let (due, what) = match (&args.decided_before, &args.loop_target) {
        (Some(date), _) => {
            let before = parse_date(date)?;
            let db = db::connect(&settings.database_url).await?;
            let due = db::purge::due(&db, before).await?;
            db.close().await;
            if due.is_empty() {
                eprintln!("No loops decided before {} are left to purge.", date.trim());
                println!("Purged 0 loops.");
                return Ok(());
            }
            let plan = plan(due.len(), date.trim());
            (due, plan)
        }
        (None, Some(target)) => {
            let db = db::connect(&settings.database_url).await?;
            let found = db::purge::find(&db, target).await?;
            let purged = match found {
                Some(id) => db::purge::is_purged(&db, id).await?,
                None => None,
            };
            db.close().await;
            let Some(id) = found else {
                return Err(crate::cli::UsageError(format!(
                    "--loop: no loop `{}` (give its number, or its channel's id or name)",
                    target.trim()
                ))
                .into());
            };
            if purged == Some(true) {
                eprintln!("Loop {id} is purged already.");
                println!("Purged 0 loops.");
                return Ok(());
            }
            (
                vec![id],
                format!(
                    "Loop {id}: the candidate's name, evidence and scorecards will be deleted; counts are kept."
                ),
            )
        }
        (None, None) => {
            return Err(crate::cli::UsageError(
                "give --decided-before DATE or --loop ID|CHANNEL".into(),
            )
            .into());
        }
    };
    eprintln!("{what}");
    if !args.yes {
        eprint!("Type yes to continue: ");
        let _ = std::io::stderr().flush();
        let answer = read_answer().await?;
        if answer.trim() != "yes" {
            println!("Nothing was changed.");
            return Ok(());
        }
    }
    let now = jiff::Timestamp::now().as_millisecond();
    let db = db::connect(&settings.database_url).await?;
    let purged = purge_loops(&db, &due, ACTOR, now).await;
    db.close().await;
    let purged = purged?;
    println!(
        "Purged {purged} loop{}.",
        if purged == 1 { "" } else { "s" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_date_is_midnight_utc() {
        assert_eq!(parse_date("2026-11-23").unwrap(), 1_795_392_000_000);
        assert_eq!(parse_date(" 1970-01-02 ").unwrap(), 86_400_000);
    }

    #[test]
    fn rfc3339_times_with_an_offset_are_accepted() {
        assert_eq!(
            parse_date("2026-11-23T00:00:00Z").unwrap(),
            1_795_392_000_000
        );
        assert_eq!(
            parse_date("2026-11-23T02:00:00+02:00").unwrap(),
            1_795_392_000_000
        );
    }

    #[test]
    fn a_bad_date_names_the_flag_on_one_line() {
        for bad in [
            "yesterday",
            "2026-13-01",
            "2026-02-30",
            "23/11/2026",
            "2026-11-23T00:00",
            "",
        ] {
            let err = parse_date(bad).unwrap_err().to_string();
            assert!(err.starts_with("--decided-before: "), "{bad}: {err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
}
