//! What Loopbot writes back to an ATS, as pure functions: a scorecard as Ashby feedback-form
//! fields (the mapping file names the fields), a scorecard or a decision as the text of a
//! private Greenhouse note, and a refused write in words for the coordinator.
//!
//! Blindness: a write carries one interviewer's own scorecard (or the decision), never anyone
//! else's ratings, so what the ATS shows next to it is what its author already knows.

use serde_json::{Value, json};

use super::ats_mapping::FeedbackForm;
use super::interview_loop::Decision;
use super::rubric::StageRubric;
use super::scorecard::ScorecardBody;

/// The line every note ends with: how a later run finds a note an earlier run wrote when its
/// answer was lost.
/// The key is hashed so that no Slack id reaches the ATS.
pub fn note_reference(write_key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(write_key.as_bytes());
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("Loopbot ref: {hex}")
}

/// The `fieldSubmissions` of `applicationFeedback.submit`: the overall rating and each mapped
/// criterion as a Score (`{score: 1..4}`, Loopbot's scale), the evidence as plain text. A
/// criterion marked "not assessed" is left out rather than given a score.
pub fn feedback_fields(form: &FeedbackForm, card: &ScorecardBody) -> Vec<(String, Value)> {
    let mut fields = Vec::new();
    if let Some(path) = &form.overall {
        fields.push((path.clone(), json!({ "score": card.overall.score() })));
    }
    for (criterion, path) in &form.criteria {
        if let Some(rating) = card.ratings.get(criterion) {
            fields.push((path.clone(), json!({ "score": rating.score() })));
        }
    }
    if let Some(path) = &form.evidence {
        fields.push((
            path.clone(),
            json!({ "type": "PlainText", "value": card.evidence }),
        ));
    }
    fields
}

/// A private note with one interviewer's scorecard: the stage, each rating, the
/// recommendation, the evidence and any red flags ticked.
pub fn scorecard_note(
    stage: &StageRubric,
    interviewer: &str,
    card: &ScorecardBody,
    write_key: &str,
) -> String {
    let mut lines = vec![
        format!("Loopbot scorecard: {} by {interviewer}", stage.name),
        format!("Recommendation: {}", card.overall.recommendation_display()),
    ];
    for criterion in &stage.criteria {
        let rated = match card.ratings.get(&criterion.key) {
            Some(r) => r.criterion_display(),
            None => super::scorecard::NOT_ASSESSED.to_string(),
        };
        lines.push(format!("- {}: {rated}", criterion.name));
    }
    if !card.red_flags.is_empty() {
        lines.push(format!("Red flags: {}", card.red_flags.join("; ")));
    }
    lines.push(String::new());
    lines.push("Evidence:".into());
    lines.push(card.evidence.trim().to_string());
    lines.push(String::new());
    lines.push(note_reference(write_key));
    lines.join("\n")
}

/// A private note with the decision recorded in Slack: outcome, who, why.
pub fn decision_note(decision: &Decision, decided_by: &str, write_key: &str) -> String {
    let mut lines = vec![
        format!(
            "Loopbot decision: {} (recorded by {decided_by})",
            decision.outcome.label()
        ),
        String::new(),
        decision.rationale.trim().to_string(),
    ];
    if !decision.without.is_empty() {
        let stages: Vec<String> = decision.without.iter().map(u32::to_string).collect();
        lines.push(format!(
            "Decided without feedback for stage {}.",
            stages.join(", ")
        ));
    }
    lines.push(String::new());
    lines.push(note_reference(write_key));
    lines.join("\n")
}

/// A refused write's reason as the coordinator reads it: the ATS's own words (its error code
/// and message), without Loopbot's error chain, at most 200 characters.
pub fn refusal_reason(error: &str) -> String {
    let reason = error
        .rsplit("the ATS refused: ")
        .next()
        .unwrap_or(error)
        .trim();
    // Greenhouse answers `HTTP 403: {"errors":[{"message":"…"}]}`: keep the message.
    let reason = match reason.split_once(": ") {
        Some((status, body)) if status.starts_with("HTTP ") => {
            let message = serde_json::from_str::<Value>(body).ok().and_then(|v| {
                v["errors"][0]["message"]
                    .as_str()
                    .or_else(|| v["message"].as_str())
                    .map(str::to_string)
            });
            match message {
                Some(m) => format!("{status}: {m}"),
                None => reason.to_string(),
            }
        }
        _ => reason.to_string(),
    };
    match reason.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &reason[..i]),
        None => reason,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::domain::interview_loop::Outcome;
    use crate::domain::rubric::RubricSet;
    use crate::domain::scorecard::Rating;

    fn card() -> ScorecardBody {
        ScorecardBody {
            ratings: BTreeMap::from([("trade-offs".to_string(), Rating::StrongYes)]),
            not_assessed: BTreeSet::new(),
            overall: Rating::Yes,
            evidence: "Walked through the queue they sharded.".into(),
            concerns: "Probe on-call load".into(),
            red_flags: vec![],
        }
    }

    #[test]
    fn ratings_go_to_the_mapped_fields_and_unmapped_or_unassessed_ones_do_not() {
        let form = FeedbackForm {
            form: "form-1".into(),
            overall: Some("overall_score".into()),
            evidence: Some("notes".into()),
            criteria: BTreeMap::from([
                ("trade-offs".to_string(), "tradeoffs".to_string()),
                ("testing".to_string(), "testing_score".to_string()),
            ]),
        };
        assert_eq!(
            feedback_fields(&form, &card()),
            vec![
                ("overall_score".to_string(), json!({"score": 3})),
                ("tradeoffs".to_string(), json!({"score": 4})),
                (
                    "notes".to_string(),
                    json!({"type": "PlainText", "value": "Walked through the queue they sharded."})
                ),
            ]
        );
    }

    #[test]
    fn notes_say_the_stage_ratings_recommendation_and_evidence_but_not_the_concerns() {
        let rubrics = RubricSet::builtin();
        let stage = rubrics
            .get("senior-backend")
            .unwrap()
            .stage("technical-screen")
            .unwrap();
        let key = stage.criteria[0].key.clone();
        let mut body = card();
        body.ratings = BTreeMap::from([(key, Rating::StrongYes)]);
        let note = scorecard_note(stage, "Ines Screener", &body, "scorecard:1:1:U1");
        assert!(note.starts_with(&format!(
            "Loopbot scorecard: {} by Ines Screener",
            stage.name
        )));
        assert!(note.contains("Recommendation: 3 · Yes"), "{note}");
        assert!(note.contains(&format!("- {}: 4 · ", stage.criteria[0].name)));
        assert!(note.contains(&format!("- {}: Not assessed", stage.criteria[1].name)));
        assert!(note.contains("Walked through the queue they sharded."));
        assert!(
            !note.contains("on-call"),
            "concerns are for the next interviewers only"
        );
        assert!(note.ends_with(&note_reference("scorecard:1:1:U1")));
        assert!(!note.contains("U1"), "no Slack id");
        assert_ne!(note_reference("a"), note_reference("b"));

        let decision = Decision {
            outcome: Outcome::Hire,
            rationale: "Strong across stages.".into(),
            decided_by: "U2".into(),
            decided_at: 5,
            without: vec![3],
        };
        let note = decision_note(&decision, "Harper Manager", "decision:1:5");
        assert!(note.contains("Hire (recorded by Harper Manager)"), "{note}");
        assert!(note.contains("Strong across stages."));
        assert!(note.contains("without feedback for stage 3"));
    }

    #[test]
    fn refusals_read_as_the_ats_said_them() {
        assert_eq!(
            refusal_reason(
                "the ATS refused: applicationFeedback.submit: missing_endpoint_permission: needs candidatesWrite"
            ),
            "applicationFeedback.submit: missing_endpoint_permission: needs candidatesWrite"
        );
        assert_eq!(
            refusal_reason(
                r#"the ATS refused: HTTP 403: {"errors":[{"message":"notes:create scope missing"}]}"#
            ),
            "HTTP 403: notes:create scope missing"
        );
        assert_eq!(refusal_reason(&"x".repeat(300)).chars().count(), 201);
    }
}
