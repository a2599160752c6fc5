//! `loopbot migrate-to-postgres`: an installation that ran on SQLite moves to PostgreSQL and
//! goes on there, with every loop, scorecard, draft and queued job. Needs a PostgreSQL server
//! (LOOPBOT_TEST_DATABASE_URL, as `scripts/test-postgres` sets it); skipped without one.

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use loopbot::cli::UsageError;
use loopbot::cli::migrate_to_postgres::migrate;
use loopbot::db;
use slack_sim::client::FormValues;
use sqlx::Row;

use crate::helpers::*;

/// The PostgreSQL server, or a note that the test is skipped.
fn server_or_skip(test: &str) -> Option<String> {
    let server = postgres_server();
    if server.is_none() {
        eprintln!(
            "{test}: skipped, LOOPBOT_TEST_DATABASE_URL names no PostgreSQL server (scripts/test-postgres runs it)"
        );
    }
    server
}

/// Every table's rows (each value as `i:…`, `s:…` or `null`), sorted, by table: the whole
/// content of a database, to compare SQLite's with PostgreSQL's.
async fn contents(db: &db::Db, tables: &[(String, Vec<String>)]) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    for (table, columns) in tables {
        let sql = format!("SELECT {} FROM {table}", columns.join(", "));
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(db)
            .await
            .unwrap();
        let mut lines: Vec<String> = rows
            .iter()
            .map(|row| {
                (0..columns.len())
                    .map(|i| match row.try_get::<Option<i64>, _>(i) {
                        Ok(Some(n)) => format!("i:{n}"),
                        Ok(None) => "null".to_string(),
                        Err(_) => match row.try_get::<Option<String>, _>(i).unwrap() {
                            Some(s) => format!("s:{s:?}"),
                            None => "null".to_string(),
                        },
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect();
        lines.sort();
        all.insert(table.clone(), lines);
    }
    all
}

/// The tables of a SQLite database and their columns, as its catalog says.
async fn sqlite_tables(db: &db::Db) -> Vec<(String, Vec<String>)> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master
          WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'
          ORDER BY name",
    )
    .fetch_all(db)
    .await
    .unwrap();
    let mut tables = Vec::new();
    for name in names {
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
            .bind(&name)
            .fetch_all(db)
            .await
            .unwrap();
        tables.push((name, columns));
    }
    tables
}

fn loopbot_binary(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_loopbot"))
        .env_clear()
        .args(args)
        .output()
        .unwrap()
}

/// The standard loop with two scorecard versions, a second stage's scorecard, a draft, a
/// skip, App Home viewers; and a second loop whose provisioning is still queued.
async fn a_busy_installation(world: &World, app: &TestApp) {
    provisioned(world, app).await;
    let opened = |user: &str| serde_json::json!({"type": "app_home_opened", "user": user, "channel": "D0", "tab": "home", "event_ts": "1.0"});
    app.slack.event("EvM1", opened(SCREENER)).await;
    app.slack.event("EvM2", opened(COORDINATOR)).await;
    submit_stage(world, app, SCREENER, 1, "3").await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    // Edited: a second version of the screener's scorecard.
    submit_stage(world, app, SCREENER, 1, "4").await;
    submit_stage(world, app, DESIGNER, 2, "2").await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    // Cody types half a scorecard and closes the form: a draft.
    let coding = press_stage(world, app, CODER, 3).await;
    let typed = FormValues::new().text("evidence", "Paired on the rate limiter; half-way");
    app.slack
        .close_view(CODER, &coding.id, &typed)
        .await
        .expect("the form asks to be told when it closes");
    let channel = loop_channel(world);
    app.slack
        .command(COORDINATOR, &channel.id, "skip values Hiring freeze")
        .await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    // A second loop, started, its provisioning not run yet.
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Grace Hopper")
        .await;
    let view = latest_view(world, COORDINATOR);
    let form = full_start_form().text("candidate", "Grace Hopper");
    assert_eq!(
        app.slack
            .submit_view(COORDINATOR, &view.id, &form)
            .await
            .status(),
        200
    );
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test-postgres runs it"]
async fn an_installation_moves_to_postgres_with_every_scorecard_and_queued_job() {
    let Some(server) = server_or_skip("migrate") else {
        return;
    };
    let mut world = World::with_sqlite().await;
    let app = world.spawn_app().await;
    a_busy_installation(&world, &app).await;
    let sqlite = app.state.db.clone();
    for (table, at_least) in [
        ("loops", 2),
        ("stages", 8),
        ("stage_interviewers", 10),
        ("scorecards", 3),
        ("scorecard_drafts", 1),
        ("stage_skips", 1),
        ("audit_log", 4),
        ("jobs", 5),
        ("slack_receipts", 2),
        ("home_viewers", 2),
        ("reminders", 4),
        ("interview_dms", 2),
    ] {
        let n: i64 =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&sqlite)
                .await
                .unwrap();
        assert!(
            n >= at_least,
            "{table}: {n} rows, expected {at_least} or more"
        );
    }
    let queued_before = db::jobs_admin::pending(&sqlite, Some("queued"))
        .await
        .unwrap();
    assert!(
        queued_before.iter().any(|j| j.kind == "provision_loop"),
        "{queued_before:?}"
    );

    // While `loopbot serve` has the file open, the migration refuses to start.
    let target = fresh_postgres_database(&server).await;
    let err = migrate(&world.sqlite_url(), &target).await.unwrap_err();
    assert!(err.downcast_ref::<UsageError>().is_some(), "{err}");
    assert!(
        err.to_string().contains("is `loopbot serve` still running"),
        "{err}"
    );

    let tables = sqlite_tables(&sqlite).await;
    assert_eq!(tables.len(), 20, "{tables:?}");
    let before = contents(&sqlite, &tables).await;
    let snapshot_before = loopbot::cli::export::load(&sqlite).await.unwrap();
    sqlite.close().await;
    app.stop().await;

    // The operator's command, as the binary runs it.
    let output = loopbot_binary(&[
        "migrate-to-postgres",
        "--from",
        &world.sqlite_url(),
        "--to",
        &target,
    ]);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("Stop every `loopbot serve`"), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), tables.len() + 2, "{stdout}");
    let line = |table: &str| {
        lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(table))
            .unwrap_or_else(|| panic!("a line for {table}: {stdout}"))
            .to_string()
    };
    let scorecards = before["scorecards"].len();
    assert!(
        line("scorecards").contains(&format!("  {scorecards} rows, next id {}", scorecards + 1)),
        "{stdout}"
    );
    assert!(line("loops").contains("  2 rows, next id 3"), "{stdout}");
    assert!(line("scorecard_drafts").contains("  1 row"), "{stdout}");
    assert!(
        stdout.contains("each table has as many rows in PostgreSQL as in SQLite"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Next: set DATABASE_URL={target}")),
        "{stdout}"
    );

    // A second run finds the target full and copies nothing.
    let again = loopbot_binary(&[
        "migrate-to-postgres",
        "--from",
        &world.sqlite_url(),
        "--to",
        &target,
    ]);
    let err = String::from_utf8(again.stderr).unwrap();
    assert_eq!(again.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--to: the PostgreSQL database is not empty (")
            && err.contains("loops: 2 rows")
            && err.contains("nothing was copied"),
        "{err}"
    );

    // The same installation, now on PostgreSQL: every row of every table, ids and all.
    world.database_url = target.clone();
    let app = world.spawn_app().await;
    let pg = app.state.db.clone();
    assert_eq!(db::Backend::of(&pg), db::Backend::Postgres);
    assert_eq!(contents(&pg, &tables).await, before);
    assert_eq!(
        loopbot::cli::export::load(&pg).await.unwrap(),
        snapshot_before
    );
    assert_eq!(
        db::jobs_admin::pending(&pg, Some("queued")).await.unwrap(),
        queued_before
    );

    // What people see: the scorecards are there for the coordinator to read.
    let view = press_view_scorecards(&world, &app, COORDINATOR).await;
    assert_eq!(view.view["title"]["text"], "Scorecards");
    assert!(view.view.to_string().contains(EVIDENCE), "{}", view.view);
    // Cody's draft is restored when the form opens again.
    let coding = press_stage(&world, &app, CODER, 3).await;
    let shown = coding.view.to_string();
    assert!(shown.contains("Restored what you typed"), "{shown}");
    assert!(shown.contains("Paired on the rate limiter"), "{shown}");

    // The queued provisioning runs on PostgreSQL: Grace's channel is made.
    app.run_jobs().await;
    let channels = loop_channels(&world);
    assert_eq!(channels.len(), 2, "{channels:?}");
    assert!(
        channels.iter().any(|c| c.name.contains("grace")),
        "{channels:?}"
    );

    // New rows get fresh ids: a scorecard, a loop, jobs and audit entries after the old ones.
    let old_max_job: i64 = sqlx::query_scalar("SELECT MAX(id) FROM jobs")
        .fetch_one(&pg)
        .await
        .unwrap();
    let r = app
        .slack
        .submit_view(
            CODER,
            &coding.id,
            &filled_scorecard(&coding.view, "3", EVIDENCE),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "");
    let coder_card: i64 = sqlx::query_scalar("SELECT id FROM scorecards WHERE interviewer_id = $1")
        .bind(CODER)
        .fetch_one(&pg)
        .await
        .unwrap();
    assert_eq!(coder_card, scorecards as i64 + 1);
    app.slack
        .command(COORDINATOR, &world.hiring_channel, "start Barbara Liskov")
        .await;
    let view = latest_view(&world, COORDINATOR);
    let form = full_start_form().text("candidate", "Barbara Liskov");
    assert_eq!(
        app.slack
            .submit_view(COORDINATOR, &view.id, &form)
            .await
            .status(),
        200
    );
    let newest: i64 = sqlx::query_scalar("SELECT id FROM loops WHERE candidate_name = $1")
        .bind("Barbara Liskov")
        .fetch_one(&pg)
        .await
        .unwrap();
    assert_eq!(newest, 3);
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
    assert_eq!(loop_channels(&world).len(), 3);
    let new_jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE id > $1")
        .bind(old_max_job)
        .fetch_one(&pg)
        .await
        .unwrap();
    assert!(new_jobs > 0);
    app.stop().await;
}

#[tokio::test]
#[ignore = "PostgreSQL only: scripts/test-postgres runs it"]
async fn a_schema_that_differs_stops_the_copy_before_anything_is_written() {
    let Some(server) = server_or_skip("migrate") else {
        return;
    };
    let world = World::with_sqlite().await;
    let sqlite = db::connect(&world.sqlite_url()).await.unwrap();
    sqlx::query("ALTER TABLE loops ADD COLUMN nickname TEXT")
        .execute(&sqlite)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        .execute(&sqlite)
        .await
        .unwrap();
    sqlx::query("INSERT INTO app_flags (name, value, set_at) VALUES ('a', 'b', 1)")
        .execute(&sqlite)
        .await
        .unwrap();
    sqlite.close().await;
    let target = fresh_postgres_database(&server).await;
    let err = migrate(&world.sqlite_url(), &target)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("column loops.nickname is only in SQLite")
            && err.contains("table notes is only in SQLite")
            && err.contains("nothing was copied"),
        "{err}"
    );
    let pg = db::connect(&target).await.unwrap();
    let flags: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM app_flags")
        .fetch_one(&pg)
        .await
        .unwrap();
    assert_eq!(flags, 0);
    pg.close().await;
}
