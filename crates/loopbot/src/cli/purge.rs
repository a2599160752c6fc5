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
//!
//! With `--slack`, the same transaction queues the Slack clean-up of each loop (see
//! [`crate::services::purge`]): this command needs no Slack token; a running `loopbot serve`
//! deletes Loopbot's own messages about the candidate and renames and archives the channel.
//! `--slack` also takes loops purged before (their names are still in Slack).

use std::io::Write;

use anyhow::Context;

use crate::clock::UnixMillis;
use crate::db;
use crate::domain::interview_loop::LoopId;
use crate::services::purge::Purged;
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
    /// Also delete Loopbot's own messages about the candidate in Slack (the channel, its
    /// threads, direct messages) and rename the channel loop-<id>-purged and archive it. A
    /// running `loopbot serve` does it; people's messages are left.
    #[arg(long)]
    pub slack: bool,
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

/// What `--slack` adds to the plan: one line, and one more when channels are archived.
pub fn slack_plan(loops: usize, archived: usize) -> String {
    let mut plan = format!(
        "With --slack, a running `loopbot serve` deletes Loopbot's own messages about {} in Slack (channel, threads, direct messages) and renames the channel loop-<id>-purged and archives it; messages people wrote stay.",
        if loops == 1 {
            "the candidate".to_string()
        } else {
            format!("these {loops} candidates")
        }
    );
    if archived > 0 {
        plan.push_str(&format!(
            "\n{archived} of these channels {} archived: Slack lets no bot rename or unarchive a channel, so {} its name (unarchive it in Slack first, or delete it).",
            if archived == 1 { "is" } else { "are" },
            if archived == 1 { "it keeps" } else { "each keeps" },
        ));
    }
    plan
}

/// The one line that says what was queued for Slack.
pub fn slack_queued(jobs: usize) -> String {
    format!(
        "Queued {jobs} Slack clean-up job{}; a running `loopbot serve` carries {} out.",
        if jobs == 1 { "" } else { "s" },
        if jobs == 1 { "it" } else { "them" }
    )
}

/// Purges every loop decided before `before` that is not purged yet, in one transaction.
/// Returns how many were purged; running it again purges nothing new.
pub async fn purge(db: &db::Db, before: UnixMillis, now: UnixMillis) -> anyhow::Result<usize> {
    let due = db::purge::due(db, before).await?;
    Ok(purge_loops(db, &due, &[], ACTOR, now).await?.loops)
}

/// Purges `loops` and queues the Slack clean-up of `slack_loops`, in one transaction (`actor`
/// is named in each one's audit log), then rewrites the database so the deleted text is not
/// left in free pages or the WAL. Loops purged already are skipped.
pub async fn purge_loops(
    db: &db::Db,
    loops: &[LoopId],
    slack_loops: &[LoopId],
    actor: &str,
    now: UnixMillis,
) -> anyhow::Result<Purged> {
    let purged = crate::services::purge::purge(db, loops, slack_loops, actor, now).await?;
    if purged.loops > 0 {
        db::scrub_free_pages(db)
            .await
            .context("purged, but could not rewrite the database to clear its free pages")?;
    }
    Ok(purged)
}

/// How many of `loops` have an archived channel that does not have its purged name yet.
async fn archived_channels(db: &db::Db, loops: &[LoopId]) -> anyhow::Result<usize> {
    let mut archived = 0;
    for &id in loops {
        if let Some(l) = db::loops::get(db, id).await?
            && l.channel_id.is_some()
            && l.archived_at.is_some()
            && !l
                .channel_name
                .as_deref()
                .is_some_and(|n| n.ends_with("-purged") || n.contains("-purged-"))
        {
            archived += 1;
        }
    }
    Ok(archived)
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

fn purged_line(purged: usize) -> String {
    format!(
        "Purged {purged} loop{}.",
        if purged == 1 { "" } else { "s" }
    )
}

/// `loopbot purge`: says what will be removed, asks unless `--yes`, then purges.
pub async fn run(args: &PurgeArgs, settings: &Settings) -> anyhow::Result<()> {
    let db = db::connect(&settings.database_url).await?;
    let planned = plan_run(args, &db).await;
    db.close().await;
    let Some((due, slack, what)) = planned? else {
        return Ok(());
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
    let purged = purge_loops(&db, &due, &slack, ACTOR, now).await;
    db.close().await;
    let purged = purged?;
    println!("{}", purged_line(purged.loops));
    if args.slack {
        println!("{}", slack_queued(purged.slack_jobs));
    }
    Ok(())
}

/// The loops to purge, the loops whose Slack clean-up to queue, and the plan to show; `None`
/// when there is nothing to do (and that has been said).
async fn plan_run(
    args: &PurgeArgs,
    db: &db::Db,
) -> anyhow::Result<Option<(Vec<LoopId>, Vec<LoopId>, String)>> {
    let nothing = |why: String| {
        eprintln!("{why}");
        println!("{}", purged_line(0));
        if args.slack {
            println!("{}", slack_queued(0));
        }
    };
    let (due, slack, mut what) = match (&args.decided_before, &args.loop_target) {
        (Some(date), _) => {
            let before = parse_date(date)?;
            let due = db::purge::due(db, before).await?;
            let slack = if args.slack {
                db::purge::slack_due(db, before).await?
            } else {
                Vec::new()
            };
            if due.is_empty() && slack.is_empty() {
                nothing(format!(
                    "No loops decided before {} are left to purge.",
                    date.trim()
                ));
                return Ok(None);
            }
            let what = if due.is_empty() {
                format!(
                    "The loops decided before {} are purged already.",
                    date.trim()
                )
            } else {
                plan(due.len(), date.trim())
            };
            (due, slack, what)
        }
        (None, Some(target)) => {
            let found = db::purge::find(db, target).await?;
            let Some(id) = found else {
                return Err(crate::cli::UsageError(format!(
                    "--loop: no loop `{}` (give its number, or its channel's id or name)",
                    target.trim()
                ))
                .into());
            };
            let purged = db::purge::is_purged(db, id).await? == Some(true);
            let slack = if args.slack { vec![id] } else { Vec::new() };
            if purged && !args.slack {
                nothing(format!("Loop {id} is purged already."));
                return Ok(None);
            }
            if purged {
                (Vec::new(), slack, format!("Loop {id} is purged already."))
            } else {
                (
                    vec![id],
                    slack,
                    format!(
                        "Loop {id}: the candidate's name, evidence and scorecards will be deleted; counts are kept."
                    ),
                )
            }
        }
        (None, None) => {
            return Err(crate::cli::UsageError(
                "give --decided-before DATE or --loop ID|CHANNEL".into(),
            )
            .into());
        }
    };
    if args.slack {
        let archived = archived_channels(db, &slack).await?;
        what = format!("{what}\n{}", slack_plan(slack.len(), archived));
    }
    Ok(Some((due, slack, what)))
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
