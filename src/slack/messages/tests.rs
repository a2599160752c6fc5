use super::*;
use crate::domain::interview_loop::fixtures::sample_loop;
use crate::domain::progress::LoopProgress;
use crate::domain::rubric::RubricSet;
use std::time::Duration;

fn text_of(m: &Message) -> String {
    serde_json::to_string(&m.blocks).unwrap()
}

#[test]
fn rubric_message_names_interviewers_time_and_criteria() {
    let rubrics = RubricSet::builtin();
    let rubric = rubrics.default_rubric();
    let mut l = sample_loop();
    l.stages[1].interview_at = Some(1_795_000_000_000);
    let m = rubric_message(
        &l,
        &l.stages[1],
        rubric,
        Duration::from_secs(86400),
        &LoopProgress::default(),
    );
    let body = text_of(&m);
    assert!(body.contains("Stage 2 of 4"));
    assert!(body.contains("<@UB>, <@UHM>"));
    assert!(body.contains("<!date^1795000000^"));
    for c in &rubric.stages[1].criteria {
        assert!(body.contains(&c.name), "{}", c.name);
    }
    assert!(body.contains("due 24 hours after"));
    assert!(m.blocks.len() <= 50);
}

#[test]
fn unstaffed_stage_is_flagged_in_rubric_and_summary() {
    let rubrics = RubricSet::builtin();
    let l = sample_loop();
    let m = rubric_message(
        &l,
        &l.stages[2],
        rubrics.default_rubric(),
        Duration::from_secs(3600),
        &LoopProgress::default(),
    );
    assert!(text_of(&m).contains("not assigned yet"));
    let s = summary_message(&l, Some(rubrics.default_rubric()), &LoopProgress::default());
    assert!(text_of(&s).contains("No interviewer yet for: Coding"));
}

#[test]
fn summary_shows_people_and_every_stage_but_no_scores() {
    let rubrics = RubricSet::builtin();
    let s = summary_message(
        &sample_loop(),
        Some(rubrics.default_rubric()),
        &LoopProgress::default(),
    );
    let body = text_of(&s);
    for needle in [
        "Ada Lovelace",
        "<@UHM>",
        "<@UCOORD>",
        "1. Technical screen",
        "4. Values and collaboration",
        "not recorded yet",
    ] {
        assert!(body.contains(needle), "{needle}");
    }
    assert!(s.blocks.len() <= 50);
}

#[test]
fn candidate_names_cannot_break_mrkdwn() {
    let mut l = sample_loop();
    l.candidate_name = "<!here> Eve".into();
    let m = loop_ready(&l);
    assert!(m.text.contains("&lt;!here&gt; Eve"));
}
