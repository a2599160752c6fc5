//! Every place Loopbot shows a rating uses the words of the scale it was asked on: a
//! criterion's points as the form worded them ("4 · Shows the strong signals"), the overall
//! recommendation from strong yes to strong no ("4 · Strong yes"). Never one for the other.

use crate::domain::debrief::Debrief;
use crate::domain::interview_loop::LoopStatus;
use crate::domain::interview_loop::fixtures::sample_loop;
use crate::domain::progress::LoopProgress;
use crate::domain::rubric::RubricSet;
use crate::domain::scorecard::{Rating, Scorecard, ScorecardBody};
use crate::slack::{messages, views};
use serde_json::Value;

/// Every text a person reads in some blocks, one per line.
fn texts(blocks: &[Value]) -> String {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(t)) = map.get("text") {
                    out.push(t.clone());
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    blocks.iter().for_each(|b| walk(b, &mut out));
    out.join("\n")
}

/// The screen's scorecard by UA: every criterion rated `criteria`, overall `overall`.
fn screen_card(criteria: Rating, overall: Rating) -> Scorecard {
    let rubrics = RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[0];
    Scorecard {
        loop_id: 1,
        position: 1,
        interviewer_id: "UA".into(),
        version: 1,
        body: ScorecardBody {
            ratings: stage
                .criteria
                .iter()
                .map(|c| (c.key.clone(), criteria))
                .collect(),
            not_assessed: Default::default(),
            overall,
            evidence: "Walked through the queue they sharded and the hot partition it hit.".into(),
            concerns: String::new(),
            red_flags: Vec::new(),
        },
        submitted_at: 0,
    }
}

/// The other scale's words for the same point: what must never show in its place.
fn other_scale(rating: Rating, criterion: bool) -> String {
    if criterion {
        rating.recommendation_display()
    } else {
        rating.criterion_display()
    }
}

#[test]
fn criteria_read_as_the_form_asked_and_the_overall_as_a_recommendation() {
    let rubrics = RubricSet::builtin();
    let rubric = rubrics.default_rubric();
    let criteria_names: Vec<String> = rubric.stages[0]
        .criteria
        .iter()
        .map(|c| c.name.clone())
        .collect();
    // Each point on each scale, with the other scale's point beside it so a mix-up shows.
    for (criteria, overall) in [
        (Rating::StrongYes, Rating::No),
        (Rating::Yes, Rating::StrongNo),
        (Rating::No, Rating::StrongYes),
        (Rating::StrongNo, Rating::Yes),
    ] {
        let mut l = sample_loop();
        l.status = LoopStatus::Decided;
        let cards = [screen_card(criteria, overall)];
        let debrief = Debrief::build(&l, Some(rubric), &cards);
        let pages = views::scorecard_pages(&l, Some(rubric), &cards, &debrief);
        let scorecards = texts(&pages.concat());
        let progress = LoopProgress::from_scorecards(&cards);
        let overall_shown = [("UA".to_string(), overall)];
        let gate = messages::screen_gate(&l, &l.stages[0], Some(&overall_shown), None);
        let summary = messages::summary_message(&l, Some(rubric), &progress);

        // (where, text, lines that must be there, must not be there)
        let mut cases: Vec<(&str, String, Vec<String>, Vec<String>)> = vec![(
            "View scorecards: each criterion",
            scorecards.clone(),
            criteria_names
                .iter()
                .map(|name| format!("• {name}: {}", criteria.criterion_display()))
                .collect(),
            criteria_names
                .iter()
                .map(|name| format!("• {name}: {}", other_scale(criteria, true)))
                .collect(),
        )];
        let recommendation = |place: &'static str, text: String, shown: String| {
            (
                place,
                text,
                vec![shown.replace("{}", &overall.recommendation_display())],
                vec![shown.replace("{}", &other_scale(overall, false))],
            )
        };
        cases.extend([
            recommendation(
                "View scorecards: overall",
                scorecards.clone(),
                "<@UA> · overall *{}*".into(),
            ),
            recommendation(
                "debrief",
                texts(&views::debrief_blocks(&debrief)),
                "*Overall:* <@UA> *{}*".into(),
            ),
            recommendation(
                "debrief overview",
                texts(&views::debrief_overview(&debrief)),
                "<@UA> *{}*".into(),
            ),
            recommendation("screen gate DM", texts(&gate.blocks), "<@UA>: *{}*".into()),
            recommendation("summary", texts(&summary.blocks), "<@UA> *{}*".into()),
        ]);
        for (place, text, wanted, unwanted) in cases {
            for w in wanted {
                assert!(text.contains(&w), "{place}: {w:?} in {text}");
            }
            for u in unwanted {
                assert!(!text.contains(&u), "{place}: {u:?} in {text}");
            }
        }
    }
}

#[test]
fn the_debrief_matrix_says_what_its_numbers_mean() {
    let rubrics = RubricSet::builtin();
    let rubric = rubrics.default_rubric();
    let l = sample_loop();
    let cards = [screen_card(Rating::Yes, Rating::Yes)];
    let shown = texts(&views::debrief_blocks(&Debrief::build(
        &l,
        Some(rubric),
        &cards,
    )));
    assert!(
        shown.contains(
            "_Criteria: 4 shows the strong signals · 3 mostly strong · 2 merely well prepared · 1 absent, or a red flag. Overall: 4 strong yes · 3 yes · 2 no · 1 strong no._"
        ),
        "{shown}"
    );
}

#[test]
fn the_scorecard_form_asks_each_scale_in_its_own_words() {
    let rubrics = RubricSet::builtin();
    let rubric = rubrics.default_rubric();
    let l = sample_loop();
    let view = views::scorecard_modal(&l, &l.stages[0], &rubric.stages[0], None, None, false, &[]);
    for block in view["blocks"].as_array().unwrap() {
        let id = block["block_id"].as_str().unwrap_or_default();
        let options: Vec<&str> = block["element"]["options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| o["text"]["text"].as_str())
            .collect();
        if id.starts_with("crit:") {
            assert!(options.contains(&"4 · Shows the strong signals"), "{id}");
            assert!(!options.contains(&"4 · Strong yes"), "{id}");
        } else if id == "overall" {
            assert!(options.contains(&"4 · Strong yes"));
            assert!(!options.contains(&"4 · Shows the strong signals"));
        }
    }
}
