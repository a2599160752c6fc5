//! `loopbot export`, `purge` and `jobs` on the database a running app uses: SQLite here, and
//! PostgreSQL when `scripts/test-postgres` runs the suite (`backup` on PostgreSQL is in
//! operations.rs: it names pg_dump).

use std::time::Duration;

use loopbot::cli::export::{ExportArgs, Format, Table};
use loopbot::cli::jobs::{JobsArgs, State};
use loopbot::cli::purge::PurgeArgs;
use loopbot::clock::Clock;
use loopbot::db;
use serde_json::Value;
use slack_sim::client::FormValues;

use crate::helpers::*;

/// The standard loop with the screener's scorecard in two versions and the designer's, and
/// the values stage skipped.
async fn scored_loop(world: &World, app: &TestApp) {
    provisioned(world, app).await;
    submit_stage(world, app, SCREENER, 1, "3").await;
    submit_stage(world, app, SCREENER, 1, "4").await;
    submit_stage(world, app, DESIGNER, 2, "2").await;
    let channel = loop_channel(world);
    app.slack
        .command(COORDINATOR, &channel.id, "skip values Hiring freeze")
        .await;
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
}

/// A second loop, started; its provisioning job is queued and not run.
async fn second_loop(world: &World, app: &TestApp) {
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

/// `/loop decide` in the loop channel as the hiring manager: hire, confirming what is missing.
async fn decide(world: &World, app: &TestApp) {
    let channel = loop_channel(world);
    app.slack
        .command(HIRING_MANAGER, &channel.id, "decide")
        .await;
    let form = latest_view(world, HIRING_MANAGER);
    assert_eq!(form.view["callback_id"], "decide", "{}", form.view);
    let mut values = FormValues::new()
        .option("outcome", "hire")
        .text("rationale", "Ada Lovelace designed the queue well.");
    if form.view.to_string().contains("confirm_missing") {
        values = values.checked("confirm_missing", &["confirm"]);
    }
    let r = app
        .slack
        .submit_view(HIRING_MANAGER, &form.id, &values)
        .await;
    assert!(r.text().await.unwrap().is_empty());
    world.clock.advance(Duration::from_secs(2));
    app.run_jobs().await;
}

#[tokio::test]
async fn export_writes_every_scorecard_version_from_the_apps_database() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    scored_loop(&world, &app).await;
    let settings = world.command_settings();

    let out = world.db_dir.path().join("export.json");
    let args = ExportArgs {
        out: Some(out.clone()),
        ..ExportArgs::default()
    };
    loopbot::cli::export::run(&args, &settings).await.unwrap();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let l = &doc["loops"][0];
    assert_eq!(doc["loops"].as_array().unwrap().len(), 1);
    assert_eq!(l["candidate_name"], "Ada Lovelace");
    let stages = l["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 4);
    let screen = &stages[0]["scorecards"];
    assert_eq!(
        screen.as_array().unwrap().len(),
        2,
        "both versions: {screen}"
    );
    assert_eq!(
        (&screen[0]["version"], &screen[0]["current"]),
        (&Value::from(1), &Value::from(false))
    );
    assert_eq!(
        (&screen[1]["version"], &screen[1]["current"]),
        (&Value::from(2), &Value::from(true))
    );
    assert_eq!(screen[1]["overall"], 4);
    assert_eq!(screen[1]["evidence"], EVIDENCE);
    assert_eq!(stages[1]["scorecards"][0]["interviewer_id"], DESIGNER);
    assert_eq!(
        stages[1]["interviewers"],
        serde_json::json!([DESIGNER, HIRING_MANAGER])
    );
    assert_eq!(stages[3]["skip"]["reason"], "Hiring freeze");

    // One flat table as CSV: a header and a line per version.
    let out = world.db_dir.path().join("scorecards.csv");
    let args = ExportArgs {
        format: Format::Csv,
        table: Some(Table::Scorecards),
        out: Some(out.clone()),
        ..ExportArgs::default()
    };
    loopbot::cli::export::run(&args, &settings).await.unwrap();
    let csv = std::fs::read_to_string(&out).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(csv.contains("sharded queue"), "{csv}");
    app.stop().await;
}

#[tokio::test]
async fn purge_removes_candidate_data_and_keeps_counts_by_date_or_by_loop() {
    let world = World::new().await;
    let app = world.spawn_app_with(NO_BRIEF_OR_NUDGE).await;
    scored_loop(&world, &app).await;
    decide(&world, &app).await;
    second_loop(&world, &app).await;
    app.run_jobs().await;
    let settings = world.command_settings();
    let db = &app.state.db;

    // Loops decided before a date: only Ada's.
    let args = PurgeArgs {
        decided_before: Some("2100-01-01".into()),
        yes: true,
        ..PurgeArgs::default()
    };
    loopbot::cli::purge::run(&args, &settings).await.unwrap();
    let loops: Vec<(i64, String, Option<i64>)> =
        sqlx::query_as("SELECT id, candidate_name, purged_at FROM loops ORDER BY id")
            .fetch_all(db)
            .await
            .unwrap();
    assert_eq!(loops[0].1, "Purged candidate");
    assert!(loops[0].2.is_some());
    assert_eq!((loops[1].1.as_str(), loops[1].2), ("Grace Hopper", None));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM scorecards").await,
        0,
        "every version is gone"
    );
    let counts: Vec<i64> = sqlx::query_scalar(
        "SELECT scorecards_purged FROM stages WHERE loop_id = $1 ORDER BY position",
    )
    .bind(loops[0].0)
    .fetch_all(db)
    .await
    .unwrap();
    assert_eq!(
        counts,
        [1, 1, 0, 0],
        "one interviewer each on stages 1 and 2"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'purged' AND actor_id = 'loopbot-cli'"
        )
        .await,
        1
    );
    // Again: nothing new.
    let before = loopbot::cli::purge::parse_date("2100-01-01").unwrap();
    assert_eq!(
        loopbot::cli::purge::purge(db, before, START_MS)
            .await
            .unwrap(),
        0
    );

    // One loop by its number, its channel's id or its channel's name.
    let grace = loops[1].0;
    let channel = loop_channels(&world)
        .into_iter()
        .find(|c| c.name.contains("grace"))
        .expect("Grace's channel");
    for target in [
        grace.to_string(),
        channel.id.clone(),
        format!("#{}", channel.name),
    ] {
        assert_eq!(
            db::purge::find(db, &target).await.unwrap(),
            Some(grace),
            "{target}"
        );
    }
    assert_eq!(db::purge::find(db, "nobody").await.unwrap(), None);
    let args = PurgeArgs {
        loop_target: Some(format!("#{}", channel.name)),
        yes: true,
        ..PurgeArgs::default()
    };
    loopbot::cli::purge::run(&args, &settings).await.unwrap();
    assert_eq!(db::purge::is_purged(db, grace).await.unwrap(), Some(true));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM loops WHERE candidate_name = 'Purged candidate'")
            .await,
        2
    );
    let unknown = PurgeArgs {
        loop_target: Some("99".into()),
        yes: true,
        ..PurgeArgs::default()
    };
    let err = loopbot::cli::purge::run(&unknown, &settings)
        .await
        .unwrap_err();
    assert!(
        err.downcast_ref::<loopbot::cli::UsageError>().is_some(),
        "{err}"
    );
    app.stop().await;
}

#[tokio::test]
async fn jobs_lists_queued_and_failed_work_and_retries_it() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    second_loop(&world, &app).await;
    let db = &app.state.db;
    let now = world.clock.now_ms();

    let queued = db::jobs_admin::pending(db, Some("queued")).await.unwrap();
    let provision = queued
        .iter()
        .find(|j| j.kind == "provision_loop")
        .unwrap_or_else(|| panic!("Grace's provisioning is queued: {queued:?}"))
        .clone();
    db::jobs::give_up(db, provision.id, "slack: ratelimited\nafter 12 tries", now)
        .await
        .unwrap();

    let all = db::jobs_admin::pending(db, None).await.unwrap();
    assert!(
        all.iter()
            .any(|j| j.id == provision.id && j.state == "failed")
    );
    let failed = db::jobs_admin::pending(db, Some("failed")).await.unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    let table = loopbot::cli::jobs::table(&failed, Some(State::Failed), now);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[1].starts_with(&format!("{} ", provision.id))
            && lines[1].contains("provision_loop")
            && lines[1].ends_with("slack: ratelimited after 12 tries"),
        "{table}"
    );
    assert_eq!(lines[2], "1 failed");
    let docs: Value = serde_json::from_str(&loopbot::cli::jobs::json(&failed).unwrap()).unwrap();
    assert_eq!(docs[0]["failed_at_ms"], now);
    assert_eq!(docs[0]["last_error"], "slack: ratelimited\nafter 12 tries");
    // The command itself, as `loopbot jobs` runs it.
    loopbot::cli::jobs::run(&JobsArgs::default(), &world.command_settings())
        .await
        .unwrap();

    let retried = loopbot::cli::jobs::retry(db, &[provision.id, 999_999], now)
        .await
        .unwrap();
    assert_eq!(retried.requeued.len(), 1);
    assert_eq!(retried.requeued[0].id, provision.id);
    assert_eq!(retried.refused, ["job 999999 does not exist"]);
    assert!(
        loopbot::cli::jobs::retry_all_failed(db, now)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db::jobs_admin::state_of(db, provision.id)
            .await
            .unwrap()
            .as_deref(),
        Some("queued")
    );
    // The requeued job runs: Grace's channel is made.
    app.run_jobs().await;
    assert_eq!(loop_channels(&world).len(), 2);
    assert_eq!(
        db::jobs_admin::state_of(db, provision.id)
            .await
            .unwrap()
            .as_deref(),
        Some("done")
    );
    app.stop().await;
}
