//! The writers' lane: on SQLite, a use case that takes the process's turn at the one writer
//! runs on a thread of its own, with nothing else to do.
//!
//! While a change holds the turn, every other writer waits, and under load the turn was busy
//! nine tenths of the time. On the shared runtime, each step of the holder (its first trip's
//! answer, its commit's) waited in the queue behind requests being read and checked, and the
//! others waited with it. On the lane the holder goes on as soon as SQLite answers, and SQLite
//! answers on the lane itself: the kept writer's direct connection runs the change's trips
//! there ([`super::direct`]). Measured with `LOAD_MIX=submissions cargo bench --bench load`
//! (docs/performance.md, eighth and ninth runs).
//!
//! On PostgreSQL the future runs where it is: replicas and connections write side by side.

use std::future::Future;
use std::sync::OnceLock;

use super::{Backend, Db};

/// The lane's runtime, started on first use and kept for the life of the process.
static LANE: OnceLock<tokio::runtime::Handle> = OnceLock::new();

fn lane() -> &'static tokio::runtime::Handle {
    LANE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the writers' lane");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("loopbot-writes".into())
            .spawn(move || {
                ON_LANE.set(true);
                runtime.block_on(std::future::pending::<()>())
            })
            .expect("a thread for the writers' lane");
        handle
    })
}

/// How many worker threads the process's runtime gets on `cores` cores, for the database at
/// `database_url`: on SQLite the lane is a thread of its own, and under load it keeps a core
/// busy, so the runtime takes the other cores (at least one); on PostgreSQL there is no lane.
/// On 2 cores one worker beside the lane answered 2–12 % more requests a second than two in
/// every mix (`cargo bench --bench load`, docs/performance.md, tenth run).
pub fn runtime_workers(cores: usize, database_url: Option<&str>) -> usize {
    match database_url.map(Backend::from_url) {
        Some(Backend::Postgres) => cores.max(1),
        _ => cores.saturating_sub(1).max(1),
    }
}

thread_local! {
    static ON_LANE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is the writers' lane: there a SQLite change runs its statements itself
/// ([`super::direct`]), blocking nothing else.
pub fn on_lane() -> bool {
    ON_LANE.get()
}

/// Runs `change` on the writers' lane (SQLite) or here (PostgreSQL), in the caller's span.
/// Once started it runs to its end even if the caller stops waiting, as a committed change
/// would have. A change that panicked is an error.
pub async fn run<F, T>(db: &Db, change: F) -> anyhow::Result<T>
where
    F: Future<Output = anyhow::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    use tracing::Instrument;
    if Backend::of(db) == Backend::Postgres {
        return change.await;
    }
    lane()
        .spawn(change.instrument(tracing::Span::current()))
        .await
        .map_err(|e| anyhow::anyhow!("a change on the writers' lane did not finish: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_runs_on_the_lane_and_a_panic_is_an_error_that_stops_nothing_else() {
        let (_dir, db) = crate::db::tests::temp_sqlite().await;
        let thread = run(&db, async {
            Ok(std::thread::current().name().map(str::to_string))
        })
        .await
        .unwrap();
        assert_eq!(thread.as_deref(), Some("loopbot-writes"));
        let failed = run(&db, async {
            if std::thread::current().name().is_some() {
                panic!("a bug in a change");
            }
            Ok(())
        })
        .await;
        assert!(failed.unwrap_err().to_string().contains("did not finish"));
        let next = run(&db, async { Ok(2 + 2) }).await.unwrap();
        assert_eq!(next, 4, "the lane goes on after a change panicked");
    }

    #[test]
    fn the_runtime_leaves_the_lane_a_core_on_sqlite_only() {
        use super::runtime_workers;
        assert_eq!(runtime_workers(2, None), 1, "SQLite is the default");
        assert_eq!(runtime_workers(2, Some("sqlite://loopbot.db")), 1);
        assert_eq!(runtime_workers(8, Some("sqlite://loopbot.db")), 7);
        assert_eq!(
            runtime_workers(1, Some("sqlite://loopbot.db")),
            1,
            "never none"
        );
        assert_eq!(runtime_workers(2, Some("postgres://db/loopbot")), 2);
        assert_eq!(runtime_workers(0, Some("postgresql://db/loopbot")), 1);
    }

    /// On the lane a change runs on the kept writer's direct connection: committed, it is
    /// there for everyone; dropped half-way, or failed on a repeated key, nothing of it
    /// stays, and the next change goes ahead at once.
    #[tokio::test]
    async fn a_change_on_the_lane_commits_or_leaves_nothing() {
        use crate::db::trip::Trip;
        let (_dir, db) = crate::db::tests::temp_sqlite().await;
        super::super::keep_a_writer(&db).await.unwrap();
        let flag = |name: &str| {
            let mut trip = Trip::new();
            trip.push(
                "INSERT INTO app_flags (name, value, set_at) VALUES ($1, '1', 0)",
                vec![name.into()],
            );
            trip
        };
        let owned = db.clone();
        let outcomes = run(&db, async move {
            let (tx, _) = super::super::begin_write_with(&owned, &[], flag("kept"))
                .await
                .map_err(|f| f.error)?;
            let direct = matches!(tx.inner, Some(super::super::Inner::Direct(_)));
            tx.commit_with(flag("also kept"))
                .await
                .map_err(|f| f.error)?;
            let (tx, _) = super::super::begin_write_with(&owned, &[], flag("dropped"))
                .await
                .map_err(|f| f.error)?;
            drop(tx);
            let mut twice = flag("again");
            twice.append(flag("kept"));
            let repeat = super::super::begin_write_with(&owned, &[], twice)
                .await
                .err()
                .map(|f| (f.at, super::super::receipts::is_repeat(&f.error)));
            Ok((direct, repeat))
        })
        .await
        .unwrap();
        assert_eq!(outcomes, (true, Some((1, true))));
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM app_flags ORDER BY name")
            .fetch_all(&db)
            .await
            .unwrap();
        assert_eq!(names, ["also kept", "kept"]);
    }
}
