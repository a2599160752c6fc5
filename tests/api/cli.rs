//! The `loopbot` binary as an operator meets it: start-up errors, clean shutdown, quiet logs.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "cli0test0signing0secret0value";
const TOKEN: &str = "xoxb-cli-test-token-value";

fn loopbot(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loopbot"));
    command
        .env_clear()
        .current_dir(dir)
        .env("DATABASE_URL", format!("sqlite://{}/l.db", dir.display()));
    command
}

/// A configuration error: exit code 78 and its one line.
fn serve_error(dir: &std::path::Path, vars: &[(&str, &str)]) -> String {
    let mut command = loopbot(dir);
    command.arg("serve");
    for (k, v) in vars {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    let err = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(78), "{err}");
    err
}

#[test]
fn a_bad_or_missing_setting_stops_start_up_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = serve_error(dir.path(), &[("SLACK_BOT_TOKEN", TOKEN)]);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("loopbot: SLACK_SIGNING_SECRET: missing"),
        "{err}"
    );

    let ok = [("SLACK_SIGNING_SECRET", SECRET), ("SLACK_BOT_TOKEN", TOKEN)];
    let err = serve_error(
        dir.path(),
        &[ok[0], ok[1], ("LOOPBOT_WORK_HOURS", "nine to five")],
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("LOOPBOT_WORK_HOURS"), "{err}");

    // A flag overrides the environment, and is checked the same way.
    let mut command = loopbot(dir.path());
    command.args(["serve", "--tick", "often"]).envs(ok);
    let output = command.output().unwrap();
    assert_eq!(output.status.code(), Some(78));
    let err = String::from_utf8(output.stderr).unwrap();
    assert!(
        err.contains("LOOPBOT_TICK: `often` is not a duration"),
        "{err}"
    );
    assert!(!err.contains(SECRET) && !err.contains(TOKEN));
}

#[test]
fn a_malformed_rubric_file_names_the_file_and_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let rubrics = dir.path().join("rubrics");
    std::fs::create_dir(&rubrics).unwrap();
    let broken = include_str!("../fixtures/rubrics/staff-sre.toml").replacen(
        "question = ",
        "questoin = ",
        1,
    );
    std::fs::write(rubrics.join("staff-sre.toml"), broken).unwrap();
    let err = serve_error(
        dir.path(),
        &[
            ("SLACK_SIGNING_SECRET", SECRET),
            ("SLACK_BOT_TOKEN", TOKEN),
            ("LOOPBOT_RUBRICS_DIR", rubrics.to_str().unwrap()),
        ],
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("staff-sre.toml"), "{err}");
    assert!(err.contains("stages[0]"), "{err}");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn sigterm_stops_the_server_cleanly_within_ten_seconds_and_logs_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = loopbot(dir.path())
        .arg("serve")
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("SLACK_API_URL", "http://127.0.0.1:9/api")
        .env("LOOPBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = crate::helpers::drain_output(&mut child);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Up means listening with its database created (a port chosen free can, rarely, be
        // taken by another test's server in the meantime; then this one never comes up).
        let up = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            && dir.path().join("l.db").exists();
        if up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not start and create its database"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        dir.path().join("l.db").exists(),
        "the database file is created on start"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let stopped_by = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < stopped_by,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let logs = output.join().unwrap();
    assert!(logs.contains("listening"), "{logs}");
    assert!(
        !logs.contains(SECRET) && !logs.contains(TOKEN),
        "secrets leaked: {logs}"
    );
}

/// What a person reading the demo must find, over either transport.
const DEMO_SHOWS: &[&str] = &[
    "sees the start form",
    "next to `hiring_manager`: Choose the hiring manager",
    "#loop-ada-lovelace-senior-backend (private)",
    "sees the pinned summary",
    "next to `evidence`: Write at least 40 characters",
    "Technical screen: 1 of 1 scorecards in.",
    "Scorecards are blind",
    "sees the debrief matrix, then every scorecard in full",
    "scorecard opens when the interview starts",
    "No alarm: 0 missing-stage warnings",
    "sees her brief, by direct message",
    "*Ask:* Is this person worth the deeper investment",
    "one friendly nudge, in working hours",
    "the reminder waits",
    "Your scorecard for *System design* with *Ada Lovelace* was due",
    "I didn't run this interview",
    "is still missing after",
    "Your scorecards",
    "*overdue*",
    "skipped *System design*",
    "next to `confirm_missing`",
    "Decision: Hire · Ada Lovelace",
    "@Ines *4 · Strong yes*",
    "the full rubric, in the post's thread",
    "*Debrief* · ",
    "decided without: Values and collaboration (confirmed by @Harper)",
    "reopened the loop (it was *Hire*)",
    "Nobody typed a command: #loop-grace-hopper-senior-backend (private)",
    "*1. Technical screen* · @Ines · :calendar: scheduled Wed 2 Dec 2026 at 16:00 CET",
    "applicationFeedback.submit, filed as Ines herself",
    "overall_recommendation = {\"score\":3}",
    "Demo finished",
];

fn demo(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output = loopbot(dir.path()).args(args).output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in DEMO_SHOWS {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in:\n{stdout}"
        );
    }
    stdout
}

#[test]
fn the_demo_runs_a_whole_loop_offline_and_shows_what_people_see() {
    let stdout = demo(&["demo"]);
    assert!(stdout.contains("signed and goes through Loopbot's real HTTP endpoints"));
}

#[test]
fn the_demo_runs_the_same_loop_over_socket_mode() {
    let stdout = demo(&["demo", "--socket"]);
    assert!(stdout.contains("Loopbot runs in Socket Mode"), "{stdout}");
}

#[test]
fn socket_mode_without_an_app_token_stops_start_up_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = serve_error(
        dir.path(),
        &[("SLACK_BOT_TOKEN", TOKEN), ("LOOPBOT_MODE", "socket")],
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("loopbot: SLACK_APP_TOKEN: missing"),
        "{err}"
    );
    // With `--mode socket` the signing secret is not asked for, a bot token in its place is.
    let mut command = loopbot(dir.path());
    command
        .args(["serve", "--mode", "socket"])
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("SLACK_APP_TOKEN", TOKEN);
    let err = String::from_utf8(command.output().unwrap().stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("SLACK_APP_TOKEN: must be an app-level token"),
        "{err}"
    );
    assert!(!err.contains(TOKEN));
}

#[test]
fn serve_help_documents_every_setting_with_its_variable_and_default() {
    let dir = tempfile::tempdir().unwrap();
    let output = loopbot(dir.path())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    let declared = loopbot::settings::declared();
    assert!(declared.len() >= 21, "{declared:?}");
    for d in declared {
        assert!(
            help.contains(&format!("{} <", d.flag)),
            "{}: {help}",
            d.flag
        );
        assert!(
            help.contains(&format!("[env: {}=", d.variable)),
            "{}: {help}",
            d.variable
        );
        assert!(!d.help.is_empty(), "{} has no help", d.variable);
        if let Some(default) = &d.default {
            assert!(
                help.contains(&format!("[default: {default}]")),
                "{}: {help}",
                d.variable
            );
        }
    }
    for variable in [
        "LOOPBOT_LOG_FORMAT",
        "LOOPBOT_METRICS_LISTEN",
        "LOOPBOT_RETAIN",
    ] {
        assert!(
            declared.iter().any(|d| d.variable == variable),
            "{variable}"
        );
    }
    // The secrets are described, from the environment only: no flag takes them.
    for (secret, _) in loopbot::settings::SECRETS {
        assert!(help.contains(secret), "{secret}: {help}");
        let flag = format!("--{}", secret.to_lowercase().replace('_', "-"));
        assert!(!help.contains(&flag), "{flag}");
    }
    assert!(help.contains("RUST_LOG"), "{help}");
    assert!(help.contains("78"), "the exit codes: {help}");
}

#[test]
fn env_example_names_every_setting_with_its_default() {
    let example = include_str!("../../.env.example");
    let mut seen = std::collections::BTreeMap::new();
    for line in example.lines() {
        let line = line.trim_start_matches('#').trim();
        if let Some((name, value)) = line.split_once('=')
            && !name.is_empty()
            && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        {
            seen.insert(name.to_string(), value.to_string());
        }
    }
    let mut expected: Vec<String> = loopbot::settings::declared()
        .iter()
        .map(|d| d.variable.clone())
        .chain(
            loopbot::settings::SECRETS
                .iter()
                .map(|(s, _)| s.to_string()),
        )
        .chain(["RUST_LOG".to_string()])
        .collect();
    expected.sort();
    let names: Vec<String> = seen.keys().cloned().collect();
    assert_eq!(
        names, expected,
        ".env.example and the declared settings differ"
    );
    for d in loopbot::settings::declared() {
        if let Some(default) = &d.default {
            assert_eq!(&seen[&d.variable], default, "{}", d.variable);
        }
    }
}

#[test]
fn the_settings_page_names_every_setting_serve_help_lists() {
    let page = include_str!("../../docs/settings.md");
    let mut documented: Vec<String> = page
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split_once('`').map(|(name, _)| name.to_string()))
        .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    documented.sort();
    let mut expected: Vec<String> = loopbot::settings::declared()
        .iter()
        .map(|d| d.variable.clone())
        .chain(
            loopbot::settings::SECRETS
                .iter()
                .map(|(s, _)| s.to_string()),
        )
        .chain(["RUST_LOG".to_string()])
        .collect();
    expected.sort();
    assert_eq!(
        documented, expected,
        "docs/settings.md and the settings differ"
    );
    let dir = tempfile::tempdir().unwrap();
    let output = loopbot(dir.path())
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for d in loopbot::settings::declared() {
        assert!(help.contains(&d.variable), "{} in --help", d.variable);
        if let Some(default) = &d.default {
            let row = page
                .lines()
                .find(|l| l.starts_with(&format!("| `{}`", d.variable)))
                .unwrap();
            assert!(
                row.contains(&format!("`{default}`")),
                "docs/settings.md gives {}'s default `{default}`: {row}",
                d.variable
            );
        }
    }
}

#[test]
fn exit_codes_tell_usage_configuration_and_runtime_failures_apart() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str], vars: &[(&str, &str)]| {
        let mut command = loopbot(dir.path());
        command.args(args).envs(vars.iter().copied());
        command.output().unwrap()
    };
    // Usage: clap's own errors, a secret given as a flag, and a bad flag value.
    for args in [
        &["serve", "--no-such-flag"][..],
        &["serve", "--slack-bot-token", TOKEN],
        &["purge", "--decided-before", "someday", "--yes"],
        &["nonsense"],
    ] {
        let output = run(args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
    // Configuration: a bad setting.
    let output = run(&["jobs"], &[("DATABASE_URL", "mysql://x")]);
    assert_eq!(output.status.code(), Some(78));
    let output = run(
        &["serve"],
        &[
            ("SLACK_SIGNING_SECRET", SECRET),
            ("SLACK_BOT_TOKEN", TOKEN),
            ("LOOPBOT_LOG_FORMAT", "xml"),
        ],
    );
    assert_eq!(output.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&output.stderr).contains("LOOPBOT_LOG_FORMAT"));
    // Runtime: the database cannot be opened.
    let output = run(
        &["export"],
        &[("DATABASE_URL", "sqlite:///no/such/folder/l.db")],
    );
    assert_eq!(output.status.code(), Some(1));
    // Success.
    assert_eq!(run(&["export"], &[]).status.code(), Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_slack_refuses_stops_start_up_with_one_line_naming_it() {
    let clock: loopbot::clock::SharedClock = std::sync::Arc::new(loopbot::clock::SystemClock);
    let sim = slack_sim::Simulator::new(clock, "xoxb-the-real-token");
    let server = sim.serve().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut command = loopbot(dir.path());
    command
        .arg("serve")
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("SLACK_API_URL", &server.base_url)
        .env("LOOPBOT_LISTEN", "127.0.0.1:0");
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let err = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(78), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("loopbot: SLACK_BOT_TOKEN: Slack refused the bot token (`invalid_auth`)"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");
}

#[test]
fn json_logs_are_one_object_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = loopbot(dir.path())
        .arg("serve")
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("SLACK_BOT_TOKEN", TOKEN)
        .env("SLACK_API_URL", "http://127.0.0.1:9/api")
        .env("LOOPBOT_LISTEN", format!("127.0.0.1:{port}"))
        .env("LOOPBOT_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["message"] == "loopbot is listening" && l["level"] == "INFO"),
        "{logs}"
    );
    assert!(
        lines.iter().any(|l| l["level"] == "WARN"
            && l["message"]
                .as_str()
                .unwrap_or("")
                .contains("SLACK_BOT_TOKEN")),
        "Slack out of reach is a warning: {logs}"
    );
    assert!(!logs.contains(TOKEN) && !logs.contains(SECRET));
}

#[tokio::test(flavor = "multi_thread")]
async fn healthcheck_exits_0_while_serve_answers_and_1_when_nothing_listens() {
    let world_dir = tempfile::tempdir().unwrap();
    let clock: loopbot::clock::SharedClock = std::sync::Arc::new(loopbot::clock::SystemClock);
    let sim = slack_sim::Simulator::new(clock.clone(), TOKEN);
    let server = sim.serve().await.unwrap();
    let raw: loopbot::settings::RawSettings = [
        ("SLACK_SIGNING_SECRET", SECRET.to_string()),
        ("SLACK_BOT_TOKEN", TOKEN.to_string()),
        ("SLACK_API_URL", server.base_url.clone()),
        (
            "DATABASE_URL",
            format!("sqlite://{}/l.db", world_dir.path().display()),
        ),
        ("LOOPBOT_LISTEN", "127.0.0.1:0".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut settings =
        loopbot::settings::Settings::parse(&raw, loopbot::settings::Needs::Slack).unwrap();
    settings.run_worker = false;
    let app = loopbot::startup::Application::build(settings, clock)
        .await
        .unwrap();
    let listen = app.address().to_string();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let check = |listen: String, path: &'static str| {
        let dir = world_dir.path().to_path_buf();
        tokio::task::spawn_blocking(move || {
            loopbot(&dir)
                .args(["healthcheck", "--path", path])
                .env("LOOPBOT_LISTEN", listen)
                .output()
                .unwrap()
                .status
                .code()
        })
    };
    assert_eq!(check(listen.clone(), "/healthz").await.unwrap(), Some(0));
    assert_eq!(check(listen.clone(), "/readyz").await.unwrap(), Some(0));
    let _ = stop.send(());
    handle.await.unwrap().unwrap();
    assert_eq!(check(listen, "/healthz").await.unwrap(), Some(1));
}

#[test]
fn migrate_to_postgres_refuses_wrong_urls_and_a_file_in_use_with_2() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = loopbot(dir.path()).args(args).output().unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, err) = run(&["migrate-to-postgres", "--to", "postgres://db/x"]);
    assert_eq!(code, Some(2), "--from is required: {err}");
    let db = dir.path().join("l.db");
    let from = format!("sqlite://{}", db.display());
    for (args, says) in [
        (
            ["--from", "postgres://u:pw@db/x", "--to", "postgres://db/y"],
            "--from: `postgres://u:***@db/x` is not a SQLite URL",
        ),
        (
            ["--from", from.as_str(), "--to", "postgres://db/y"],
            "no such file",
        ),
    ] {
        let (code, err) = run(&[&["migrate-to-postgres"][..], &args].concat());
        assert_eq!(code, Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{err}");
        assert!(err.contains("Stop every `loopbot serve`"), "{err}");
        assert!(!err.contains("pw@"), "{err}");
    }
    // A file a running Loopbot has open: refused before anything is read or written.
    let (code, err) = run(&["jobs", "--database-url", &from]);
    assert_eq!(code, Some(0), "{err}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let holder = runtime.block_on(async {
        let pool = loopbot::db::connect(&from).await.unwrap();
        assert!(loopbot::db::ping(&pool).await);
        pool
    });
    let (code, err) = run(&[
        "migrate-to-postgres",
        "--from",
        &from,
        "--to",
        "postgres://127.0.0.1:9/nothing",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("the database is in use (is `loopbot serve` still running on it?"),
        "{err}"
    );
    runtime.block_on(holder.close());
    // The command is listed with what it does.
    let output = loopbot(dir.path()).arg("--help").output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("migrate-to-postgres"), "{help}");
}
