//! What Loopbot tells a coordinator about an ATS application it cannot act on by itself: short
//! direct messages that fit a phone screen, saying what to fix and where.

use crate::slack::mrkdwn::{escape, escape_within};

use super::*;

/// An ATS interview the mapping file does not name: it is not on the loop, and never guessed.
pub fn ats_unmapped_interview(ats: &str, candidate: &str, interview: &str) -> Message {
    let text = format!(
        ":grey_question: *{}*: the {ats} interview _{}_ is not in Loopbot's ATS mapping, so it is not on the loop. Add it to the mapping if it should be.",
        escape_within(candidate, 80),
        escape_within(interview, 80),
    );
    Message::section(
        format!("{ats} interview not on the loop of {}", escape(candidate)),
        &text,
    )
}

/// A person on an ATS panel whom Slack does not know by their email.
pub fn ats_person_not_in_slack(ats: &str, candidate: &str, person: &str) -> Message {
    let text = format!(
        ":bust_in_silhouette: *{}*: {} is on the {ats} panel but has no Slack account with that email, so Loopbot cannot add or remind them. Fix the email in {ats} or add them with `/loop panel`.",
        escape_within(candidate, 80),
        escape_within(person, 120),
    );
    Message::section(
        format!(
            "Someone on the panel of {} is not in Slack",
            escape(candidate)
        ),
        &text,
    )
}

/// An owner of an ATS application (its hiring manager or coordinator) whom Slack does not know
/// by their email. `person` names them and their role ("Hank (hank@…), the hiring manager").
pub fn ats_owner_not_in_slack(ats: &str, candidate: &str, person: &str) -> Message {
    let text = format!(
        ":bust_in_silhouette: *{}*: {} in {ats}, has no Slack account with that email, so Loopbot cannot give them their part in this loop. Fix the email in {ats}.",
        escape_within(candidate, 80),
        escape_within(person, 140),
    );
    Message::section(
        format!("An owner of {}'s loop is not in Slack", escape(candidate)),
        &text,
    )
}

/// `/loop link` worked: the loop now follows the ATS application.
pub fn ats_linked(
    ats: &str,
    loop_candidate: &str,
    application_id: &str,
    ats_candidate: &str,
) -> Message {
    let text = format!(
        ":link: The loop of *{}* now follows {ats} application `{}` ({}). Interview times, panels and cancellations there update the loop.",
        escape_within(loop_candidate, 80),
        escape_within(application_id, 60),
        escape_within(ats_candidate, 80),
    );
    Message::section(
        format!("The loop of {} is linked to {ats}", escape(loop_candidate)),
        &text,
    )
}

/// `/loop link` could not link: why, in a few words; nothing changed.
pub fn ats_link_failed(
    ats: &str,
    loop_candidate: &str,
    application_id: &str,
    why: &str,
) -> Message {
    let text = format!(
        ":warning: The loop of *{}* is not linked to {ats} application `{}`: {why}. Nothing changed.",
        escape_within(loop_candidate, 80),
        escape_within(application_id, 60),
    );
    Message::section(
        format!(
            "The loop of {} could not be linked to {ats}",
            escape(loop_candidate)
        ),
        &text,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_short_and_name_what_to_fix() {
        let m = ats_unmapped_interview("Ashby", "Ada Lovelace", "Lunch");
        let text = m.blocks[0]["text"]["text"].as_str().unwrap();
        assert!(
            text.contains("*Ada Lovelace*") && text.contains("_Lunch_"),
            "{text}"
        );
        assert!(text.len() < 300, "{}", text.len());
        let m = ats_person_not_in_slack("Greenhouse", "Ada <b>", "Nia Nobody (nia@example.com)");
        let text = m.blocks[0]["text"]["text"].as_str().unwrap();
        assert!(
            text.contains("Nia Nobody (nia@example.com)") && text.contains("&lt;b&gt;"),
            "{text}"
        );
        assert!(text.len() < 300, "{}", text.len());
        let m = ats_owner_not_in_slack(
            "Ashby",
            "Grace Hopper",
            "Hank Offline (hank@example.com), the hiring manager",
        );
        let text = m.blocks[0]["text"]["text"].as_str().unwrap();
        assert!(
            text.contains("the hiring manager in Ashby, has no Slack account")
                && text.contains("Fix the email in Ashby"),
            "{text}"
        );
        assert!(text.len() < 300, "{}", text.len());
    }
}
