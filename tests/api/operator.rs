//! `loopbot export` and `loopbot purge` as an operator runs them: the binary, a real database
//! seeded through the library, output read back from stdout, files and the database.

use std::collections::{BTreeMap, BTreeSet};
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
        not_assessed: BTreeSet::from(["load".to_string()]),
        overall,
        evidence: evidence.to_string(),
        concerns: "None, really.".into(),
        red_flags: vec!["Blames the team, every time.".into()],
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
                let mut conn = pool.acquire().await.unwrap();
                let mut trip = db::trip::Trip::new();
                let stored =
                    db::scorecards::insert_version_into(&mut trip, id, pos, user, &b, based_on, at);
                let mut answers = trip.run(&mut conn).await.unwrap();
                stored.take(&mut answers).unwrap().unwrap()
            }
        };
        add(ada, 1, "U1", v1.clone(), 0, t).await;
        add(ada, 1, "U1", v2.clone(), 1, t + 60_000).await;
        add(ada, 1, "U2", v1.clone(), 0, t + 120_000).await;
        add(later, 1, "U1", v1.clone(), 0, t).await;
        add(open, 1, "U2", v2.clone(), 0, t).await;
        // Unsubmitted drafts: one in the loop to be purged, one in the open loop.
        for (id, user) in [(ada, "U2"), (open, "U1")] {
            let draft = loopbot::domain::scorecard::ScorecardDraft {
                based_on: 0,
                input: loopbot::domain::scorecard::ScorecardInput {
                    evidence: "Half a note about the candidate".into(),
                    ..Default::default()
                },
                updated_at: t,
            };
            db::scorecards::save_draft(&pool, id, 1, user, &draft)
                .await
                .unwrap();
        }

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
    assert_eq!(u1[1]["not_assessed"], serde_json::json!(["load"]));
    assert_eq!(
        u1[1]["red_flags"],
        serde_json::json!(["Blames the team, every time."])
    );
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
            "not_assessed",
            "red_flags",
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
    assert_eq!(ada_u1[0][9], EVIDENCE_V1);
    let ratings: Value = serde_json::from_str(&ada_u1[1][6]).unwrap();
    assert_eq!(ratings, serde_json::json!({"design": 4, "tradeoffs": 3}));
    let not_assessed: Value = serde_json::from_str(&ada_u1[1][7]).unwrap();
    assert_eq!(not_assessed, serde_json::json!(["load"]));
    let flags: Value = serde_json::from_str(&ada_u1[1][8]).unwrap();
    assert_eq!(flags, serde_json::json!(["Blames the team, every time."]));

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
            "decided_at",
            "decided_without"
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
    // Drafts of the purged loop are gone; the open loop keeps its own.
    for (id, left) in [(s.ada, 0), (s.open, 1)] {
        assert_eq!(
            count(
                dir.path(),
                "SELECT COUNT(*) FROM scorecard_drafts WHERE loop_id = ?1",
                id
            ),
            left,
            "loop {id}"
        );
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

/// The bytes of the database and its write-ahead log, as anyone who copies the files gets them.
fn file_bytes(dir: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(dir.join("l.db")).unwrap();
    if let Ok(wal) = std::fs::read(dir.join("l.db-wal")) {
        bytes.extend(wal);
    }
    bytes
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

#[test]
fn purge_leaves_no_trace_of_the_name_in_the_database_files() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let name = "Lovelace, Ada";
    assert!(holds(&file_bytes(dir.path()), name), "seeded");
    let output = run(
        dir.path(),
        &["purge", "--decided-before", "2026-02-01", "--yes"],
    );
    assert!(ok(&output).contains("Purged 1 loop."));
    let bytes = file_bytes(dir.path());
    assert!(!holds(&bytes, name), "not in free pages nor the WAL");
    assert!(holds(&bytes, "Grace Hopper"), "the others are kept");
}

#[test]
fn purge_loop_erases_one_candidate_by_number_or_channel_decided_or_not() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed(dir.path());
    let before = json(&ok(&run(dir.path(), &["export"])));
    // The open loop, by its number: asked first, then purged.
    let output = run_with_stdin(
        dir.path(),
        &["purge", "--loop", &s.open.to_string()],
        "no\n",
    );
    assert!(ok(&output).contains("Nothing was changed."));
    assert!(text(&output.stderr).contains(&format!("Loop {}:", s.open)));
    let output = run(
        dir.path(),
        &["purge", "--loop", &s.open.to_string(), "--yes"],
    );
    assert!(
        ok(&output).contains("Purged 1 loop."),
        "{}",
        text(&output.stderr)
    );
    let after = json(&ok(&run(dir.path(), &["export"])));
    let open = loop_doc(&after, s.open);
    assert_eq!(open["candidate_name"], "Purged candidate");
    assert_eq!(open["purged"], true);
    assert_eq!(open["stages"][0]["scorecards"], serde_json::json!([]));
    assert_eq!(open["stages"][0]["scorecards_purged"], 1);
    assert!(!holds(&file_bytes(dir.path()), "Barbara Liskov"));
    for id in [s.ada, s.later] {
        assert_eq!(loop_doc(&after, id), loop_doc(&before, id), "loop {id}");
    }
    // The later loop, by its channel's id.
    let channel = format!("C{}", s.later);
    let output = run(dir.path(), &["purge", "--loop", &channel, "--yes"]);
    assert!(ok(&output).contains("Purged 1 loop."));
    let after = json(&ok(&run(dir.path(), &["export"])));
    assert_eq!(loop_doc(&after, s.later)["purged"], true);
    assert_eq!(loop_doc(&after, s.ada), loop_doc(&before, s.ada));
    // Again: nothing to do. An unknown loop is a usage error.
    let again = run(dir.path(), &["purge", "--loop", &channel, "--yes"]);
    assert!(ok(&again).contains("Purged 0 loops."));
    let output = run(dir.path(), &["purge", "--loop", "9999", "--yes"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).starts_with("loopbot: --loop: no loop `9999`"));
    // One of the two, never both or neither.
    for args in [
        &["purge", "--yes"][..],
        &["purge", "--loop", "1", "--decided-before", "2026-02-01"],
    ] {
        assert_eq!(run(dir.path(), args).status.code(), Some(2), "{args:?}");
    }
}

#[test]
fn backup_writes_a_private_copy_that_opens_with_every_loop() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed(dir.path());
    let copy = dir.path().join("copy.db");
    let output = run(dir.path(), &["backup", copy.to_str().unwrap()]);
    assert!(ok(&output).contains("Wrote a consistent copy"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
        let mode = std::fs::metadata(dir.path().join("l.db"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "the database itself: {mode:o}");
    }
    let copied = json(&ok(&run(
        dir.path(),
        &[
            "export",
            "--database-url",
            &format!("sqlite://{}", copy.display()),
        ],
    )));
    let original = json(&ok(&run(dir.path(), &["export"])));
    assert_eq!(copied["loops"], original["loops"]);
    assert!(loop_doc(&copied, s.ada).is_object());
    // An existing file is kept unless --force.
    let output = run(dir.path(), &["backup", copy.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("--force"));
    let output = run(dir.path(), &["backup", "--force", copy.to_str().unwrap()]);
    assert!(output.status.success());
}

#[test]
fn export_files_are_readable_by_their_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    seed(dir.path());
    let out = dir.path().join("export.json");
    ok(&run(
        dir.path(),
        &["export", "--out", out.to_str().unwrap()],
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }
}

// ---- loopbot jobs ----

/// 2100-01-01T00:00:00Z: a lease or a next run far in the future.
const FAR: i64 = 4_102_444_800_000;
const HOLDER: &str = "web-1:4242:0000beef";

/// A row of the jobs table, written with plain SQL.
#[derive(Default)]
struct JobSeed {
    kind: &'static str,
    loop_id: Option<i64>,
    state: &'static str,
    run_at: i64,
    attempts: i64,
    locked_by: Option<&'static str>,
    locked_until: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

async fn insert_job(pool: &db::Db, job: JobSeed) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO jobs (kind, loop_id, payload, state, run_at, attempts, locked_by,
                           locked_until, last_error, created_at, updated_at)
         VALUES (?1, ?2, '{}', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         RETURNING id",
    )
    .bind(job.kind)
    .bind(job.loop_id)
    .bind(job.state)
    .bind(job.run_at)
    .bind(job.attempts)
    .bind(job.locked_by)
    .bind(job.locked_until)
    .bind(job.last_error)
    .bind(job.created_at)
    .bind(job.updated_at)
    .fetch_one(pool)
    .await
    .unwrap()
}

struct SeededJobs {
    loop_id: i64,
    /// provision_loop of the loop, failed with a long two-line error; the oldest.
    failed: i64,
    /// refresh_summary of the loop, running under HOLDER until FAR.
    running: i64,
    /// publish_home (no loop), queued to run at FAR.
    queued: i64,
    /// archive_channel of the loop, done: never listed.
    done: i64,
    /// decision_message of the loop, failed through the library (enqueue, then give_up).
    given_up: i64,
}

fn long_error() -> String {
    format!("slack: channel_not_found\n{}", "x".repeat(150))
}

fn seed_jobs(dir: &Path) -> SeededJobs {
    block_on(async {
        let pool = db::connect(&url(dir)).await.unwrap();
        let mut tx = pool.begin().await.unwrap();
        let loop_id = db::loops::insert(&mut tx, &new_loop(ADA), "view-jobs", CREATED)
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        // Inserted out of creation order: the list is by creation time.
        let queued = insert_job(
            &pool,
            JobSeed {
                kind: "publish_home",
                state: "queued",
                run_at: FAR,
                created_at: CREATED + 3_000,
                updated_at: CREATED + 3_000,
                ..JobSeed::default()
            },
        )
        .await;
        let running = insert_job(
            &pool,
            JobSeed {
                kind: "refresh_summary",
                loop_id: Some(loop_id),
                state: "running",
                run_at: CREATED + 2_000,
                attempts: 1,
                locked_by: Some(HOLDER),
                locked_until: Some(FAR),
                created_at: CREATED + 2_000,
                updated_at: CREATED + 2_500,
                ..JobSeed::default()
            },
        )
        .await;
        let failed = insert_job(
            &pool,
            JobSeed {
                kind: "provision_loop",
                loop_id: Some(loop_id),
                state: "failed",
                run_at: CREATED + 1_000,
                attempts: 12,
                last_error: Some(long_error()),
                created_at: CREATED + 1_000,
                updated_at: EARLY,
                ..JobSeed::default()
            },
        )
        .await;
        let done = insert_job(
            &pool,
            JobSeed {
                kind: "archive_channel",
                loop_id: Some(loop_id),
                state: "done",
                run_at: CREATED,
                attempts: 1,
                created_at: CREATED,
                updated_at: CREATED + 500,
                ..JobSeed::default()
            },
        )
        .await;
        let job = db::jobs::NewJob {
            kind: "decision_message".into(),
            loop_id: Some(loop_id),
            payload: format!(r#"{{"kind":"decision_message","loop_id":{loop_id}}}"#),
            dedupe_key: Some(format!("decision:{loop_id}")),
            run_at: CREATED + 4_000,
            budget: None,
            priority: 50,
        };
        assert!(
            db::jobs::enqueue(&pool, &job, CREATED + 4_000)
                .await
                .unwrap()
        );
        let given_up: i64 = sqlx::query_scalar("SELECT id FROM jobs WHERE dedupe_key = ?1")
            .bind(&job.dedupe_key)
            .fetch_one(&pool)
            .await
            .unwrap();
        sqlx::query("UPDATE jobs SET attempts = 3 WHERE id = ?1")
            .bind(given_up)
            .execute(&pool)
            .await
            .unwrap();
        db::jobs::give_up(&pool, given_up, "slack: not_in_channel", LATE)
            .await
            .unwrap();
        pool.close().await;
        SeededJobs {
            loop_id,
            failed,
            running,
            queued,
            done,
            given_up,
        }
    })
}

#[derive(Debug, sqlx::FromRow)]
struct StoredJob {
    state: String,
    run_at: i64,
    attempts: i64,
    locked_by: Option<String>,
    locked_until: Option<i64>,
    last_error: Option<String>,
}

fn stored_job(dir: &Path, id: i64) -> StoredJob {
    block_on(async {
        let pool = db::connect(&url(dir)).await.unwrap();
        let job = sqlx::query_as(
            "SELECT state, run_at, attempts, locked_by, locked_until, last_error
               FROM jobs WHERE id = ?1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .unwrap();
        pool.close().await;
        job
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The table's line for a job: the one starting with its id.
fn job_line(stdout: &str, id: i64) -> Option<&str> {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id.to_string().as_str()))
}

#[test]
fn jobs_lists_queued_running_and_failed_work_oldest_first_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed_jobs(dir.path());

    // `loopbot jobs` and `loopbot jobs list` are the same.
    let stdout = ok(&run(dir.path(), &["jobs"]));
    assert_eq!(ok(&run(dir.path(), &["jobs", "list"])), stdout);

    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1 + 4 + 1,
        "header, four jobs, counts: {stdout}"
    );
    for column in [
        "ID",
        "STATE",
        "KIND",
        "LOOP",
        "ATTEMPTS",
        "WHEN",
        "LAST ERROR",
    ] {
        assert!(lines[0].contains(column), "{column}: {}", lines[0]);
    }
    // Oldest first, by creation; the done job is not there.
    let ids: Vec<i64> = lines[1..5]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(ids, [s.failed, s.running, s.queued, s.given_up]);
    assert!(job_line(&stdout, s.done).is_none(), "{stdout}");
    assert_eq!(lines[5], "1 queued, 1 running, 2 failed");

    let loop_id = s.loop_id.to_string();
    let failed: Vec<&str> = job_line(&stdout, s.failed)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        failed[..5],
        [
            &*s.failed.to_string(),
            "failed",
            "provision_loop",
            &*loop_id,
            "12"
        ]
    );
    let failed = job_line(&stdout, s.failed).unwrap();
    assert!(
        failed.contains("failed at 2026-01-10T12:00:00Z"),
        "{failed}"
    );
    // The last error on one line, clipped.
    let error = &failed[failed.find("slack:").unwrap()..];
    assert!(error.starts_with("slack: channel_not_found xxx"), "{error}");
    assert!(error.ends_with('…'), "{error}");
    assert!(error.chars().count() <= 100, "{error}");

    let running = job_line(&stdout, s.running).unwrap();
    assert!(running.contains("refresh_summary"), "{running}");
    assert!(
        running.contains(&format!("held by {HOLDER} until 2100-01-01T00:00:00Z")),
        "{running}"
    );

    let queued = job_line(&stdout, s.queued).unwrap();
    let cells: Vec<&str> = queued.split_whitespace().collect();
    assert_eq!(
        cells[1..5],
        ["queued", "publish_home", "-", "0"],
        "{queued}"
    );
    assert!(queued.ends_with("runs at 2100-01-01T00:00:00Z"), "{queued}");

    let given_up = job_line(&stdout, s.given_up).unwrap();
    assert!(
        given_up.contains("failed at 2026-03-01T12:00:00Z"),
        "{given_up}"
    );
    assert!(given_up.ends_with("  slack: not_in_channel"), "{given_up}");

    // The columns line up: every kind starts under KIND.
    let kind_at = lines[0].find("KIND").unwrap();
    for line in &lines[1..5] {
        assert!(
            line[kind_at..].starts_with(|c: char| c.is_ascii_lowercase()),
            "{stdout}"
        );
    }
}

#[test]
fn jobs_json_has_every_field_with_times_as_rfc3339_and_milliseconds() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed_jobs(dir.path());
    let output = run(dir.path(), &["jobs", "--json"]);
    let docs = json(&ok(&output));
    assert_eq!(text(&output.stderr), "");
    let docs = docs.as_array().unwrap();
    assert_eq!(docs.len(), 4);
    let ids: Vec<i64> = docs.iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [s.failed, s.running, s.queued, s.given_up]);

    let failed = &docs[0];
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["kind"], "provision_loop");
    assert_eq!(failed["loop_id"], s.loop_id);
    assert_eq!(failed["attempts"], 12);
    assert_eq!(failed["failed_at"], "2026-01-10T12:00:00Z");
    assert_eq!(failed["failed_at_ms"], EARLY);
    assert_eq!(failed["last_error"], long_error(), "whole, not clipped");
    assert_eq!(failed["next_run_at"], Value::Null);
    assert_eq!(failed["locked_by"], Value::Null);
    assert_eq!(failed["created_at"], "2026-01-01T00:00:01Z");
    assert_eq!(failed["created_at_ms"], CREATED + 1_000);

    let running = &docs[1];
    assert_eq!(running["state"], "running");
    assert_eq!(running["locked_by"], HOLDER);
    assert_eq!(running["locked_until"], "2100-01-01T00:00:00Z");
    assert_eq!(running["locked_until_ms"], FAR);
    assert_eq!(running["failed_at"], Value::Null);
    assert_eq!(running["last_error"], Value::Null);

    let queued = &docs[2];
    assert_eq!(queued["loop_id"], Value::Null);
    assert_eq!(queued["next_run_at"], "2100-01-01T00:00:00Z");
    assert_eq!(queued["next_run_at_ms"], FAR);
    assert_eq!(queued["locked_until"], Value::Null);

    // With a filter, under `list` too.
    let failed_only = json(&ok(&run(
        dir.path(),
        &["jobs", "list", "--json", "--state", "failed"],
    )));
    let ids: Vec<i64> = failed_only
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [s.failed, s.given_up]);
}

#[test]
fn jobs_state_filter_shows_one_state_and_counts_only_it() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed_jobs(dir.path());

    let running = ok(&run(dir.path(), &["jobs", "--state", "running"]));
    let lines: Vec<&str> = running.lines().collect();
    assert_eq!(lines.len(), 3, "{running}");
    assert!(job_line(&running, s.running).is_some(), "{running}");
    assert_eq!(lines[2], "1 running");

    let failed = ok(&run(dir.path(), &["jobs", "list", "--state", "failed"]));
    assert!(job_line(&failed, s.failed).is_some(), "{failed}");
    assert!(job_line(&failed, s.given_up).is_some(), "{failed}");
    assert!(job_line(&failed, s.queued).is_none(), "{failed}");
    assert!(failed.ends_with("\n2 failed\n"), "{failed}");

    let queued = ok(&run(dir.path(), &["jobs", "--state", "queued"]));
    assert!(queued.ends_with("\n1 queued\n"), "{queued}");

    // Done jobs are never listed: not a state the filter knows.
    let output = run(dir.path(), &["jobs", "--state", "done"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(text(&output.stdout), "");
}

#[test]
fn jobs_retry_requeues_failed_jobs_by_id_to_run_now() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed_jobs(dir.path());
    let before = now_ms();
    let output = run(
        dir.path(),
        &[
            "jobs",
            "retry",
            &s.failed.to_string(),
            &s.given_up.to_string(),
        ],
    );
    let after = now_ms();
    let stdout = ok(&output);
    assert_eq!(
        stdout,
        format!(
            "Requeued job {} (provision_loop, loop {}).\n\
             Requeued job {} (decision_message, loop {}).\n\
             A running `loopbot serve` picks them up on its next tick.\n",
            s.failed, s.loop_id, s.given_up, s.loop_id
        )
    );

    let job = stored_job(dir.path(), s.failed);
    assert_eq!(job.state, "queued");
    assert_eq!(job.attempts, 0);
    assert!(
        (before..=after).contains(&job.run_at),
        "{before} <= {} <= {after}",
        job.run_at
    );
    assert_eq!((job.locked_by, job.locked_until), (None, None));
    assert_eq!(
        job.last_error.as_deref(),
        Some(long_error().as_str()),
        "kept until it runs"
    );
    assert_eq!(stored_job(dir.path(), s.given_up).state, "queued");
    // The others are untouched.
    let running = stored_job(dir.path(), s.running);
    assert_eq!(running.state, "running");
    assert_eq!(running.locked_by.as_deref(), Some(HOLDER));
    assert_eq!(stored_job(dir.path(), s.done).state, "done");

    // The list shows them queued and due; nothing failed is left.
    let list = ok(&run(dir.path(), &["jobs"]));
    let line = job_line(&list, s.failed).unwrap();
    assert!(
        line.contains(" queued ") && line.contains("due since "),
        "{line}"
    );
    assert!(
        list.ends_with("\n3 queued, 1 running, 0 failed\n"),
        "{list}"
    );
}

#[test]
fn jobs_retry_of_an_unknown_or_unfailed_id_fails_but_still_requeues_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed_jobs(dir.path());
    let output = run(
        dir.path(),
        &[
            "jobs",
            "retry",
            &s.failed.to_string(),
            "9999",
            &s.running.to_string(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        text(&output.stdout),
        format!(
            "Requeued job {} (provision_loop, loop {}).\n\
             A running `loopbot serve` picks it up on its next tick.\n",
            s.failed, s.loop_id
        )
    );
    let err = text(&output.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("loopbot: "), "{err}");
    assert!(err.contains("job 9999 does not exist"), "{err}");
    assert!(
        err.contains(&format!("job {} is running, not failed", s.running)),
        "{err}"
    );

    assert_eq!(stored_job(dir.path(), s.failed).state, "queued");
    assert_eq!(stored_job(dir.path(), s.running).state, "running");
    assert_eq!(stored_job(dir.path(), s.given_up).state, "failed");

    // Nothing valid at all: still exit 1, nothing requeued, nothing on stdout.
    let output = run(dir.path(), &["jobs", "retry", &s.done.to_string()]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(text(&output.stdout), "");
    let err = text(&output.stderr);
    assert!(
        err.contains(&format!("job {} is done, not failed", s.done)),
        "{err}"
    );
}

#[test]
fn jobs_retry_all_failed_requeues_every_failed_job_and_says_how_many() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed_jobs(dir.path());
    let stdout = ok(&run(dir.path(), &["jobs", "retry", "--all-failed"]));
    assert_eq!(
        stdout,
        format!(
            "Requeued job {} (provision_loop, loop {}).\n\
             Requeued job {} (decision_message, loop {}).\n\
             Requeued 2 failed jobs. A running `loopbot serve` picks them up on its next tick.\n",
            s.failed, s.loop_id, s.given_up, s.loop_id
        )
    );
    for id in [s.failed, s.given_up] {
        let job = stored_job(dir.path(), id);
        assert_eq!((job.state.as_str(), job.attempts), ("queued", 0), "{id}");
    }
    assert_eq!(stored_job(dir.path(), s.running).state, "running");
    assert_eq!(stored_job(dir.path(), s.queued).run_at, FAR);

    let again = ok(&run(dir.path(), &["jobs", "retry", "--all-failed"]));
    assert_eq!(again, "No failed jobs to retry.\n");
}

#[test]
fn jobs_with_nothing_to_show_says_so() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        ok(&run(dir.path(), &["jobs"])),
        "No queued, running or failed work.\n"
    );
    assert_eq!(ok(&run(dir.path(), &["jobs", "--json"])), "[]\n");
    assert_eq!(
        ok(&run(dir.path(), &["jobs", "--state", "failed"])),
        "No failed work.\n"
    );
    assert_eq!(
        ok(&run(dir.path(), &["jobs", "retry", "--all-failed"])),
        "No failed jobs to retry.\n"
    );
}

#[test]
fn jobs_usage_errors_exit_with_2_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed_jobs(dir.path());
    let failed = s.failed.to_string();
    for args in [
        &["jobs", "retry"][..],
        &["jobs", "retry", "twelve"],
        &["jobs", "retry", "0"],
        &["jobs", "retry", &failed, "--all-failed"],
        &["jobs", "--json", "retry", &failed],
        &["jobs", "--state"],
    ] {
        let output = run(dir.path(), args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&output.stdout), "", "{args:?}");
    }
    assert_eq!(stored_job(dir.path(), s.failed).state, "failed");

    let help = ok(&run(dir.path(), &["jobs", "retry", "--help"]));
    assert!(help.contains("--all-failed"), "{help}");
    assert!(help.contains("next tick"), "{help}");
}

/// Slack clean-up jobs in the database: (loop, state).
fn slack_jobs(dir: &Path) -> Vec<(i64, String)> {
    block_on(async {
        let pool = db::connect(&url(dir)).await.unwrap();
        let jobs = sqlx::query_as(
            "SELECT loop_id, state FROM jobs WHERE kind = 'purge_slack' ORDER BY loop_id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        jobs
    })
}

#[test]
fn purge_slack_queues_the_clean_up_for_serve_and_says_so_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed(dir.path());
    // Without --slack: as before, nothing for Slack.
    let output = run(
        dir.path(),
        &["purge", "--loop", &s.open.to_string(), "--yes"],
    );
    let stdout = ok(&output);
    assert_eq!(stdout, "Purged 1 loop.\n");
    assert!(!text(&output.stderr).contains("--slack"));
    assert_eq!(slack_jobs(dir.path()), vec![]);

    // One loop, purged already: its names are still in Slack, so --slack queues the clean-up.
    let output = run(
        dir.path(),
        &["purge", "--loop", &s.open.to_string(), "--slack", "--yes"],
    );
    let stdout = ok(&output);
    assert_eq!(
        stdout,
        "Purged 0 loops.\nQueued 1 Slack clean-up job; a running `loopbot serve` carries it out.\n"
    );
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(&format!("Loop {} is purged already.", s.open))
            && stderr.contains("deletes Loopbot's own messages about the candidate in Slack")
            && stderr.contains("messages people wrote stay"),
        "{stderr}"
    );
    assert_eq!(slack_jobs(dir.path()), vec![(s.open, "queued".to_string())]);

    // By date: the loop decided early is purged and queued; asked first.
    let output = run_with_stdin(
        dir.path(),
        &["purge", "--decided-before", "2026-02-01", "--slack"],
        "no\n",
    );
    assert!(ok(&output).contains("Nothing was changed."));
    assert!(text(&output.stderr).contains("With --slack"));
    let output = run(
        dir.path(),
        &[
            "purge",
            "--decided-before",
            "2026-02-01",
            "--slack",
            "--yes",
        ],
    );
    assert_eq!(
        ok(&output),
        "Purged 1 loop.\nQueued 1 Slack clean-up job; a running `loopbot serve` carries it out.\n"
    );
    // Asked again while queued: still one job per loop.
    let output = run(
        dir.path(),
        &[
            "purge",
            "--decided-before",
            "2026-03-02",
            "--slack",
            "--yes",
        ],
    );
    assert_eq!(
        ok(&output),
        "Purged 1 loop.\nQueued 2 Slack clean-up jobs; a running `loopbot serve` carries them out.\n"
    );
    assert_eq!(
        slack_jobs(dir.path()),
        vec![
            (s.ada, "queued".to_string()),
            (s.later, "queued".to_string()),
            (s.open, "queued".to_string()),
        ]
    );
    let listed = ok(&run(dir.path(), &["jobs"]));
    assert!(listed.contains("purge_slack"), "{listed}");
}

#[test]
fn purge_slack_warns_before_that_an_archived_channel_keeps_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let s = seed(dir.path());
    block_on(async {
        let pool = db::connect(&url(dir.path())).await.unwrap();
        sqlx::query("UPDATE loops SET archived_at = ?2 WHERE id = ?1")
            .bind(s.ada)
            .bind(LATE)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let output = run(
        dir.path(),
        &["purge", "--loop", &s.ada.to_string(), "--slack", "--yes"],
    );
    ok(&output);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("1 of these channels is archived: Slack lets no bot rename or unarchive a channel, so it keeps its name"),
        "{stderr}"
    );
}
