//! `loopbot export` and `loopbot purge` as an operator runs them: the binary, a real database
//! seeded through the library, output read back from stdout, files and the database.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use loopbot::db;
use loopbot::domain::scorecard::{Rating, ScorecardBody};
use loopbot::domain::start_form::{NewLoop, NewStage};
use serde_json::Value;

const ADA: &str = "Lovelace, Ada \"The Countess\"";
const EVIDENCE_V1: &str = "Designed the queue on the whiteboard.\nThen found the race herself.";
const EVIDENCE_V2: &str = "Designed the queue, found the race, fixed it with a lease.";

/// 2026-01-10T12:00:00Z, 2026-03-01T12:00:00Z: decided before / after 2026-02-01.
const EARLY: i64 = 1_768_046_400_000;
const LATE: i64 = 1_772_366_400_000;
const CREATED: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn url(dir: &Path) -> String {
    format!("sqlite://{}/l.db", dir.display())
}

fn loopbot(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loopbot"));
    command
        .env_clear()
        .current_dir(dir)
        .env("DATABASE_URL", url(dir));
    command
}

fn run(dir: &Path, args: &[&str]) -> Output {
    loopbot(dir).args(args).output().unwrap()
}

fn run_with_stdin(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = loopbot(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "status {:?}, stderr: {}",
        output.status,
        text(&output.stderr)
    );
    text(&output.stdout)
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn new_loop(name: &str) -> NewLoop {
    NewLoop {
        candidate_name: name.to_string(),
        rubric_id: "senior-backend".into(),
        role: "Senior Backend Engineer".into(),
        coordinator_id: "UCOORD".into(),
        hiring_manager_id: "UHM".into(),
        origin_channel_id: Some("CORIGIN".into()),
        stages: vec![
            NewStage {
                position: 1,
                key: "system-design".into(),
                name: "System design".into(),
                interview_at: Some(CREATED + 86_400_000),
                interviewers: vec!["U1".into(), "U2".into()],
            },
            NewStage {
                position: 2,
                key: "coding".into(),
                name: "Coding".into(),
                interview_at: None,
                interviewers: vec!["U3".into()],
            },
        ],
    }
}

fn body(overall: Rating, evidence: &str) -> ScorecardBody {
    ScorecardBody {
        ratings: BTreeMap::from([
            ("design".to_string(), overall),
            ("tradeoffs".to_string(), Rating::Yes),
        ]),
        overall,
        evidence: evidence.to_string(),
        concerns: "None, really.".into(),
    }
}

struct Seeded {
    ada: i64,
    later: i64,
    open: i64,
}

/// Ada: decided early (two versions of U1's scorecard, one of U2's, stage 2 skipped).
/// Grace: decided late. Barbara: not decided.
fn seed(dir: &Path) -> Seeded {
    block_on(async {
        let pool = db::connect(&url(dir)).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        let ada = db::loops::insert(&mut tx, &new_loop(ADA), "view-ada", CREATED)
            .await
            .unwrap()
            .unwrap();
        let later = db::loops::insert(&mut tx, &new_loop("Grace Hopper"), "view-grace", CREATED)
            .await
            .unwrap()
            .unwrap();
        let open = db::loops::insert(&mut tx, &new_loop("Barbara Liskov"), "view-b", CREATED)
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();

        let t = CREATED + 2 * 86_400_000;
        let v1 = body(Rating::Yes, EVIDENCE_V1);
        let v2 = body(Rating::StrongYes, EVIDENCE_V2);
        let add = |id, pos, user: &'static str, b: ScorecardBody, based_on, at| {
            let pool = pool.clone();
            async move {
                db::scorecards::insert_version(&pool, id, pos, user, &b, based_on, at)
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        add(ada, 1, "U1", v1.clone(), 0, t).await;
        add(ada, 1, "U1", v2.clone(), 1, t + 60_000).await;
        add(ada, 1, "U2", v1.clone(), 0, t + 120_000).await;
        add(later, 1, "U1", v1.clone(), 0, t).await;
        add(open, 1, "U2", v2.clone(), 0, t).await;

        for (id, at) in [(ada, EARLY), (later, LATE)] {
            sqlx::query(
                "UPDATE loops SET status = 'decided', decision = 'hire',
                        decision_rationale = 'Strong design, clear \"why\", good coding.',
                        decided_by = 'UHM', decided_at = ?2, channel_id = 'C' || ?1,
                        channel_name = 'loop-secret-name'
                  WHERE id = ?1",
            )
            .bind(id)
            .bind(at)
            .execute(&pool)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO stage_skips (loop_id, position, reason, skipped_by, skipped_at)
                 VALUES (?1, 2, 'Candidate has a public repo, line one\nand line two', 'UHM', ?2)",
            )
            .bind(id)
            .bind(at - 1000)
            .execute(&pool)
            .await
            .unwrap();
            db::audit::record(&pool, id, "UHM", "decided", "Hired the candidate", at)
                .await
                .unwrap();
        }
        pool.close().await;
        Seeded { ada, later, open }
    })
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn loop_doc(doc: &Value, id: i64) -> &Value {
    doc["loops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == id)
        .unwrap()
}

/// A minimal RFC 4180 reader: records of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(field.is_empty() && record.is_empty(), "unterminated record");
    records
}

#[test]
fn json_export_has_every_scorecard_version_the_decision_and_the_skip() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed(dir.path());
    let output = run(dir.path(), &["export"]);
    let stdout = ok(&output);
    let doc = json(&stdout);
    assert!(doc["exported_at"].as_str().unwrap().ends_with('Z'), "{doc}");
    assert_eq!(doc["loops"].as_array().unwrap().len(), 3);

    let ada = loop_doc(&doc, s.ada);
    assert_eq!(ada["candidate_name"], ADA);
    assert_eq!(ada["role"], "Senior Backend Engineer");
    assert_eq!(ada["rubric_id"], "senior-backend");
    assert_eq!(ada["status"], "decided");
    assert_eq!(ada["coordinator_id"], "UCOORD");
    assert_eq!(ada["hiring_manager_id"], "UHM");
    assert_eq!(ada["channel_name"], "loop-secret-name");
    assert_eq!(ada["created_at"], "2026-01-01T00:00:00Z");
    assert_eq!(ada["purged"], false);
    assert_eq!(ada["decision"]["decision"], "hire");
    assert_eq!(
        ada["decision"]["rationale"],
        "Strong design, clear \"why\", good coding."
    );
    assert_eq!(ada["decision"]["decided_by"], "UHM");
    assert_eq!(ada["decision"]["decided_at"], "2026-01-10T12:00:00Z");

    let stages = ada["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    let design = &stages[0];
    assert_eq!(design["position"], 1);
    assert_eq!(design["key"], "system-design");
    assert_eq!(design["name"], "System design");
    assert_eq!(design["interview_at"], "2026-01-02T00:00:00Z");
    assert_eq!(design["interviewers"], serde_json::json!(["U1", "U2"]));
    assert_eq!(design["skip"], Value::Null);
    assert_eq!(design["scorecards_purged"], 0);
    let cards = design["scorecards"].as_array().unwrap();
    assert_eq!(cards.len(), 3, "both versions of U1's and U2's: {design}");
    let u1: Vec<&Value> = cards
        .iter()
        .filter(|c| c["interviewer_id"] == "U1")
        .collect();
    assert_eq!(u1.len(), 2);
    assert_eq!(
        (&u1[0]["version"], &u1[0]["current"]),
        (&1.into(), &false.into())
    );
    assert_eq!(
        (&u1[1]["version"], &u1[1]["current"]),
        (&2.into(), &true.into())
    );
    assert_eq!(u1[0]["evidence"], EVIDENCE_V1);
    assert_eq!(u1[1]["evidence"], EVIDENCE_V2);
    assert_eq!(u1[1]["overall"], 4);
    assert_eq!(
        u1[1]["ratings"],
        serde_json::json!({"design": 4, "tradeoffs": 3})
    );
    assert_eq!(u1[0]["submitted_at"], "2026-01-03T00:00:00Z");
    assert_eq!(u1[1]["concerns"], "None, really.");
    let u2 = cards.iter().find(|c| c["interviewer_id"] == "U2").unwrap();
    assert_eq!(u2["current"], true);

    let coding = &stages[1];
    assert_eq!(coding["interview_at"], Value::Null);
    assert_eq!(coding["scorecards"], serde_json::json!([]));
    assert_eq!(coding["skip"]["skipped_by"], "UHM");
    assert_eq!(coding["skip"]["skipped_at"], "2026-01-10T11:59:59Z");
    assert!(
        coding["skip"]["reason"]
            .as_str()
            .unwrap()
            .contains("public repo")
    );

    let open = loop_doc(&doc, s.open);
    assert_eq!(open["decision"], Value::Null);
    assert_eq!(open["channel_id"], Value::Null);

    // Nothing but the document on stdout.
    assert!(!text(&output.stderr).contains('{'));

    // --table with JSON: an array of flat rows.
    let rows = json(&ok(&run(dir.path(), &["export", "--table", "decisions"])));
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["loop_id"], s.ada);
    assert_eq!(rows[0]["decided_at"], "2026-01-10T12:00:00Z");
    assert_eq!(rows[1]["loop_id"], s.later);

    // --out writes the same document to a file, stdout stays empty.
    let file = dir.path().join("export.json");
    let out = run(dir.path(), &["export", "--out", file.to_str().unwrap()]);
    assert_eq!(ok(&out), "");
    let written = json(&std::fs::read_to_string(&file).unwrap());
    assert_eq!(written["loops"], doc["loops"]);
}

#[test]
fn csv_export_quotes_per_rfc_4180_one_table_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed(dir.path());

    let loops = parse_csv(&ok(&run(
        dir.path(),
        &["export", "--format", "csv", "--table", "loops"],
    )));
    assert_eq!(
        loops[0],
        [
            "id",
            "candidate_name",
            "role",
            "rubric_id",
            "status",
            "coordinator_id",
            "hiring_manager_id",
            "channel_id",
            "created_at",
            "purged"
        ]
    );
    assert_eq!(loops.len(), 4);
    assert_eq!(loops[1][0], s.ada.to_string());
    assert_eq!(loops[1][1], ADA);
    assert_eq!(loops[1][8], "2026-01-01T00:00:00Z");
    assert_eq!(loops[1][9], "false");
    assert_eq!(loops[3][7], "", "no channel: empty cell");

    // The raw text: the name is quoted, its quotes doubled.
    let raw = ok(&run(
        dir.path(),
        &["export", "--format", "csv", "--table", "loops"],
    ));
    assert!(
        raw.contains(",\"Lovelace, Ada \"\"The Countess\"\"\","),
        "{raw}"
    );

    let cards_raw = ok(&run(
        dir.path(),
        &["export", "--format", "csv", "--table", "scorecards"],
    ));
    assert!(
        cards_raw
            .contains("\"Designed the queue on the whiteboard.\nThen found the race herself.\""),
        "{cards_raw}"
    );
    let cards = parse_csv(&cards_raw);
    assert_eq!(
        cards[0],
        [
            "loop_id",
            "position",
            "interviewer_id",
            "version",
            "current",
            "overall",
            "ratings",
            "evidence",
            "concerns",
            "submitted_at"
        ]
    );
    assert_eq!(cards.len(), 1 + 5);
    let ada_u1: Vec<&Vec<String>> = cards[1..]
        .iter()
        .filter(|r| r[0] == s.ada.to_string() && r[2] == "U1")
        .collect();
    assert_eq!(ada_u1.len(), 2);
    assert_eq!(ada_u1[0][3..5], ["1", "false"]);
    assert_eq!(ada_u1[1][3..5], ["2", "true"]);
    assert_eq!(ada_u1[0][7], EVIDENCE_V1);
    let ratings: Value = serde_json::from_str(&ada_u1[1][6]).unwrap();
    assert_eq!(ratings, serde_json::json!({"design": 4, "tradeoffs": 3}));

    let stages = parse_csv(&ok(&run(
        dir.path(),
        &["export", "--format", "csv", "--table", "stages"],
    )));
    assert_eq!(
        stages[0],
        [
            "loop_id",
            "position",
            "key",
            "name",
            "interview_at",
            "interviewers",
            "scorecards_purged"
        ]
    );
    assert_eq!(stages.len(), 1 + 6);
    assert_eq!(stages[1][5], "U1 U2");
    assert_eq!(stages[2][4], "");

    let skips = parse_csv(&ok(&run(
        dir.path(),
        &["export", "--format", "csv", "--table", "skips"],
    )));
    assert_eq!(
        skips[0],
        ["loop_id", "position", "reason", "skipped_by", "skipped_at"]
    );
    assert_eq!(skips.len(), 3);
    assert_eq!(
        skips[1][2],
        "Candidate has a public repo, line one\nand line two"
    );

    let decisions = parse_csv(&ok(&run(
        dir.path(),
        &["export", "--format", "csv", "--table", "decisions"],
    )));
    assert_eq!(
        decisions[0],
        [
            "loop_id",
            "decision",
            "rationale",
            "decided_by",
            "decided_at"
        ]
    );
    assert_eq!(decisions.len(), 3);
    assert_eq!(
        decisions[1][2],
        "Strong design, clear \"why\", good coding."
    );
}

#[test]
fn csv_without_a_table_writes_five_files_to_a_folder_and_refuses_stdout() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());

    let output = run(dir.path(), &["export", "--format", "csv"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stdout), "");
    let err = text(&output.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("loopbot: ") && err.contains("--table"),
        "{err}"
    );

    let folder = dir.path().join("out").join("csv");
    let output = run(
        dir.path(),
        &[
            "export",
            "--format",
            "csv",
            "--out",
            folder.to_str().unwrap(),
        ],
    );
    assert_eq!(ok(&output), "");
    let mut names: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "decisions.csv",
            "loops.csv",
            "scorecards.csv",
            "skips.csv",
            "stages.csv"
        ]
    );
    for name in &names {
        let table = name.trim_end_matches(".csv");
        let alone = ok(&run(
            dir.path(),
            &["export", "--format", "csv", "--table", table],
        ));
        assert_eq!(std::fs::read_to_string(folder.join(name)).unwrap(), alone);
    }
}

fn count(dir: &Path, sql: &'static str, id: i64) -> i64 {
    block_on(async {
        let pool = db::connect(&url(dir)).await.unwrap();
        let n: i64 = sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    })
}

#[test]
fn purge_asks_first_and_anything_but_yes_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let before = ok(&run(dir.path(), &["export", "--table", "loops"]));

    for answer in ["no\n", "", "YES please\n"] {
        let output = run_with_stdin(
            dir.path(),
            &["purge", "--decided-before", "2026-02-01"],
            answer,
        );
        let stdout = ok(&output);
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(
                "1 loops decided before 2026-02-01: candidate names, evidence and scorecards will be deleted; counts are kept."
            ),
            "{stderr}"
        );
        assert!(stderr.contains("Type yes to continue:"), "{stderr}");
        assert!(stdout.contains("Nothing was changed."), "{stdout}");
        assert_eq!(
            ok(&run(dir.path(), &["export", "--table", "loops"])),
            before
        );
    }

    let output = run_with_stdin(
        dir.path(),
        &["purge", "--decided-before", "2026-02-01"],
        "yes\n",
    );
    assert!(ok(&output).contains("Purged 1 loop."));
    let loops = json(&ok(&run(dir.path(), &["export", "--table", "loops"])));
    assert_eq!(loops[0]["candidate_name"], "Purged candidate");
    assert_eq!(loops[0]["purged"], true);
}

#[test]
fn purge_yes_removes_candidate_data_of_earlier_decisions_keeps_counts_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed(dir.path());
    let before = json(&ok(&run(dir.path(), &["export"])));

    let output = run(
        dir.path(),
        &["purge", "--decided-before", "2026-02-01", "--yes"],
    );
    let stdout = ok(&output);
    assert!(stdout.contains("Purged 1 loop."), "{stdout}");
    assert!(!text(&output.stderr).contains("Type yes"));

    let after = json(&ok(&run(dir.path(), &["export"])));
    let ada = loop_doc(&after, s.ada);
    assert_eq!(ada["candidate_name"], "Purged candidate");
    assert_eq!(ada["channel_name"], Value::Null);
    assert_eq!(ada["purged"], true);
    // The decision, who made it and when are kept; the rationale is not.
    assert_eq!(ada["decision"]["decision"], "hire");
    assert_eq!(ada["decision"]["decided_by"], "UHM");
    assert_eq!(ada["decision"]["decided_at"], "2026-01-10T12:00:00Z");
    assert_eq!(ada["decision"]["rationale"], Value::Null);
    // Stages, panels and times are kept; scorecards are gone, their count per stage is kept.
    let design = &ada["stages"][0];
    assert_eq!(design["scorecards"], serde_json::json!([]));
    assert_eq!(design["scorecards_purged"], 2, "U1 and U2, not 3 versions");
    assert_eq!(design["interviewers"], serde_json::json!(["U1", "U2"]));
    assert_eq!(design["interview_at"], "2026-01-02T00:00:00Z");
    assert_eq!(ada["stages"][1]["scorecards_purged"], 0);
    assert_eq!(ada["stages"][1]["skip"]["reason"], "[purged]");
    assert_eq!(ada["stages"][1]["skip"]["skipped_by"], "UHM");
    let ada_before = loop_doc(&before, s.ada);
    for kept in [
        "id",
        "role",
        "rubric_id",
        "status",
        "coordinator_id",
        "channel_id",
        "created_at",
    ] {
        assert_eq!(ada[kept], ada_before[kept], "{kept}");
    }
    // Audit details are emptied; the entries stay, and the purge is recorded.
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM audit_log WHERE loop_id = ?1 AND detail LIKE '%Hired%'",
            s.ada
        ),
        0
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM audit_log
              WHERE loop_id = ?1 AND actor_id = 'loopbot-cli' AND action = 'purged'",
            s.ada
        ),
        1
    );
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM audit_log WHERE loop_id = ?1",
            s.ada
        ),
        2
    );

    // The later decision and the undecided loop are untouched.
    for id in [s.later, s.open] {
        assert_eq!(loop_doc(&after, id), loop_doc(&before, id), "loop {id}");
    }
    assert_eq!(
        count(
            dir.path(),
            "SELECT COUNT(*) FROM audit_log WHERE loop_id = ?1 AND detail = 'Hired the candidate'",
            s.later
        ),
        1
    );

    // Again: nothing new.
    let again = run(
        dir.path(),
        &["purge", "--decided-before", "2026-02-01", "--yes"],
    );
    assert!(ok(&again).contains("Purged 0 loops."));
    let third = json(&ok(&run(dir.path(), &["export"])));
    assert_eq!(third["loops"], after["loops"]);
    assert_eq!(loop_doc(&third, s.ada)["stages"][0]["scorecards_purged"], 2);

    // An RFC 3339 time after the later decision takes it too.
    let output = run(
        dir.path(),
        &["purge", "--decided-before", "2026-03-01T12:00:01Z", "--yes"],
    );
    assert!(ok(&output).contains("Purged 1 loop."));
    let last = json(&ok(&run(dir.path(), &["export"])));
    assert_eq!(loop_doc(&last, s.later)["purged"], true);
    assert_eq!(loop_doc(&last, s.open), loop_doc(&before, s.open));
}

#[test]
fn a_bad_date_is_one_line_naming_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    for bad in ["last tuesday", "2026-02-30", "01/02/2026"] {
        let output = run(dir.path(), &["purge", "--decided-before", bad, "--yes"]);
        assert_eq!(output.status.code(), Some(2));
        let err = text(&output.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("loopbot: --decided-before"), "{err}");
        assert_eq!(text(&output.stdout), "");
    }
}

#[test]
fn database_url_flag_overrides_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed(dir.path());
    let other = tempfile::tempdir().unwrap();
    let output = loopbot(other.path())
        .env("DATABASE_URL", url(other.path()))
        .args([
            "export",
            "--table",
            "loops",
            "--database-url",
            &url(dir.path()),
        ])
        .output()
        .unwrap();
    let rows = json(&ok(&output));
    assert_eq!(rows[0]["id"], s.ada);
    assert_eq!(rows.as_array().unwrap().len(), 3);
}
