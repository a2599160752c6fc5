//! Action ids of Loopbot's buttons and how their values are encoded, in one place for both
//! rendering and handling.

use crate::domain::interview_loop::LoopId;

/// "Submit scorecard" / "Edit my scorecard": value `<loop>:<stage position>`.
pub const SCORECARD_OPEN: &str = "scorecard_open";
/// "View scorecards": value `<loop>`.
pub const SCORECARDS_VIEW: &str = "scorecards_view";

/// "Remind interviewers" on a missing-stage warning: value `<loop>:<stage position>`.
pub const STAGE_REMIND: &str = "stage_remind";
/// "Skip with a reason" on a missing-stage warning: value `<loop>:<stage position>`.
pub const STAGE_SKIP: &str = "stage_skip";

/// "I didn't run this interview" on a reminder: value `<loop>:<stage position>`.
pub const NOT_RUN: &str = "not_run";
/// "Change the panel" in the coordinator's notice: value `<loop>`.
pub const PANEL_OPEN: &str = "panel_open";

pub fn stage_value(loop_id: LoopId, position: u32) -> String {
    format!("{loop_id}:{position}")
}

pub fn parse_stage_value(value: &str) -> Option<(LoopId, u32)> {
    let (l, p) = value.split_once(':')?;
    Some((l.parse().ok()?, p.parse().ok()?))
}

pub fn parse_loop_value(value: &str) -> Option<LoopId> {
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_garbage_is_refused() {
        assert_eq!(parse_stage_value(&stage_value(12, 3)), Some((12, 3)));
        assert_eq!(parse_stage_value("12"), None);
        assert_eq!(parse_stage_value("a:b"), None);
        assert_eq!(parse_loop_value("x"), None);
    }
}
