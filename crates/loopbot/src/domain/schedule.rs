//! When feedback is due, and when a reminder may be sent: within working hours in the
//! recipient's own time zone. Pure: time is passed in.

use std::time::Duration;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, Zoned};

use crate::clock::UnixMillis;

/// The IANA time zone `tz`, from the system's tz database when it has the zone (it is kept up
/// to date with the system), else from the copy built into the binary (a slim container has
/// no `/usr/share/zoneinfo`); UTC when neither knows the name.
pub fn zone(tz: &str) -> TimeZone {
    TimeZone::get(tz)
        .or_else(|_| jiff::tz::TimeZoneDatabase::bundled().get(tz))
        .unwrap_or(TimeZone::UTC)
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 4)
}

/// Feedback is due `feedback_due` after the interview ends (its time plus its planned length).
pub fn due_at(
    interview_at: UnixMillis,
    planned_minutes: u32,
    feedback_due: Duration,
) -> UnixMillis {
    interview_at + i64::from(planned_minutes) * 60_000 + ms(feedback_due)
}

/// When a scheduled interview starts, ends (its time plus its planned length), and when its
/// feedback is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub start: UnixMillis,
    pub end: UnixMillis,
    pub due: UnixMillis,
}

impl Timing {
    pub fn new(interview_at: UnixMillis, planned_minutes: u32, feedback_due: Duration) -> Timing {
        Timing {
            start: interview_at,
            end: interview_at + i64::from(planned_minutes) * 60_000,
            due: due_at(interview_at, planned_minutes, feedback_due),
        }
    }
}

/// When reminders may be sent, in the recipient's own time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkHours {
    Always,
    /// Minutes after local midnight, `start < end`.
    Window {
        start_min: u16,
        end_min: u16,
    },
}

/// The days of the week reminders may be sent on, in the recipient's own time zone: bit 0 is
/// Monday, bit 6 Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkDays(pub u8);

impl WorkDays {
    pub const ALL: WorkDays = WorkDays(0x7f);
    pub const MON_FRI: WorkDays = WorkDays(0x1f);

    /// Whether `weekday` (1 = Monday … 7 = Sunday) is a working day.
    pub fn contains(self, weekday: i8) -> bool {
        (1..=7).contains(&weekday) && self.0 & (1 << (weekday - 1)) != 0
    }
}

/// The first moment at or after `at` inside the working hours and on a working day of `tz`
/// (an IANA name). An unknown time zone is treated as UTC; no working day at all means now.
pub fn next_allowed(at: UnixMillis, tz: &str, hours: WorkHours, days: WorkDays) -> UnixMillis {
    if days.0 & 0x7f == 0 {
        return next_in_hours(at, tz, hours);
    }
    let zone = zone(tz);
    let mut candidate = next_in_hours(at, tz, hours);
    for _ in 0..8 {
        let Ok(ts) = Timestamp::from_millisecond(candidate) else {
            return candidate;
        };
        let local = ts.to_zoned(zone.clone());
        if days.contains(local.weekday().to_monday_one_offset()) {
            return candidate;
        }
        // The start of the next day, then its working hours.
        let next_day = local
            .date()
            .checked_add(1.day())
            .ok()
            .and_then(|d| d.to_datetime(Time::midnight()).to_zoned(zone.clone()).ok());
        let Some(next_day) = next_day else {
            return candidate;
        };
        candidate = next_in_hours(next_day.timestamp().as_millisecond(), tz, hours);
    }
    candidate
}

/// The moment `amount` of time has passed since `start`, counting only working days of `tz`
/// (`LOOPBOT_DECIDE_WITHIN`'s "2d" means two working days: Friday 15:00 plus 2d is Tuesday
/// 15:00 with `mon-fri`). No working day at all counts every day.
pub fn after_working_time(
    start: UnixMillis,
    amount: Duration,
    tz: &str,
    days: WorkDays,
) -> UnixMillis {
    if days.0 & 0x7f == 0 || days == WorkDays::ALL {
        return start + ms(amount);
    }
    let zone = TimeZone::get(tz).unwrap_or(TimeZone::UTC);
    let mut left = ms(amount);
    let mut at = start;
    // A year of days at most: any real setting ends long before.
    for _ in 0..400 {
        let Ok(ts) = Timestamp::from_millisecond(at) else {
            break;
        };
        let local = ts.to_zoned(zone.clone());
        let next_midnight = local
            .date()
            .checked_add(1.day())
            .ok()
            .and_then(|d| d.to_datetime(Time::midnight()).to_zoned(zone.clone()).ok())
            .map(|z| z.timestamp().as_millisecond())
            .unwrap_or(at + 86_400_000);
        if days.contains(local.weekday().to_monday_one_offset()) {
            let room = next_midnight - at;
            if left <= room {
                return at + left;
            }
            left -= room;
        }
        at = next_midnight;
    }
    at + left
}

/// The first moment at or after `at` inside the working hours of `tz`, any day.
fn next_in_hours(at: UnixMillis, tz: &str, hours: WorkHours) -> UnixMillis {
    let WorkHours::Window { start_min, end_min } = hours else {
        return at;
    };
    let zone = zone(tz);
    let Ok(ts) = Timestamp::from_millisecond(at) else {
        return at;
    };
    let local: Zoned = ts.to_zoned(zone);
    let minute = i32::from(local.hour()) * 60 + i32::from(local.minute());
    let (start, end) = (i32::from(start_min), i32::from(end_min));
    if minute >= start && minute < end {
        return at;
    }
    let start_time =
        Time::new((start / 60) as i8, (start % 60) as i8, 0, 0).unwrap_or(Time::midnight());
    let day = if minute < start {
        local.date()
    } else {
        local.date().checked_add(1.day()).unwrap_or(local.date())
    };
    day.to_datetime(start_time)
        .to_zoned(local.time_zone().clone())
        .map(|z| z.timestamp().as_millisecond())
        .unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURS: WorkHours = WorkHours::Window {
        start_min: 9 * 60,
        end_min: 18 * 60,
    };

    fn at(text: &str) -> UnixMillis {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn working_time_skips_the_days_off_in_the_readers_zone() {
        let two_days = Duration::from_secs(2 * 86_400);
        // Friday 15:00 UTC + two working days: Tuesday 15:00.
        assert_eq!(
            after_working_time(
                at("2026-11-27T15:00:00Z"),
                two_days,
                "UTC",
                WorkDays::MON_FRI
            ),
            at("2026-12-01T15:00:00Z")
        );
        // Wednesday + 2 working days is Friday.
        assert_eq!(
            after_working_time(
                at("2026-11-25T10:00:00Z"),
                two_days,
                "UTC",
                WorkDays::MON_FRI
            ),
            at("2026-11-27T10:00:00Z")
        );
        // Started on a Saturday: Monday and Tuesday count.
        assert_eq!(
            after_working_time(
                at("2026-11-28T10:00:00Z"),
                two_days,
                "UTC",
                WorkDays::MON_FRI
            ),
            at("2026-12-02T00:00:00Z")
        );
        // Every day counts with `always`.
        assert_eq!(
            after_working_time(at("2026-11-27T15:00:00Z"), two_days, "UTC", WorkDays::ALL),
            at("2026-11-29T15:00:00Z")
        );
    }

    #[test]
    fn feedback_is_due_after_the_interview_ends() {
        let start = at("2026-11-24T14:00:00Z");
        assert_eq!(
            due_at(start, 30, Duration::from_secs(86_400)),
            at("2026-11-25T14:30:00Z")
        );
    }

    #[test]
    fn reminders_wait_for_working_hours_in_the_recipients_time_zone() {
        let cases = [
            // (moment, tz, allowed from)
            (
                "2026-11-25T14:30:00Z",
                "Europe/Berlin",
                "2026-11-25T14:30:00Z",
            ), // 15:30 Berlin: now
            (
                "2026-11-25T01:00:00Z",
                "Europe/Berlin",
                "2026-11-25T08:00:00Z",
            ), // 02:00 → 09:00 Berlin
            (
                "2026-11-25T18:30:00Z",
                "Europe/Berlin",
                "2026-11-26T08:00:00Z",
            ), // 19:30 → next day
            (
                "2026-11-25T14:30:00Z",
                "America/Los_Angeles",
                "2026-11-25T17:00:00Z",
            ), // 06:30 → 09:00
            (
                "2026-11-25T14:30:00Z",
                "Asia/Kolkata",
                "2026-11-26T03:30:00Z",
            ), // 20:00 IST → next 09:00
            ("2026-11-25T03:00:00Z", "Not/AZone", "2026-11-25T09:00:00Z"), // unknown: UTC
        ];
        for (moment, tz, expected) in cases {
            assert_eq!(
                next_allowed(at(moment), tz, HOURS, WorkDays::ALL),
                at(expected),
                "{moment} in {tz}"
            );
        }
    }

    #[test]
    fn always_means_any_time() {
        let t = at("2026-11-25T01:00:00Z");
        assert_eq!(
            next_allowed(t, "Europe/Berlin", WorkHours::Always, WorkDays::ALL),
            t
        );
    }

    #[test]
    fn daylight_saving_changes_keep_the_local_hour() {
        // Berlin switches to summer time on 2026-03-29: 09:00 local is 07:00 UTC after it.
        assert_eq!(
            next_allowed(
                at("2026-03-29T20:00:00Z"),
                "Europe/Berlin",
                HOURS,
                WorkDays::ALL
            ),
            at("2026-03-30T07:00:00Z")
        );
    }

    #[test]
    fn weekends_wait_for_monday_in_each_time_zone() {
        let cases = [
            // Fri 27 Nov 2026 17:30 Berlin: still Friday, in hours.
            (
                "2026-11-27T16:30:00Z",
                "Europe/Berlin",
                "2026-11-27T16:30:00Z",
            ),
            // Fri 18:30 Berlin: after hours, so Monday 09:00 Berlin.
            (
                "2026-11-27T17:30:00Z",
                "Europe/Berlin",
                "2026-11-30T08:00:00Z",
            ),
            // Sat 10:00 UTC is Sat 15:30 in Kolkata: Monday 09:00 IST.
            (
                "2026-11-28T10:00:00Z",
                "Asia/Kolkata",
                "2026-11-30T03:30:00Z",
            ),
            // Sun 23:00 UTC is Sun 15:00 in Los Angeles: Monday 09:00 PST.
            (
                "2026-11-29T23:00:00Z",
                "America/Los_Angeles",
                "2026-11-30T17:00:00Z",
            ),
            // Sun 23:30 UTC is already Monday 12:30 in Auckland: now.
            (
                "2026-11-29T23:30:00Z",
                "Pacific/Auckland",
                "2026-11-29T23:30:00Z",
            ),
        ];
        for (moment, tz, expected) in cases {
            assert_eq!(
                next_allowed(at(moment), tz, HOURS, WorkDays::MON_FRI),
                at(expected),
                "{moment} in {tz}"
            );
        }
        assert!(WorkDays::MON_FRI.contains(5) && !WorkDays::MON_FRI.contains(6));
    }
}
