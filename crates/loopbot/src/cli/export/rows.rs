//! The flat tables (loops, stages, scorecards, skips, decisions) as typed [`Rows`], which
//! serialize to JSON as an array of objects.

use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;

use super::Table;
use super::snapshot::{Snapshot, panel};
use super::values::{ratings, time};

/// One flat table: its columns and, per row, one value per column.
#[derive(Debug, Clone, PartialEq)]
pub struct Rows {
    pub columns: &'static [&'static str],
    pub rows: Vec<Vec<Value>>,
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn opt_text(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, text)
}

/// The rows of one table. Values are typed (numbers, booleans, null, times as RFC 3339);
/// `interviewers` is an array and `ratings` an object, which CSV writes as space-separated
/// ids and JSON text; a scorecard's `not_assessed` and `red_flags` are arrays that CSV writes
/// as JSON text too, since a red flag is a sentence.
pub fn rows(snapshot: &Snapshot, table: Table) -> Rows {
    match table {
        Table::Loops => Rows {
            columns: &[
                "id",
                "candidate_name",
                "role",
                "rubric_id",
                "status",
                "coordinator_id",
                "hiring_manager_id",
                "channel_id",
                "created_at",
                "purged",
            ],
            rows: snapshot
                .loops
                .iter()
                .map(|l| {
                    vec![
                        l.id.into(),
                        text(&l.candidate_name),
                        text(&l.role),
                        text(&l.rubric_id),
                        text(&l.status),
                        text(&l.coordinator_id),
                        text(&l.hiring_manager_id),
                        opt_text(&l.channel_id),
                        time(Some(l.created_at)),
                        l.purged_at.is_some().into(),
                    ]
                })
                .collect(),
        },
        Table::Stages => Rows {
            columns: &[
                "loop_id",
                "position",
                "key",
                "name",
                "interview_at",
                "interviewers",
                "scorecards_purged",
            ],
            rows: snapshot
                .stages
                .iter()
                .map(|s| {
                    vec![
                        s.loop_id.into(),
                        s.position.into(),
                        text(&s.stage_key),
                        text(&s.name),
                        time(s.interview_at),
                        panel(snapshot, s).into(),
                        s.scorecards_purged.into(),
                    ]
                })
                .collect(),
        },
        Table::Scorecards => Rows {
            columns: &[
                "loop_id",
                "position",
                "interviewer_id",
                "version",
                "current",
                "overall",
                "ratings",
                "not_assessed",
                "red_flags",
                "evidence",
                "concerns",
                "submitted_at",
            ],
            rows: snapshot
                .scorecards
                .iter()
                .map(|c| {
                    vec![
                        c.loop_id.into(),
                        c.position.into(),
                        text(&c.interviewer_id),
                        c.version.into(),
                        (c.current != 0).into(),
                        c.overall.into(),
                        ratings(&c.ratings),
                        ratings(&c.not_assessed),
                        ratings(&c.red_flags),
                        text(&c.evidence),
                        text(&c.concerns),
                        time(Some(c.submitted_at)),
                    ]
                })
                .collect(),
        },
        Table::Skips => Rows {
            columns: &["loop_id", "position", "reason", "skipped_by", "skipped_at"],
            rows: snapshot
                .skips
                .iter()
                .map(|k| {
                    vec![
                        k.loop_id.into(),
                        k.position.into(),
                        text(&k.reason),
                        text(&k.skipped_by),
                        time(Some(k.skipped_at)),
                    ]
                })
                .collect(),
        },
        Table::Decisions => Rows {
            columns: &[
                "loop_id",
                "decision",
                "rationale",
                "decided_by",
                "decided_at",
                "decided_without",
            ],
            rows: snapshot
                .loops
                .iter()
                .filter_map(|l| {
                    let decision = l.decision.as_deref()?;
                    Some(vec![
                        l.id.into(),
                        text(decision),
                        opt_text(&l.decision_rationale),
                        opt_text(&l.decided_by),
                        time(l.decided_at),
                        opt_text(&snapshot.decided_without(l)),
                    ])
                })
                .collect(),
        },
    }
}

/// One row as a JSON object, keys in column order.
struct RowObject<'a> {
    columns: &'a [&'static str],
    values: &'a [Value],
}

impl Serialize for RowObject<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.columns.len()))?;
        for (column, value) in self.columns.iter().zip(self.values) {
            map.serialize_entry(column, value)?;
        }
        map.end()
    }
}

impl Serialize for Rows {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.rows.iter().map(|values| RowObject {
            columns: self.columns,
            values,
        }))
    }
}
