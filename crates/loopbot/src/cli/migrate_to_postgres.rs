//! `loopbot migrate-to-postgres --from sqlite://PATH --to postgres://…`: moves an installation
//! from its SQLite file into an empty PostgreSQL database, every table and row, ids kept.
//!
//! Stop `loopbot serve` first and take a `loopbot backup`: the copy refuses to start while the
//! SQLite file is open elsewhere, and holds it locked until it is done. The SQLite file is
//! migrated to this build's schema, then copied in one PostgreSQL transaction that commits only
//! when every table has as many rows on both sides (see [`crate::db::transfer`]). The SQLite
//! file is left as it was (but for the migrations): it is the way back.

use std::path::Path;

use crate::cli::UsageError;
use crate::db;
use crate::db::transfer::{Copied, Refusal};

/// `loopbot migrate-to-postgres`
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    /// The installation's SQLite database, as its DATABASE_URL names it.
    #[arg(long, value_name = "sqlite://PATH")]
    pub from: String,
    /// An empty PostgreSQL database (create it first, e.g. with `createdb`). Without a
    /// password in the URL, PGPASSWORD or ~/.pgpass gives it (and it stays out of `ps`).
    #[arg(long, value_name = "postgres://USER:PASSWORD@HOST/DATABASE")]
    pub to: String,
}

/// What the operator is told before anything happens (on stderr).
pub const STOP_SERVE_FIRST: &str = "Stop every `loopbot serve` on this installation first, and take a `loopbot backup`: \
     work done by a running bot after the copy would stay behind in SQLite.";

/// Checks the URLs, copies, and returns the tables copied (in the order they were copied).
/// A URL of the wrong kind, a missing file, a file in use or a target that is not empty is a
/// [`UsageError`] naming the flag.
pub async fn migrate(from: &str, to: &str) -> anyhow::Result<Vec<Copied>> {
    let path = sqlite_path(from)?;
    if db::Backend::from_url(to) != db::Backend::Postgres {
        return Err(usage(format!(
            "--to: `{}` is not a PostgreSQL URL (expected postgres://user:password@host/database)",
            redact(to)
        )));
    }
    let mut source = db::transfer::open_sqlite_alone(path)
        .await
        .map_err(|e| refusal_as_usage(e, "--from"))?;
    let result = async {
        let target = db::connect_as(to, "--to").await?;
        let copied = db::transfer::copy_to_postgres(&mut source, &target).await;
        target.close().await;
        copied
    }
    .await;
    source.close().await?;
    result.map_err(|e| refusal_as_usage(e, "--to"))
}

/// The file of `--from`, which must be a SQLite URL naming a file that exists.
fn sqlite_path(from: &str) -> anyhow::Result<&Path> {
    if !from.starts_with("sqlite:") {
        return Err(usage(format!(
            "--from: `{}` is not a SQLite URL (expected sqlite://PATH, as DATABASE_URL names it)",
            redact(from)
        )));
    }
    let Some(path) = db::file_of(from) else {
        return Err(usage(format!(
            "--from: `{from}` names no file (an in-memory database cannot be moved)"
        )));
    };
    if !path.is_file() {
        return Err(usage(format!(
            "--from: {}: no such file (give the path DATABASE_URL names, e.g. sqlite:///var/lib/loopbot/loopbot.db)",
            path.display()
        )));
    }
    Ok(path)
}

fn usage(message: String) -> anyhow::Error {
    UsageError(message).into()
}

fn refusal_as_usage(e: anyhow::Error, flag: &str) -> anyhow::Error {
    match e.downcast_ref::<Refusal>() {
        Some(Refusal::SourceInUse(_)) => usage(format!("{flag}: {e}")),
        Some(Refusal::TargetNotEmpty(_)) => usage(format!(
            "{flag}: {e}; nothing was copied. Give an empty database (e.g. `createdb loopbot_new`)"
        )),
        None => e,
    }
}

/// A URL without its password, for messages.
pub fn redact(database_url: &str) -> String {
    match url::Url::parse(database_url) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => database_url.to_string(),
    }
}

/// One line a table, then a line of totals. Pure.
pub fn summary(copied: &[Copied]) -> String {
    let width = copied.iter().map(|c| c.table.len()).max().unwrap_or(0);
    let mut text = String::new();
    for c in copied {
        let next = c
            .next_id
            .map_or(String::new(), |id| format!(", next id {id}"));
        text.push_str(&format!(
            "{:width$}  {} row{}{next}\n",
            c.table,
            c.rows,
            if c.rows == 1 { "" } else { "s" }
        ));
    }
    let total: i64 = copied.iter().map(|c| c.rows).sum();
    text.push_str(&format!(
        "Copied {total} rows in {} tables; each table has as many rows in PostgreSQL as in SQLite.\n",
        copied.len()
    ));
    text
}

/// `loopbot migrate-to-postgres`
pub async fn run(args: &MigrateArgs) -> anyhow::Result<()> {
    eprintln!("{STOP_SERVE_FIRST}");
    let copied = migrate(&args.from, &args.to).await?;
    print!("{}", summary(&copied));
    println!(
        "Next: set DATABASE_URL={} and start `loopbot serve`. Keep {} as it is: it is the way back.",
        redact(&args.to),
        args.from
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_has_a_line_a_table_and_the_total() {
        let text = summary(&[
            Copied {
                table: "loops".into(),
                rows: 2,
                next_id: Some(3),
            },
            Copied {
                table: "stage_skips".into(),
                rows: 1,
                next_id: None,
            },
        ]);
        assert_eq!(
            text,
            "loops        2 rows, next id 3\n\
             stage_skips  1 row\n\
             Copied 3 rows in 2 tables; each table has as many rows in PostgreSQL as in SQLite.\n"
        );
    }

    #[test]
    fn passwords_are_not_repeated() {
        assert_eq!(
            redact("postgres://loopbot:s3cret@db.internal:5432/loopbot"),
            "postgres://loopbot:***@db.internal:5432/loopbot"
        );
        assert_eq!(redact("postgres://db/loopbot"), "postgres://db/loopbot");
    }

    #[tokio::test]
    async fn urls_of_the_wrong_kind_are_usage_errors_naming_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("l.db");
        std::fs::write(&file, b"").unwrap();
        let sqlite = format!("sqlite://{}", file.display());
        for (from, to, flag) in [
            ("postgres://db/x", "postgres://db/y", "--from: "),
            ("sqlite::memory:", "postgres://db/y", "--from: "),
            (
                "sqlite:///nowhere/at/all.db",
                "postgres://db/y",
                "--from: /nowhere/at/all.db: no such file",
            ),
            (sqlite.as_str(), "sqlite://other.db", "--to: "),
            (sqlite.as_str(), "mysql://u:pw@db/x", "--to: "),
        ] {
            let err = migrate(from, to).await.unwrap_err();
            assert!(
                err.downcast_ref::<UsageError>().is_some(),
                "{from} {to}: {err}"
            );
            let text = err.to_string();
            assert!(text.starts_with(flag), "{text}");
            assert!(!text.contains("pw@"), "{text}");
        }
    }
}
