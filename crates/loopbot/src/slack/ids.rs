//! Every id Loopbot gives Slack, in one place for both rendering and handling: the action ids
//! of its buttons and how their values are encoded, and each form's callback id and the block
//! ids its answers are read back by.

use crate::domain::interview_loop::LoopId;

/// "Submit scorecard" / "Edit my scorecard": value `<loop>:<stage position>`.
pub const SCORECARD_OPEN: &str = "scorecard_open";
/// "View scorecards": value `<loop>`.
pub const SCORECARDS_VIEW: &str = "scorecards_view";
/// "Previous page" / "Next page" in the scorecards modal: value `<loop>:<page>` (0-based).
pub const SCORECARDS_PAGE: &str = "scorecards_page";
/// The scorecards modal (read only).
pub const SCORECARDS_CALLBACK: &str = "scorecards";

/// "Remind interviewers" on a missing-stage warning: value `<loop>:<stage position>`.
pub const STAGE_REMIND: &str = "stage_remind";
/// "Skip with a reason" on a missing-stage warning: value `<loop>:<stage position>`.
pub const STAGE_SKIP: &str = "stage_skip";

/// "I didn't run this interview" on a reminder: value `<loop>:<stage position>`.
pub const NOT_RUN: &str = "not_run";
/// "Change the panel" in the coordinator's notice: value `<loop>`.
pub const PANEL_OPEN: &str = "panel_open";

/// "Continue the loop" in the screen's gate message: value `<loop>`.
pub const SCREEN_CONTINUE: &str = "screen_continue";
/// "Record the decision" in the ready-to-decide message (opens the decision form): value
/// `<loop>`.
pub const DECIDE_OPEN: &str = "decide_open";
/// "Stop here" in the screen's gate message (opens the decision form): value `<loop>`.
pub const SCREEN_STOP: &str = "screen_stop";

/// What a button's value names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pressed {
    /// A loop: `<loop>`.
    Loop(LoopId),
    /// A stage of a loop: `<loop>:<stage position>`.
    Stage(LoopId, u32),
    /// A page of the scorecards modal: `<loop>:<page>` (0-based).
    Page(LoopId, u32),
}

impl Pressed {
    pub fn loop_id(self) -> LoopId {
        match self {
            Pressed::Loop(l) | Pressed::Stage(l, _) | Pressed::Page(l, _) => l,
        }
    }

    /// The stage position it names, if it names one.
    pub fn stage(self) -> Option<u32> {
        match self {
            Pressed::Stage(_, p) => Some(p),
            Pressed::Loop(_) | Pressed::Page(..) => None,
        }
    }
}

/// How a button encodes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    Loop,
    Stage,
    Page,
}

impl ValueKind {
    /// The value read back, or `None` when it does not read as this kind (a message from an
    /// older Loopbot, or a tampered value).
    pub fn parse(self, value: &str) -> Option<Pressed> {
        match self {
            ValueKind::Loop => parse_loop_value(value).map(Pressed::Loop),
            ValueKind::Stage => parse_stage_value(value).map(|(l, p)| Pressed::Stage(l, p)),
            ValueKind::Page => parse_stage_value(value).map(|(l, p)| Pressed::Page(l, p)),
        }
    }
}

/// Every button Loopbot shows, with how its value is encoded. A press of any of them is
/// answered, also when its value no longer reads or names something gone.
pub const BUTTONS: [(&str, ValueKind); 10] = [
    (SCORECARD_OPEN, ValueKind::Stage),
    (SCORECARDS_VIEW, ValueKind::Loop),
    (SCORECARDS_PAGE, ValueKind::Page),
    (STAGE_REMIND, ValueKind::Stage),
    (STAGE_SKIP, ValueKind::Stage),
    (NOT_RUN, ValueKind::Stage),
    (PANEL_OPEN, ValueKind::Loop),
    (SCREEN_CONTINUE, ValueKind::Loop),
    (DECIDE_OPEN, ValueKind::Loop),
    (SCREEN_STOP, ValueKind::Loop),
];

/// How the button `action_id` encodes its value; `None` if it is not one of Loopbot's buttons.
pub fn button_kind(action_id: &str) -> Option<ValueKind> {
    BUTTONS
        .iter()
        .find(|(id, _)| *id == action_id)
        .map(|(_, kind)| *kind)
}

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

// Forms (view callback ids), and the block and action ids inside them. A form's answers are
// read back by these ids, so they must not change while a modal may be open.

/// The `/loop start` form.
pub const START_CALLBACK: &str = "loop_start";
/// The start form's rubric menu (its choice rebuilds the stage fields).
pub const RUBRIC_SELECT_ACTION: &str = "rubric_select";
pub const CANDIDATE_BLOCK: &str = "candidate";
pub const RUBRIC_BLOCK: &str = "rubric";
pub const HIRING_MANAGER_BLOCK: &str = "hiring_manager";
/// The action id of every single-element input block.
pub const VALUE: &str = "value";

/// A stage's interviewers, in the start and panel forms.
pub fn panel_block(stage_key: &str) -> String {
    format!("panel:{stage_key}")
}

/// A stage's interview time, in the start and panel forms.
pub fn time_block(stage_key: &str) -> String {
    format!("time:{stage_key}")
}

/// The scorecard form.
pub const SCORECARD_CALLBACK: &str = "scorecard";
pub const OVERALL_BLOCK: &str = "overall";
pub const EVIDENCE_BLOCK: &str = "evidence";
pub const CONCERNS_BLOCK: &str = "concerns";
/// The stage's red flags, as checkboxes.
pub const RED_FLAGS_BLOCK: &str = "red_flags";
/// The value of a criterion's "Not assessed" choice (the points are "1".."4").
pub const NOT_ASSESSED_VALUE: &str = "na";

/// One criterion's rating in the scorecard form.
pub fn criterion_block(key: &str) -> String {
    format!("crit:{key}")
}

/// The decision form.
pub const DECIDE_CALLBACK: &str = "decide";
pub const OUTCOME_BLOCK: &str = "outcome";
pub const RATIONALE_BLOCK: &str = "rationale";
pub const CONFIRM_BLOCK: &str = "confirm_missing";

/// The panel form.
pub const PANEL_CALLBACK: &str = "panel";

/// The skip form.
pub const SKIP_CALLBACK: &str = "stage_skip";
pub const SKIP_REASON_BLOCK: &str = "skip_reason";

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

    #[test]
    fn each_button_reads_its_own_kind_of_value_and_nothing_else() {
        for (value, as_loop, as_stage) in [
            ("12", Some(Pressed::Loop(12)), None),
            ("12:3", None, Some(Pressed::Stage(12, 3))),
            ("", None, None),
            ("x", None, None),
            ("12:", None, None),
            (":3", None, None),
            ("12:-1", None, None),
            ("12:3:4", None, None),
            ("99999999999999999999", None, None),
        ] {
            assert_eq!(ValueKind::Loop.parse(value), as_loop, "{value:?}");
            assert_eq!(ValueKind::Stage.parse(value), as_stage, "{value:?}");
        }
        assert_eq!(ValueKind::Page.parse("12:0"), Some(Pressed::Page(12, 0)));
        assert_eq!(Pressed::Page(12, 0).stage(), None, "a page is not a stage");
        assert_eq!(Pressed::Stage(12, 3).stage(), Some(3));
        assert_eq!(button_kind(SCORECARD_OPEN), Some(ValueKind::Stage));
        assert_eq!(
            button_kind(RUBRIC_SELECT_ACTION),
            None,
            "a menu, not a button"
        );
        let mut ids: Vec<&str> = BUTTONS.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), BUTTONS.len(), "each button once");
    }
}
