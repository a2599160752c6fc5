//! SQLite on the calling thread: a connection that runs a [`Trip`]'s statements where it is
//! called, through the SQLite library sqlx already builds (rusqlite, on the same
//! libsqlite3-sys).
//!
//! sqlx runs each SQLite connection on a thread of its own and hands every statement's answer
//! back through a channel: a change's trips woke the caller about nine times (a statement's
//! answer each), every wake-up a cross-core signal, while the change held the process's one
//! writer. The same statements run here in one go. SQLite's own work for a scorecard's change
//! is 50–80 µs; through the connection's thread it held the writer 340–370 µs
//! (docs/performance.md, ninth run). Only the writers' lane uses it ([`super::lane`]), in its
//! turn at the writer ([`super::Writer`]), so it never blocks the shared runtime.
//!
//! The answers are the same as sqlx's: each statement's rows as sqlx's `AnyRow` (values by
//! their stored type, as sqlx's SQLite driver maps them), and the rows it changed. A failure
//! is a `sqlx::Error::Database` whose kind says what was violated, so callers tell a repeated
//! receipt from any other failure as before. `$N` parameters are bound by their number, as
//! sqlx binds them; a number without a value stays NULL.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use rusqlite::types::ValueRef;
use sqlx::any::AnyRow;
use sqlx_core::any::{AnyColumn, AnyTypeInfo, AnyTypeInfoKind, AnyValue, AnyValueKind};
use sqlx_core::ext::ustr::UStr;

use super::trip::{Answer, Failed, Trip, Value};

/// Statements kept prepared: a change's few dozen shapes.
const PREPARED: usize = 128;

/// A SQLite connection used on the thread that calls it.
pub struct Direct {
    conn: rusqlite::Connection,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").finish_non_exhaustive()
    }
}

impl Direct {
    /// Opens the file at `path` (which exists: the pool created and migrated it) with every
    /// connection's settings.
    pub fn open(path: &Path) -> sqlx::Result<Direct> {
        let conn = rusqlite::Connection::open(path).map_err(error)?;
        conn.execute_batch(super::SQLITE_PRAGMAS).map_err(error)?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        Ok(Direct { conn })
    }

    /// Runs `trip`'s statements in order; one answer per statement. A statement that fails
    /// stops the trip (the caller's transaction decides what stays).
    pub fn run(&self, trip: Trip) -> Result<Vec<Answer>, Failed> {
        let statements = trip.into_statements();
        let mut answers = Vec::with_capacity(statements.len());
        for (sql, values) in statements {
            let at = answers.len();
            answers.push(
                self.one(&sql, values)
                    .map_err(|error| Failed { at, error })?,
            );
        }
        Ok(answers)
    }

    /// Runs `sql`, with no parameters and no rows (`BEGIN`, `COMMIT`, `ROLLBACK`).
    pub fn execute(&self, sql: &str) -> sqlx::Result<()> {
        self.conn.execute_batch(sql).map_err(error)
    }

    /// Whether a transaction is open on the connection.
    pub fn in_transaction(&self) -> bool {
        !self.conn.is_autocommit()
    }

    /// Rolls back a transaction left open (a change that failed or was dropped).
    pub fn settle(&self) {
        if self.in_transaction() {
            let _ = self.execute("ROLLBACK");
        }
    }

    fn one(&self, sql: &str, values: Vec<Value>) -> sqlx::Result<Answer> {
        let mut statement = self.conn.prepare_cached(sql).map_err(error)?;
        for at in 1..=statement.parameter_count() {
            let number = statement
                .parameter_name(at)
                .and_then(|name| name.strip_prefix(['$', '?']))
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| {
                    sqlx::Error::Protocol(format!("a parameter not of the form $N in: {sql}"))
                })?;
            let Some(value) = values.get(number - 1) else {
                continue;
            };
            match value {
                Value::Int(v) => statement.raw_bind_parameter(at, v),
                Value::Text(v) => statement.raw_bind_parameter(at, v),
                Value::NoInt | Value::NoText => {
                    statement.raw_bind_parameter(at, rusqlite::types::Null)
                }
            }
            .map_err(error)?;
        }
        let width = statement.column_count();
        let columns: Vec<AnyColumn> = (0..width)
            .map(|ordinal| AnyColumn {
                ordinal,
                name: UStr::new(statement.column_name(ordinal).unwrap_or("")),
                type_info: AnyTypeInfo {
                    kind: AnyTypeInfoKind::Null,
                },
            })
            .collect();
        let names: Arc<sqlx_core::HashMap<UStr, usize>> = Arc::new(
            columns
                .iter()
                .map(|c| (c.name.clone(), c.ordinal))
                .collect(),
        );
        let mut rows = Vec::new();
        let mut cursor = statement.raw_query();
        while let Some(row) = cursor.next().map_err(error)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(AnyValue {
                    kind: value_of(row.get_ref(i).map_err(error)?)?,
                });
            }
            rows.push(AnyRow {
                column_names: Arc::clone(&names),
                columns: columns.clone(),
                values,
            });
        }
        drop(cursor);
        // As sqlx says it: SQLite's count of the last change (a `SELECT` repeats the one before).
        Ok(Answer {
            rows,
            changed: self.conn.changes(),
        })
    }
}

/// A stored value as sqlx's SQLite driver gives it to `Any`: by its stored type.
fn value_of(value: ValueRef<'_>) -> sqlx::Result<AnyValueKind> {
    Ok(match value {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(v) => AnyValueKind::BigInt(v),
        ValueRef::Real(v) => AnyValueKind::Double(v),
        ValueRef::Text(bytes) => AnyValueKind::Text(Arc::new(
            String::from_utf8(bytes.to_vec()).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        )),
        ValueRef::Blob(bytes) => AnyValueKind::Blob(Arc::new(bytes.to_vec())),
    })
}

/// rusqlite's error as sqlx's: SQLite's own failures as a database error that says which
/// constraint was violated.
fn error(e: rusqlite::Error) -> sqlx::Error {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            sqlx::Error::Database(Box::new(DirectError {
                extended: code.extended_code,
                message: message.unwrap_or_else(|| code.to_string()),
            }))
        }
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// A failure SQLite reported, with its extended result code.
#[derive(Debug)]
struct DirectError {
    extended: std::ffi::c_int,
    message: String,
}

impl std::fmt::Display for DirectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "(code: {}) {}", self.extended, self.message)
    }
}

impl std::error::Error for DirectError {}

impl sqlx::error::DatabaseError for DirectError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(Cow::Owned(self.extended.to_string()))
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> sqlx::error::ErrorKind {
        use rusqlite::ffi;
        use sqlx::error::ErrorKind;
        match self.extended {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::receipts;
    use sqlx::Row as _;

    /// A trip of every kind of statement, for both ways of running it.
    fn a_trip() -> Trip {
        let mut trip = Trip::new();
        for (name, value) in [("b", Value::from("2")), ("a", Value::from("1"))] {
            trip.push(
                "INSERT INTO app_flags (name, value, set_at) VALUES ($1, $2, $3)",
                vec![name.into(), value, Value::Int(10)],
            );
        }
        trip.push(
            "UPDATE app_flags SET set_at = $2 WHERE set_at = $1",
            vec![Value::Int(10), Value::Int(20)],
        );
        // Parameters out of order, one given twice, a NULL, a real and nothing to read.
        trip.push(
            "SELECT name, value, set_at, $3 AS missing, $2 * 1.5 AS half, $1 AS again
               FROM app_flags WHERE set_at = $2 OR name = $1 ORDER BY name",
            vec!["b".into(), Value::Int(20), Value::NoText],
        );
        trip.push("SELECT name FROM app_flags WHERE set_at < 0", vec![]);
        trip
    }

    /// What a trip's answers say, read through sqlx's row API.
    fn seen(answers: &[Answer]) -> Vec<(u64, Vec<String>)> {
        answers
            .iter()
            .map(|a| {
                let rows = a
                    .rows
                    .iter()
                    .map(|r| {
                        let name: String = r.try_get("name").unwrap();
                        let set_at: i64 = r.try_get("set_at").unwrap();
                        let missing: Option<String> = r.try_get("missing").unwrap();
                        let half: f64 = r.try_get(4).unwrap();
                        let again: String = r.try_get(5).unwrap();
                        format!("{name}:{set_at}:{missing:?}:{half}:{again}")
                    })
                    .collect();
                (a.changed, rows)
            })
            .collect()
    }

    /// The same trip gives the same answers here as through sqlx, and a key given twice is
    /// a repeat, at the statement that failed, with the ones before it run.
    #[tokio::test]
    async fn a_trip_answers_here_as_it_does_through_sqlx() {
        let (dir, db) = crate::db::tests::temp_sqlite().await;
        let mut conn = db.acquire().await.unwrap();
        let through_sqlx = a_trip().run(&mut conn).await.unwrap();
        sqlx::query("DELETE FROM app_flags")
            .execute(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        let direct = Direct::open(&dir.path().join("test.db")).unwrap();
        let here = direct.run(a_trip()).unwrap();
        assert_eq!(seen(&here), seen(&through_sqlx));
        assert_eq!(
            seen(&here)[3],
            (
                2,
                vec!["a:20:None:30:b".to_string(), "b:20:None:30:b".to_string()]
            )
        );

        let mut again = Trip::new();
        again.push("UPDATE app_flags SET set_at = 30", vec![]);
        again.push(
            "INSERT INTO app_flags (name, value, set_at) VALUES ($1, '3', 0)",
            vec!["a".into()],
        );
        let failed = direct.run(again).err().expect("a key given twice");
        assert_eq!(failed.at, 1);
        assert!(receipts::is_repeat(&failed.error), "{}", failed.error);
        let set: Vec<i64> = sqlx::query_scalar("SELECT set_at FROM app_flags")
            .fetch_all(&db)
            .await
            .unwrap();
        assert_eq!(set, [30, 30], "the statement before it ran");
    }

    /// A transaction begun here is seen by sqlx's connections once committed, and one rolled
    /// back leaves nothing.
    #[tokio::test]
    async fn a_transaction_here_commits_and_rolls_back_for_everyone() {
        let (dir, db) = crate::db::tests::temp_sqlite().await;
        let direct = Direct::open(&dir.path().join("test.db")).unwrap();
        let flags = || async {
            sqlx::query_scalar::<_, String>("SELECT name FROM app_flags ORDER BY name")
                .fetch_all(&db)
                .await
                .unwrap()
        };
        for (name, end) in [("kept", "COMMIT"), ("dropped", "ROLLBACK")] {
            direct.execute("BEGIN IMMEDIATE").unwrap();
            assert!(direct.in_transaction());
            let mut trip = Trip::new();
            trip.push(
                "INSERT INTO app_flags (name, value, set_at) VALUES ($1, '1', 0)",
                vec![name.into()],
            );
            direct.run(trip).unwrap();
            assert_eq!(flags().await.len(), usize::from(name == "dropped"));
            direct.execute(end).unwrap();
            assert!(!direct.in_transaction());
        }
        assert_eq!(flags().await, ["kept"]);
    }
}
