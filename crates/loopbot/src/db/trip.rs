//! Several statements in one trip to the database. sqlx runs each SQLite statement on the
//! connection's own thread and hands it over through a channel: every statement is a hop
//! there and back (measured at 50–100 µs of wake-ups on two cores, more than SQLite's own
//! work). On SQLite a [`Trip`] sends its statements as one multi-statement query, numbered on
//! from each other's parameters; on PostgreSQL, whose extended protocol takes one statement at
//! a time, it runs them one after the other, as separate queries would.
//!
//! Each statement's answer (its rows, the rows it changed) comes back in order. A statement
//! that fails stops the trip; the ones before it have run (the caller's transaction decides
//! what stays).

use std::borrow::Cow;

use futures_util::TryStreamExt;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyConnection, Arguments, Either, Executor};

/// A value bound to a statement's `$N`.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Text(String),
    /// NULL in an integer column.
    NoInt,
    /// NULL in a text column.
    NoText,
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Value {
        Value::Int(i64::from(v))
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Value {
        v.map_or(Value::NoInt, Value::Int)
    }
}

impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Value {
        v.map_or(Value::NoText, Value::from)
    }
}

/// `values` as a query's arguments, for a statement run on its own.
pub fn arguments(values: Vec<Value>) -> sqlx::Result<AnyArguments> {
    let mut args = AnyArguments::default();
    for v in values {
        v.bind(&mut args)?;
    }
    Ok(args)
}

impl Value {
    fn bind(self, args: &mut AnyArguments) -> sqlx::Result<()> {
        match self {
            Value::Int(v) => args.add(v),
            Value::Text(v) => args.add(v),
            Value::NoInt => args.add(None::<i64>),
            Value::NoText => args.add(None::<String>),
        }
        .map_err(sqlx::Error::Encode)
    }
}

/// What one statement of a trip gave back.
#[derive(Default)]
pub struct Answer {
    pub rows: Vec<AnyRow>,
    /// Rows inserted, changed or deleted (a `SELECT` says nothing here).
    pub changed: u64,
}

/// A query of a trip, read once it has run.
pub struct Read<T> {
    at: usize,
    decode: fn(Vec<AnyRow>) -> sqlx::Result<T>,
}

impl<T> Read<T> {
    /// The query's rows, decoded (taken out of `answers`: read each once).
    pub fn take(&self, answers: &mut [Answer]) -> sqlx::Result<T> {
        let rows = answers
            .get_mut(self.at)
            .map(|o| std::mem::take(&mut o.rows))
            .unwrap_or_default();
        (self.decode)(rows)
    }
}

/// Rows decoded one by one.
pub fn rows_of<T: for<'r> sqlx::FromRow<'r, AnyRow>>(rows: Vec<AnyRow>) -> sqlx::Result<Vec<T>> {
    rows.iter().map(T::from_row).collect()
}

/// Statements to send together ([`Trip::run`]).
#[derive(Debug, Default)]
pub struct Trip {
    statements: Vec<(Cow<'static, str>, Vec<Value>)>,
}

impl Trip {
    pub fn new() -> Trip {
        Trip::default()
    }

    /// Adds a statement with its own `$1`, `$2`… and the values for them, in order; returns
    /// where its answer will be.
    pub fn push(&mut self, sql: impl Into<Cow<'static, str>>, values: Vec<Value>) -> usize {
        self.statements.push((sql.into(), values));
        self.statements.len() - 1
    }

    /// Adds a query whose rows `decode` reads, once the trip has run ([`Read::take`]).
    pub fn read<T>(
        &mut self,
        sql: impl Into<Cow<'static, str>>,
        values: Vec<Value>,
        decode: fn(Vec<AnyRow>) -> sqlx::Result<T>,
    ) -> Read<T> {
        Read {
            at: self.push(sql, values),
            decode,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Adds `other`'s statements after this trip's. Reads made on `other` count from its own
    /// start: split this trip's answers off before taking them (as `Change::run` does).
    pub fn append(&mut self, other: Trip) {
        self.statements.extend(other.statements);
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    /// The statements with their values, in order ([`super::direct`] runs them itself).
    pub(super) fn into_statements(self) -> Vec<(Cow<'static, str>, Vec<Value>)> {
        self.statements
    }

    /// Runs the statements in order on `conn`; one answer per statement.
    pub async fn run(self, conn: &mut AnyConnection) -> sqlx::Result<Vec<Answer>> {
        self.run_counting(conn).await.map_err(|f| f.error)
    }

    /// [`Trip::run`], saying which statement failed.
    pub async fn run_counting(self, conn: &mut AnyConnection) -> Result<Vec<Answer>, Failed> {
        let expected = self.statements.len();
        if expected > 1 && conn.backend_name() == "SQLite" {
            let (sql, args) = joined(self.statements).map_err(|error| Failed { at: 0, error })?;
            let answers = answers(conn, sql, args).await?;
            if answers.len() != expected {
                return Err(Failed {
                    at: answers.len(),
                    error: sqlx::Error::Protocol(format!(
                        "a trip of {expected} statements gave {} answers",
                        answers.len()
                    )),
                });
            }
            return Ok(answers);
        }
        let mut all = Vec::with_capacity(expected);
        for (sql, values) in self.statements {
            let args = arguments(values).map_err(|error| Failed {
                at: all.len(),
                error,
            })?;
            match answers(conn, sql.into_owned(), args).await {
                Ok(got) => all.extend(got),
                Err(f) => {
                    return Err(Failed {
                        at: all.len() + f.at,
                        error: f.error,
                    });
                }
            }
        }
        Ok(all)
    }
}

/// A trip that stopped: the statement that failed (counted from 0), and why.
#[derive(Debug)]
pub struct Failed {
    pub at: usize,
    pub error: sqlx::Error,
}

/// One query's answers, one per statement in it.
async fn answers(
    conn: &mut AnyConnection,
    sql: String,
    args: AnyArguments,
) -> Result<Vec<Answer>, Failed> {
    let query = sqlx::query_with(sqlx::AssertSqlSafe(sql), args);
    let mut stream = conn.fetch_many(query);
    let mut all = Vec::new();
    let mut current = Answer::default();
    loop {
        match stream.try_next().await {
            Ok(Some(Either::Right(row))) => current.rows.push(row),
            Ok(Some(Either::Left(done))) => {
                current.changed = done.rows_affected();
                all.push(std::mem::take(&mut current));
            }
            Ok(None) => return Ok(all),
            Err(error) => {
                return Err(Failed {
                    at: all.len(),
                    error,
                });
            }
        }
    }
}

/// The statements as one query: each statement's `$N` numbered on after the ones before it.
fn joined(
    statements: Vec<(Cow<'static, str>, Vec<Value>)>,
) -> sqlx::Result<(String, AnyArguments)> {
    let mut sql = String::new();
    let mut args = AnyArguments::default();
    let mut before = 0;
    for (text, values) in statements {
        let count = values.len();
        sql.push_str(&renumbered(&text, before));
        sql.push_str(";\n");
        for v in values {
            v.bind(&mut args)?;
        }
        before += count;
    }
    Ok((sql, args))
}

/// `sql` with every `$N` made `$(N + by)`. Our statements put no `$` inside quotes.
fn renumbered(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.trim_end().trim_end_matches(';').to_string();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '$' {
            out.push(c);
            continue;
        }
        let start = i + 1;
        let mut end = start;
        while let Some(&(j, d)) = chars.peek() {
            if !d.is_ascii_digit() {
                break;
            }
            end = j + 1;
            chars.next();
        }
        match sql[start..end].parse::<usize>() {
            Ok(n) => {
                out.push('$');
                out.push_str(&(n + by).to_string());
            }
            Err(_) => out.push('$'),
        }
    }
    out.trim_end().trim_end_matches(';').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row;

    fn flag(trip: &mut Trip, name: &str, value: &str, at: i64) -> usize {
        trip.push(
            "INSERT INTO app_flags (name, value, set_at) VALUES ($1, $2, $3)",
            vec![name.into(), value.into(), at.into()],
        )
    }

    fn names(rows: Vec<AnyRow>) -> sqlx::Result<Vec<String>> {
        rows.iter().map(|r| r.try_get(0)).collect()
    }

    /// Each statement gets its own values, and its answer comes back in its place: reads see
    /// the writes before them in the trip.
    #[tokio::test]
    async fn a_trip_answers_each_statement_in_order() {
        let (_dir, db) = super::super::tests::temp_sqlite().await;
        let mut conn = db.acquire().await.unwrap();
        let mut trip = Trip::new();
        flag(&mut trip, "a", "1", 10);
        flag(&mut trip, "b", "2", 20);
        let changed = trip.push(
            "UPDATE app_flags SET value = $2 WHERE set_at >= $1",
            vec![Value::Int(15), "3".into()],
        );
        let read = trip.read(
            "SELECT name || '=' || value FROM app_flags WHERE set_at > $1 ORDER BY name",
            vec![Value::Int(0)],
            names,
        );
        let none = trip.read(
            "SELECT name FROM app_flags WHERE value = $1",
            vec![Value::NoText],
            names,
        );
        let mut answers = trip.run(&mut conn).await.unwrap();
        assert_eq!(answers.len(), 5);
        assert_eq!(answers[0].changed, 1);
        assert_eq!(answers[changed].changed, 1);
        assert_eq!(read.take(&mut answers).unwrap(), ["a=1", "b=3"]);
        assert!(none.take(&mut answers).unwrap().is_empty());
    }

    /// A statement that fails stops the trip: the ones after it do not run.
    #[tokio::test]
    async fn a_failing_statement_stops_the_trip() {
        let (_dir, db) = super::super::tests::temp_sqlite().await;
        let mut conn = db.acquire().await.unwrap();
        let mut trip = Trip::new();
        flag(&mut trip, "a", "1", 10);
        flag(&mut trip, "a", "2", 20);
        flag(&mut trip, "c", "3", 30);
        let failed = trip
            .run_counting(&mut conn)
            .await
            .err()
            .expect("a key given twice");
        assert_eq!(failed.at, 1, "the second statement failed");
        assert!(
            super::super::receipts::is_repeat(&failed.error),
            "{}",
            failed.error
        );
        let left: Vec<String> = sqlx::query_scalar("SELECT name FROM app_flags ORDER BY name")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        assert_eq!(left, ["a"]);
    }

    #[test]
    fn parameters_are_numbered_on_from_the_statements_before() {
        assert_eq!(
            renumbered("UPDATE t SET a = $2 WHERE id = $1 AND b = $12;", 3),
            "UPDATE t SET a = $5 WHERE id = $4 AND b = $15"
        );
        assert_eq!(renumbered("SELECT $1", 0), "SELECT $1");
        assert_eq!(renumbered("SELECT 1", 7), "SELECT 1");
    }
}
