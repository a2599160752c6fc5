use super::*;
use crate::domain::rubric::RubricSet;

fn full_input(stage: &StageRubric) -> ScorecardInput {
    ScorecardInput {
        ratings: stage
            .criteria
            .iter()
            .map(|c| (c.key.clone(), Rating::Yes))
            .collect(),
        overall: Some(Rating::StrongYes),
        evidence: "Walked through the sharding migration they led, with numbers.".into(),
        concerns: "".into(),
        ..Default::default()
    }
}

#[test]
fn the_scale_has_four_points_and_no_middle() {
    assert_eq!(Rating::ALL.len(), 4);
    assert_eq!(Rating::from_score(0), None);
    assert_eq!(Rating::from_score(5), None);
    assert_eq!(
        Rating::from_score(3)
            .map(Rating::recommendation_display)
            .as_deref(),
        Some("3 · Yes")
    );
}

#[test]
fn a_complete_scorecard_is_valid() {
    let rubrics = RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[0];
    let body = validate(&full_input(stage), stage).unwrap();
    assert_eq!(body.overall, Rating::StrongYes);
    assert_eq!(body.ratings.len(), stage.criteria.len());
}

#[test]
fn each_missing_piece_is_reported_on_its_own_field() {
    let rubrics = RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[1];
    let mut input = full_input(stage);
    let first = stage.criteria[0].key.clone();
    input.ratings.remove(&first);
    input.overall = None;
    input.evidence = "good".into();
    input.concerns = "x".repeat(3001);
    let errors = validate(&input, stage).unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
    assert_eq!(
        fields,
        [
            ScorecardField::Criterion(first),
            ScorecardField::Overall,
            ScorecardField::Evidence,
            ScorecardField::Concerns
        ]
    );
}

#[test]
fn not_assessed_criteria_are_kept_apart_and_do_not_count() {
    let rubrics = RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[0];
    let mut input = full_input(stage);
    let first = stage.criteria[0].key.clone();
    input.ratings.remove(&first);
    input.not_assessed.insert(first.clone());
    let body = validate(&input, stage).unwrap();
    assert!(!body.ratings.contains_key(&first));
    assert_eq!(body.ratings.len(), stage.criteria.len() - 1);
    assert_eq!(body.not_assessed, BTreeSet::from([first]));
}

#[test]
fn every_criterion_not_assessed_is_refused_next_to_the_first() {
    let rubrics = RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[0];
    let mut input = full_input(stage);
    input.not_assessed = input.ratings.keys().cloned().collect();
    input.ratings.clear();
    let errors = validate(&input, stage).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].field,
        ScorecardField::Criterion(stage.criteria[0].key.clone())
    );
    assert!(errors[0].message.contains("at least one criterion"));
}

#[test]
fn an_untouched_criterion_is_an_error_even_beside_not_assessed_ones() {
    let rubrics = RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[0];
    let mut input = full_input(stage);
    let (a, b) = (stage.criteria[0].key.clone(), stage.criteria[1].key.clone());
    input.ratings.remove(&a);
    input.ratings.remove(&b);
    input.not_assessed.insert(a);
    let errors = validate(&input, stage).unwrap_err();
    let fields: Vec<_> = errors.iter().map(|e| e.field.clone()).collect();
    assert_eq!(fields, [ScorecardField::Criterion(b)]);
    assert!(errors[0].message.contains(NOT_ASSESSED));
}

#[test]
fn only_the_stages_own_red_flags_are_kept_in_rubric_order() {
    let rubrics = RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[0];
    assert!(stage.red_flags.len() >= 3);
    let mut input = full_input(stage);
    input.red_flags = vec![
        stage.red_flags[2].clone(),
        "Not a flag of this stage.".into(),
        stage.red_flags[0].clone(),
    ];
    let body = validate(&input, stage).unwrap();
    assert_eq!(
        body.red_flags,
        [stage.red_flags[0].clone(), stage.red_flags[2].clone()]
    );
}

#[test]
fn a_draft_is_restored_only_over_the_version_it_continues() {
    let rubrics = RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[0];
    let body = validate(&full_input(stage), stage).unwrap();
    let card = |version: i64, at: UnixMillis| Scorecard {
        loop_id: 1,
        position: 1,
        interviewer_id: "U1".into(),
        version,
        body: body.clone(),
        submitted_at: at,
    };
    let typed = ScorecardInput {
        evidence: "half a thought".into(),
        ..Default::default()
    };
    let draft = |based_on: i64, at: UnixMillis| ScorecardDraft {
        based_on,
        input: typed.clone(),
        updated_at: at,
    };
    assert_eq!(prefill(None, None), None);
    assert_eq!(prefill(Some(&draft(0, 5)), None), Some(typed.clone()));
    let v1 = card(1, 100);
    assert_eq!(prefill(None, Some(&v1)), Some(ScorecardInput::from(&body)));
    // Typed while editing version 1, after it was submitted: restored.
    assert_eq!(
        prefill(Some(&draft(1, 150)), Some(&v1)),
        Some(typed.clone())
    );
    // Typed on the first form but a version has been submitted since: the submission wins.
    assert_eq!(
        prefill(Some(&draft(0, 150)), Some(&v1)),
        Some(ScorecardInput::from(&body))
    );
    assert_eq!(
        prefill(Some(&draft(1, 50)), Some(&v1)),
        Some(ScorecardInput::from(&body))
    );
}

#[test]
fn each_scale_has_its_own_words() {
    for (rating, recommendation, criterion) in [
        (
            Rating::StrongYes,
            "4 · Strong yes",
            "4 · Shows the strong signals",
        ),
        (Rating::Yes, "3 · Yes", "3 · Mostly strong"),
        (Rating::No, "2 · No", "2 · Merely well prepared"),
        (
            Rating::StrongNo,
            "1 · Strong no",
            "1 · Absent, or a red flag",
        ),
    ] {
        assert_eq!(rating.recommendation_display(), recommendation);
        assert_eq!(rating.criterion_display(), criterion);
    }
}

#[test]
fn criterion_points_are_worded_against_the_rubric() {
    assert_eq!(
        Rating::StrongYes.criterion_display(),
        "4 · Shows the strong signals"
    );
    assert_eq!(Rating::No.criterion_label(), "Merely well prepared");
    assert!(
        Rating::ALL
            .iter()
            .all(|r| !r.criterion_label().contains("Only"))
    );
}

#[test]
fn the_fingerprint_changes_with_the_content_only() {
    let rubrics = RubricSet::builtin();
    let stage = &rubrics.default_rubric().stages[0];
    let a = validate(&full_input(stage), stage).unwrap();
    let mut b = a.clone();
    assert_eq!(a.fingerprint(), b.fingerprint());
    b.evidence.push('!');
    assert_ne!(a.fingerprint(), b.fingerprint());
    let mut c = a.clone();
    c.red_flags.push(stage.red_flags[0].clone());
    assert_ne!(a.fingerprint(), c.fingerprint());
    let mut d = a.clone();
    let key = stage.criteria[0].key.clone();
    d.ratings.remove(&key);
    d.not_assessed.insert(key);
    assert_ne!(a.fingerprint(), d.fingerprint());
}
