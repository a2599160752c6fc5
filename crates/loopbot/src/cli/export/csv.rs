//! The CSV writer (RFC 4180): one table per text, a header row, CRLF line ends.

use std::borrow::Cow;

use serde_json::Value;

use super::rows::Rows;

/// One CSV field, quoted (RFC 4180) when it holds a comma, a double quote, CR or LF; quotes
/// inside are doubled.
pub fn csv_field(value: &str) -> Cow<'_, str> {
    if value.contains([',', '"', '\r', '\n']) {
        Cow::Owned(format!("\"{}\"", value.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(value)
    }
}

/// A text cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return) gets a leading `'`, which spreadsheets show as text. Numbers, times
/// and the JSON columns are written as they are.
pub fn neutralise_formula(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// How a typed value reads in a CSV cell: null is empty, arrays are space separated, objects
/// are JSON text.
pub fn csv_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(csv_text).collect::<Vec<_>>().join(" "),
        Value::Object(_) => value.to_string(),
    }
}

/// Columns whose arrays hold sentences or keys to read back exactly: written as JSON text (like
/// `ratings`), not space separated.
const JSON_TEXT_COLUMNS: &[&str] = &["not_assessed", "red_flags"];

/// The table as CSV: a header row, then one line per row, each ending in CRLF.
pub fn csv(rows: &Rows) -> String {
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let cells: Vec<Cow<'_, str>> = cells.iter().map(|c| csv_field(c)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    line(rows.columns.iter().map(|c| c.to_string()).collect());
    let as_json: Vec<bool> = rows
        .columns
        .iter()
        .map(|c| JSON_TEXT_COLUMNS.contains(c))
        .collect();
    for row in &rows.rows {
        line(
            row.iter()
                .enumerate()
                .map(|(i, v)| match v {
                    Value::Array(_) if as_json.get(i) == Some(&true) => v.to_string(),
                    Value::String(text) => neutralise_formula(text).into_owned(),
                    _ => csv_text(v),
                })
                .collect(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_fields_are_not_quoted() {
        assert_eq!(csv_field("Ada Lovelace"), "Ada Lovelace");
        assert_eq!(csv_field(""), "");
        assert_eq!(csv_field("it's fine; really"), "it's fine; really");
    }

    #[test]
    fn commas_quotes_and_line_breaks_are_quoted_and_quotes_doubled() {
        assert_eq!(csv_field("Lovelace, Ada"), "\"Lovelace, Ada\"");
        assert_eq!(
            csv_field("Ada \"The\" Countess"),
            "\"Ada \"\"The\"\" Countess\""
        );
        assert_eq!(csv_field("line one\nline two"), "\"line one\nline two\"");
        assert_eq!(csv_field("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(csv_field("\""), "\"\"\"\"");
    }

    #[test]
    fn cells_render_nulls_empty_arrays_spaced_and_objects_as_json() {
        assert_eq!(csv_text(&Value::Null), "");
        assert_eq!(csv_text(&true.into()), "true");
        assert_eq!(csv_text(&3.into()), "3");
        assert_eq!(csv_text(&serde_json::json!(["U1", "U2"])), "U1 U2");
        assert_eq!(
            csv_text(&serde_json::json!({"design": 3, "apis": 4})),
            r#"{"apis":4,"design":3}"#
        );
    }

    #[test]
    fn a_table_is_a_header_then_crlf_terminated_rows() {
        let rows = Rows {
            columns: &["a", "b"],
            rows: vec![
                vec!["x, y".into(), Value::Null],
                vec!["say \"hi\"".into(), 2.into()],
            ],
        };
        assert_eq!(csv(&rows), "a,b\r\n\"x, y\",\r\n\"say \"\"hi\"\"\",2\r\n");
        let json = serde_json::to_string(&rows).unwrap();
        assert_eq!(json, r#"[{"a":"x, y","b":null},{"a":"say \"hi\"","b":2}]"#);
    }

    #[test]
    fn text_a_spreadsheet_would_run_as_a_formula_is_neutralised() {
        for (text, cell) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "\"'\rcmd\""),
            ("a=b", "a=b"),
            ("Ada", "Ada"),
        ] {
            let rows = Rows {
                columns: &["a", "n"],
                rows: vec![vec![text.into(), (-5).into()]],
            };
            assert_eq!(csv(&rows), format!("a,n\r\n{cell},-5\r\n"), "{text:?}");
        }
    }
}
