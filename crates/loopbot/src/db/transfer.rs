//! Moving a whole installation from SQLite to PostgreSQL (`loopbot migrate-to-postgres`).
//!
//! Generic over the schema, so a later migration cannot be dropped silently: the tables come
//! from the two databases' catalogs (SQLite's `sqlite_master` and `pragma_table_info`,
//! PostgreSQL's `information_schema`), both brought to this build's latest migration first,
//! and the copy stops before writing anything when the two disagree on a table or a column.
//! Tables are copied in the order their foreign keys need, ids kept, in one PostgreSQL
//! transaction that also moves every identity sequence past the highest id copied and checks
//! that each table holds as many rows as in SQLite before it commits.
//!
//! The SQLite file is held with an exclusive lock from before its migration until the copy
//! is committed: a `loopbot serve` still running on it (which keeps the file open) makes the
//! copy refuse to start, and none can start meanwhile and write what would not be copied.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use futures_util::TryStreamExt;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteLockingMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};

use super::Db;

/// Bound parameters per INSERT statement, at most (PostgreSQL allows 65,535).
const PARAMETERS_PER_STATEMENT: usize = 10_000;
/// Rows per INSERT statement, at most.
const ROWS_PER_STATEMENT: usize = 500;

/// Why a copy did not start; the command tells the operator what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Another connection has the SQLite file open: most likely `loopbot serve`.
    #[error("{0}: the database is in use (is `loopbot serve` still running on it? stop it first)")]
    SourceInUse(String),
    /// The PostgreSQL database holds rows already: (table, rows) of each non-empty table.
    #[error("the PostgreSQL database is not empty ({})", describe(.0))]
    TargetNotEmpty(Vec<(String, i64)>),
}

fn describe(tables: &[(String, i64)]) -> String {
    tables
        .iter()
        .map(|(table, rows)| format!("{table}: {rows} row{}", if *rows == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One table copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: String,
    /// Rows in SQLite, and (checked) in PostgreSQL.
    pub rows: i64,
    /// The next value of the table's identity column on PostgreSQL, when it has one.
    pub next_id: Option<i64>,
}

/// The SQLite database, opened alone and migrated; the lock is held until this is dropped.
pub struct Source {
    path: PathBuf,
    conn: SqliteConnection,
}

impl Source {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the file (and releases the lock).
    pub async fn close(self) -> sqlx::Result<()> {
        self.conn.close().await
    }
}

/// Opens the SQLite file at `path` with an exclusive lock (refused with
/// [`Refusal::SourceInUse`] while another connection has it open), checks it, and applies
/// `migrations/` so that it has the schema this build's PostgreSQL migrations describe.
pub async fn open_sqlite_alone(path: &Path) -> anyhow::Result<Source> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .locking_mode(SqliteLockingMode::Exclusive)
        .busy_timeout(Duration::from_secs(2))
        .foreign_keys(true)
        // Waiting for a lock, or reading a big table, is no slow statement worth a warning.
        .disable_statement_logging();
    let in_use = || Refusal::SourceInUse(path.display().to_string());
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("{}: cannot open the SQLite database", path.display()))?;
    // The first write takes the file's lock and, in exclusive locking mode, keeps it until the
    // connection closes. A WAL database opened in this mode takes it at the first read.
    let locked = async {
        sqlx::query("BEGIN EXCLUSIVE").execute(&mut conn).await?;
        sqlx::query("COMMIT").execute(&mut conn).await
    }
    .await;
    match locked {
        Ok(_) => {}
        Err(e) if is_busy(&e) => return Err(in_use().into()),
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "{}: cannot read the SQLite database",
                path.display()
            )));
        }
    }
    super::SQLITE_MIGRATIONS
        .run(&mut conn)
        .await
        .with_context(|| format!("{}: cannot apply migrations", path.display()))?;
    let check: Vec<String> = sqlx::query_scalar("PRAGMA quick_check")
        .fetch_all(&mut conn)
        .await?;
    if check != ["ok"] {
        anyhow::bail!(
            "{}: SQLite's integrity check failed: {}",
            path.display(),
            check.join("; ")
        );
    }
    let orphans: Vec<(String, String)> =
        sqlx::query_as(r#"SELECT "table", parent FROM pragma_foreign_key_check"#)
            .fetch_all(&mut conn)
            .await?;
    if let Some((table, parent)) = orphans.first() {
        anyhow::bail!(
            "{}: {} rows refer to rows that do not exist (the first: a row of {table} without \
             its {parent}); PostgreSQL would refuse them",
            path.display(),
            orphans.len()
        );
    }
    Ok(Source {
        path: path.to_path_buf(),
        conn,
    })
}

fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error().is_some_and(|d| {
        // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with their extended codes.
        let code = d.code().and_then(|c| c.parse::<i64>().ok()).unwrap_or(0);
        matches!(code & 0xff, 5 | 6) || d.message().contains("database is locked")
    })
}

/// How a column's values are read from SQLite and written to PostgreSQL.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    /// `bigint`, `integer`, `smallint` from an INTEGER.
    Int,
    /// `boolean` from an INTEGER 0 or 1.
    Bool,
    /// `double precision`, `real`, `numeric` from a REAL or an INTEGER.
    Real,
    /// `text`, `character varying`, `character` from TEXT.
    Text,
    /// `bytea` from a BLOB (or TEXT, as its UTF-8 bytes).
    Bytes,
    /// A type PostgreSQL reads from text (`json`, `jsonb`, `uuid`): TEXT, cast.
    TextAs(&'static str),
}

impl Kind {
    fn of(data_type: &str) -> Option<Kind> {
        Some(match data_type {
            "bigint" | "integer" | "smallint" => Kind::Int,
            "boolean" => Kind::Bool,
            "double precision" | "real" | "numeric" => Kind::Real,
            "text" | "character varying" | "character" => Kind::Text,
            "bytea" => Kind::Bytes,
            "json" => Kind::TextAs("json"),
            "jsonb" => Kind::TextAs("jsonb"),
            "uuid" => Kind::TextAs("uuid"),
            _ => return None,
        })
    }
}

/// One value on its way, typed as PostgreSQL wants it.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    Int(Option<i64>),
    Bool(Option<bool>),
    Real(Option<f64>),
    Text(Option<String>),
    Bytes(Option<Vec<u8>>),
}

/// A PostgreSQL column, as `information_schema.columns` describes it.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
    /// An identity (or serial) column, whose sequence is moved past the copied ids.
    identity: bool,
}

/// A table and its columns in PostgreSQL's order.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
}

/// Copies every table of `source` into the PostgreSQL database `target` (migrated, and
/// empty: [`Refusal::TargetNotEmpty`] otherwise) in one transaction, and returns the tables
/// in the order they were copied. Nothing is written unless every table's row count matches.
pub async fn copy_to_postgres(source: &mut Source, target: &Db) -> anyhow::Result<Vec<Copied>> {
    let tables = matching_schema(&mut source.conn, target).await?;
    let mut tx = super::begin_write(target).await?;
    let mut not_empty = Vec::new();
    for table in &tables {
        let rows = count(&mut *tx, &table.name).await?;
        if rows > 0 {
            not_empty.push((table.name.clone(), rows));
        }
    }
    if !not_empty.is_empty() {
        return Err(Refusal::TargetNotEmpty(not_empty).into());
    }
    let mut copied = Vec::new();
    for table in &tables {
        let written = copy_table(&mut source.conn, &mut tx, table)
            .await
            .with_context(|| format!("cannot copy the table {}", table.name))?;
        let mut next_id = None;
        for column in table.columns.iter().filter(|c| c.identity) {
            next_id = Some(reset_sequence(&mut tx, &table.name, &column.name).await?);
        }
        let in_sqlite = count_sqlite(&mut source.conn, &table.name).await?;
        let in_postgres = count(&mut *tx, &table.name).await?;
        if in_sqlite != in_postgres || written != in_sqlite {
            anyhow::bail!(
                "{}: {in_sqlite} rows in SQLite but {in_postgres} in PostgreSQL after copying \
                 {written}; nothing was committed",
                table.name
            );
        }
        copied.push(Copied {
            table: table.name.clone(),
            rows: in_sqlite,
            next_id,
        });
    }
    tx.commit().await?;
    // Fresh statistics for the planner: the tables were empty a moment ago.
    sqlx::query("ANALYZE").execute(target).await?;
    Ok(copied)
}

/// The tables both databases hold, in an order their foreign keys allow inserting in, with
/// PostgreSQL's column types; an error naming every difference when the schemas differ.
async fn matching_schema(sqlite: &mut SqliteConnection, target: &Db) -> anyhow::Result<Vec<Table>> {
    let in_sqlite: BTreeSet<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master
          WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut *sqlite)
    .await?
    .into_iter()
    .collect();
    let in_postgres: BTreeSet<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
            AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(target)
    .await?
    .into_iter()
    .collect();
    let mut differences = Vec::new();
    for table in in_sqlite.difference(&in_postgres) {
        differences.push(format!("table {table} is only in SQLite"));
    }
    for table in in_postgres.difference(&in_sqlite) {
        differences.push(format!("table {table} is only in PostgreSQL"));
    }
    let mut tables = BTreeMap::new();
    for name in in_sqlite.intersection(&in_postgres) {
        check_identifier(name)?;
        let sqlite_columns: BTreeSet<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1)")
                .bind(name)
                .fetch_all(&mut *sqlite)
                .await?
                .into_iter()
                .collect();
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text,
                    CASE WHEN is_identity = 'YES' OR column_default LIKE 'nextval(%'
                         THEN 1 ELSE 0 END
               FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = $1
              ORDER BY ordinal_position",
        )
        .bind(name)
        .fetch_all(target)
        .await?;
        let postgres_columns: BTreeSet<String> = rows.iter().map(|r| r.0.clone()).collect();
        for column in sqlite_columns.difference(&postgres_columns) {
            differences.push(format!("column {name}.{column} is only in SQLite"));
        }
        for column in postgres_columns.difference(&sqlite_columns) {
            differences.push(format!("column {name}.{column} is only in PostgreSQL"));
        }
        let mut columns = Vec::new();
        for (column, data_type, identity) in rows {
            check_identifier(&column)?;
            let Some(kind) = Kind::of(&data_type) else {
                anyhow::bail!(
                    "column {name}.{column} has the PostgreSQL type {data_type}, which this \
                     copy does not convert to (see src/db/transfer.rs)"
                );
            };
            columns.push(Column {
                name: column,
                kind,
                identity: identity == 1,
            });
        }
        tables.insert(
            name.clone(),
            Table {
                name: name.clone(),
                columns,
            },
        );
    }
    if !differences.is_empty() {
        anyhow::bail!(
            "the SQLite and PostgreSQL schemas differ, so nothing was copied: {} (migrations/ \
             and migrations-postgres/ must describe the same tables and columns)",
            differences.join("; ")
        );
    }
    let references: Vec<(String, String)> = sqlx::query_as(
        "SELECT child.relname::text, parent.relname::text
           FROM pg_constraint k
           JOIN pg_class child ON child.oid = k.conrelid
           JOIN pg_class parent ON parent.oid = k.confrelid
           JOIN pg_namespace n ON n.oid = child.relnamespace
          WHERE k.contype = 'f' AND n.nspname = current_schema()",
    )
    .fetch_all(target)
    .await?;
    let order = dependency_order(tables.keys().cloned().collect(), &references)?;
    Ok(order
        .into_iter()
        .filter_map(|name| tables.remove(&name))
        .collect())
}

/// `tables` ordered so that each comes after the tables it references (`references`: child,
/// parent); ties alphabetical. Pure.
fn dependency_order(
    tables: BTreeSet<String>,
    references: &[(String, String)],
) -> anyhow::Result<Vec<String>> {
    let mut parents: BTreeMap<&str, BTreeSet<&str>> = tables
        .iter()
        .map(|t| (t.as_str(), BTreeSet::new()))
        .collect();
    for (child, parent) in references {
        if child == parent {
            anyhow::bail!("the table {child} refers to itself, which this copy does not order");
        }
        if let (Some(set), true) = (parents.get_mut(child.as_str()), tables.contains(parent)) {
            set.insert(parent.as_str());
        }
    }
    let mut order: Vec<String> = Vec::new();
    while !parents.is_empty() {
        let ready: Vec<&str> = parents
            .iter()
            .filter(|(_, p)| p.is_empty())
            .map(|(t, _)| *t)
            .collect();
        if ready.is_empty() {
            anyhow::bail!(
                "the foreign keys of {} form a cycle, which this copy does not order",
                parents.keys().copied().collect::<Vec<_>>().join(", ")
            );
        }
        for table in ready {
            parents.remove(table);
            for p in parents.values_mut() {
                p.remove(table);
            }
            order.push(table.to_string());
        }
    }
    Ok(order)
}

/// Table and column names are put into SQL text: only plain lowercase identifiers.
fn check_identifier(name: &str) -> anyhow::Result<()> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    anyhow::ensure!(plain, "`{name}` is not a plain identifier");
    Ok(())
}

async fn count(db: impl sqlx::AnyExecutor<'_>, table: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(AssertSqlSafe(format!(r#"SELECT COUNT(*) FROM "{table}""#)))
        .fetch_one(db)
        .await
}

async fn count_sqlite(sqlite: &mut SqliteConnection, table: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(AssertSqlSafe(format!(r#"SELECT COUNT(*) FROM "{table}""#)))
        .fetch_one(sqlite)
        .await
}

/// Copies one table's rows, in statements of many rows each; returns how many.
async fn copy_table(
    sqlite: &mut SqliteConnection,
    tx: &mut super::WriteTx,
    table: &Table,
) -> anyhow::Result<i64> {
    let names: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!(r#""{}""#, c.name))
        .collect();
    let select = format!("SELECT {} FROM \"{}\"", names.join(", "), table.name);
    let per_statement =
        (PARAMETERS_PER_STATEMENT / table.columns.len().max(1)).clamp(1, ROWS_PER_STATEMENT);
    let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(&mut *sqlite);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(per_statement);
    let mut written = 0;
    while let Some(row) = rows.try_next().await? {
        let mut values = Vec::with_capacity(table.columns.len());
        for (i, column) in table.columns.iter().enumerate() {
            let value = read(&row, i, &column.kind).with_context(|| {
                format!(
                    "{}.{} (row {}): the value does not fit PostgreSQL's column",
                    table.name,
                    column.name,
                    written + batch.len() as i64 + 1
                )
            })?;
            values.push(value);
        }
        batch.push(values);
        if batch.len() == per_statement {
            written += insert(&mut *tx, table, &names, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        written += insert(&mut *tx, table, &names, batch).await?;
    }
    Ok(written)
}

/// One SQLite value as PostgreSQL's column type wants it.
fn read(row: &sqlx::sqlite::SqliteRow, i: usize, kind: &Kind) -> anyhow::Result<Value> {
    Ok(match kind {
        Kind::Int => Value::Int(row.try_get(i)?),
        Kind::Bool => Value::Bool(match row.try_get::<Option<i64>, _>(i)? {
            None => None,
            Some(0) => Some(false),
            Some(1) => Some(true),
            Some(other) => anyhow::bail!("{other} is not a boolean (0 or 1)"),
        }),
        Kind::Real => Value::Real(match row.try_get::<Option<f64>, _>(i) {
            Ok(v) => v,
            Err(_) => row.try_get::<Option<i64>, _>(i)?.map(|v| v as f64),
        }),
        Kind::Text | Kind::TextAs(_) => Value::Text(row.try_get(i)?),
        Kind::Bytes => Value::Bytes(match row.try_get::<Option<Vec<u8>>, _>(i) {
            Ok(v) => v,
            Err(_) => row.try_get::<Option<String>, _>(i)?.map(String::into_bytes),
        }),
    })
}

async fn insert(
    tx: &mut sqlx::AnyConnection,
    table: &Table,
    names: &[String],
    batch: Vec<Vec<Value>>,
) -> anyhow::Result<i64> {
    let mut sql = format!("INSERT INTO \"{}\" ({})", table.name, names.join(", "));
    if table.columns.iter().any(|c| c.identity) {
        // Keep the ids even where the column is GENERATED ALWAYS.
        sql.push_str(" OVERRIDING SYSTEM VALUE");
    }
    sql.push_str(" VALUES ");
    let mut n = 0;
    for (r, _) in batch.iter().enumerate() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for (c, column) in table.columns.iter().enumerate() {
            if c > 0 {
                sql.push_str(", ");
            }
            n += 1;
            match column.kind {
                Kind::TextAs(ty) => sql.push_str(&format!("CAST(${n} AS {ty})")),
                _ => sql.push_str(&format!("${n}")),
            }
        }
        sql.push(')');
    }
    let mut query = sqlx::query(AssertSqlSafe(sql)).persistent(false);
    for value in batch.into_iter().flatten() {
        query = match value {
            Value::Int(v) => query.bind(v),
            Value::Bool(v) => query.bind(v),
            Value::Real(v) => query.bind(v),
            Value::Text(v) => query.bind(v),
            Value::Bytes(v) => query.bind(v),
        };
    }
    Ok(query.execute(&mut *tx).await?.rows_affected() as i64)
}

/// Moves the sequence behind `table.column` so its next value is the highest id + 1 (1 for an
/// empty table); returns that next value.
async fn reset_sequence(
    tx: &mut sqlx::AnyConnection,
    table: &str,
    column: &str,
) -> anyhow::Result<i64> {
    let next: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        r#"SELECT setval(pg_get_serial_sequence($1, $2),
                         COALESCE((SELECT MAX("{column}") FROM "{table}"), 0) + 1, false)"#
    )))
    .bind(table)
    .bind(column)
    .fetch_one(&mut *tx)
    .await
    .with_context(|| format!("cannot move the sequence of {table}.{column}"))?;
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn refs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(c, p)| (c.to_string(), p.to_string()))
            .collect()
    }

    #[test]
    fn parents_come_before_the_tables_that_refer_to_them() {
        let order = dependency_order(
            set(&["stage_interviewers", "stages", "loops", "app_flags", "jobs"]),
            &refs(&[
                ("stage_interviewers", "stages"),
                ("stages", "loops"),
                ("jobs", "loops"),
            ]),
        )
        .unwrap();
        assert_eq!(
            order,
            ["app_flags", "loops", "jobs", "stages", "stage_interviewers"]
        );
    }

    #[test]
    fn cycles_and_self_references_are_refused() {
        let err = dependency_order(set(&["a", "b"]), &refs(&[("a", "b"), ("b", "a")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cycle"), "{err}");
        let err = dependency_order(set(&["a"]), &refs(&[("a", "a")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("itself"), "{err}");
    }

    #[test]
    fn only_plain_identifiers_go_into_sql() {
        assert!(check_identifier("scorecard_drafts").is_ok());
        for bad in ["", "Loops", "a\"b", "1x", "a b", "a;drop"] {
            assert!(check_identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn postgres_types_map_to_a_conversion_or_none() {
        assert_eq!(Kind::of("bigint"), Some(Kind::Int));
        assert_eq!(Kind::of("boolean"), Some(Kind::Bool));
        assert_eq!(Kind::of("jsonb"), Some(Kind::TextAs("jsonb")));
        assert_eq!(Kind::of("timestamp with time zone"), None);
    }
}
