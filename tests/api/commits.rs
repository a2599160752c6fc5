//! What the acknowledgement path writes: nothing where the use case changes nothing, one
//! commit where it changes something (the change, its jobs and the request's receipt
//! together). Counted by the database itself, so a write added anywhere on the way in (a
//! statement on the pool, a second transaction) shows:
//! - on SQLite, commits in the write-ahead log (`-wal`): each committed write transaction ends
//!   with one commit frame;
//! - on PostgreSQL, transactions that ran a write statement: test-only triggers on every table
//!   note the transaction's id.

use loopbot::clock::Clock;
use slack_sim::client::FORM;

use crate::helpers::*;

/// Counts committed write transactions in the app's database.
struct WriteCounter {
    postgres: bool,
    wal: std::path::PathBuf,
}

impl WriteCounter {
    async fn install(world: &World, app: &TestApp) -> WriteCounter {
        let postgres = world.on_postgres();
        if postgres {
            install_pg_triggers(app).await;
        }
        WriteCounter {
            postgres,
            wal: world.db_dir.path().join("loopbot.db-wal"),
        }
    }

    async fn count(&self, app: &TestApp) -> i64 {
        if self.postgres {
            app.count("SELECT COUNT(*) FROM test_write_xacts").await
        } else {
            sqlite_commit_frames(&self.wal)
        }
    }
}

/// Commit frames in a SQLite write-ahead log: frames of the current generation (their salt
/// is the header's) whose "database size after commit" field is set.
fn sqlite_commit_frames(wal: &std::path::Path) -> i64 {
    let bytes = std::fs::read(wal).unwrap_or_default();
    if bytes.len() < 32 {
        return 0;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let page_size = match be(&bytes[8..12]) {
        1 => 65_536,
        n => n as usize,
    };
    let salts = &bytes[16..24];
    let mut commits = 0;
    let mut at = 32;
    while at + 24 + page_size <= bytes.len() {
        let frame = &bytes[at..at + 24];
        if &frame[8..16] != salts {
            break;
        }
        if be(&frame[4..8]) != 0 {
            commits += 1;
        }
        at += 24 + page_size;
    }
    commits
}

/// A statement trigger on every table of the app that notes the id of any transaction that
/// writes (a transaction id is only given to one that writes).
async fn install_pg_triggers(app: &TestApp) {
    let db = &app.state.db;
    for sql in [
        "CREATE TABLE test_write_xacts (xid TEXT PRIMARY KEY)",
        "CREATE FUNCTION test_note_write() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             INSERT INTO test_write_xacts VALUES (pg_current_xact_id()::text) ON CONFLICT DO NOTHING;
             RETURN NULL;
         END $$",
    ] {
        sqlx::query(sql).execute(db).await.unwrap();
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables
          WHERE schemaname = current_schema()
            AND tablename NOT IN ('test_write_xacts', '_sqlx_migrations')",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert!(tables.len() > 10, "{tables:?}");
    for table in tables {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE TRIGGER test_note_write AFTER INSERT OR UPDATE OR DELETE ON {table}
             FOR EACH STATEMENT EXECUTE FUNCTION test_note_write()"
        )))
        .execute(db)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn a_form_commits_nothing_and_a_scorecard_commits_once() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    provisioned(&world, &app).await;
    let counter = WriteCounter::install(&world, &app).await;
    let signatures = "SELECT COUNT(*) FROM slack_receipts WHERE receipt_key LIKE 'sig:%'";
    let receipts_before = app.count(signatures).await;
    let before = counter.count(&app).await;

    // `/loop start` opens the form: nothing is written on the way.
    let r = app
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Grace Hopper")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        latest_view(&world, COORDINATOR).view["callback_id"],
        "loop_start"
    );
    // So do a status reply and the scorecard form.
    let channel = loop_channel(&world);
    let r = app.slack.command(COORDINATOR, &channel.id, "status").await;
    assert_eq!(r.status(), 200);
    let view = press_stage(&world, &app, SCREENER, 1).await;
    assert_eq!(
        counter.count(&app).await - before,
        0,
        "opening forms and reading status commit nothing"
    );
    assert_eq!(app.count(signatures).await, receipts_before);

    // The scorecard: one commit, which holds the scorecard, its jobs and the receipt.
    let form = filled_scorecard(&view.view, "4", EVIDENCE);
    let payload = app.slack.submission_payload(SCREENER, &view.id, &form);
    let body = slack_sim::client::SlackSide::interaction_body(&payload);
    let now = world.clock.now_secs();
    let signature = app.slack.signature_for(now, &body);
    let r = app
        .slack
        .post_raw(
            "/slack/interactions",
            FORM,
            &body,
            Some((now, signature.clone())),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM scorecards").await, 1);
    assert_eq!(
        counter.count(&app).await - before,
        1,
        "a scorecard submission commits once"
    );
    assert_eq!(app.count(signatures).await, receipts_before + 1);

    // The same bytes again: refused, and nothing is committed.
    let r = app
        .slack
        .post_raw("/slack/interactions", FORM, &body, Some((now, signature)))
        .await;
    assert_eq!(r.status(), 401);
    assert_eq!(counter.count(&app).await - before, 1);
}

/// A start form looks its people up in Slack (users.info) and caches their time zones: that
/// is written with the new loop, in its one commit.
#[tokio::test]
async fn a_start_form_commits_once_with_what_it_learned_of_its_people() {
    let world = World::new().await;
    let app = world.spawn_app().await;
    let counter = WriteCounter::install(&world, &app).await;
    let before = counter.count(&app).await;
    let r = app
        .slack
        .command(COORDINATOR, &world.hiring_channel, "start Ada Lovelace")
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(counter.count(&app).await - before, 0);
    let view = latest_view(&world, COORDINATOR);
    let r = app
        .slack
        .submit_view(COORDINATOR, &view.id, &full_start_form())
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM loops").await, 1);
    assert!(
        world.sim.calls().iter().any(|c| c.method == "users.info"),
        "the people were looked up"
    );
    assert!(app.count("SELECT COUNT(*) FROM user_profiles").await > 0);
    assert_eq!(
        counter.count(&app).await - before,
        1,
        "the loop, its jobs, its receipt and the time zones: one commit"
    );
}
