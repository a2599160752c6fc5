//! Time zones work without the system's tz database (a slim container image has none): the copy
//! built into the binary answers. The check runs in a child process of this test binary with
//! `TZDIR` pointing at a folder that holds only `UTC` (jiff reads its database once per
//! process, and skips an empty folder for the system one), so the system's zones are hidden.

use std::process::Command;

const CHILD: &str = "LOOPBOT_TZ_TEST_CHILD";

#[test]
fn zones_resolve_without_a_system_tz_database() {
    if std::env::var_os(CHILD).is_some() {
        return check_in_child();
    }
    let empty = tempfile::tempdir().unwrap();
    // A database of one zone, so Europe/Berlin is not in it. (Without any zoneinfo at all,
    // jiff itself falls back to the built-in copy.)
    let Ok(bytes) = std::fs::read("/usr/share/zoneinfo/UTC") else {
        // No system database here at all: the case the built-in copy is for, checked directly.
        return check_in_child();
    };
    std::fs::write(empty.path().join("UTC"), bytes).unwrap();
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tz::zones_resolve_without_a_system_tz_database",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("TZDIR", empty.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("checked without a system tz database"),
        "{stdout}"
    );
}

fn check_in_child() {
    use loopbot::domain::schedule::{WorkDays, WorkHours, next_allowed, zone};
    // The system database is out of the picture here: jiff's own lookup finds nothing.
    if std::env::var_os(CHILD).is_some() {
        assert!(
            jiff::tz::TimeZone::get("Europe/Berlin").is_err(),
            "TZDIR should hide the system database"
        );
    }
    // 2026-01-15T12:00:00Z is 13:00 in Berlin (CET, +01:00) and 07:00 in New York.
    let at = jiff::Timestamp::from_second(1_768_478_400).unwrap();
    let berlin = at.to_zoned(zone("Europe/Berlin"));
    assert_eq!(berlin.offset().seconds(), 3600);
    assert_eq!(berlin.hour(), 13);
    assert_eq!(at.to_zoned(zone("America/New_York")).hour(), 7);
    assert_eq!(zone("Nowhere/Special").iana_name(), Some("UTC"));
    // A reminder at 07:00 Berlin time waits for 09:00 Berlin time (08:00 UTC), not 09:00 UTC.
    let seven_berlin = 1_768_456_800_000; // 2026-01-15T06:00:00Z
    let hours = WorkHours::Window {
        start_min: 540,
        end_min: 1080,
    };
    assert_eq!(
        next_allowed(seven_berlin, "Europe/Berlin", hours, WorkDays::MON_FRI),
        seven_berlin + 2 * 3_600_000
    );
    println!("checked without a system tz database");
}
