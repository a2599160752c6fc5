//! The command list.

use super::*;
use crate::slack::mrkdwn::escape;

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
    (
        "/loop link <ATS URL or id>",
        "hiring manager or coordinator, in the loop channel: link a loop started by hand to its Ashby or Greenhouse application, so the ATS feeds its times and panel",
    ),
    ("/loop help", "show this list"),
];

/// The command list, optionally after a note (such as why the input was not understood).
pub fn help(note: Option<&str>) -> Message {
    let mut lines = Vec::new();
    // The note may quote what someone typed, and `<stage>` would read as a Slack link: both
    // are escaped for mrkdwn.
    if let Some(note) = note {
        lines.push(escape(note));
        lines.push(String::new());
    }
    lines.push("*Loopbot runs structured interview loops.* Commands:".to_string());
    for (usage, what) in HELP_COMMANDS {
        lines.push(format!("• `{}` — {}", escape(usage), escape(what)));
    }
    Message::plain(lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_quoted_input_are_escaped_for_mrkdwn() {
        let m = help(Some("I didn't understand `<!here> & <@U1>`."));
        assert!(
            m.text.contains("`/loop skip &lt;stage&gt; &lt;reason&gt;`"),
            "{}",
            m.text
        );
        assert!(m.text.contains("`&lt;!here&gt; &amp; &lt;@U1&gt;`"));
        assert!(!m.text.contains("<stage>") && !m.text.contains("<!here>"));
    }
}
