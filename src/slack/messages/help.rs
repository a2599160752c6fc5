//! The command list.

use super::*;

pub const HELP_COMMANDS: &[(&str, &str)] = &[
    (
        "/loop start [candidate name]",
        "open a new interview loop, e.g. `/loop start Ada Lovelace`",
    ),
    (
        "/loop status",
        "in a loop channel: the summary, to you alone; elsewhere: your open loops and what you owe",
    ),
    (
        "/loop skip <stage> <reason>",
        "hiring manager or coordinator, in the loop channel: skip a stage on purpose, e.g. `/loop skip coding Candidate withdrew before the coding round`",
    ),
    (
        "/loop decide",
        "hiring manager or coordinator, in the loop channel: record hire, no hire, hold or withdrawn",
    ),
    (
        "/loop reopen <reason>",
        "hiring manager or coordinator, in the loop channel: reopen a decided loop while its channel is not archived",
    ),
    (
        "/loop panel",
        "hiring manager or coordinator, in the loop channel: change a stage's interviewers or time",
    ),
    (
        "/loop remind",
        "hiring manager or coordinator, in the loop channel: nudge everyone who owes a scorecard now",
    ),
    ("/loop help", "show this list"),
];

/// The command list, optionally after a note (such as why the input was not understood).
pub fn help(note: Option<&str>) -> Message {
    let mut lines = Vec::new();
    if let Some(note) = note {
        lines.push(note.to_string());
        lines.push(String::new());
    }
    lines.push("*Loopbot runs structured interview loops.* Commands:".to_string());
    for (usage, what) in HELP_COMMANDS {
        lines.push(format!("• `{usage}` — {what}"));
    }
    Message::plain(lines.join("\n"))
}
