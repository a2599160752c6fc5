use super::load::BUILTIN_SOURCE;
use super::*;

const SRC: &str = "rubrics/foo.toml";

fn criterion(key: &str) -> String {
    format!(
        "[[stages.criteria]]\nkey = \"{key}\"\nname = \"Criterion {key}\"\n\
         listen_for = \"listen\"\nstrong = \"strong\"\nwell_prepared = \"prepared\"\n"
    )
}

fn stage(key: &str, extra: &str, criteria: usize) -> String {
    let mut s = format!(
        "[[stages]]\nkey = \"{key}\"\nname = \"Stage {key}\"\nminutes = 30\n\
         question = \"Why?\"\n{extra}"
    );
    for i in 0..criteria {
        s.push_str(&criterion(&format!("c{i}")));
    }
    s
}

const HEAD: &str = "id = \"foo\"\nrole = \"Foo Engineer\"\nfeedback_deadline = \"24h\"\n";

fn valid() -> String {
    format!("{HEAD}{}{}", stage("one", "", 3), stage("two", "", 3))
}

#[test]
fn builtin_parses_with_four_stages_in_article_order() {
    let set = RubricSet::builtin();
    let r = set.default_rubric();
    assert_eq!(r.id, DEFAULT_RUBRIC_ID);
    assert_eq!(r.role, "Senior Backend Engineer");
    assert_eq!(
        r.feedback_deadline, None,
        "LOOPBOT_FEEDBACK_DUE governs the default rubric"
    );
    assert!(!r.summary.is_empty());
    let keys: Vec<_> = r.stages.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(
        keys,
        ["technical-screen", "system-design", "coding", "values"]
    );
    let names: Vec<_> = r.stages.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Technical screen",
            "System design",
            "Coding",
            "Values and collaboration"
        ]
    );
    let labels: Vec<_> = r.stages.iter().map(|s| s.duration_label()).collect();
    assert_eq!(labels, ["30 min", "60 min", "60–90 min", "45 min"]);
    assert_eq!(r.stages[2].planned_minutes(), 90);
    assert_eq!(r.stages[0].planned_minutes(), 30);
    for s in &r.stages {
        assert!((3..=5).contains(&s.criteria.len()), "{}", s.key);
        assert!(!s.red_flags.is_empty(), "{}", s.key);
        assert!(!s.format.is_empty(), "{}", s.key);
        assert!(s.name.chars().count() <= 24);
        // The shipped texts are kept short enough to read during an interview.
        let mut texts = vec![&s.question, &s.format];
        texts.extend(&s.red_flags);
        for c in &s.criteria {
            assert!(c.name.chars().count() <= 60);
            texts.extend([&c.listen_for, &c.strong, &c.well_prepared]);
        }
        for t in texts {
            assert!(t.chars().count() <= 400, "too long: {t}");
        }
    }
    assert!(r.summary.chars().count() <= 400);
    assert!(r.stages[1].format.contains("highest-signal"));
    assert!(
        r.stage("values")
            .unwrap()
            .criterion("production-ownership")
            .is_some()
    );
    assert_eq!(r.stage_index("coding"), Some(2));
    assert_eq!(r.stage_index("nope"), None);
    assert!(r.stage("nope").is_none());
    assert_eq!(set.all().len(), 1);
    assert_eq!(set.source_of(DEFAULT_RUBRIC_ID), Some(BUILTIN_SOURCE));
}

#[test]
fn minimal_valid_rubric_parses() {
    let r = Rubric::from_toml_str(&valid(), SRC).unwrap();
    assert_eq!(r.stages.len(), 2);
    assert_eq!(r.summary, "");
    assert!(r.stages[0].red_flags.is_empty());
    assert_eq!(r.stages[0].max_minutes, None);
    assert_eq!(r.stages[0].duration_label(), "30 min");

    // The deadline is optional.
    let text = valid().replace("feedback_deadline = \"24h\"\n", "");
    assert_eq!(
        Rubric::from_toml_str(&text, SRC).unwrap().feedback_deadline,
        None
    );
}

#[test]
fn serde_round_trip_through_toml_and_json() {
    let r = RubricSet::builtin().default_rubric().clone();
    let text = toml::to_string(&r).unwrap();
    assert_eq!(Rubric::from_toml_str(&text, "roundtrip").unwrap(), r);
    let json = serde_json::to_string(&r).unwrap();
    let back: Rubric = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r);
    // deny_unknown_fields on the derive too.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["stages"][0]["qestion"] = "typo".into();
    assert!(serde_json::from_value::<Rubric>(v).is_err());
}

/// (case, rubric text, field path the error must name, text the message must contain)
fn malformed() -> Vec<(&'static str, String, &'static str, &'static str)> {
    let two = |s1: String| format!("{HEAD}{}{s1}", stage("one", "", 3));
    let long = |n: usize| "x".repeat(n);
    vec![
        (
            "missing id",
            valid().replace("id = \"foo\"\n", ""),
            "id",
            "missing field",
        ),
        (
            "empty id",
            valid().replace("id = \"foo\"", "id = \"\""),
            "id",
            "empty",
        ),
        (
            "uppercase id",
            valid().replace("id = \"foo\"", "id = \"Foo\""),
            "id",
            "lowercase",
        ),
        (
            "long id",
            valid().replace("id = \"foo\"", &format!("id = \"{}\"", long(41))),
            "id",
            "at most 40",
        ),
        (
            "id of wrong type",
            valid().replace("id = \"foo\"", "id = 7"),
            "id",
            "expected a string, found an integer",
        ),
        (
            "long role",
            valid().replace("Foo Engineer", &long(61)),
            "role",
            "at most 60",
        ),
        (
            "unknown top-level field",
            format!("rol = \"x\"\n{}", valid()),
            "rol",
            "unknown field",
        ),
        (
            "bad deadline",
            valid().replace("\"24h\"", "\"tomorrow\""),
            "feedback_deadline",
            "not a duration",
        ),
        (
            "deadline too short",
            valid().replace("\"24h\"", "\"30m\""),
            "feedback_deadline",
            "between 1h and 30d",
        ),
        (
            "deadline too long",
            valid().replace("\"24h\"", "\"31d\""),
            "feedback_deadline",
            "between 1h and 30d",
        ),
        ("no stages", HEAD.to_string(), "stages", "missing field"),
        (
            "empty stages",
            format!("{HEAD}stages = []\n"),
            "stages",
            "1 to 10 stages, found 0",
        ),
        (
            "eleven stages",
            format!(
                "{HEAD}{}",
                (0..11)
                    .map(|i| stage(&format!("s{i}"), "", 3))
                    .collect::<String>()
            ),
            "stages",
            "found 11",
        ),
        (
            "missing question",
            two(stage("two", "", 3).replace("question = \"Why?\"\n", "")),
            "stages[1].question",
            "missing field",
        ),
        (
            "empty question",
            two(stage("two", "", 3).replace("\"Why?\"", "\"  \"")),
            "stages[1].question",
            "empty",
        ),
        (
            "long question",
            two(stage("two", "", 3).replace("Why?", &long(301))),
            "stages[1].question",
            "at most 300",
        ),
        (
            "typo in a stage field",
            two(stage("two", "qestion = \"x\"\n", 3)),
            "stages[1].qestion",
            "unknown field",
        ),
        (
            "duplicate stage key",
            two(stage("one", "", 3)),
            "stages[1].key",
            "used twice",
        ),
        (
            "stage key not kebab",
            two(stage("Two_Stage", "", 3)),
            "stages[1].key",
            "kebab",
        ),
        (
            "stage name too long for a modal title",
            two(stage("two", "", 3).replace("Stage two", &long(25))),
            "stages[1].name",
            "at most 24",
        ),
        (
            "minutes too small",
            two(stage("two", "", 3).replace("minutes = 30", "minutes = 4")),
            "stages[1].minutes",
            "between 5 and 480",
        ),
        (
            "negative minutes",
            two(stage("two", "", 3).replace("minutes = 30", "minutes = -30")),
            "stages[1].minutes",
            "found -30",
        ),
        (
            "minutes as a string",
            two(stage("two", "", 3).replace("minutes = 30", "minutes = \"30\"")),
            "stages[1].minutes",
            "expected an integer",
        ),
        (
            "max below minutes",
            two(stage("two", "max_minutes = 20\n", 3)),
            "stages[1].max_minutes",
            "between minutes",
        ),
        (
            "two criteria",
            format!("{HEAD}{}{}", stage("one", "", 3), stage("two", "", 2)),
            "stages[1].criteria",
            "a stage needs 3 to 5 criteria, found 2",
        ),
        (
            "six criteria",
            two(stage("two", "", 6)),
            "stages[1].criteria",
            "found 6",
        ),
        (
            "no criteria",
            two(stage("two", "", 0)),
            "stages[1].criteria",
            "missing field",
        ),
        (
            "duplicate criterion key",
            two(stage("two", "", 3) + &criterion("c0")),
            "stages[1].criteria[3].key",
            "used twice",
        ),
        (
            "criterion name too long",
            two(stage("two", "", 3).replacen("Criterion c1", &long(61), 1)),
            "stages[1].criteria[1].name",
            "at most 60",
        ),
        (
            "criterion missing well_prepared",
            two(stage("two", "", 3).replacen("well_prepared = \"prepared\"\n", "", 1)),
            "stages[1].criteria[0].well_prepared",
            "missing field",
        ),
        (
            "criterion text too long",
            two(stage("two", "", 3).replacen("\"strong\"", &format!("\"{}\"", long(1001)), 1)),
            "stages[1].criteria[0].strong",
            "at most 1000",
        ),
        (
            "typo in a criterion field",
            two(stage("two", "", 3).replacen("listen_for", "listen-for", 1)),
            "stages[1].criteria[0].listen-for",
            "unknown field",
        ),
        (
            "too many red flags",
            two(stage(
                "two",
                &format!("red_flags = [{}]\n", ["\"x\""; 9].join(", ")),
                3,
            )),
            "stages[1].red_flags",
            "at most 8",
        ),
        (
            "empty red flag",
            two(stage("two", "red_flags = [\"ok\", \"\"]\n", 3)),
            "stages[1].red_flags[1]",
            "empty",
        ),
        (
            "red flag of wrong type",
            two(stage("two", "red_flags = [\"ok\", 3]\n", 3)),
            "stages[1].red_flags[1]",
            "expected a string",
        ),
        (
            "red flags not a list",
            two(stage("two", "red_flags = \"one\"\n", 3)),
            "stages[1].red_flags",
            "expected an array",
        ),
        (
            "red flag too long",
            two(stage(
                "two",
                &format!("red_flags = [\"{}\"]\n", long(301)),
                3,
            )),
            "stages[1].red_flags[0]",
            "at most 300",
        ),
    ]
}

#[test]
fn malformed_rubrics_name_the_file_and_the_field() {
    for (case, text, field, fragment) in malformed() {
        let err = Rubric::from_toml_str(&text, SRC)
            .expect_err(&format!("case {case:?} should fail"))
            .to_string();
        assert!(
            err.starts_with(&format!("{SRC}: {field}: ")),
            "case {case:?}: {err}"
        );
        assert!(err.contains(fragment), "case {case:?}: {err}");
    }
}

#[test]
fn example_messages_read_well() {
    let text = format!("{HEAD}{}{}", stage("one", "", 3), stage("two", "", 2));
    assert_eq!(
        Rubric::from_toml_str(&text, SRC).unwrap_err().to_string(),
        "rubrics/foo.toml: stages[1].criteria: a stage needs 3 to 5 criteria, found 2"
    );
    let text = format!(
        "{HEAD}{}{}",
        stage("one", "", 3),
        stage("two", "", 3).replace("question = \"Why?\"\n", "")
    );
    let err = Rubric::from_toml_str(&text, SRC).unwrap_err();
    assert_eq!(err.field(), Some("stages[1].question"));
    assert_eq!(
        err.to_string(),
        "rubrics/foo.toml: stages[1].question: missing field"
    );
}

#[test]
fn toml_syntax_errors_name_the_file_and_line() {
    let text = "id = \"foo\"\nrole = \"Foo\"\nsummary = \"unterminated\n";
    let err = Rubric::from_toml_str(text, SRC).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, RubricError::Syntax { line: 3, .. }), "{msg}");
    assert!(
        msg.starts_with("rubrics/foo.toml: line 3, column "),
        "{msg}"
    );
    assert!(msg.contains("TOML syntax error"), "{msg}");

    let err = Rubric::from_toml_str("id = \"a\"\nid = \"b\"\n", SRC).unwrap_err();
    assert!(matches!(err, RubricError::Syntax { line: 2, .. }), "{err}");
}

#[test]
fn duration_label_and_planned_minutes() {
    let mut s = RubricSet::builtin().default_rubric().stages[0].clone();
    s.minutes = 45;
    s.max_minutes = None;
    assert_eq!(
        (s.duration_label(), s.planned_minutes()),
        ("45 min".into(), 45)
    );
    s.max_minutes = Some(45);
    assert_eq!(
        (s.duration_label(), s.planned_minutes()),
        ("45 min".into(), 45)
    );
    s.max_minutes = Some(75);
    assert_eq!(
        (s.duration_label(), s.planned_minutes()),
        ("45–75 min".into(), 75)
    );
}

#[test]
fn load_without_dir_is_builtin() {
    let set = RubricSet::load(None).unwrap();
    assert_eq!(set.all().len(), 1);
    assert_eq!(set.default_rubric().id, DEFAULT_RUBRIC_ID);
}

#[test]
fn load_adds_extra_rubrics_sorted_by_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let b = valid().replace("id = \"foo\"", "id = \"platform\"");
    let a = valid().replace("id = \"foo\"", "id = \"data-eng\"");
    std::fs::write(dir.path().join("b-platform.toml"), b).unwrap();
    std::fs::write(dir.path().join("a-data.toml"), a).unwrap();
    std::fs::write(dir.path().join("notes.md"), "not a rubric").unwrap();
    std::fs::create_dir(dir.path().join("sub.toml")).unwrap();

    let set = RubricSet::load(Some(dir.path())).unwrap();
    let ids: Vec<_> = set.all().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, [DEFAULT_RUBRIC_ID, "data-eng", "platform"]);
    assert_eq!(set.get("platform").unwrap().stages.len(), 2);
    assert!(set.get("nope").is_none());
    assert_eq!(set.default_rubric().id, DEFAULT_RUBRIC_ID);
    assert!(
        set.source_of("platform")
            .unwrap()
            .ends_with("b-platform.toml")
    );
}

#[test]
fn load_rejects_a_duplicate_id_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), valid()).unwrap();
    std::fs::write(dir.path().join("b.toml"), valid()).unwrap();
    let err = RubricSet::load(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("b.toml"), "{err}");
    assert!(err.contains("a.toml"), "{err}");
    assert!(err.contains("\"foo\""), "{err}");

    // Reusing the built-in id is a duplicate too.
    let dir = tempfile::tempdir().unwrap();
    let text = valid().replace("id = \"foo\"", "id = \"senior-backend\"");
    std::fs::write(dir.path().join("mine.toml"), text).unwrap();
    let err = RubricSet::load(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("mine.toml"), "{err}");
    assert!(err.contains(BUILTIN_SOURCE), "{err}");
}

#[test]
fn load_names_the_path_of_a_broken_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.toml"), valid()).unwrap();
    let broken = valid()
        .replace("id = \"foo\"", "id = \"bar\"")
        .replace("minutes = 30", "minutes = 0");
    std::fs::write(dir.path().join("zz-broken.toml"), broken).unwrap();
    let err = RubricSet::load(Some(dir.path())).unwrap_err().to_string();
    let path = dir.path().join("zz-broken.toml").display().to_string();
    assert!(
        err.starts_with(&format!("{path}: stages[0].minutes: ")),
        "{err}"
    );

    std::fs::write(dir.path().join("zz-broken.toml"), "id = [").unwrap();
    let err = RubricSet::load(Some(dir.path())).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{path}: line 1")), "{err}");
}

#[test]
fn load_names_an_unreadable_dir_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let err = RubricSet::load(Some(&missing)).unwrap_err();
    assert!(matches!(err, RubricError::Io { .. }));
    assert!(
        err.to_string()
            .starts_with(&format!("{}: cannot read", missing.display())),
        "{err}"
    );

    // Not UTF-8: read_to_string fails and the file is named.
    std::fs::write(dir.path().join("bad.toml"), [0xff, 0xfe, 0x00]).unwrap();
    let err = RubricSet::load(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("bad.toml"), "{err}");
}
