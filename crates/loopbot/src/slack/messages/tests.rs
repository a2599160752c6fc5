use super::*;
use crate::domain::interview_loop::fixtures::sample_loop;
use crate::domain::progress::LoopProgress;
use crate::domain::rubric::RubricSet;
use std::time::Duration;

/// Every mrkdwn text of a message's blocks, as a person reads them (buttons aside).
fn visible_text(m: &Message) -> String {
    let mut out = Vec::new();
    for b in &m.blocks {
        if let Some(t) = b.pointer("/text/text").and_then(|t| t.as_str()) {
            out.push(t.to_string());
        }
        for e in b["elements"].as_array().into_iter().flatten() {
            if e["type"] == "mrkdwn" {
                out.push(e["text"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    out.join("\n")
}

#[test]
fn rubric_message_is_one_phone_screen_and_its_thread_has_the_full_rubric() {
    let rubrics = RubricSet::builtin();
    let rubric = rubrics.default_rubric();
    for (i, sr) in rubric.stages.iter().enumerate() {
        let mut l = sample_loop();
        l.stages[i].interview_at = Some(1_795_000_000_000);
        let stage = &l.stages[i];
        let m = rubric_message(
            &l,
            stage,
            rubric,
            Duration::from_secs(86400),
            &LoopProgress::default(),
        );
        let shown = visible_text(&m);
        assert!(shown.lines().count() <= 8, "{shown}");
        assert!(
            shown.chars().count() <= 800,
            "{} chars: {shown}",
            shown.chars().count()
        );
        assert!(shown.contains(&format!("stage {} of 4", i + 1)));
        assert!(shown.contains("<!date^1795000000^"));
        assert!(shown.contains(&sr.question));
        for c in &sr.criteria {
            assert!(shown.contains(&c.name), "{}", c.name);
            assert!(!shown.contains(&c.strong), "the detail is in the thread");
        }
        assert!(shown.contains("due 24 hours after"));
        let detail = visible_text(&rubric_detail(stage, sr));
        for c in &sr.criteria {
            assert!(detail.contains(&c.listen_for) && detail.contains(&c.strong));
            assert!(detail.contains(&c.well_prepared));
        }
        for flag in &sr.red_flags {
            assert!(detail.contains(flag));
        }
    }
}

#[test]
fn unstaffed_stage_is_flagged_once_in_rubric_and_summary() {
    let rubrics = RubricSet::builtin();
    let l = sample_loop();
    let m = rubric_message(
        &l,
        &l.stages[2],
        rubrics.default_rubric(),
        Duration::from_secs(3600),
        &LoopProgress::default(),
    );
    assert!(visible_text(&m).contains("no interviewer yet"));
    let s = summary_message(&l, Some(rubrics.default_rubric()), &LoopProgress::default());
    let shown = visible_text(&s);
    assert_eq!(shown.matches("no interviewer").count(), 1, "{shown}");
    assert!(!shown.contains("nobody assigned"));
}

#[test]
fn summary_states_each_stage_on_one_line_and_no_scores() {
    let rubrics = RubricSet::builtin();
    let s = summary_message(
        &sample_loop(),
        Some(rubrics.default_rubric()),
        &LoopProgress::default(),
    );
    let shown = visible_text(&s);
    for needle in [
        "<@UHM>",
        "<@UCOORD>",
        "*0 of 4 in*",
        "*1. Technical screen*",
        "*4. Values and collaboration*",
        "Blind until every stage is in",
    ] {
        assert!(shown.contains(needle), "{needle}: {shown}");
    }
    for row in shown
        .lines()
        .filter(|l| l.starts_with("*1. ") || l.starts_with("*4. "))
    {
        assert!(row.chars().count() < 160, "{row}");
    }
    assert!(!shown.contains("Stages*"));
    assert!(s.blocks.len() <= 50);
}

#[test]
fn candidate_names_cannot_break_mrkdwn() {
    let mut l = sample_loop();
    l.candidate_name = "<!here> Eve".into();
    let m = loop_ready(&l);
    assert!(m.text.contains("&lt;!here&gt; Eve"));
}

#[test]
fn the_ats_outcome_is_one_line_under_the_top_and_only_when_there_is_one() {
    use crate::domain::ats_mapping::AtsKind;
    use crate::domain::ats_outcome::{AtsOutcome, RecordedOutcome};
    let rubrics = RubricSet::builtin();
    let s = summary_message(
        &sample_loop(),
        Some(rubrics.default_rubric()),
        &LoopProgress::default(),
    );
    assert_eq!(with_ats_outcome(s.clone(), None), s);
    let open = RecordedOutcome {
        ats: AtsKind::Greenhouse,
        outcome: None,
        at_ms: 0,
    };
    assert_eq!(with_ats_outcome(s.clone(), Some(&open)), s);
    // 2026-12-06 12:00 UTC
    let hired = RecordedOutcome {
        outcome: Some(AtsOutcome::Hired),
        at_ms: 1_796_558_400_000,
        ..open
    };
    let shown = with_ats_outcome(s.clone(), Some(&hired));
    assert_eq!(shown.blocks.len(), s.blocks.len() + 1);
    let line = visible_text(&Message {
        text: String::new(),
        blocks: vec![shown.blocks[2].clone()],
    });
    assert!(
        line.contains("In Greenhouse: hired (<!date^1796558400^{date_short}|Dec 6>)"),
        "{line}"
    );
    assert!(line.contains("still the hiring manager's"), "{line}");
}
