//! `cargo bench --bench sweep`: the reminder sweep over 100,000 open stages (target: at most
//! 100 ms). Seeds a SQLite file, then times the idle sweep (nothing due: the usual tick) and a
//! sweep that claims and queues a batch of due reminders.

use std::time::{Duration, Instant};

use loopbot::clock::ManualClock;
use loopbot::settings::{Needs, RawSettings, Settings};
use loopbot::state::AppState;

const LOOPS: i64 = 25_000;
const STAGES: i64 = 4;
const NOW: i64 = 1_795_424_400_000;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    loopbot::install_crypto_provider();
    let dir = tempfile::tempdir()?;
    let raw: RawSettings = [
        ("SLACK_SIGNING_SECRET", "bench0signing0secret0value"),
        ("SLACK_BOT_TOKEN", "xoxb-bench"),
        ("SLACK_API_URL", "http://127.0.0.1:9/api"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([(
        "DATABASE_URL".to_string(),
        format!("sqlite://{}/bench.db", dir.path().display()),
    )])
    .collect();
    let mut settings = Settings::parse(&raw, Needs::Slack)?;
    settings.run_worker = false;
    settings.pace_outbound = false;
    let clock = ManualClock::starting_at(NOW);
    let state = AppState::new(settings, clock.clone()).await?;

    let seeded = Instant::now();
    let mut tx = state.db.begin().await?;
    for id in 1..=LOOPS {
        sqlx::query(
            "INSERT INTO loops (id, source_view_id, candidate_name, rubric_id, role, coordinator_id,
                                hiring_manager_id, status, created_at, updated_at)
             VALUES (?1, 'V' || ?1, 'Candidate', 'senior-backend', 'Senior Backend Engineer', 'UC', 'UH', 'open', 0, 0)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        for position in 1..=STAGES {
            sqlx::query("INSERT INTO stages (loop_id, position, stage_key, name) VALUES (?1, ?2, 'k', 'Stage')")
                .bind(id)
                .bind(position)
                .execute(&mut *tx)
                .await?;
            // Due times spread over the next 30 days; 500 of them are already due.
            let due = if id * STAGES + position <= 500 + STAGES {
                NOW - 1_000
            } else {
                NOW + (id * 97 + position) % (30 * 86_400) * 1000
            };
            sqlx::query("INSERT INTO reminders (loop_id, position, user_id, due_at, next_at) VALUES (?1, ?2, 'U' || ?1, ?3, ?3)")
                .bind(id)
                .bind(position)
                .bind(due)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(&state.db).await?;
    println!(
        "seeded {} open stages in {:?}",
        LOOPS * STAGES,
        seeded.elapsed()
    );

    // The usual tick: nothing due yet (measured one hour in the past).
    let mut idle = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let rows = loopbot::db::reminders::due(&state.db, NOW - 3_600_000, 500).await?;
        idle.push(t.elapsed());
        assert!(rows.is_empty());
    }
    println!(
        "due query, nothing due, 100,000 open stages: median {:?} (target <= 100 ms)",
        median(idle)
    );

    let t = Instant::now();
    let queued = loopbot::services::reminders::sweep(&state).await?;
    println!(
        "full sweep claiming and queueing {queued} due reminders: {:?} (target <= 100 ms)",
        t.elapsed()
    );
    Ok(())
}
