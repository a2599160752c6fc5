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

fn serve_error(dir: &std::path::Path, vars: &[(&str, &str)]) -> String {
    let mut command = loopbot(dir);
    command.arg("serve");
    for (k, v) in vars {
        command.env(k, v);
    }
    let output = command.output().unwrap();
    assert!(!output.status.success());
    String::from_utf8(output.stderr).unwrap()
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
    let err = String::from_utf8(command.output().unwrap().stderr).unwrap();
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
    let broken =
        include_str!("fixtures/rubrics/staff-sre.toml").replacen("question = ", "questoin = ", 1);
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
    let mut logs = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
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
    "Scorecard in: 1 of 1. Technical screen is complete.",
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
